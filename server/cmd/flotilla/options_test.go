package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/server"
)

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func noEnv(string) (string, bool) { return "", false }

// validValues holds a valid value, other than the default, for every flag,
// as the flag prints it back.
var validValues = map[string]string{
	"listen": "127.0.0.1:9000", "admin": "", "io": "naive", "duration": "1m0s", "summary": "1s", "bots": "20",
	"log-level": "debug", "log-format": "json",
	"tick-hz": "60", "snapshot-hz": "15", "max-snapshot-hz": "40", "bytes-per-sec": "9000", "max-bytes-per-sec": "90000",
	"mesh-redirect-margin": "3", "input-delay": "3", "max-clients": "100", "max-pending-actions": "8", "seed": "42",
	"interest": "2,-1,4,6", "keepalive": "100ms", "timeout": "9s",
	"http": "127.0.0.1:9001", "public-ip": "192.0.2.1,2001:db8::1",
	"max-unproven": "64", "max-unproven-per-addr": "4", "max-clients-per-addr": "9", "proof-timeout": "5s", "ack-timeout": "20s", "workers": "3", "max-view-entities": "300",
	"mesh-self": "2", "mesh-members": "1=127.0.0.1:7001,2=127.0.0.1:7002", "mesh-key": strings.Repeat("ab", 32),
}

func TestEveryFlagReadsItsEnvVar(t *testing.T) {
	fs := newFlagSet(&options{})
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := validValues[f.Name]
		if !ok {
			t.Errorf("-%s has no test value in validValues", f.Name)
			return
		}
		o, err := parseOptions(nil, envMap(map[string]string{envName(f.Name): v}))
		if err != nil {
			t.Errorf("%s=%q: %v", envName(f.Name), v, err)
			return
		}
		if !o.set[f.Name] {
			t.Errorf("%s=%q did not count as given", envName(f.Name), v)
		}
		got := newFlagSetValue(t, o, f.Name)
		if got != v {
			t.Errorf("%s=%q: -%s is %q", envName(f.Name), v, f.Name, got)
		}
	})
}

// newFlagSetValue prints flag name's value as o holds it.
func newFlagSetValue(t *testing.T, o *options, name string) string {
	t.Helper()
	switch name {
	case "mesh-self":
		return fmt.Sprint(o.meshSelf)
	case "mesh-redirect-margin":
		return fmt.Sprint(o.meshRedirectMargin)
	case "mesh-members":
		return o.meshMembers.String()
	case "mesh-key":
		return hex.EncodeToString(o.meshKey)
	case "listen":
		return o.listen.String()
	case "admin":
		return o.admin
	case "io":
		return o.io
	case "duration":
		return o.duration.String()
	case "summary":
		return o.summary.String()
	case "bots":
		return strconv.Itoa(o.bots)
	case "log-level":
		return o.logLevel
	case "log-format":
		return o.logFormat
	case "tick-hz":
		return fmt.Sprint(o.tickHz)
	case "snapshot-hz":
		return fmt.Sprint(o.snapshotHz)
	case "max-snapshot-hz":
		return fmt.Sprint(o.maxSnapshotHz)
	case "bytes-per-sec":
		return fmt.Sprint(o.bytesPerSec)
	case "max-bytes-per-sec":
		return fmt.Sprint(o.maxBytesPerSec)
	case "input-delay":
		return fmt.Sprint(o.inputDelay)
	case "max-clients":
		return fmt.Sprint(o.maxClients)
	case "max-pending-actions":
		return fmt.Sprint(o.maxPendingActions)
	case "seed":
		return fmt.Sprint(o.seed)
	case "interest":
		return (*interestValue)(&o.interest).String()
	case "keepalive":
		return o.keepalive.String()
	case "timeout":
		return o.timeout.String()
	case "http":
		return o.http
	case "public-ip":
		return o.publicIPs.String()
	case "max-unproven":
		return fmt.Sprint(o.maxUnproven)
	case "max-unproven-per-addr":
		return fmt.Sprint(o.maxUnprovenPerAddr)
	case "max-clients-per-addr":
		return fmt.Sprint(o.maxClientsPerAddr)
	case "proof-timeout":
		return o.proofTimeout.String()
	case "ack-timeout":
		return o.ackTimeout.String()
	case "workers":
		return fmt.Sprint(o.workers)
	case "max-view-entities":
		return fmt.Sprint(o.maxViewEntities)
	}
	t.Fatalf("no accessor for -%s", name)
	return ""
}

