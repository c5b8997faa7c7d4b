package wsrpc

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// DefaultSubprotocol is the WebSocket subprotocol fastapi-ws-rpc offers and answers with.
const DefaultSubprotocol = "jsonrpc2.0"

// Defaults from the reference implementation (BEHAVIOUR.md §4).
const (
	DefaultMaxMessageSize        = 10 << 20 // 10 MiB
	DefaultMaxPendingRequests    = 1000
	DefaultMaxSendQueue          = 1000
	DefaultMaxConcurrentRequests = 1000
	DefaultMaxBatchSize          = 100
	DefaultReconnectDelay        = 5 * time.Second
	DefaultMaxReconnectDelay     = 60 * time.Second
	DefaultMaxReconnectAttempts  = 10
	DefaultRetryAttempts         = 5
	DefaultRetryMinWait          = 100 * time.Millisecond
	DefaultRetryMaxWait          = 30 * time.Second
	DefaultKeepaliveFailures     = 3
	DefaultKeepaliveInterval     = 20 * time.Second
	DefaultWriteTimeout          = 10 * time.Second
	DefaultHandshakeTimeout      = 30 * time.Second
	DefaultCloseGrace            = 5 * time.Second
	pendingTTL                   = 60 * time.Second
	idCooldown                   = 10 * time.Second
	recentIDMemory               = 10000
)

// RetryConfig is the client's initial-connect retry (BEHAVIOUR.md §8).
type RetryConfig struct {
	Disabled    bool
	MaxAttempts int           // total attempts; default 5
	MinWait     time.Duration // default 100 ms
	MaxWait     time.Duration // default 30 s
	NoJitter    bool
}

// ReconnectConfig is the client's auto-reconnect (BEHAVIOUR.md §9).
type ReconnectConfig struct {
	Enabled     bool
	Delay       time.Duration // base delay; default 5 s
	MaxDelay    time.Duration // cap; default 60 s
	MaxAttempts int           // attempts per outage; default 10, -1 = unlimited
	MaxElapsed  time.Duration // give up after this long per outage; 0 = no limit
}

// KeepaliveConfig is the keepalive of clients and servers (BEHAVIOUR.md §7; on by default,
// unlike the Python library's, see the spec's EXTENSIONS.md): every Interval the peer is
// pinged, with a timeout of min(Interval/2, 10 s) but at least 1 s, and after MaxFailures failures in a row
// the connection is dropped. The default, one ping every 20 s that must be answered, finds
// a dead peer within 30 s, as the websockets library under the Python peers does (it
// pings every 20 s).
type KeepaliveConfig struct {
	Interval    time.Duration // default 20 s; -1 disables (0 is the default)
	MaxFailures int           // consecutive failures before the connection is dropped; default 1
	RPCPing     bool          // use the JSON-RPC "ping" method instead of WebSocket pings
}

// HTTPError refuses a WebSocket upgrade with an HTTP status (from Config.Authenticate).
type HTTPError struct {
	Status  int
	Message string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("wsrpc: HTTP %d: %s", e.Status, e.Message) }

// Option changes a Config.
type Option func(*Config)

// DefaultConfig returns the defaults of the reference implementation.
func DefaultConfig() Config {
	return Config{
		MaxMessageSize:        DefaultMaxMessageSize,
		MaxPendingRequests:    DefaultMaxPendingRequests,
		MaxSendQueue:          DefaultMaxSendQueue,
		MaxConcurrentRequests: DefaultMaxConcurrentRequests,
		MaxBatchSize:          DefaultMaxBatchSize,
		HandshakeTimeout:      DefaultHandshakeTimeout,
		CloseGrace:            DefaultCloseGrace,
		ReadinessCheck:        true,
		Retry:                 RetryConfig{MaxAttempts: DefaultRetryAttempts, MinWait: DefaultRetryMinWait, MaxWait: DefaultRetryMaxWait},
		Reconnect:             ReconnectConfig{Delay: DefaultReconnectDelay, MaxDelay: DefaultMaxReconnectDelay, MaxAttempts: DefaultMaxReconnectAttempts},
		Keepalive:             KeepaliveConfig{Interval: DefaultKeepaliveInterval, MaxFailures: 1},
		WriteTimeout:          DefaultWriteTimeout,
	}
}

