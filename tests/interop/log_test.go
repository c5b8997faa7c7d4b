package interop

import (
	"io"
	"log/slog"
	"os"
)

// discardLogger keeps the Go side quiet unless WSRPC_INTEROP_LOG is set.
func discardLogger() *slog.Logger {
	if os.Getenv("WSRPC_INTEROP_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