func TestFlagWinsOverEnv(t *testing.T) {
	env := envMap(map[string]string{"FLOTILLA_TICK_HZ": "20", "FLOTILLA_IO": "batched", "FLOTILLA_SEED": "7"})
	o, err := parseOptions([]string{"-tick-hz", "25", "--io=naive"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if o.tickHz != 25 || o.io != "naive" {
		t.Errorf("tick-hz %d io %s: the command line must win over the environment", o.tickHz, o.io)
	}
	if o.seed != 7 {
		t.Errorf("seed %d: the environment applies where no flag is given", o.seed)
	}
	// A bad variable is an error even when the flag overrides it: the
	// environment is read first.
	if _, err := parseOptions([]string{"-tick-hz", "25"}, envMap(map[string]string{"FLOTILLA_TICK_HZ": "x"})); err == nil {
		t.Error("bad FLOTILLA_TICK_HZ accepted")
	}
}

func TestDefaults(t *testing.T) {
	o, err := parseOptions(nil, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if o.listen.String() != defaultListen || o.admin != defaultAdmin || o.io != "gnet" || o.duration != 0 || o.summary != 0 {
		t.Errorf("defaults: listen %v admin %q io %s duration %v summary %v", o.listen, o.admin, o.io, o.duration, o.summary)
	}
	cfg, err := o.roomConfig()
	if err != nil {
		t.Fatal(err)
	}
	def := server.Config{}.WithDefaults()
	if cfg.TickHz != def.TickHz || cfg.SnapshotHz != def.SnapshotHz || cfg.MaxSnapshotHz != def.MaxSnapshotHz ||
		cfg.BytesPerSec != def.BytesPerSec || cfg.MaxBytesPerSec != def.MaxBytesPerSec ||
		cfg.InputDelay != def.InputDelay || cfg.MaxClients != def.MaxClients ||
		cfg.MaxPendingActions != def.MaxPendingActions || cfg.Game.Interest != demowire.DefaultInterest() {
		t.Errorf("flag defaults %+v differ from the room's %+v", cfg, def)
	}
	if cfg.Net.Keepalive != defaultKeepalive || cfg.Net.Timeout != defaultTimeout {
		t.Errorf("keepalive %v timeout %v", cfg.Net.Keepalive, cfg.Net.Timeout)
	}
}

func TestRatesFollowTheirBounds(t *testing.T) {
	for _, c := range []struct {
		args                        []string
		tick, snap, maxSnap         int
		bytesPerSec, maxBytesPerSec int
	}{
		{[]string{"-tick-hz", "10"}, 10, 10, 10, 20000, 200000},
		{[]string{"-tick-hz", "60"}, 60, 20, 60, 20000, 200000},
		{[]string{"-max-snapshot-hz", "12"}, 30, 12, 12, 20000, 200000},
		{[]string{"-tick-hz", "10", "-snapshot-hz", "5"}, 10, 5, 10, 20000, 200000},
		{[]string{"-max-bytes-per-sec", "5000"}, 30, 20, 30, 5000, 5000},
	} {
		o, err := parseOptions(c.args, noEnv)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := o.roomConfig()
		if err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		if cfg.TickHz != c.tick || cfg.SnapshotHz != c.snap || cfg.MaxSnapshotHz != c.maxSnap ||
			cfg.BytesPerSec != c.bytesPerSec || cfg.MaxBytesPerSec != c.maxBytesPerSec {
			t.Errorf("%v: tick %d snapshot %d max %d bytes %d max %d", c.args,
				cfg.TickHz, cfg.SnapshotHz, cfg.MaxSnapshotHz, cfg.BytesPerSec, cfg.MaxBytesPerSec)
		}
	}
}

func TestInterestFlag(t *testing.T) {
	for _, c := range []struct {
		arg  string
		want demowire.Interest
	}{
		{"tile", demowire.TileInterest()},
		{"1,2,3,5", demowire.DefaultInterest()},
		{"2, -1, 4, 6", demowire.Interest{Radius: [4]int32{2, -1, 4, 6}}},
	} {
		o, err := parseOptions([]string{"-interest", c.arg}, noEnv)
		if err != nil {
			t.Fatalf("-interest %q: %v", c.arg, err)
		}
		cfg, err := o.roomConfig()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Game.Interest != c.want {
			t.Errorf("-interest %q: %v, want %v", c.arg, cfg.Game.Interest, c.want)
		}
	}
}

func TestBadValuesNameTheFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string // substrings of the error
	}{
		{[]string{"-tick-hz", "abc"}, []string{"-tick-hz", "not a whole number"}},
		{[]string{"-tick-hz", "0"}, []string{"-tick-hz", "below 1"}},
		{[]string{"-tick-hz", "500"}, []string{"-tick-hz:", "tick rate 500"}},
		{[]string{"-snapshot-hz", "50", "-max-snapshot-hz", "40"}, []string{"-snapshot-hz, -max-snapshot-hz:"}},
		{[]string{"-tick-hz", "10", "-snapshot-hz", "20", "-seed", "3"}, []string{"-tick-hz, -snapshot-hz:", "snapshot rate 20 Hz"}},
		{[]string{"-max-snapshot-hz", "40"}, []string{"-max-snapshot-hz:", "max snapshot rate 40"}},
		{[]string{"-max-bytes-per-sec", "500"}, []string{"-max-bytes-per-sec:"}},
		{[]string{"-max-clients", "2000000"}, []string{"-max-clients:"}},
		{[]string{"-input-delay", "0"}, []string{"-input-delay", "below 1"}},
		{[]string{"-input-delay", "61"}, []string{"-input-delay:"}},
		{[]string{"-seed", "-1"}, []string{"-seed"}},
		{[]string{"-io", "dpdk"}, []string{"-io", "want one of gnet, batched, naive"}},
		{[]string{"-listen", "nowhere"}, []string{"-listen", "ip:port"}},
		{[]string{"-listen", "localhost:7777"}, []string{"-listen", "not an IP address"}},
		{[]string{"-listen", "127.0.0.1:70000"}, []string{"-listen", "not a port"}},
		{[]string{"-admin", "7780"}, []string{"-admin", "host:port"}},
		{[]string{"-duration", "-1s"}, []string{"-duration", "negative"}},
		{[]string{"-summary", "often"}, []string{"-summary", "not a duration"}},
		{[]string{"-log-level", "loud"}, []string{"-log-level", "debug, info, warn, error"}},
		{[]string{"-log-format", "xml"}, []string{"-log-format"}},
		{[]string{"-interest", "1,2,3"}, []string{"-interest", "4 comma-separated radii"}},
		{[]string{"-interest", "-1,-1,-1,-1"}, []string{"-interest", "every tier is off"}},
		{[]string{"-interest", "1,2,3,999"}, []string{"-interest", `radius "999"`}},
		{[]string{"-keepalive", "0s"}, []string{"-keepalive", "above zero"}},
		{[]string{"-keepalive", "10s"}, []string{"-keepalive:", "not below the session timeout"}},
		{[]string{"-timeout", "2h"}, []string{"-timeout:", "over 1h"}},
		{[]string{"-nope"}, []string{"-nope"}},
		{[]string{"-tick-hz", "20", "extra"}, []string{`unexpected argument "extra"`}},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), c.args, noEnv, &stdout, &stderr)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", c.args, code, exitUsage)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%v: error %q lacks %q", c.args, stderr.String(), w)
			}
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: wrote to stdout: %q", c.args, stdout.String())
		}
	}
}