func buildConfig(opts []Option) (*Config, error) {
	c := DefaultConfig()
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.composeInterceptors()
	return &c, nil
}

// validate applies the reference's validation rules (BEHAVIOUR.md §4.12).
func (c *Config) validate() error {
	switch {
	case c.MaxMessageSize <= 0:
		return fmt.Errorf("wsrpc: MaxMessageSize must be > 0")
	case c.MaxPendingRequests <= 0:
		return fmt.Errorf("wsrpc: MaxPendingRequests must be > 0")
	case c.DefaultTimeout < 0, c.IdleTimeout < 0, c.MaxConnectionDuration < 0, c.HandshakeTimeout < 0:
		return fmt.Errorf("wsrpc: timeouts must be >= 0")
	case c.SpinWait < 0 || c.SpinWait > time.Second:
		return fmt.Errorf("wsrpc: SpinWait must be between 0 and 1s")
	case c.MaxConnectionDuration > 0 && c.DefaultTimeout >= c.MaxConnectionDuration:
		return fmt.Errorf("wsrpc: DefaultTimeout must be shorter than MaxConnectionDuration")
	case c.Reconnect.Delay < 0 || c.Reconnect.MaxDelay < 0 || c.Reconnect.MaxElapsed < 0:
		return fmt.Errorf("wsrpc: reconnect delays must be >= 0")
	case c.Reconnect.MaxAttempts == 0 || c.Reconnect.MaxAttempts < -1:
		return fmt.Errorf("wsrpc: Reconnect.MaxAttempts must be >= 1 or -1")
	case c.Retry.MaxAttempts <= 0:
		return fmt.Errorf("wsrpc: Retry.MaxAttempts must be > 0")
	case c.Retry.MinWait < 0 || c.Retry.MaxWait < c.Retry.MinWait:
		return fmt.Errorf("wsrpc: Retry waits must satisfy 0 <= MinWait <= MaxWait")
	case c.Keepalive.Interval < -1:
		return fmt.Errorf("wsrpc: Keepalive.Interval must be >= 0, or -1 to disable")
	case c.MaxOutgoingBytes < -1 || c.MaxIncomingBytes < -1:
		return fmt.Errorf("wsrpc: MaxOutgoingBytes and MaxIncomingBytes must be >= 0, or -1 for no limit")
	case c.MaxBatchSize < -1:
		return fmt.Errorf("wsrpc: MaxBatchSize must be >= 0, or -1 for no limit")
	case c.WriteTimeout < -1:
		return fmt.Errorf("wsrpc: WriteTimeout must be >= 0, or -1 for none")
	case c.Keepalive.MaxFailures < 0:
		return fmt.Errorf("wsrpc: Keepalive.MaxFailures must be >= 1 (0 for the default)")
	}
	return nil
}

// maxBytes is a byte budget's limit: n, or 2 x MaxMessageSize for 0, or none (0) for -1.
func (c *Config) maxBytes(n int64) int64 {
	switch {
	case n < 0:
		return 0
	case n == 0:
		return 2 * c.MaxMessageSize
	}
	return max(n, c.MaxMessageSize)
}

// batchLimit is the most members an incoming batch may have.
func (c *Config) batchLimit() int {
	switch {
	case c.MaxBatchSize < 0:
		return int(^uint(0) >> 1)
	case c.MaxBatchSize == 0:
		return DefaultMaxBatchSize
	}
	return c.MaxBatchSize
}

// WithMaxBatchSize bounds the members of an incoming batch (-1: no limit).
func WithMaxBatchSize(n int) Option { return func(c *Config) { c.MaxBatchSize = n } }

