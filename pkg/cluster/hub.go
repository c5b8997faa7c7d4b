package cluster

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// Defaults.
const (
	DefaultPrefix            = "wsrpc"
	DefaultHeartbeatInterval = time.Second
	DefaultCallTimeout       = 30 * time.Second
	DefaultDeliveryQueue     = 1024
	DefaultTopicBuffer       = 64 << 20 // bytes
	DefaultDeliveryTimeout   = 30 * time.Second
	DefaultEmbeddedPayload   = 8 << 20 // the embedded server's max message size
	DefaultReachTimeout      = time.Second
	DefaultOfflineGrace      = 5 * time.Second

	// NATS keepalive: a NATS connection that answers no ping for about
	// NATSPingInterval*(NATSMaxPingsOut+1) is taken as dead (by the client, which then
	// reconnects, and by the embedded server, which then drops the client's interest, so
	// that nothing is routed to a frozen node). Use the same on a NATS deployment of
	// your own (nats-server: ping_interval: "2s", ping_max: 2, write_deadline: "2s").
	NATSPingInterval = 2 * time.Second
	NATSMaxPingsOut  = 2
)

// Config configures a Hub. The zero value is a single node with an embedded NATS server
// that accepts no network connections.
type Config struct {
	// NATSURLs are the servers of an existing NATS deployment ("nats://127.0.0.1:4222");
	// the hub joins it. Empty: the hub runs an embedded NATS server in this process.
	NATSURLs []string
	// NATSOptions are extra nats.go connection options (credentials, TLS, ...).
	NATSOptions []nats.Option
	// EmbeddedListen is "host:port" on which the embedded server (no NATSURLs) also accepts
	// NATS clients, so that other nodes can join it with NATSURLs. Empty: no listener at
	// all, the hub talks to its server in-process. Use a loopback or private address.
	EmbeddedListen string

	// Prefix starts every NATS subject the hub uses (default "wsrpc"); hubs with different
	// prefixes on one NATS deployment do not see each other.
	Prefix string
	// NodeID names this node in presence (default: random).
	NodeID string
	// Keys are the channel values (Channel.Value, set by Config.Authenticate) that make a
	// connection addressable with Key(name, value); values are strings or fmt.Sprint-ed.
	Keys []string

	// CallTimeout bounds a routed Call or Notify whose context has no deadline (default 30 s).
	CallTimeout time.Duration
	// ReachTimeout bounds the steps before a routed call reaches its node (default 1 s):
	// finding the node of a target this node's presence does not list yet, and waiting
	// for NATS to come back when the hub is cut off from it. Past it the call fails with
	// ErrNodeLost or ErrUnavailable instead of waiting its whole timeout.
	ReachTimeout time.Duration
	// WaitDuringOutage makes Call, Notify and Publish made while the hub is cut off from
	// NATS wait for it up to their context, instead of failing with ErrUnavailable after
	// ReachTimeout.
	WaitDuringOutage bool
	// HeartbeatInterval paces presence heartbeats (default 1 s); a node silent for three
	// intervals is taken as gone and its connections as disconnected.
	HeartbeatInterval time.Duration
	// OfflineGrace is how long a key value (a user) whose last connection ended stays
	// online, waiting for a new one, before WatchKeys reports it Offline (default 5 s;
	// negative: none). It covers a client moving to another node, and a node's short
	// NATS outage.
	OfflineGrace time.Duration

	// DeliveryQueue bounds the publications waiting on this node to be written to one
	// subscriber (default 1024). What happens to a publication for a subscriber whose
	// queue is full is the topic's Overflow (Topics): by default the node waits for room.
	DeliveryQueue int
	// Topics configures delivery per topic (by topic name, as published); a topic not
	// listed gets the zero TopicConfig (Backpressure). Give every hub of a deployment the
	// same: subscribers' nodes apply the Overflow, publishers' hubs the PublishWindow of
	// Backpressure topics.
	Topics map[string]TopicConfig
	// TopicBuffer bounds, in bytes, the publications of one topic this node has received
	// from NATS but not yet queued for its subscribers (default 64 MiB): with
	// Backpressure, a slow subscriber makes them wait there. Past it NATS drops them for
	// this node (a slow consumer), logged and counted in Stats.Dropped.
	TopicBuffer int
	// PublishWindow bounds the publications of Backpressure topics this hub has
	// published and that some subscribed node has not yet queued for its subscribers
	// (default 1024; negative: no bound). At the bound Publish waits, up to its
	// context, so that slow subscribers slow their publishers down.
	PublishWindow int
	// DeliveryTimeout bounds the wait for a subscriber's answer to a "notify" call, and
	// a publisher's wait for a node's answer (PublishWindow) (default 30 s).
	DeliveryTimeout time.Duration
	// NotifyAsCall delivers publications to JSON-RPC 2.0 subscribers as calls that they
	// answer, like legacy (fastapi-websocket-pubsub) subscribers always get them, instead
	// of as notifications.
	NotifyAsCall bool
	// StoreDir is where the embedded NATS server (no NATSURLs) keeps the streams of
	// durable topics (TopicConfig.Durable). Empty: a temporary directory, removed by
	// Close (history then lasts as long as the node). The embedded server runs JetStream
	// only when a topic is durable or StoreDir is set.
	StoreDir string

	// NoClientPublish removes the "publish" method: clients may subscribe but only
	// application code publishes.
	NoClientPublish bool

	Logger *slog.Logger // default slog.Default()
}

