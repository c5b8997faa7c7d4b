package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// Sentinel errors, for errors.Is.
var (
	// ErrNoTarget: no live connection matches the target on any node (or the one that did
	// closed before the message was sent). Nothing was delivered.
	ErrNoTarget = errors.New("cluster: target not connected")
	// ErrClosed: the hub is closed.
	ErrClosed = errors.New("cluster: hub closed")
	// ErrInvalidTarget: the target, topic or method is empty.
	ErrInvalidTarget = errors.New("cluster: invalid target")
	// ErrNodeLost: the node holding the target was declared lost (it stopped
	// heart-beating), or refused the call because it found itself declared lost, or did
	// not answer within Config.ReachTimeout. It also matches wsrpc.ErrConnectionLost: a
	// call in flight may or may not have run.
	ErrNodeLost = fmt.Errorf("cluster: node lost: %w", wsrpc.ErrConnectionLost)
	// ErrUnavailable: the hub is cut off from NATS and did not get back within
	// Config.ReachTimeout (see Config.WaitDuringOutage). Nothing was sent.
	ErrUnavailable = errors.New("cluster: NATS unavailable")
)

// Reply headers of a routed request.
const (
	hdrMethod  = "Wsrpc-Method"
	hdrKind    = "Wsrpc-Kind"    // "call" or "notify"
	hdrTimeout = "Wsrpc-Timeout" // milliseconds left when sent
	hdrCallID  = "Wsrpc-Call-Id" // for cancellation
	hdrErr     = "Wsrpc-Error"   // reply: wsrpc.ErrorKind number; body is the error text or JSON error object
	hdrNode    = "Wsrpc-Node"    // reply: the node that served it
	hdrTopic   = "Wsrpc-Topic"
	hdrChannel = "Wsrpc-Channel" // the target of a message to a node: a channel id,
	hdrKey     = "Wsrpc-Key"     // or a key
	hdrValue   = "Wsrpc-Value"   // and its value
	hdrInc     = "Wsrpc-Inc"     // reply: the serving node's incarnation
	hdrRefused = "Wsrpc-Refused" // reply: "lost" (the node is fenced) or "absent" (no such connection there)
	hdrNotify  = "Wsrpc-Notifier"
)

// encodeErr turns a serving-side failure into reply headers and body.
func encodeErr(err error) (kind string, body []byte) {
	if e := wsrpc.RemoteError(err); e != nil {
		b, _ := json.Marshal(e)
		return strconv.Itoa(int(wsrpc.KindRemote)), b
	}
	return strconv.Itoa(int(wsrpc.KindOf(err))), []byte(err.Error())
}

// decodeErr rebuilds the caller-side error from a reply's headers and body.
func decodeErr(kindText, node string, body []byte) error {
	k, _ := strconv.Atoi(kindText)
	kind := wsrpc.ErrorKind(k)
	msg := string(body)
	where := "cluster: node " + node
	switch kind {
	case wsrpc.KindRemote:
		var e wsrpc.Error
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("%s: undecodable error answer: %v", where, err)
		}
		return &e
	case wsrpc.KindTimeout:
		return fmt.Errorf("%s: %s: %w", where, msg, wsrpc.ErrTimeout)
	case wsrpc.KindConnectionLost:
		return fmt.Errorf("%s: %s: %w", where, msg, wsrpc.ErrConnectionLost)
	case wsrpc.KindClosed, wsrpc.KindNotConnected:
		return fmt.Errorf("%w: %s: %s", ErrNoTarget, where, msg)
	case wsrpc.KindBackpressure:
		return fmt.Errorf("%s: %s: %w", where, msg, wsrpc.ErrBackpressure)
	case wsrpc.KindMessageTooLarge:
		return fmt.Errorf("%s: %s: %w", where, msg, wsrpc.ErrMessageTooLarge)
	case wsrpc.KindInvalidArgument:
		return fmt.Errorf("%s: %s: %w", where, msg, wsrpc.ErrInvalidArgument)
	}
	return fmt.Errorf("%s: %s", where, msg)
}