// WithOrderedNotifications sets Config.OrderedNotifications: a connection's notifications
// run one at a time in arrival order; its requests still run concurrently.
func WithOrderedNotifications(on bool) Option {
	return func(c *Config) { c.OrderedNotifications = on }
}

// writeTimeout is the write timeout in force (0: none).
func (c *Config) writeTimeout() time.Duration {
	switch {
	case c.WriteTimeout < 0:
		return 0
	case c.WriteTimeout == 0:
		return DefaultWriteTimeout
	}
	return c.WriteTimeout
}

// keepaliveInterval is the keepalive interval in force (0: off).
func (c *Config) keepaliveInterval() time.Duration {
	switch {
	case c.Keepalive.Interval < 0:
		return 0
	case c.Keepalive.Interval == 0:
		return DefaultKeepaliveInterval
	}
	return c.Keepalive.Interval
}

func (c *Config) subprotocols() []string {
	if c.Subprotocols == nil {
		return []string{DefaultSubprotocol}
	}
	return c.Subprotocols
}

// WithConfig replaces the whole configuration (hooks included) with cfg.
func WithConfig(cfg Config) Option { return func(c *Config) { *c = cfg } }

// WithMethods sets the methods the peer may call.
func WithMethods(m *Methods) Option { return func(c *Config) { c.Methods = m } }

// WithDebug discloses handler error texts in -32603 replies.
func WithDebug(debug bool) Option { return func(c *Config) { c.Debug = debug } }

// WithSubprotocols sets the offered/accepted subprotocols; none disables them.
func WithSubprotocols(protos ...string) Option {
	return func(c *Config) { c.Subprotocols = append([]string{}, protos...) }
}

// WithFallbackURLs adds servers the client rotates through when connecting and
// reconnecting (see Config.FallbackURLs).
func WithFallbackURLs(urls ...string) Option {
	return func(c *Config) { c.FallbackURLs = append(c.FallbackURLs, urls...) }
}

// WithTimeout sets the default response timeout for calls without a deadline.
func WithTimeout(d time.Duration) Option { return func(c *Config) { c.DefaultTimeout = d } }

// WithMaxMessageSize sets the message size limit in bytes (both directions).
func WithMaxMessageSize(n int64) Option { return func(c *Config) { c.MaxMessageSize = n } }

// WithMaxPendingRequests limits outgoing calls awaiting an answer.
func WithMaxPendingRequests(n int) Option { return func(c *Config) { c.MaxPendingRequests = n } }

// WithSyncChannelID makes a server learn each client's channel id on connect.
func WithSyncChannelID(on bool) Option { return func(c *Config) { c.SyncChannelID = on } }

// WithOriginPatterns allows cross-origin browser connections from these host patterns.
func WithOriginPatterns(patterns ...string) Option {
	return func(c *Config) { c.OriginPatterns = append(c.OriginPatterns, patterns...) }
}

// WithOnConnect sets the hook run when a connection is ready.
func WithOnConnect(fn func(ctx context.Context, ch *Channel)) Option {
	return func(c *Config) { c.OnConnect = fn }
}

// WithOnDisconnect sets the hook run once when a connection ends.
func WithOnDisconnect(fn func(ch *Channel, err error)) Option {
	return func(c *Config) { c.OnDisconnect = fn }
}

// WithOnError sets the hook run when an incoming message cannot be processed.
func WithOnError(fn func(ch *Channel, err error)) Option {
	return func(c *Config) { c.OnError = fn }
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *Config) { c.Logger = l } }

// WithReconnect enables auto-reconnect with base delay and attempts per outage.
func WithReconnect(delay time.Duration, maxAttempts int) Option {
	return func(c *Config) {
		c.Reconnect.Enabled = true
		c.Reconnect.Delay = delay
		c.Reconnect.MaxAttempts = maxAttempts
	}
}

// WithKeepalive enables keepalive checks every interval.
func WithKeepalive(interval time.Duration, maxFailures int) Option {
	return func(c *Config) {
		c.Keepalive.Interval = interval
		c.Keepalive.MaxFailures = maxFailures
	}
}
