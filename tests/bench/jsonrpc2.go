package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/coder/websocket"
	"github.com/sourcegraph/jsonrpc2"
)

// wsObjectStream is a jsonrpc2.ObjectStream over coder/websocket: one JSON-RPC object per
// text message (what sourcegraph/jsonrpc2/websocket does for gorilla).
type wsObjectStream struct{ c *websocket.Conn }

func (s wsObjectStream) WriteObject(obj any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	return s.c.Write(context.Background(), websocket.MessageText, b)
}

func (s wsObjectStream) ReadObject(v any) error {
	_, b, err := s.c.Read(context.Background())
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (s wsObjectStream) Close() error { return s.c.Close(websocket.StatusNormalClosure, "") }

// quietJSONRPC2 drops jsonrpc2's log lines (a peer closing is logged as a protocol error).
var quietJSONRPC2 = jsonrpc2.SetLogger(log.New(io.Discard, "", 0))

var jsonrpc2Concat = jsonrpc2.HandlerWithError(func(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
	if req.Method != "concat" || req.Params == nil {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "no such method"}
	}
	var p concatParams
	if err := json.Unmarshal(*req.Params, &p); err != nil {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: err.Error()}
	}
	return p.A + p.B, nil
})

// newJSONRPC2Server serves concat with sourcegraph/jsonrpc2 (its default, in-order handler).
func newJSONRPC2Server() (*httpServer, error) {
	return serveWS(func(c *websocket.Conn) {
		c.SetReadLimit(1 << 20)
		conn := jsonrpc2.NewConn(context.Background(), wsObjectStream{c}, jsonrpc2Concat, quietJSONRPC2)
		<-conn.DisconnectNotify()
	})
}

type jsonrpc2Clients struct {
	conns   []*jsonrpc2.Conn
	perConn int
}

func newJSONRPC2Clients(url string, conns, perConn int) (*jsonrpc2Clients, error) {
	j := &jsonrpc2Clients{perConn: perConn}
	for range conns {
		c, err := dialRaw(context.Background(), url)
		if err != nil {
			j.close()
			return nil, err
		}
		j.conns = append(j.conns, jsonrpc2.NewConn(context.Background(), wsObjectStream{c}, nil, quietJSONRPC2))
	}
	return j, nil
}

func (j *jsonrpc2Clients) close() {
	for _, c := range j.conns {
		_ = c.Close()
		select {
		case <-c.DisconnectNotify():
		case <-time.After(2 * time.Second):
		}
	}
}

func (j *jsonrpc2Clients) start(g *gate) func() (int64, []time.Duration, error) {
	params := concatParams{A: "hello", B: " world"}
	return workers(g, len(j.conns)*j.perConn, func(i int) error {
		var out string
		if err := j.conns[i%len(j.conns)].Call(context.Background(), "concat", params, &out); err != nil {
			return err
		}
		if out != "hello world" {
			return fmt.Errorf("concat answered %q", out)
		}
		return nil
	})
}
