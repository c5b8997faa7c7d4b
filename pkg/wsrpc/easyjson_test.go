package wsrpc

import (
	"bytes"
	"testing"

	"github.com/mailru/easyjson"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// The fast path's own easyjson interfaces and helpers (which keep the easyjson root package,
// and with it net/http, out of the browser build) behave as easyjson's.
func TestEasyJSONHelpersMatchEasyJSON(t *testing.T) {
	var _ easyjson.Marshaler = easyMarshaler(nil)
	var _ easyjson.Unmarshaler = easyUnmarshaler(nil)
	for _, v := range []*wire.Request{
		{JSONRPC: "2.0", ID: []byte(`7`), Method: "m", Params: []byte(`[1,"x"]`)},
		{JSONRPC: "2.0", Method: "n"},
		nil,
	} {
		got, gerr := marshal(v)
		want, werr := easyjson.Marshal(v)
		if !bytes.Equal(got, want) || (gerr == nil) != (werr == nil) {
			t.Errorf("marshal(%+v) = %s, %v; easyjson.Marshal: %s, %v", v, got, gerr, want, werr)
		}
	}
	for _, in := range []string{`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":null}}`, `{"id":`, `null`, `[]`} {
		var got, want wire.Request
		gerr := unmarshal([]byte(in), &got)
		werr := easyjson.Unmarshal([]byte(in), &want)
		if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) ||
			got.Method != want.Method || !bytes.Equal(got.ID, want.ID) || !bytes.Equal(got.Params, want.Params) {
			t.Errorf("unmarshal(%s) = %+v, %v; easyjson.Unmarshal: %+v, %v", in, got, gerr, want, werr)
		}
	}
}