// Hub connects the wsrpc servers of every node of a deployment over NATS: each live
// connection of an attached Server is addressable from any node (Call, Notify), can
// subscribe to topics (Publish), and shows in the cluster-wide presence (Presence, Watch).
// All methods are safe for concurrent use.
type Hub struct {
	cfg    Config
	node   string
	log    *slog.Logger
	nc     *nats.Conn
	js     jetstream.JetStream
	ns     *server.Server // embedded, or nil
	tmpDir string         // the embedded server's temporary StoreDir, removed by Close
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	routed chan *nats.Msg // deliveries of every per-connection subscription

	mu       sync.Mutex
	closed   bool
	locals   map[string]*local              // by channel id
	byKey    map[string]map[*local]struct{} // "key\x00value" -> local connections
	owners   map[*nats.Subscription]*local  // per-connection subscriptions
	topics   map[string]*topicState         // topic -> this node's subscribers
	inflight map[string]context.CancelFunc  // routed calls being served, by call id
	hubSubs  []*nats.Subscription           // the hub's own subscriptions

	smu     sync.Mutex
	streams map[string]jetstream.Stream // durable topic -> its stream (durable.go)

	pres  presence
	stats stats
	flow  flow // publisher flow control (flow.go)

	// Fencing (fence.go).
	t0       time.Time    // monotonic base of lastTick
	lastTick atomic.Int64 // ns since t0 of the presence loop's last tick
	lastEcho atomic.Int64 // ns since t0 when its own last heartbeat came back through NATS
	// suspectUntil (ns since t0): it missed its own heartbeats; no serving until then
	suspectUntil atomic.Int64
	reapAfter    atomic.Int64 // ns since t0: no declaring others lost before then
	fenced       atomic.Bool  // declared lost: refuse routed calls until re-incarnated
	nodeSub      *nats.Subscription
	cmu          sync.Mutex
	calls        map[*outCall]struct{} // routed calls in flight from this node

	spawnMu  sync.Mutex
	stopping bool // no more goroutines may start (Close is waiting for them)
}

// local is one connection of an attached server on this node.
type local struct {
	ch    *wsrpc.Channel
	since time.Time
	keys  map[string]string
	subs  []*nats.Subscription
	// topic -> subscription id (guarded by Hub.mu)
	topics map[string]string

	// delivery queue (guarded by bmu)
	bmu     sync.Mutex
	queue   []delivery
	running bool
	room    chan struct{} // closed when the queue shrinks, for a Backpressure publication waiting
	evicted bool          // closed for being too slow (Disconnect): deliver nothing more
}