func TestBadEnvNamesTheVariable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), nil, envMap(map[string]string{"FLOTILLA_SUMMARY": "-5s"}), &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "FLOTILLA_SUMMARY") || !strings.Contains(stderr.String(), "-summary") {
		t.Errorf("exit %d, error %q: want %d naming FLOTILLA_SUMMARY and -summary", code, stderr.String(), exitUsage)
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	for _, arg := range []string{"-help", "--help", "-h"} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{arg}, noEnv, &stdout, &stderr); code != exitOK {
			t.Fatalf("%s: exit %d, stderr %q", arg, code, stderr.String())
		}
		help := stdout.String()
		n := 0
		newFlagSet(&options{}).VisitAll(func(f *flag.Flag) {
			n++
			entry := help[strings.Index(help, "\n  -"+f.Name+" ")+1:]
			if !strings.HasPrefix(entry, "  -"+f.Name+" ") {
				t.Errorf("%s: -%s missing", arg, f.Name)
				return
			}
			if next := strings.Index(entry[1:], "\n  -"); next >= 0 {
				entry = entry[:next+1]
			}
			for _, want := range []string{"(default ", "env " + envName(f.Name), f.Usage[:min(len(f.Usage), 20)]} {
				if !strings.Contains(entry, want) {
					t.Errorf("%s: -%s entry %q lacks %q", arg, f.Name, entry, want)
				}
			}
		})
		if got := strings.Count(help, "(default "); got != n {
			t.Errorf("%s: %d defaults listed for %d flags", arg, got, n)
		}
		if !strings.Contains(help, "FLOTILLA_") || !strings.Contains(help, "wins over") {
			t.Errorf("%s: help does not explain the environment variables", arg)
		}
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{"tick-hz": "FLOTILLA_TICK_HZ", "io": "FLOTILLA_IO", "max-bytes-per-sec": "FLOTILLA_MAX_BYTES_PER_SEC"} {
		if got := envName(in); got != want {
			t.Errorf("envName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDurationFlags(t *testing.T) {
	o, err := parseOptions([]string{"-duration", "1.5s", "-summary", "250ms", "-keepalive", "1s", "-timeout", "30s"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if o.duration != 1500*time.Millisecond || o.summary != 250*time.Millisecond {
		t.Errorf("duration %v summary %v", o.duration, o.summary)
	}
	cfg, err := o.roomConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Net.Keepalive != time.Second || cfg.Net.Timeout != 30*time.Second {
		t.Errorf("keepalive %v timeout %v", cfg.Net.Keepalive, cfg.Net.Timeout)
	}
}

func TestUnprovenFlagsReachTheRoom(t *testing.T) {
	o, err := parseOptions([]string{"-max-unproven", "64", "-max-unproven-per-addr", "4", "-proof-timeout", "5s", "-ack-timeout", "20s"}, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.roomConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxUnproven != 64 || cfg.MaxUnprovenPerAddr != 4 || cfg.ProofTimeout != 5*time.Second || cfg.AckTimeout != 20*time.Second {
		t.Errorf("room config %+v", cfg.Config)
	}
	// Not given, the per-address bounds follow the overall ones down.
	o, _ = parseOptions([]string{"-max-unproven", "4", "-max-clients", "10"}, envMap(nil))
	if cfg, err := o.roomConfig(); err != nil || cfg.MaxUnprovenPerAddr != 4 || cfg.MaxClientsPerAddr != 10 {
		t.Errorf("per-address bounds %d, %d (%v); want 4, 10", cfg.MaxUnprovenPerAddr, cfg.MaxClientsPerAddr, err)
	}
	o, _ = parseOptions([]string{"-max-unproven", "4", "-max-unproven-per-addr", "8"}, envMap(nil))
	if _, err := o.roomConfig(); err == nil || !strings.Contains(err.Error(), "-max-unproven") {
		t.Errorf("per-address bound over the overall bound: %v", err)
	}
}
