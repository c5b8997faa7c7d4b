//go:build js

package wsrpc

import (
	"fmt"
	"strconv"
)

// The WebSocket types and constants of the browser build, as coder/websocket declares them
// (same values, same error and String texts); wstypes.go aliases coder/websocket's for the
// native build.
type (
	messageType int
	statusCode  int
)

const (
	messageText messageType = iota + 1
	messageBinary
)

const (
	statusNormalClosure           statusCode = 1000
	statusAbnormalClosure         statusCode = 1006
	statusInvalidFramePayloadData statusCode = 1007
	statusPolicyViolation         statusCode = 1008
	statusMessageTooBig           statusCode = 1009
)

// statusNames are coder/websocket's names of the codes RFC 6455 defines, from 1000.
var statusNames = [...]string{"StatusNormalClosure", "StatusGoingAway", "StatusProtocolError",
	"StatusUnsupportedData", "statusReserved", "StatusNoStatusRcvd", "StatusAbnormalClosure",
	"StatusInvalidFramePayloadData", "StatusPolicyViolation", "StatusMessageTooBig",
	"StatusMandatoryExtension", "StatusInternalError", "StatusServiceRestart",
	"StatusTryAgainLater", "StatusBadGateway", "StatusTLSHandshake"}

func (s statusCode) String() string {
	if i := int(s) - 1000; i >= 0 && i < len(statusNames) {
		return statusNames[i]
	}
	return "StatusCode(" + strconv.Itoa(int(s)) + ")"
}

// wsCloseError is the peer's close code and reason (coder/websocket's CloseError).
type wsCloseError struct {
	Code   statusCode
	Reason string
}

func (ce wsCloseError) Error() string {
	return fmt.Sprintf("status = %v and reason = %q", ce.Code, ce.Reason)
}
