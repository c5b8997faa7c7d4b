package wsrpcotel

import (
	"strconv"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// TestMethodCacheBounded: method names come from peers; past maxCachedMethods they share
// the _OTHER attributes instead of growing the cache.
func TestMethodCacheBounded(t *testing.T) {
	in, err := New(WithMeterProvider(sdkmetric.NewMeterProvider()))
	if err != nil {
		t.Fatal(err)
	}
	first := in.attrs("m0")
	for i := range maxCachedMethods + 100 {
		in.attrs("m" + strconv.Itoa(i))
	}
	if n := len(*in.methods.Load()); n != maxCachedMethods {
		t.Errorf("%d methods cached, want %d", n, maxCachedMethods)
	}
	if in.attrs("m0") != first {
		t.Error("a cached method's attributes changed")
	}
	if a := in.attrs("m" + strconv.Itoa(maxCachedMethods+50)); a != in.other || a.method.Value.AsString() != otherMethod {
		t.Errorf("an uncached method got %v, want %s", a.method, otherMethod)
	}
}
