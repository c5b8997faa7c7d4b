//go:build !js

package wsrpc

import (
	"errors"
	"net"
	"sync"
	"testing"
)

// recConn records the writes that reach the socket; fail makes the next ones fail after
// writing n bytes.
type recConn struct {
	net.Conn
	mu     sync.Mutex
	writes []string
	fail   bool
	n      int
}

var errBroken = errors.New("broken pipe")

func (r *recConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return min(r.n, len(p)), errBroken
	}
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *recConn) Close() error { return nil }

func (r *recConn) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.writes...)
}

func TestCorkIdleWriteGoesOutAtOnce(t *testing.T) {
	r := &recConn{}
	c := newCorkConn(r, 0)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if got := r.got(); len(got) != 1 || got[0] != "ping" {
		t.Fatalf("writes %q, want one write of the message", got)
	}
}

// Bytes written while a sender holds the connection (its own frame, and a control frame
// the library writes meanwhile) go out together when it releases, in order.
func TestCorkReleaseWritesWhatWaits(t *testing.T) {
	r := &recConn{}
	c := newCorkConn(r, 0)
	mark := c.hold()
	_, _ = c.Write([]byte("hdr+"))
	_, _ = c.Write([]byte("frame;"))
	_, _ = c.Write([]byte("pong;")) // written by the library for itself meanwhile
	if got := r.got(); len(got) != 0 {
		t.Fatalf("written before release: %q", got)
	}
	if notSent, err := c.release(mark, false); err != nil || notSent {
		t.Fatalf("release = %v, %v", notSent, err)
	}
	if got := r.got(); len(got) != 1 || got[0] != "hdr+frame;pong;" {
		t.Fatalf("writes %q, want one write of everything, in order", got)
	}
	if notSent, err := c.release(c.hold(), true); err != nil || notSent { // nothing waits
		t.Fatalf("empty release = %v, %v", notSent, err)
	}
}

// A failed write reports the message as not sent only when none of it can have left.
func TestCorkReleaseFailure(t *testing.T) {
	for _, tc := range []struct {
		name        string
		n           int
		wantNotSent bool
	}{{"nothing written", 0, true}, {"part written", 3, false}} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recConn{fail: true, n: tc.n}
			c := newCorkConn(r, 0)
			mark := c.hold()
			_, _ = c.Write([]byte("message"))
			notSent, err := c.release(mark, false)
			if !errors.Is(err, errBroken) || notSent != tc.wantNotSent {
				t.Fatalf("release = %v, %v; want %v, %v", notSent, err, tc.wantNotSent, errBroken)
			}
			if _, err := c.Write([]byte("later")); !errors.Is(err, errBroken) {
				t.Fatalf("write after the failure: %v", err)
			}
		})
	}
}

// A sender whose message went out in an earlier write, and who then writes other bytes
// that fail, is told of the failure but not "not sent" (its message did leave).
func TestCorkReleaseFailureAfterOwnBytesLeft(t *testing.T) {
	r := &recConn{}
	c := newCorkConn(r, 0)
	markA := c.hold()
	_, _ = c.Write([]byte("A"))
	markB := c.hold()
	_, _ = c.Write([]byte("B"))
	if _, err := c.release(markB, false); err != nil { // B writes "AB"
		t.Fatal(err)
	}
	markC := c.hold()
	_, _ = c.Write([]byte("C"))
	r.mu.Lock()
	r.fail = true
	r.mu.Unlock()
	if notSent, err := c.release(markA, false); !errors.Is(err, errBroken) || notSent { // A writes "C": fails
		t.Fatalf("A's release = %v, %v; want false, %v", notSent, err, errBroken)
	}
	// C's bytes were in A's failed write: C hears nothing here (the channel closes on
	// A's error, and C's call then fails with the connection).
	if notSent, err := c.release(markC, false); err != nil || notSent {
		t.Fatalf("C's release = %v, %v", notSent, err)
	}
	if got := r.got(); len(got) != 1 || got[0] != "AB" {
		t.Fatalf("writes %q", got)
	}
}

// gatedConn is a recConn whose writes wait until gate is closed, telling started first.
type gatedConn struct {
	recConn
	gate    chan struct{}
	started chan struct{}
}

func (g *gatedConn) Write(p []byte) (int, error) {
	g.started <- struct{}{}
	<-g.gate
	return g.recConn.Write(p)
}

// releaseBackground leaves the syscall to a flusher goroutine: the sender returns while the
// write is still blocked, and what senders add meanwhile goes out in one write, in order.
func TestCorkReleaseBackground(t *testing.T) {
	g := &gatedConn{gate: make(chan struct{}), started: make(chan struct{}, 16)}
	c := newCorkConn(g, 0)
	send := func(msg string) {
		c.hold()
		_, _ = c.Write([]byte(msg))
		c.releaseBackground() // returns although the write cannot finish yet
	}
	send("a;")
	<-g.started // the flusher is in its first write, blocked
	send("b;")
	send("c;")
	close(g.gate)
	<-g.started // its second write: everything added meanwhile
	c.mu.Lock()
	for c.flushing {
		c.cond.Wait()
	}
	c.mu.Unlock()
	if got := g.got(); len(got) != 2 || got[0] != "a;" || got[1] != "b;c;" {
		t.Fatalf("writes %q, want \"a;\" then \"b;c;\"", got)
	}
	send("") // nothing waits: no write, no flusher
	c.mu.Lock()
	idle := !c.flushing
	c.mu.Unlock()
	if !idle || len(g.got()) != 2 {
		t.Fatal("an empty release started a write")
	}
}
