package wsrpc

import (
	_ "embed"
	"strings"
)

//go:embed VERSION
var versionFile string

// Version is the version of this module, e.g. "0.2.0" (semantic versioning, no "v" prefix).
//
// It is read from the file VERSION beside this source, the one place the project's version
// is written: the C library's wsrpc_version(), the Python package and the JavaScript
// package report the same string (make check-version compares them).
var Version = strings.TrimSpace(versionFile)
