package wsrpc

import (
	"regexp"
	"testing"
)

func TestVersion(t *testing.T) {
	// Plain MAJOR.MINOR.PATCH: the C header splits it into WSRPC_VERSION_MAJOR/MINOR/PATCH,
	// the shared library's SONAME uses MAJOR, and Python and npm spell it the same way
	// (a pre-release suffix would not be: Python normalizes "0.3.0-rc.1" to "0.3.0rc1").
	if !regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`).MatchString(Version) {
		t.Fatalf("Version = %q, want MAJOR.MINOR.PATCH (from the file VERSION)", Version)
	}
}
