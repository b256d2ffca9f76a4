package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla/flotilla/internal/leakcheck"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/tools/abuse/halfopen"
)

func TestParseDefaults(t *testing.T) {
	o, err := parse([]string{"-server", "127.0.0.1:7777"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.Server != netip.MustParseAddrPort("127.0.0.1:7777") || c.Sessions != 2000 || c.Keepalive != 2*time.Second ||
		c.Duration != 30*time.Second || c.Rate != 2000 || c.HandshakeTimeout != 5*time.Second ||
		!slices.Equal(c.Sources, []netip.Addr{netip.MustParseAddr("127.0.0.1")}) || o.json || o.quiet ||
		c.Reconnect || c.ReconnectDelay != 100*time.Millisecond {
		t.Errorf("defaults %+v", o)
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-server", "nowhere:0x"},
		{"-server", "127.0.0.1:7777", "-duration", "0"},
		{"-server", "127.0.0.1:7777", "-keepalive", "0"},
		{"-server", "127.0.0.1:7777", "-handshake-timeout", "-1s"},
		{"-server", "127.0.0.1:7777", "-reconnect", "-reconnect-delay", "0"},
		{"-server", "127.0.0.1:7777", "-rate", "-1"},
		{"-server", "127.0.0.1:7777", "-sessions", "0"},
		{"-server", "127.0.0.1:7777", "-source-ips", "0"},
		{"-server", "127.0.0.1:7777", "-sources", "127.0.0.1", "-source-ips", "2"},
		{"-server", "127.0.0.1:7777", "-sources", "127.0.0.1,127.0.0.1", "-source-ips", "2"},
		{"-server", "127.0.0.1:7777", "-sources", "::1"},
		{"-server", "127.0.0.1:7777", "-sources", "127.0.0.1/33"},
		{"-server", "10.1.2.3:7777", "-source-ips", "2"},
		{"-server", "127.0.0.1:7777", "extra"},
	} {
		if _, err := parse(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestSources(t *testing.T) {
	for _, c := range []struct {
		list string
		n    int
		want string
	}{
		{defaultSources, 3, "127.0.0.1 127.0.0.2 127.0.0.3"},
		{"127.0.0.253/16", 4, "127.0.0.253 127.0.0.254 127.0.1.1 127.0.1.2"},
		{"127.0.0.5, 127.0.9.0/24", 3, "127.0.0.5 127.0.9.1 127.0.9.2"},
		{"127.0.0.254/24", 1, "127.0.0.254"},
		{"::1", 1, "::1"},
		{"fd00::1/127", 1, "fd00::1"},
	} {
		got, err := parseSources(c.list, c.n)
		if err != nil {
			t.Errorf("%q, %d: %v", c.list, c.n, err)
			continue
		}
		var s []string
		for _, a := range got {
			s = append(s, a.String())
		}
		if strings.Join(s, " ") != c.want {
			t.Errorf("%q, %d: %v, want %s", c.list, c.n, s, c.want)
		}
	}
	if _, err := parseSources("127.0.0.254/24", 2); err == nil {
		t.Error("a /24 from .254 holds one usable address, not 2")
	}
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"-server", "-sessions", "-keepalive", "-duration", "-rate", "-sources", "-source-ips", "-handshake-timeout", "-reconnect", "-reconnect-delay", "-json", "-quiet", "Exit status", "RLIMIT_NOFILE"} {
		if !strings.Contains(stderr.String(), f) {
			t.Errorf("help lacks %s", f)
		}
	}
	if code := run(context.Background(), nil, &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
		t.Errorf("no -server: exit %d, want 2", code)
	}
}

// The command end to end against a server that never answers: requests
// arrive from both source addresses, the run stops on time, and -json
// prints one report in which every session is still handshaking.
func TestRunAgainstSilentServer(t *testing.T) {
	t.Cleanup(func() { leakcheck.Check(t) })
	srv, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var (
		mu       sync.Mutex
		requests int
		from     = map[netip.Addr]bool{}
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 2048)
		for {
			n, addr, err := srv.ReadFromUDPAddrPort(b)
			if err != nil {
				return
			}
			if h, err := netcode.ParseHeader(b[:n]); err == nil && h.Type == netcode.TypeRequest && n == netcode.RequestSize {
				mu.Lock()
				requests++
				from[addr.Addr()] = true
				mu.Unlock()
			}
		}
	}()

	// Linux routes all of 127.0.0.0/8 to loopback; elsewhere only
	// 127.0.0.1 may be bindable.
	sources := 2
	if c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.2:0"))); err != nil {
		sources = 1
	} else {
		c.Close()
	}
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"-server", srv.LocalAddr().String(), "-sessions", "6", "-source-ips", strconv.Itoa(sources),
		"-duration", "350ms", "-json", "-quiet"}, &stdout, &stderr)
	elapsed := time.Since(start)
	srv.Close()
	<-done
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("-quiet wrote %q", stderr.String())
	}
	if elapsed > 2*time.Second {
		t.Errorf("a 350 ms run took %v", elapsed)
	}
	var rep halfopen.Report
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Error("more than one JSON value on stdout")
	}
	if rep.Attempted != 6 || rep.Handshaking != 6 || rep.Accepted != 0 || rep.Sources != sources {
		t.Errorf("report %+v", rep)
	}
	mu.Lock()
	defer mu.Unlock()
	// 6 sessions, a request at once and every 100 ms for 350 ms: 4 each.
	if requests < 18 || uint64(requests) > rep.Tx["request"].Packets || len(from) != sources {
		t.Errorf("server got %d requests from %v; the report says %d sent", requests, from, rep.Tx["request"].Packets)
	}
}

// An interrupt ends the run early, and it still reports.
func TestInterruptEndsRunEarly(t *testing.T) {
	t.Cleanup(func() { leakcheck.Check(t) })
	srv, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var stdout bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"-server", srv.LocalAddr().String(), "-sessions", "3", "-duration", "1h", "-quiet"}, &stdout, os.Stderr)
	if code != 0 || time.Since(start) > 2*time.Second || !strings.Contains(stdout.String(), "3 attempted of 3") {
		t.Errorf("exit %d after %v: %s", code, time.Since(start), stdout.String())
	}
	if ctx.Err() == nil {
		t.Error("the run ended before the interrupt")
	}
}
