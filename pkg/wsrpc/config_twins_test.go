package wsrpc

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"slices"
	"testing"
)

// The browser build's Config (config_js.go) is the native one (config.go) less the fields
// that need net/http or crypto/tls: the same fields, of the same types, in the same order.
func TestConfigTwins(t *testing.T) {
	httpOnly := []string{"Authenticate", "Header", "TLSConfig", "HTTPClient"}
	want := slices.DeleteFunc(configFields(t, "config.go"), func(f [2]string) bool { return slices.Contains(httpOnly, f[0]) })
	if got := configFields(t, "config_js.go"); !slices.Equal(got, want) {
		t.Errorf("config_js.go's Config has\n%q\nwant config.go's less %v:\n%q", got, httpOnly, want)
	}
}

// configFields lists the fields of the Config declared in file, as {name, type}.
func configFields(t *testing.T, file string) [][2]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Config" {
			return true
		}
		for _, fld := range ts.Type.(*ast.StructType).Fields.List {
			for _, name := range fld.Names {
				out = append(out, [2]string{name.Name, types.ExprString(fld.Type)})
			}
		}
		return false
	})
	if len(out) < 10 {
		t.Fatalf("%s: no Config found", file)
	}
	return out
}
