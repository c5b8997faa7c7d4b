package wsrpc

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
)

// AddUtilityMethods adds fastapi-ws-rpc's RpcUtilityMethods to m (PROTOCOL.md §10.2):
//
//   - echo(text): returns text unchanged (any JSON value);
//   - get_process_details(): {"pid", "cmd", "workingdir"} of this process;
//   - call_me_back(method_name, args): starts a call of method_name(args) back to the caller
//     on the same connection without waiting, and returns its call id;
//   - get_response(call_id): the answer to such a call as a nested JSON-RPC response
//     object, removed on fetch; an error (-32603) while it has not arrived.
//
// In the legacy dialect get_process_details reports result_type "ProcessDetails" and
// get_response "Any", as fastapi_websocket_rpc does.
//
// Python's test suites and many deployments use these to check both directions.
func AddUtilityMethods(m *Methods) {
	m.Handle("echo", func(ctx context.Context, params json.RawMessage) (any, error) {
		var p struct {
			Text json.RawMessage `json:"text"`
		}
		if err := bindUtility(params, &p, "echo", "text"); err != nil {
			return nil, err
		}
		if p.Text == nil {
			return nil, &paramError{kind: "TypeError", method: "echo", detail: "echo() missing 1 required positional argument: 'text'"}
		}
		return p.Text, nil
	})
	cwd, _ := os.Getwd()
	details := map[string]any{"pid": os.Getpid(), "cmd": os.Args, "workingdir": cwd}
	m.Handle("get_process_details", func(ctx context.Context, params json.RawMessage) (any, error) {
		if err := bindUtility(params, &struct{}{}, "get_process_details"); err != nil {
			return nil, err
		}
		return details, nil
	}, LegacyResultType("ProcessDetails"))
	m.Handle("call_me_back", func(ctx context.Context, params json.RawMessage) (any, error) {
		var p struct {
			MethodName string          `json:"method_name"`
			Args       json.RawMessage `json:"args"`
		}
		if err := bindUtility(params, &p, "call_me_back", "method_name", "args"); err != nil {
			return nil, err
		}
		ch := ChannelFromContext(ctx)
		if ch == nil {
			return "", nil
		}
		var args any
		if len(p.Args) > 0 && string(p.Args) != "null" && string(p.Args) != "{}" {
			args = p.Args
		}
		pend, err := ch.Go(ch.Context(), p.MethodName, args)
		if err != nil {
			return nil, err
		}
		return pend.ID(), nil
	})
	m.Handle("get_response", func(ctx context.Context, params json.RawMessage) (any, error) {
		var p struct {
			CallID string `json:"call_id"`
		}
		if err := bindUtility(params, &p, "get_response", "call_id"); err != nil {
			return nil, err
		}
		ch := ChannelFromContext(ctx)
		if ch == nil {
			return nil, keyError(p.CallID)
		}
		resp, ok := ch.TakeResponse(p.CallID)
		if !ok {
			return nil, keyError(p.CallID)
		}
		return resp, nil
	}, LegacyResultType("Any"))
}

// keyError is get_response's "no such answer" error; debug replies name it KeyError as
// Python does.
type keyError string

func (k keyError) Error() string     { return strconv.Quote(string(k)) }
func (k keyError) ErrorType() string { return "KeyError" }

// bindUtility binds params for the utility methods: named or positional, names as given.
func bindUtility(params json.RawMessage, dst any, method string, names ...string) error {
	if len(params) == 0 || string(params) == "null" {
		return nil
	}
	if params[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(params, &arr); err != nil {
			return decodeFailure("ValueError", method, "", err)
		}
		if len(arr) > len(names) {
			return &paramError{kind: "ValueError", method: method, detail: "Too many positional arguments for method '" + method +
				"': expected at most " + strconv.Itoa(len(names)) + ", got " + strconv.Itoa(len(arr))}
		}
		obj := map[string]json.RawMessage{}
		for i, a := range arr {
			obj[names[i]] = a
		}
		params, _ = json.Marshal(obj)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(params, &obj); err != nil {
		return decodeFailure("TypeError", method, "", err)
	}
	for k := range obj {
		known := false
		for _, n := range names {
			known = known || n == k
		}
		if !known {
			return &paramError{kind: "TypeError", method: method, detail: method + "() got an unexpected keyword argument '" + k + "'"}
		}
	}
	if err := json.Unmarshal(params, dst); err != nil {
		return decodeFailure("TypeError", method, "", err)
	}
	return nil
}
