package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/tools/bots/botrun"
)

func noEnv(string) (string, bool) { return "", false }

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseDefaults(t *testing.T) {
	o, err := parse(nil, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := botrun.Config{
		Server: netip.MustParseAddrPort("127.0.0.1:7777"), Clients: 10, Duration: 10 * time.Second, Seed: 1,
		Bind: netip.MustParseAddr("127.0.0.1"), IO: botrun.DefaultIO,
		ActionInterval: 150 * time.Millisecond, ConnectTimeout: 5 * time.Second, Grace: 2 * time.Second, DrainLimit: 10 * time.Second,
	}
	if o.run.Listen != nil || o.run.Server != want.Server || o.run.Clients != want.Clients || o.run.Duration != want.Duration ||
		o.run.Seed != want.Seed || o.run.Bind != want.Bind || o.run.IO != want.IO || o.run.ActionInterval != want.ActionInterval ||
		o.run.ConnectTimeout != want.ConnectTimeout || o.run.Grace != want.Grace || o.run.DrainLimit != want.DrainLimit ||
		o.run.Rate != (protocol.Rate{}) || o.run.Ramp != 0 {
		t.Errorf("defaults %+v, want %+v", o.run, want)
	}
	if o.json || !o.strict || o.live {
		t.Errorf("json %v strict %v live %v", o.json, o.strict, o.live)
	}
}

func TestParseFlagsAndEnv(t *testing.T) {
	env := envOf(map[string]string{
		"FLOTILLA_BOTS_CLIENTS":       "50",
		"FLOTILLA_BOTS_RATE_HZ":       "30",
		"FLOTILLA_BOTS_BYTES_PER_SEC": "12000",
		"FLOTILLA_BOTS_JSON":          "true",
		"FLOTILLA_BOTS_SERVER":        "127.0.0.1:9000",
	})
	o, err := parse([]string{"-clients", "7", "-io", "naive", "-duration", "3s", "-action-interval", "200ms",
		"-strict=false", "-seed", "42", "-ramp", "1s", "-grace", "1s", "-drain-limit", "4s", "-connect-timeout", "2s",
		"-bind", "127.0.0.3"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r := o.run
	if r.Clients != 7 || r.IO != "naive" || r.Duration != 3*time.Second || r.ActionInterval != 200*time.Millisecond ||
		r.Seed != 42 || r.Ramp != time.Second || r.Grace != time.Second || r.DrainLimit != 4*time.Second ||
		r.ConnectTimeout != 2*time.Second || r.Bind != netip.MustParseAddr("127.0.0.3") {
		t.Errorf("flags: %+v", r)
	}
	if r.Rate != (protocol.Rate{Hz: 30, BytesPerSec: 12000}) || r.Server != netip.MustParseAddrPort("127.0.0.1:9000") || !o.json || o.strict {
		t.Errorf("env: rate %+v, server %v, json %v, strict %v", r.Rate, r.Server, o.json, o.strict)
	}
	if o, err := parse([]string{"-transport", "webrtc", "-rtc", "http://127.0.0.1:8080/rtc"}, noEnv, io.Discard); err != nil ||
		o.run.Transport != "webrtc" || o.run.RTC != "http://127.0.0.1:8080/rtc" {
		t.Errorf("webrtc: %+v, %v", o.run, err)
	}
	if o, err := parse([]string{"-server", "localhost:7000"}, noEnv, io.Discard); err != nil || o.run.Server.Port() != 7000 || !o.run.Server.Addr().IsLoopback() {
		t.Errorf("host name: %v, %v", o.run.Server, err)
	}
}

func TestParseRejects(t *testing.T) {
	for name, args := range map[string][]string{
		"clients 0":        {"-clients", "0"},
		"clients huge":     {"-clients", "100001"},
		"io":               {"-io", "carrier-pigeon"},
		"negative":         {"-duration", "-1s"},
		"rate":             {"-rate-hz", "241"},
		"budget":           {"-bytes-per-sec", "4294967296"},
		"no port":          {"-server", "127.0.0.1"},
		"port 0":           {"-server", "127.0.0.1:0"},
		"interval 0":       {"-action-interval", "0"},
		"grace 0":          {"-grace", "0"},
		"grace over limit": {"-grace", "20s"},
		"bind":             {"-bind", "nowhere"},
		"transport":        {"-transport", "tcp"},
		"webrtc, no -rtc":  {"-transport", "webrtc"},
		"unknown flag":     {"-bogus"},
		"argument":         {"extra"},
	} {
		if _, err := parse(args, noEnv, io.Discard); err == nil {
			t.Errorf("%s: %v accepted", name, args)
		}
	}
	if _, err := parse(nil, envOf(map[string]string{"FLOTILLA_BOTS_CLIENTS": "many"}), io.Discard); err == nil ||
		!strings.Contains(err.Error(), "FLOTILLA_BOTS_CLIENTS") {
		t.Errorf("bad env value: %v", err)
	}
}

// --help documents every flag and its environment variable, and is not an
// error.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if _, err := parse([]string{"--help"}, noEnv, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, name := range []string{"transport", "rtc", "server", "clients", "duration", "io", "bind", "seed", "rate-hz", "bytes-per-sec",
		"action-interval", "connect-timeout", "ramp", "grace", "drain-limit", "json", "strict", "live"} {
		if !strings.Contains(out.String(), "  -"+name+" ") && !strings.Contains(out.String(), "  -"+name+"\n") {
			t.Errorf("help does not document -%s", name)
		}
	}
	if !strings.Contains(out.String(), envPrefix) {
		t.Error("help does not name the environment variables")
	}
	if code := run(t.Context(), []string{"-h"}, noEnv, io.Discard, io.Discard); code != 0 {
		t.Errorf("-h exits %d", code)
	}
	if code := run(t.Context(), []string{"-clients", "0"}, noEnv, io.Discard, io.Discard); code != 2 {
		t.Errorf("bad flag exits %d", code)
	}
}

// The JSON object starts with exactly the contract's keys, in order.
func TestReportJSONKeys(t *testing.T) {
	b, err := json.Marshal(&botrun.Report{Errors: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	contract := []string{"clients", "connected", "snapshots", "desync_permanent", "checksum_mismatch",
		"bytes_per_client_tick_p50", "bytes_per_client_tick_p99", "actions_sent", "actions_applied",
		"actions_fizzled", "actions_lost", "action_to_effect_ms_p99"}
	if len(keys) < len(contract) || !slices.Equal(keys[:len(contract)], contract) {
		t.Errorf("keys %v, want them to start with %v", keys, contract)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Errorf("key %q twice", k)
		}
		seen[k] = true
	}
}
