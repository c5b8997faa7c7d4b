package wire

import (
	"strings"
	"testing"
)

func TestArrayMembers(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		over bool
	}{
		{`[]`, nil, false},
		{` [ ] `, nil, false},
		{`[1]`, []string{`1`}, false},
		{`[1, "a,]" ,{"x":[1,2]} ]`, []string{`1`, `"a,]"`, `{"x":[1,2]}`}, false},
		{` [ [1,2] , [] ]`, []string{`[1,2]`, `[]`}, false},
		{`[1,2,3,4]`, nil, true},
	}
	for _, c := range cases {
		if !Valid([]byte(c.in)) {
			t.Fatalf("bad case %s", c.in)
		}
		got, over := ArrayMembers([]byte(c.in), 3)
		var s []string
		for _, m := range got {
			s = append(s, string(m))
		}
		if over != c.over || strings.Join(s, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: got %q over=%v, want %q over=%v", c.in, s, over, c.want, c.over)
		}
	}
	if got := string(AppendBatch(nil, [][]byte{[]byte(`{"a":1}`), []byte(`2`)})); got != `[{"a":1},2]` {
		t.Error(got)
	}
}