// New starts a hub: it connects to Config.NATSURLs, or starts an embedded NATS server.
// ctx bounds only the start; Close stops the hub.
func New(ctx context.Context, cfg Config) (*Hub, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.NodeID == "" {
		cfg.NodeID = randomID()[:12]
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.ReachTimeout <= 0 {
		cfg.ReachTimeout = DefaultReachTimeout
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.OfflineGrace == 0 {
		cfg.OfflineGrace = DefaultOfflineGrace
	}
	if cfg.DeliveryQueue <= 0 {
		cfg.DeliveryQueue = DefaultDeliveryQueue
	}
	if cfg.PublishWindow == 0 {
		cfg.PublishWindow = DefaultPublishWindow
	}
	if cfg.TopicBuffer <= 0 {
		cfg.TopicBuffer = DefaultTopicBuffer
	}
	if cfg.DeliveryTimeout <= 0 {
		cfg.DeliveryTimeout = DefaultDeliveryTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Hub{
		cfg:      cfg,
		node:     cfg.NodeID,
		log:      cfg.Logger.With("node", cfg.NodeID),
		routed:   make(chan *nats.Msg, 1<<16),
		locals:   map[string]*local{},
		byKey:    map[string]map[*local]struct{}{},
		owners:   map[*nats.Subscription]*local{},
		topics:   map[string]*topicState{},
		inflight: map[string]context.CancelFunc{},
		calls:    map[*outCall]struct{}{},
		streams:  map[string]jetstream.Stream{},
		t0:       time.Now(),
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if err := h.connect(ctx); err != nil {
		h.cancel()
		h.removeTmp()
		return nil, err
	}
	js, err := jetstream.New(h.nc)
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("cluster: JetStream: %w", err)
	}
	h.js = js
	if err := h.start(); err != nil {
		_ = h.Close()
		return nil, err
	}
	return h, nil
}

func (h *Hub) connect(ctx context.Context) error {
	opts := append([]nats.Option{
		nats.Name("wsrpc-cluster-" + h.node),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.PingInterval(NATSPingInterval),
		nats.MaxPingsOutstanding(NATSMaxPingsOut),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) && sub != nil {
				h.log.Warn("cluster: publications dropped by NATS: the topic's subscribers on this node are slower than its publishers (Config.TopicBuffer)",
					"subject", sub.Subject, "err", err)
				return
			}
			h.log.Warn("cluster: nats error", "err", err)
		}),
	}, h.cfg.NATSOptions...)
	if len(h.cfg.NATSURLs) > 0 {
		url := h.cfg.NATSURLs[0]
		for _, u := range h.cfg.NATSURLs[1:] {
			url += "," + u
		}
		nc, err := connectCtx(ctx, url, opts)
		if err != nil {
			return fmt.Errorf("cluster: connecting to NATS: %w", err)
		}
		h.nc = nc
		return nil
	}
	sopts := &server.Options{
		ServerName: "wsrpc-" + h.node,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: DefaultEmbeddedPayload,
		DontListen: h.cfg.EmbeddedListen == "",
		// Drop a frozen node's interest within seconds (see NATSPingInterval).
		PingInterval:  NATSPingInterval,
		MaxPingsOut:   NATSMaxPingsOut,
		WriteDeadline: NATSPingInterval,
	}
	if h.cfg.StoreDir != "" || h.anyDurable() {
		sopts.JetStream, sopts.StoreDir = true, h.cfg.StoreDir
		if sopts.StoreDir == "" {
			dir, err := os.MkdirTemp("", "wsrpc-cluster-")
			if err != nil {
				return fmt.Errorf("cluster: a directory for the embedded JetStream: %w", err)
			}
			h.tmpDir, sopts.StoreDir = dir, dir
		}
	}
	if h.cfg.EmbeddedListen != "" {
		host, port, err := net.SplitHostPort(h.cfg.EmbeddedListen)
		if err != nil {
			return fmt.Errorf("cluster: EmbeddedListen: %w", err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return fmt.Errorf("cluster: EmbeddedListen port: %w", err)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		}
		sopts.Host, sopts.Port = host, p
	}
	ns, err := server.NewServer(sopts)
	if err != nil {
		return fmt.Errorf("cluster: embedded NATS server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return errors.New("cluster: embedded NATS server did not start")
	}
	h.ns = ns
	nc, err := connectCtx(ctx, "", append(opts, nats.InProcessServer(ns)))
	if err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		h.ns = nil
		return fmt.Errorf("cluster: connecting to the embedded NATS server: %w", err)
	}
	h.nc = nc
	return nil
}

// connectCtx is nats.Connect bounded by ctx.
func connectCtx(ctx context.Context, url string, opts []nats.Option) (*nats.Conn, error) {
	if dl, ok := ctx.Deadline(); ok {
		opts = append(opts, nats.Timeout(time.Until(dl)))
	}
	type res struct {
		nc  *nats.Conn
		err error
	}
	out := make(chan res, 1)
	go func() {
		nc, err := nats.Connect(url, opts...)
		out <- res{nc, err}
	}()
	select {
	case r := <-out:
		return r.nc, r.err
	case <-ctx.Done():
		go func() {
			if r := <-out; r.nc != nil {
				r.nc.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// start subscribes the hub's own subjects and starts its goroutines.
func (h *Hub) start() error {
	workers := max(2, runtime.GOMAXPROCS(0))
	for range workers {
		h.wg.Add(1)
		go h.routeLoop()
	}
	sub, err := h.nc.Subscribe(h.subject("cancel"), h.onCancel)
	if err != nil {
		return err
	}
	h.hubSubs = append(h.hubSubs, sub)
	if err := h.startFlow(); err != nil {
		return err
	}
	return h.startPresence()
}

// spawn runs fn on a goroutine Close waits for, unless Close has begun waiting.
func (h *Hub) spawn(fn func()) bool {
	h.spawnMu.Lock()
	defer h.spawnMu.Unlock()
	if h.stopping {
		return false
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		fn()
	}()
	return true
}

// NodeID returns this node's id.
func (h *Hub) NodeID() string { return h.node }

// NATSURL returns the URL other nodes join with: the embedded server's client URL when
// it listens (Config.EmbeddedListen), else the URL this hub is connected to ("" for an
// embedded server without a listener).
func (h *Hub) NATSURL() string {
	if h.ns != nil {
		if h.cfg.EmbeddedListen == "" {
			return ""
		}
		return h.ns.ClientURL()
	}
	return h.nc.ConnectedUrl()
}

// Conn returns the hub's NATS connection, for applications that want to use it directly.
func (h *Hub) Conn() *nats.Conn { return h.nc }

// Close leaves the cluster: it announces the node's departure, stops serving routed
// calls and deliveries, closes the NATS connection and the embedded server, and waits for
// the hub's goroutines. Connections of attached servers stay open (close the servers
// first). It is idempotent.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	for _, ts := range h.topics {
		for _, f := range ts.followers {
			f.stop()
		}
	}
	h.mu.Unlock()
	h.leave()
	h.cancel()
	h.pres.stopKeyTimers()
	if h.nc != nil {
		_ = h.nc.FlushTimeout(time.Second)
		h.nc.Close()
	}
	h.spawnMu.Lock()
	h.stopping = true
	h.spawnMu.Unlock()
	close(h.routed)
	h.wg.Wait()
	if h.ns != nil {
		h.ns.Shutdown()
		h.ns.WaitForShutdown()
	}
	h.removeTmp()
	return nil
}

func (h *Hub) removeTmp() {
	if h.tmpDir != "" {
		_ = os.RemoveAll(h.tmpDir)
	}
}

// Attach returns the wsrpc.Option that attaches a Server to the hub: every connection it
// accepts is registered on connect and removed on disconnect. It chains the OnConnect and
// OnDisconnect hooks set by options before it, so pass it last. When methods is not nil
// (the set given to wsrpc.NewServer) the pub/sub methods "subscribe", "unsubscribe" and
// (unless Config.NoClientPublish) "publish" are added to it.
func (h *Hub) Attach(methods *wsrpc.Methods) wsrpc.Option {
	if methods != nil {
		h.RegisterMethods(methods)
	}
	return func(c *wsrpc.Config) {
		prevConnect, prevDisconnect := c.OnConnect, c.OnDisconnect
		c.OnConnect = func(ctx context.Context, ch *wsrpc.Channel) {
			h.register(ch)
			// Make the connection reachable by its keys before the hook returns: the NATS
			// server has its interest once the flush is answered.
			if err := h.nc.FlushTimeout(h.cfg.ReachTimeout); err != nil && !h.isClosed() {
				h.log.Warn("cluster: flush after connect failed", "channel", ch.ID(), "err", err)
			}
			if prevConnect != nil {
				prevConnect(ctx, ch)
			}
		}
		c.OnDisconnect = func(ch *wsrpc.Channel, err error) {
			h.unregister(ch)
			if prevDisconnect != nil {
				prevDisconnect(ch, err)
			}
		}
	}
}

// NewServer is wsrpc.NewServer(methods, opts..., h.Attach(methods)).
func (h *Hub) NewServer(methods *wsrpc.Methods, opts ...wsrpc.Option) (*wsrpc.Server, error) {
	if methods == nil {
		methods = wsrpc.NewMethods()
	}
	return wsrpc.NewServer(methods, append(opts, h.Attach(methods))...)
}

// register adds a connection (idempotent): its subscriptions and its presence. The
// connect hook calls it, and so do Subscribe and Bind when a client's first request
// beats the hook.
func (h *Hub) register(ch *wsrpc.Channel) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.registerLocked(ch)
}

func (h *Hub) registerLocked(ch *wsrpc.Channel) *local {
	if l := h.locals[ch.ID()]; l != nil && l.ch == ch {
		return l
	}
	select {
	case <-ch.Done(): // it ended already (OnDisconnect may have run before OnConnect)
		return nil
	default:
	}
	if h.closed {
		return nil
	}
	l := &local{ch: ch, since: time.Now(), keys: map[string]string{}, topics: map[string]string{}}
	for _, k := range h.cfg.Keys {
		if v, ok := keyValue(ch.Value(k)); ok {
			l.keys[k] = v
		}
	}
	h.locals[ch.ID()] = l
	h.subscribeLocked(l, h.subject("c", ch.ID()), "")
	for k, v := range l.keys {
		h.bindLocked(l, k, v)
	}
	h.presenceLocal(eventConnected, l)
	// Also for channels of servers whose OnDisconnect is not the hub's.
	context.AfterFunc(ch.Context(), func() { h.unregister(ch) })
	return l
}

func (h *Hub) bindLocked(l *local, k, v string) {
	h.subscribeLocked(l, h.subject("kq", token(k), token(v)), "q")
	set := h.byKey[k+"\x00"+v]
	if set == nil {
		set = map[*local]struct{}{}
		h.byKey[k+"\x00"+v] = set
	}
	set[l] = struct{}{}
}

func (h *Hub) subscribeLocked(l *local, subj, queue string) {
	var sub *nats.Subscription
	var err error
	if queue == "" {
		sub, err = h.nc.ChanSubscribe(subj, h.routed)
	} else {
		sub, err = h.nc.ChanQueueSubscribe(subj, queue, h.routed)
	}
	if err != nil {
		h.log.Error("cluster: subscribe failed; the connection is not addressable by it", "subject", subj, "err", err)
		return
	}
	l.subs = append(l.subs, sub)
	h.owners[sub] = l
}

// unregister removes a connection that ended.
func (h *Hub) unregister(ch *wsrpc.Channel) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.locals[ch.ID()]
	if l == nil || l.ch != ch {
		return
	}
	delete(h.locals, ch.ID())
	for _, sub := range l.subs {
		delete(h.owners, sub)
		if !h.closed {
			_ = sub.Unsubscribe()
		}
	}
	for k, v := range l.keys {
		if set := h.byKey[k+"\x00"+v]; set != nil {
			delete(set, l)
			if len(set) == 0 {
				delete(h.byKey, k+"\x00"+v)
			}
		}
	}
	for topic := range l.topics {
		h.leaveTopicLocked(l, topic)
	}
	h.presenceLocal(eventDisconnected, l)
}

// Bind makes a connection of an attached server addressable by one more key (for example
// after a login method), as if Config.Keys had named it at connect. The value is also set
// on the channel (Channel.Set). It returns ErrNoTarget when ch has closed.
func (h *Hub) Bind(ch *wsrpc.Channel, key, value string) error {
	if key == "" {
		return ErrInvalidTarget
	}
	ch.Set(key, value)
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.registerLocked(ch)
	if l == nil {
		return ErrNoTarget
	}
	if old, ok := l.keys[key]; ok {
		if old == value {
			return nil
		}
		if set := h.byKey[key+"\x00"+old]; set != nil {
			delete(set, l)
		}
		kq := h.subject("kq", token(key), token(old))
		subs := l.subs[:0]
		for _, s := range l.subs {
			if s.Subject == kq {
				delete(h.owners, s)
				_ = s.Unsubscribe()
				continue
			}
			subs = append(subs, s)
		}
		l.subs = subs
	}
	l.keys[key] = value
	h.bindLocked(l, key, value)
	h.presenceLocal(eventUpdated, l)
	return nil
}

// Local returns the live connections of this node's attached servers.
func (h *Hub) Local() []*wsrpc.Channel {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*wsrpc.Channel, 0, len(h.locals))
	for _, l := range h.locals {
		out = append(out, l.ch)
	}
	return out
}

func (h *Hub) subject(parts ...string) string {
	s := h.cfg.Prefix
	for _, p := range parts {
		s += "." + p
	}
	return s
}

// token makes s one NATS subject token: [A-Za-z0-9_-] as is, anything else base64url
// behind a "~" (which the first form never contains).
func token(s string) string {
	if s != "" {
		plain := true
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				plain = false
				break
			}
		}
		if plain {
			return s
		}
	}
	return "~" + base64.RawURLEncoding.EncodeToString([]byte(s))
}

func keyValue(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, x != ""
	case fmt.Stringer:
		return x.String(), true
	default:
		return fmt.Sprint(x), true
	}
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
