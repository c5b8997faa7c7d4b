//go:build !js

package wsrpc

import "github.com/coder/websocket"

// The WebSocket types and constants the shared core uses: coder/websocket's here;
// wstypes_js.go declares the same for the browser build, whose transport (conn_js.go) runs
// on the JavaScript WebSocket (coder/websocket imports net/http, which the browser build
// must not link).
type (
	messageType  = websocket.MessageType
	statusCode   = websocket.StatusCode
	wsCloseError = websocket.CloseError
)

const (
	messageText                   = websocket.MessageText
	messageBinary                 = websocket.MessageBinary
	statusNormalClosure           = websocket.StatusNormalClosure
	statusInvalidFramePayloadData = websocket.StatusInvalidFramePayloadData
	statusPolicyViolation         = websocket.StatusPolicyViolation
	statusMessageTooBig           = websocket.StatusMessageTooBig
)
