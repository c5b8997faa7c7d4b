package wsrpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Checks of the JSON options (ParseConfig) that name the offending option as the bindings'
// users spell it; Config.validate still runs afterwards for the rules that span options.

// optionError is an invalid option, classified as ErrInvalidArgument.
func optionError(format string, args ...any) error {
	return fmt.Errorf("%w: options: %s", ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// optionsDecodeError rewords a decoding error of the options in terms of option names.
func optionsDecodeError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return optionError("want a JSON object, got %s", te.Value)
	case errors.As(err, &te):
		return optionError("option %q: want %s, got %s", te.Field, jsonKind(te.Type), te.Value)
	case errors.As(err, &se):
		return optionError("not valid JSON: %v", err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return optionError("unknown option %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return optionError("%v", err)
}

// maxSeconds is the longest duration option: time.Duration's range, in seconds.
const maxSeconds = float64(math.MaxInt64) / 1e9

// check validates each option on its own.
func (j *jsonConfig) check() error {
	seconds := func(name string, v *float64) error {
		if v != nil && (*v < 0 || *v > maxSeconds || math.IsNaN(*v)) {
			return optionError("option %q: want seconds between 0 and %.0f, got %v", name, maxSeconds, *v)
		}
		return nil
	}
	atLeast := func(name string, v *int64, min int64) error {
		if v != nil && *v < min {
			return optionError("option %q: want an integer >= %d, got %d", name, min, *v)
		}
		return nil
	}
	i64 := func(v *int) *int64 {
		if v == nil {
			return nil
		}
		x := int64(*v)
		return &x
	}
	errs := []error{
		atLeast("max_message_size", j.MaxMessageSize, 1),
		atLeast("max_pending_requests", i64(j.MaxPendingRequests), 1),
		atLeast("max_send_queue_size", i64(j.MaxSendQueueSize), 0),
		atLeast("max_concurrent_requests", i64(j.MaxConcurrentRequests), 0),
		atLeast("max_outgoing_bytes", j.MaxOutgoingBytes, 0),
		atLeast("max_incoming_bytes", j.MaxIncomingBytes, 0),
		seconds("write_timeout", j.WriteTimeout),
		seconds("default_response_timeout", j.DefaultResponseTimeout),
		seconds("idle_timeout", j.IdleTimeout),
		seconds("max_connection_duration", j.MaxConnectionDuration),
		seconds("handshake_timeout", j.HandshakeTimeout),
		seconds("close_grace", j.CloseGrace),
		seconds("reconnect_delay", j.ReconnectDelay),
		seconds("max_reconnect_delay", j.MaxReconnectDelay),
		seconds("max_reconnect_elapsed", j.MaxReconnectElapsed),
	}
	if v := j.SpinWait; v != nil && !(*v >= 0 && *v <= 1) {
		errs = append(errs, optionError("option %q: want seconds between 0 and 1, got %v", "spin_wait", *v))
	}
	if v := j.MaxReconnectAttempts; v != nil && *v < 1 && *v != -1 {
		errs = append(errs, optionError("option %q: want an integer >= 1, or -1 for no limit, got %d", "max_reconnect_attempts", *v))
	}
	if r := j.Retry; r != nil {
		errs = append(errs, atLeast("retry.max_attempts", i64(r.MaxAttempts), 1),
			seconds("retry.min_wait", r.MinWait), seconds("retry.max_wait", r.MaxWait))
	}
	if k := j.Keepalive; k != nil {
		errs = append(errs, seconds("keepalive.interval", k.Interval),
			atLeast("keepalive.max_consecutive_failures", i64(k.MaxConsecutiveFailures), 0))
	}
	if v := j.LogLevel; v != nil {
		if _, err := ParseLogLevel(*v); err != nil {
			errs = append(errs, optionError("option %q: want debug, info, warn, error or off, got %q", "log_level", *v))
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
