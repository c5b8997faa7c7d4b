package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// exactLimit is the wsrpc side's MaxMessageSize in the byte-exact tests. The Python peers
// accept it: uvicorn's ws_max_size is 16 MiB, fastapi-ws-rpc's endpoint limit 10 MiB, and
// the Python clients are given exactly this limit (py/large_client.py).
const exactLimit = 4 << 20

// exactUnit is one period of the byte-exact tests' text (py/large_client.py builds the same):
// every JSON escape, every control character, DEL, 2-, 3- and 4-byte UTF-8, U+2028/U+2029,
// text that only looks like escapes (a lone-looking \ud83d as six characters: a real lone
// surrogate is not UTF-8), HTML-sensitive characters, each alone and in a run of 64.
func exactUnit() string {
	singles := []string{`"`, `\`, `/`, "\b", "\f", "\n", "\r", "\t"}
	for r := rune(0); r < 0x20; r++ {
		singles = append(singles, string(r))
	}
	singles = append(singles, "\x7f", "\u0080", "é", "\u07ff", "\u0800", "€", "\u2028", "\u2029", "\ufeff",
		"\ufffd", "\uffff", "😀", "\U0010ffff", `\ud83d`, `\ud83d\ude00`, `\u00e9`, `\\u`, "<", ">", "&", "'", " ", "A", "~")
	var b strings.Builder
	for _, s := range singles {
		b.WriteString(s)
		b.WriteString(strings.Repeat(s, 64))
	}
	b.WriteString("héllo €uro 😀 \"q\" \\ /path\u2028end\n")
	return b.String()
}

// exactText is whole units of exactUnit, at least n bytes of UTF-8.
func exactText(n int) string {
	u := exactUnit()
	return strings.Repeat(u, n/len(u)+1)
}

// pyJSONString is how Python encodes s as a JSON string: json.dumps (ensureASCII, what
// fastapi-ws-rpc sends: "\uXXXX" for everything outside ' '..'~', surrogate pairs above
// U+FFFF, lowercase hex) or pydantic's model_dump_json (what the legacy library sends:
// UTF-8 as is, only '"', '\' and control characters escaped).
func pyJSONString(s string, ensureASCII bool) []byte {
	const hexDigits = "0123456789abcdef"
	u4 := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
	}
	b := make([]byte, 0, len(s)+len(s)/2+2)
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = u4(b, r)
		case r <= '~' || !ensureASCII:
			b = utf8.AppendRune(b, r)
		case r >= 0x10000:
			r -= 0x10000
			b = u4(u4(b, 0xd800+r>>10), 0xdc00+r&0x3ff)
		default:
			b = u4(b, r)
		}
	}
	return append(b, '"')
}

// pyPeer is one Python library as a server: the script and how it encodes a string result.
type pyPeer struct {
	name    string
	script  string
	dialect wsrpc.Dialect
	row     compatRow
	// reply is the exact text the Python server sends for the string result of call id.
	reply func(id, result string) []byte
}

var pyPeers = []pyPeer{
	{"jsonrpc2", "server_ws_rpc.py", wsrpc.DialectJSONRPC, rowRPCGoToPy, func(id, result string) []byte {
		// json.dumps(JsonRpcResponse.model_dump(exclude_none=True))
		return fmt.Appendf(nil, `{"jsonrpc": "2.0", "id": %q, "result": %s}`, id, pyJSONString(result, true))
	}},
	{"legacy", "legacy_server.py", wsrpc.DialectLegacy, rowLegacyGoToPy, func(id, result string) []byte {
		// RpcMessage(response=RpcResponse[str](...)).model_dump_json()
		return fmt.Appendf(nil, `{"request":null,"response":{"result":%s,"result_type":"str","call_id":%q}}`, pyJSONString(result, false), id)
	}},
}

// replyOfSize returns how many units and what ASCII suffix make the peer's reply to call id
// exactly size bytes (a unit's encoding is the same wherever it stands; an ASCII letter is
// one byte).
func (p pyPeer) replyOfSize(id, unit string, size int) (units int, suffix string) {
	base := len(p.reply(id, ""))
	perUnit := len(p.reply(id, unit)) - base
	units = (size - base) / perUnit
	return units, strings.Repeat("a", size-base-units*perUnit)
}

// firstDiff describes where two byte strings first differ.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("lengths %d and %d, first difference at byte %d: got %q, want %q", len(got), len(want), i,
		got[i:min(len(got), i+24)], want[i:min(len(want), i+24)])
}

// withID finds the last data message in one direction that carries the JSON string id.
func (w *wireTap) withID(toServer bool, id string) (tapMsg, error) {
	quoted := []byte(strconv.Quote(id))
	msgs := w.dataMessages(toServer)
	for i := len(msgs) - 1; i >= 0; i-- {
		if bytes.Contains(msgs[i].Payload, quoted) {
			return msgs[i], nil
		}
	}
	return tapMsg{}, fmt.Errorf("no message with id %s on the wire (toServer %v, %d messages)", id, toServer, len(msgs))
}

// waitFor polls the tap until a message satisfies ok (a liveness wait: the tap records a
// frame when its bytes pass, which a test cannot otherwise wait for).
func (w *wireTap) waitFor(ok func(tapMsg) bool, timeout time.Duration) (tapMsg, bool) {
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range w.messages() {
			if ok(m) {
				return m, true
			}
		}
		if time.Now().After(deadline) {
			return tapMsg{}, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLargeExactGoClientPyServer: a wsrpc client with MaxMessageSize 4 MiB against the real
// Python servers of both dialects, through a tap that records every frame. Every JSON
// escape and non-ASCII text arrives as the same string both ways at 1 MiB (SHA-256 of its
// UTF-8 computed on both sides); a request of exactly the limit is sent and arrives
// byte-exact, one byte more is refused locally with ErrMessageTooLarge and the connection
// stays; a reply of exactly the limit (its bytes predicted from how Python encodes it) is
// received byte-exact; one byte more closes the connection with 1009.
func TestLargeExactGoClientPyServer(t *testing.T) {
	python(t)
	probeVersions(t)
	for _, peer := range pyPeers {
		t.Run(peer.name, func(t *testing.T) {
			t.Parallel()
			_, port := startPyServer(t, peer.script)
			tap := newWireTap(t, fmt.Sprintf("127.0.0.1:%d", port))
			dial := func(t *testing.T) *wsrpc.Client {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				opts := []wsrpc.Option{quietLogs(), noRetry(), wsrpc.WithMaxMessageSize(exactLimit), wsrpc.WithTimeout(30 * time.Second)}
				if peer.dialect == wsrpc.DialectLegacy {
					opts = append(opts, wsrpc.WithDialect(wsrpc.DialectLegacy), wsrpc.WithSubprotocols())
				}
				c, err := wsrpc.Dial(ctx, wsURL(tap.port(), "/ws"), opts...)
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				t.Cleanup(func() { _ = c.Close() })
				return c
			}
			c := dial(t)
			calls := 0
			nextID := func() string { calls++; return fmt.Sprintf("%032x", calls) } // checks run one at a time
			unit := exactUnit()

			// requestSize sends sha256(text) and returns the size of the request on the wire.
			requestSize := func(ctx context.Context, text string) (int, error) {
				id := nextID()
				var sum string
				if err := c.Call(ctx, "sha256", map[string]string{"text": text}, &sum, wsrpc.WithCallID(id)); err != nil {
					return 0, err
				}
				if sum != sha256Hex([]byte(text)) {
					return 0, fmt.Errorf("the server's SHA-256 of a %d-byte text differs", len(text))
				}
				m, err := tap.withID(true, id)
				return len(m.Payload), err
			}
			var atLimit string // the text of the request of exactly the limit

			checks := []goCheck{
				{"echo_every_escape_1MiB", func(ctx context.Context) error {
					text := exactText(1 << 20)
					id := nextID()
					var got string
					if err := c.Call(ctx, "echo", map[string]string{"text": text}, &got, wsrpc.WithCallID(id)); err != nil {
						return err
					}
					if got != text {
						return fmt.Errorf("echo differs: %s", firstDiff([]byte(got), []byte(text)))
					}
					reply, err := tap.withID(false, id)
					if err != nil {
						return err
					}
					if want := peer.reply(id, text); !bytes.Equal(reply.Payload, want) {
						return fmt.Errorf("the reply on the wire is not Python's encoding of the text: %s", firstDiff(reply.Payload, want))
					}
					var sum string
					if err := c.Call(ctx, "sha256", map[string]string{"text": text}, &sum); err != nil {
						return err
					}
					if want := sha256Hex([]byte(text)); sum != want {
						return fmt.Errorf("SHA-256 of the text: Python %s, Go %s", sum, want)
					}
					return nil
				}},
				{"request_at_limit_byte_exact", func(ctx context.Context) error {
					// Go's encoding of the text is measured from first captures: whole units,
					// then ASCII padding (one byte a character).
					s1, err := requestSize(ctx, unit)
					if err != nil {
						return err
					}
					s2, err := requestSize(ctx, unit+unit)
					if err != nil {
						return err
					}
					perUnit, base := s2-s1, s1-(s2-s1)
					k := (exactLimit - base) / perUnit
					text := strings.Repeat(unit, k)
					sk, err := requestSize(ctx, text)
					if err != nil {
						return err
					}
					if sk != base+k*perUnit {
						return fmt.Errorf("request of %d units is %d bytes, want %d", k, sk, base+k*perUnit)
					}
					text += strings.Repeat("a", exactLimit-sk)
					n, err := requestSize(ctx, text) // checks the SHA-256 Python computed
					if err != nil {
						return err
					}
					if n != exactLimit {
						return fmt.Errorf("request of %d bytes on the wire, want exactly %d", n, exactLimit)
					}
					atLimit = text
					return nil
				}},
				{"request_over_limit_refused_locally", func(ctx context.Context) error {
					if atLimit == "" {
						return errors.New("request_at_limit_byte_exact did not run")
					}
					before := c.Channel()
					err := c.Call(ctx, "sha256", map[string]string{"text": atLimit + "a"}, nil)
					if !errors.Is(err, wsrpc.ErrMessageTooLarge) {
						return fmt.Errorf("want ErrMessageTooLarge, got %v", err)
					}
					// The connection is kept: the next call goes out on it and is answered.
					if _, err := requestSize(ctx, "after"); err != nil {
						return err
					}
					if c.Channel() != before || tap.connCount() != 1 {
						return fmt.Errorf("the connection was not kept (%d TCP connections)", tap.connCount())
					}
					for _, m := range tap.dataMessages(true) {
						if len(m.Payload) > exactLimit {
							return fmt.Errorf("a message of %d bytes went out", len(m.Payload))
						}
					}
					return nil
				}},
				{"reply_at_limit_byte_exact", func(ctx context.Context) error {
					id := nextID()
					k, suffix := peer.replyOfSize(id, unit, exactLimit)
					text := strings.Repeat(unit, k) + suffix
					want := peer.reply(id, text)
					if len(want) != exactLimit {
						return fmt.Errorf("predicted a reply of %d bytes, want %d", len(want), exactLimit)
					}
					var got string
					if err := c.Call(ctx, "repeat", map[string]any{"text": unit, "times": k, "suffix": suffix}, &got, wsrpc.WithCallID(id)); err != nil {
						return err
					}
					if got != text {
						return fmt.Errorf("result differs: %s", firstDiff([]byte(got), []byte(text)))
					}
					reply, err := tap.withID(false, id)
					if err != nil {
						return err
					}
					if !bytes.Equal(reply.Payload, want) {
						return fmt.Errorf("reply on the wire: %s", firstDiff(reply.Payload, want))
					}
					return nil
				}},
			}
			n := runGoChecks(t, checks)
			// Last, on a connection of its own: a reply of one byte over the limit ends the
			// connection (1009 from the wsrpc client, as Python's websockets does).
			n++
			t.Run("reply_over_limit_closes_1009", func(t *testing.T) {
				c2 := dial(t)
				id := nextID()
				k, suffix := peer.replyOfSize(id, unit, exactLimit+1)
				if n := len(peer.reply(id, strings.Repeat(unit, k)+suffix)); n != exactLimit+1 {
					t.Fatalf("predicted a reply of %d bytes, want %d", n, exactLimit+1)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				err := c2.Call(ctx, "repeat", map[string]any{"text": unit, "times": k, "suffix": suffix}, nil, wsrpc.WithCallID(id))
				if !errors.Is(err, wsrpc.ErrConnectionLost) || !errors.Is(err, wsrpc.ErrMessageTooLarge) {
					t.Errorf("want ErrConnectionLost and ErrMessageTooLarge, got %v", err)
				}
				if _, ok := tap.waitFor(func(m tapMsg) bool { return m.Conn == 2 && m.ToServer && m.CloseCode() == 1009 }, 15*time.Second); !ok {
					t.Errorf("the client sent no close frame with 1009; on the wire: %v", tap.messages())
				}
			})
			recordCompat(t, peer.row, n)
		})
	}
}

// TestLargeExactPyClientGoServer: the real Python clients of both dialects (py/large_client.py)
// against a wsrpc server with MaxMessageSize 4 MiB, through a tap: every JSON escape and
// non-ASCII text at 1 MiB, a request and a reply of exactly the limit byte-exact, and a
// request of one byte more answered by closing with 1009. The frames the Python client
// reports are found on the wire with the same length and SHA-256.
func TestLargeExactPyClientGoServer(t *testing.T) {
	python(t)
	probeVersions(t)
	for _, tc := range []struct {
		dialect string
		opts    []wsrpc.Option
		row     compatRow
	}{
		{"jsonrpc", nil, rowRPCPyToGo},
		{"legacy", []wsrpc.Option{wsrpc.WithDialect(wsrpc.DialectAuto)}, rowLegacyPyToGo},
	} {
		t.Run(tc.dialect, func(t *testing.T) {
			t.Parallel()
			const checks = 5 // connect + 4
			recordCompat(t, tc.row, checks)
			f := newGoFixture(t, nil, append([]wsrpc.Option{quietLogs(), wsrpc.WithMaxMessageSize(exactLimit)}, tc.opts...)...)
			tap := newWireTap(t, f.ts.Listener.Addr().String())
			r := runChecklist(t, 100*time.Second, "large_client.py", wsURL(tap.port(), "/ws"),
				"--dialect", tc.dialect, "--limit", strconv.Itoa(exactLimit), "--timeout", "20")
			requireAllPass(t, r, checks)
			for _, c := range r.checks {
				var d struct {
					Frame *struct {
						Dir    string `json:"dir"`
						Len    int    `json:"len"`
						SHA256 string `json:"sha256"`
					} `json:"frame"`
				}
				if json.Unmarshal(c.Detail, &d) != nil || d.Frame == nil {
					continue
				}
				fr := d.Frame
				found := false
				for _, m := range tap.dataMessages(fr.Dir == "sent") {
					if len(m.Payload) == fr.Len && sha256Hex(m.Payload) == fr.SHA256 {
						found = true
					}
				}
				if !found {
					t.Errorf("check %s: the %s frame of %d bytes (SHA-256 %s) is not on the wire", c.Name, fr.Dir, fr.Len, fr.SHA256)
				}
			}
			if _, ok := tap.waitFor(func(m tapMsg) bool { return !m.ToServer && m.CloseCode() == 1009 }, 15*time.Second); !ok {
				t.Errorf("the server did not close with 1009 after the oversized request")
			}
		})
	}
}
