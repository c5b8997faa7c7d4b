package wsrpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// jsonConfig is the JSON form of Config used by the C and JavaScript bindings. Names and
// units follow fastapi-ws-rpc's configuration: durations are seconds (floats), and a
// missing member keeps the default.
type jsonConfig struct {
	MaxMessageSize         *int64            `json:"max_message_size"`
	MaxPendingRequests     *int              `json:"max_pending_requests"`
	MaxSendQueueSize       *int              `json:"max_send_queue_size"`     // 0 = unlimited (as in Python)
	MaxConcurrentRequests  *int              `json:"max_concurrent_requests"` // 0 = unlimited
	MaxBatchSize           *int              `json:"max_batch_size"`          // 0 = unlimited
	Sequential             *bool             `json:"sequential"`
	OrderedNotifications   *bool             `json:"ordered_notifications"`
	MaxOutgoingBytes       *int64            `json:"max_outgoing_bytes"` // 0 = unlimited
	MaxIncomingBytes       *int64            `json:"max_incoming_bytes"` // 0 = unlimited
	WriteTimeout           *float64          `json:"write_timeout"`      // 0 = none
	DefaultResponseTimeout *float64          `json:"default_response_timeout"`
	IdleTimeout            *float64          `json:"idle_timeout"`
	MaxConnectionDuration  *float64          `json:"max_connection_duration"`
	HandshakeTimeout       *float64          `json:"handshake_timeout"`
	CloseGrace             *float64          `json:"close_grace"`
	SpinWait               *float64          `json:"spin_wait"`
	Debug                  *bool             `json:"debug"`
	Subprotocols           json.RawMessage   `json:"subprotocols"` // null or [] disables
	Binary                 *bool             `json:"binary"`
	Extensions             *bool             `json:"extensions"` // false = Config.NoExtensions
	SyncChannelID          *bool             `json:"sync_channel_id"`
	OriginPatterns         []string          `json:"origin_patterns"`
	Headers                map[string]string `json:"headers"`
	ReadinessCheck         *bool             `json:"readiness_check"`
	FailFast               *bool             `json:"fail_fast"`
	Retry                  *struct {
		Enabled     *bool    `json:"enabled"`
		MaxAttempts *int     `json:"max_attempts"`
		MinWait     *float64 `json:"min_wait"`
		MaxWait     *float64 `json:"max_wait"`
		Jitter      *bool    `json:"jitter"`
	} `json:"retry"`
	AutoReconnect        *bool    `json:"auto_reconnect"`
	ReconnectDelay       *float64 `json:"reconnect_delay"`
	MaxReconnectDelay    *float64 `json:"max_reconnect_delay"`
	MaxReconnectAttempts *int     `json:"max_reconnect_attempts"` // -1 = unlimited
	MaxReconnectElapsed  *float64 `json:"max_reconnect_elapsed"`
	LogLevel             *string  `json:"log_level"` // "debug", "info", "warn", "error" or "off"
	Keepalive            *struct {
		Interval               *float64 `json:"interval"` // 0 = off (default 20 s)
		MaxConsecutiveFailures *int     `json:"max_consecutive_failures"`
		UseProtocolPing        *bool    `json:"use_protocol_ping"`
	} `json:"keepalive"`
}

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// ParseConfig reads the JSON form of the configuration (used by the C and JavaScript
// bindings) on top of DefaultConfig. Unknown members are an error, so that a misspelt
// option is never silently ignored. An empty input gives the defaults.
func ParseConfig(data []byte) (Config, error) {
	cfg := DefaultConfig()
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, nil
	}
	var j jsonConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return cfg, optionsDecodeError(err)
	}
	if err := j.check(); err != nil {
		return cfg, err
	}
	setI64 := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setBool := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setDur := func(dst *time.Duration, v *float64) {
		if v != nil {
			*dst = secs(*v)
		}
	}
	setI64(&cfg.MaxMessageSize, j.MaxMessageSize)
	setInt(&cfg.MaxPendingRequests, j.MaxPendingRequests)
	if v := j.MaxSendQueueSize; v != nil {
		cfg.MaxSendQueue = *v
		if *v == 0 {
			cfg.MaxSendQueue = -1
		}
	}
	if v := j.MaxConcurrentRequests; v != nil {
		cfg.MaxConcurrentRequests = *v
		if *v == 0 {
			cfg.MaxConcurrentRequests = -1
		}
	}
	if v := j.MaxBatchSize; v != nil {
		cfg.MaxBatchSize = *v
		if *v == 0 {
			cfg.MaxBatchSize = -1
		}
	}
	setBool(&cfg.Sequential, j.Sequential)
	setBool(&cfg.OrderedNotifications, j.OrderedNotifications)
	if v := j.Extensions; v != nil {
		cfg.NoExtensions = !*v
	}
	zeroIsNone := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
			if *v == 0 {
				*dst = -1
			}
		}
	}
	zeroIsNone(&cfg.MaxOutgoingBytes, j.MaxOutgoingBytes)
	zeroIsNone(&cfg.MaxIncomingBytes, j.MaxIncomingBytes)
	if v := j.WriteTimeout; v != nil {
		cfg.WriteTimeout = secs(*v)
		if *v == 0 {
			cfg.WriteTimeout = -1
		}
	}
	setDur(&cfg.DefaultTimeout, j.DefaultResponseTimeout)
	setDur(&cfg.SpinWait, j.SpinWait)
	setDur(&cfg.IdleTimeout, j.IdleTimeout)
	setDur(&cfg.MaxConnectionDuration, j.MaxConnectionDuration)
	setDur(&cfg.HandshakeTimeout, j.HandshakeTimeout)
	setDur(&cfg.CloseGrace, j.CloseGrace)
	setBool(&cfg.Debug, j.Debug)
	if j.Subprotocols != nil {
		var list []string
		if err := json.Unmarshal(j.Subprotocols, &list); err != nil {
			return cfg, fmt.Errorf("wsrpc: options: subprotocols: %w", err)
		}
		cfg.Subprotocols = append([]string{}, list...)
	}
	setBool(&cfg.Binary, j.Binary)
	setBool(&cfg.SyncChannelID, j.SyncChannelID)
	cfg.OriginPatterns = j.OriginPatterns
	setJSONHeaders(&cfg, j.Headers)
	setBool(&cfg.ReadinessCheck, j.ReadinessCheck)
	setBool(&cfg.FailFast, j.FailFast)
	if r := j.Retry; r != nil {
		if r.Enabled != nil {
			cfg.Retry.Disabled = !*r.Enabled
		}
		setInt(&cfg.Retry.MaxAttempts, r.MaxAttempts)
		setDur(&cfg.Retry.MinWait, r.MinWait)
		setDur(&cfg.Retry.MaxWait, r.MaxWait)
		if r.Jitter != nil {
			cfg.Retry.NoJitter = !*r.Jitter
		}
	}
	setBool(&cfg.Reconnect.Enabled, j.AutoReconnect)
	setDur(&cfg.Reconnect.Delay, j.ReconnectDelay)
	setDur(&cfg.Reconnect.MaxDelay, j.MaxReconnectDelay)
	setInt(&cfg.Reconnect.MaxAttempts, j.MaxReconnectAttempts)
	setDur(&cfg.Reconnect.MaxElapsed, j.MaxReconnectElapsed)
	if k := j.Keepalive; k != nil {
		setDur(&cfg.Keepalive.Interval, k.Interval)
		if k.Interval != nil && *k.Interval == 0 {
			cfg.Keepalive.Interval = -1
		}
		setInt(&cfg.Keepalive.MaxFailures, k.MaxConsecutiveFailures)
		if k.UseProtocolPing != nil {
			cfg.Keepalive.RPCPing = !*k.UseProtocolPing
		}
	}
	if j.LogLevel != nil {
		l, err := parseLogLevel(*j.LogLevel)
		if err != nil {
			return cfg, err
		}
		cfg.Logger = l
	}
	if err := cfg.validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// LevelOff is the level ParseLogLevel gives for "off": above every level slog uses.
const LevelOff = slog.LevelError + 100

// ParseLogLevel reads a log level name as the bindings take it (the JSON option log_level,
// $WSRPC_LOG in the C library, the JavaScript logLevel option): "debug", "info", "warn",
// "error", or "off" ("none", "silent"), in any case.
func ParseLogLevel(name string) (slog.Level, error) {
	switch strings.ToLower(name) {
	case "off", "none", "silent":
		return LevelOff, nil
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(name)); err != nil {
		return 0, fmt.Errorf("%w: log level %q: want debug, info, warn, error or off", ErrInvalidArgument, name)
	}
	return lv, nil
}

// parseLogLevel returns a stderr text logger at the named level.
func parseLogLevel(name string) (*slog.Logger, error) {
	lv, err := ParseLogLevel(name)
	if err != nil {
		return nil, fmt.Errorf("wsrpc: options: %w", err)
	}
	if lv == LevelOff {
		return slog.New(slog.NewTextHandler(io.Discard, nil)), nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv})), nil
}
