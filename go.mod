module github.com/wsrpc/wsrpc

go 1.26

require (
	github.com/cenkalti/backoff/v4 v4.3.0 // indirect
	github.com/coder/websocket v1.8.15 // indirect
	github.com/josharian/intern v1.0.0 // indirect
	github.com/mailru/easyjson v0.9.2 // indirect
	go.uber.org/goleak v1.3.0 // indirect
)

tool github.com/mailru/easyjson/easyjson
