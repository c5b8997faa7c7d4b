package main

import (
	"log/slog"
	"testing"
	"time"
)

// The C and Python default of spin_wait, and the options that change it.
func TestOptionsSpinWait(t *testing.T) {
	for _, c := range []struct {
		options string
		want    time.Duration
	}{
		{``, blockingSpinWait},
		{`{}`, blockingSpinWait},
		{`{"default_response_timeout": 5}`, blockingSpinWait},
		{`{"spin_wait": null}`, blockingSpinWait},
		{`{"spin_wait": 0}`, 0},
		{`{"spin_wait": 0.00005}`, 50 * time.Microsecond},
	} {
		cfg, f := configOf([]byte(c.options))
		if f != nil {
			t.Fatalf("%s: %v", c.options, f.err)
		}
		if cfg.SpinWait != c.want {
			t.Errorf("%s: SpinWait %v, want %v", c.options, cfg.SpinWait, c.want)
		}
	}
	if _, f := configOf([]byte(`{"spin_wait": -1}`)); f == nil {
		t.Error(`{"spin_wait": -1} accepted`)
	}
}

func TestOptionsLogLevel(t *testing.T) {
	if lv, _ := optionsExtra([]byte(`{"log_level": "error"}`)); lv != slog.LevelError {
		t.Errorf("log_level error -> %v", lv)
	}
	if lv, _ := optionsExtra([]byte(`{}`)); lv != envLevel() {
		t.Errorf("no log_level -> %v, want $WSRPC_LOG's %v", lv, envLevel())
	}
}
