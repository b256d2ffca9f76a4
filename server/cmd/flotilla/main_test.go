package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/flotilla/flotilla/internal/leakcheck"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/udpio"
)

// runMainEnv makes the test binary run main instead of the tests: the
// signal test starts the binary as a real process.
const runMainEnv = "GO_TEST_FLOTILLA_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// wait is the bound on anything the tests wait for; reaching it fails.
const wait = 10 * time.Second

// TestRunServesAndStops runs the server in-process with a real client,
// checks the ops endpoint and the live summary, stops it the way a signal
// does, and checks that the client was told the server is shutting down.
func TestRunServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	var admin string
	check := func(cctx context.Context, s *instance) error {
		if s.Admin == nil {
			return errors.New("no admin address with -admin set")
		}
		admin = s.Admin.String()
		base := "http://" + admin
		if code, body, err := httpGet(base + "/healthz"); err != nil || code != http.StatusOK || body != "ok\n" {
			return fmt.Errorf("healthz: %d %q %v", code, body, err)
		}
		cl, err := dial(s.Addr)
		if err != nil {
			return err
		}
		defer cl.stop()
		// The summary and the metrics see the client.
		deadline := time.Now().Add(wait)
		for !strings.Contains(stdout.String(), "clients=1 ") || cl.snapshots.Load() == 0 {
			if time.Now().After(deadline) {
				return fmt.Errorf("no summary with the client after %v; stdout %q", wait, stdout.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		_, metrics, err := httpGet(base + "/metrics")
		if err != nil || !strings.Contains(metrics, "\nflotilla_clients 1\n") {
			return fmt.Errorf("metrics without the client (%v): %.500s", err, metrics)
		}
		cancel() // as SIGINT does in main
		select {
		case r := <-cl.closed:
			if r != netcode.ReasonShutdown {
				return fmt.Errorf("client closed with %v, want %v", r, netcode.ReasonShutdown)
			}
		case <-time.After(wait):
			return errors.New("the client was not told of the shutdown")
		}
		<-cctx.Done() // companions end once the room has stopped
		return nil
	}
	args := []string{"-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-io", "naive", "-summary", "20ms", "-log-format", "json"}
	if code := runWith(ctx, args, noEnv, &stdout, &stderr, check); code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}

	logs := jsonLines(t, stderr.String())
	serving := findLog(t, logs, "flotilla serving")
	if a, err := netip.ParseAddrPort(fmt.Sprint(serving["listen"])); err != nil || a.Addr().String() != "127.0.0.1" || a.Port() == 0 {
		t.Errorf("startup logged listen %v", serving["listen"])
	}
	if serving["admin"] != admin || serving["io"] != "naive" {
		t.Errorf("startup logged admin %v io %v, want %s naive", serving["admin"], serving["io"], admin)
	}
	if cause := findLog(t, logs, "room stopped")["cause"]; cause != context.Canceled.Error() {
		t.Errorf("stop cause %v", cause)
	}
	findLog(t, logs, "flotilla stopped")
	// The ops endpoint is shut down with the server.
	if _, _, err := httpGet("http://" + admin + "/healthz"); err == nil {
		t.Error("ops endpoint still answers after run returned")
	}
	leakcheck.Check(t)
}

func TestRunDuration(t *testing.T) {
	var stdout, stderr syncBuffer
	start := time.Now()
	code := runBounded(t, []string{"-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-io", "batched", "-duration", "1s"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("returned after %v, before -duration 1s", took)
	}
	for _, want := range []string{`msg="flotilla serving" listen=127.0.0.1:`, "io=batched", "admin=127.0.0.1:", `cause="-duration elapsed"`, `msg="flotilla stopped"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, stderr.String())
		}
	}
	if stdout.String() != "" {
		t.Errorf("stdout without -summary: %q", stdout.String())
	}
	leakcheck.Check(t)
}

func TestRunWithoutAdmin(t *testing.T) {
	var stdout, stderr syncBuffer
	sawAdmin := true
	comp := func(ctx context.Context, s *instance) error {
		sawAdmin = s.Admin != nil
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stop at once: the companion still runs
	code := runWith(ctx, []string{"-listen", "127.0.0.1:0", "-admin", "", "-io", "naive"}, noEnv, &stdout, &stderr, comp)
	if code != exitOK || sawAdmin || !strings.Contains(stderr.String(), "admin=off") {
		t.Errorf("exit %d, admin seen %v; stderr:\n%s", code, sawAdmin, stderr.String())
	}
}

func TestRunFailsWhenAdminPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stdout, stderr syncBuffer
	code := runBounded(t, []string{"-listen", "127.0.0.1:0", "-admin", ln.Addr().String(), "-io", "naive"}, &stdout, &stderr)
	if code != exitFail || !strings.Contains(stderr.String(), "cannot listen for the ops endpoint") {
		t.Errorf("exit %d; stderr:\n%s", code, stderr.String())
	}
}

func TestRunFailsWhenUDPPortTaken(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var stdout, stderr syncBuffer
	code := runBounded(t, []string{"-listen", pc.LocalAddr().String(), "-admin", "", "-io", "naive"}, &stdout, &stderr)
	if code != exitFail || !strings.Contains(stderr.String(), "cannot listen") {
		t.Errorf("exit %d; stderr:\n%s", code, stderr.String())
	}
}

func TestCompanionErrorStopsTheServer(t *testing.T) {
	var stdout, stderr syncBuffer
	fail := func(context.Context, *instance) error { return errors.New("bots could not connect") }
	code := runWith(context.Background(), []string{"-listen", "127.0.0.1:0", "-admin", "", "-io", "naive"}, noEnv, &stdout, &stderr, fail)
	if code != exitFail {
		t.Errorf("exit %d, want %d", code, exitFail)
	}
	if !strings.Contains(stderr.String(), `cause="companion failed: bots could not connect"`) {
		t.Errorf("stop cause not logged:\n%s", stderr.String())
	}
	leakcheck.Check(t)
}

// TestMainStopsOnSIGTERM runs the binary as a process and stops it with
// SIGTERM: it tells its client and exits 0.
func TestMainStopsOnSIGTERM(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-io", "naive", "-log-format", "json")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	lines := make(chan map[string]any, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				lines <- m
			}
		}
	}()
	serving := nextLog(t, lines, "flotilla serving")
	addr, err := netip.ParseAddrPort(fmt.Sprint(serving["listen"]))
	if err != nil {
		t.Fatalf("listen %v: %v", serving["listen"], err)
	}
	if code, _, err := httpGet("http://" + fmt.Sprint(serving["admin"]) + "/healthz"); err != nil || code != http.StatusOK {
		t.Fatalf("healthz: %d %v", code, err)
	}
	cl, err := dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.stop()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-cl.closed:
		if r != netcode.ReasonShutdown {
			t.Errorf("client closed with %v, want %v", r, netcode.ReasonShutdown)
		}
	case <-time.After(wait):
		t.Error("the client was not told of the shutdown")
	}
	if cause := nextLog(t, lines, "room stopped")["cause"]; !strings.Contains(fmt.Sprint(cause), "terminated") {
		t.Errorf("stop cause %v", cause)
	}
	for range lines {
	}
	killed = true
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

// runBounded runs the server and fails the test if it does not return
// within the bound.
func runBounded(t *testing.T, args []string, stdout, stderr io.Writer) int {
	t.Helper()
	done := make(chan int, 1)
	go func() { done <- run(context.Background(), args, noEnv, stdout, stderr) }()
	select {
	case code := <-done:
		return code
	case <-time.After(wait + 5*time.Second):
		t.Fatalf("run %v did not return", args)
		return 0
	}
}

// syncBuffer is a buffer the server's goroutines write and the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var httpClient = &http.Client{Timeout: wait, Transport: &http.Transport{DisableKeepAlives: true}}

func httpGet(url string) (int, string, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(s) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func findLog(t *testing.T, logs []map[string]any, msg string) map[string]any {
	t.Helper()
	for _, m := range logs {
		if m["msg"] == msg {
			return m
		}
	}
	t.Fatalf("no %q log line in %v", msg, logs)
	return nil
}

// nextLog reads log lines until one says msg.
func nextLog(t *testing.T, lines <-chan map[string]any, msg string) map[string]any {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatalf("the process ended before logging %q", msg)
			}
			if m["msg"] == msg {
				return m
			}
		case <-timeout:
			t.Fatalf("no %q log line within %v", msg, wait)
		}
	}
}

// client is a netcode client that accepts every snapshot, run by a
// goroutine of its own until the session ends or stop.
type client struct {
	snapshots atomic.Int64
	closed    chan netcode.Reason // the reason the session ended
	quit      chan struct{}
	once      sync.Once
	wake      func()
	done      chan struct{}
}

func (c *client) Connected(netcode.SessionID, netip.AddrPort)    {}
func (c *client) Disconnected(netcode.SessionID, netcode.Reason) {}
func (c *client) Reliable(netcode.SessionID, []byte)             {}
func (c *client) Acked(netcode.SessionID, uint16)                {}
func (c *client) Unreliable(netcode.SessionID, uint16, []byte) bool {
	c.snapshots.Add(1)
	return true
}

// stop closes the session if it is still open and waits for the goroutine.
func (c *client) stop() {
	c.once.Do(func() { close(c.quit) })
	c.wake()
	<-c.done
}

func dial(addr netip.AddrPort) (*client, error) {
	conn, err := udpio.Listen(udpio.KindNaive, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		return nil, err
	}
	cl := &client{closed: make(chan netcode.Reason, 1), quit: make(chan struct{}), wake: conn.Wake, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := netcode.Dial(ctx, conn, netcode.ClientConfig{Server: addr, Handler: cl})
	if err != nil {
		conn.Close()
		return nil, err
	}
	go func() {
		defer close(cl.done)
		defer conn.Close()
		for {
			select {
			case <-cl.quit:
				c.Close(time.Now())
				return
			default:
			}
			next, err := c.Poll(time.Now())
			if err != nil {
				return
			}
			if s := c.State(); s != netcode.StateConnected {
				cl.closed <- c.Reason()
				<-cl.quit
				return
			}
			if err := c.Wait(next); err != nil {
				return
			}
		}
	}()
	return cl, nil
}
