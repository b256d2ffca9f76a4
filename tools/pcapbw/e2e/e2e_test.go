package e2e

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/udpio"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/server"
	"github.com/flotilla/flotilla/tools/bots/botrun"
	"github.com/flotilla/flotilla/tools/pcapbw/bw"
)

// A server and bots run over loopback for a few seconds while tcpdump
// writes the traffic; pcapbw's UDP payload totals, per direction and per
// packet type, must equal what the server's socket and transport counted.
func TestCaptureMatchesServerCounters(t *testing.T) {
	if testing.Short() {
		t.Skip("needs tcpdump and a few seconds of real traffic")
	}
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		unable(t, "tcpdump not found: this test captures real traffic (`apt-get install tcpdump`; .ci/run installs it)")
	}
	for _, kind := range []string{udpio.KindGnet, udpio.KindBatched} {
		t.Run(kind, func(t *testing.T) { captureRun(t, tcpdump, kind) })
	}
}

func captureRun(t *testing.T, tcpdump, kind string) {
	// A loopback address of its own (127.0.0.0/8 is all loopback), so the
	// capture filter sees this run's traffic only and no other test's,
	// and no other server shares the port (gnet sets SO_REUSEPORT).
	host := netip.AddrFrom4([4]byte{127, byte(64 + rand.IntN(64)), byte(rand.IntN(256)), byte(1 + rand.IntN(254))})
	file := filepath.Join(t.TempDir(), "run.pcap")
	stopCapture := startTcpdump(t, tcpdump, file, "udp and host "+host.String())

	conn, err := udpio.Listen(kind, netip.AddrPortFrom(host, 0), udpio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	game, err := demowire.NewGame(demowire.GameConfig{})
	if err != nil {
		t.Fatal(err)
	}
	room, udp, err := server.NewWithUDP(conn, server.Config{}, server.UDPConfig{}, game, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- room.Run(ctx) }()

	rep, err := botrun.Run(context.Background(), botrun.Config{
		Server: udp.LocalAddr(), Clients: 20, Duration: 3 * time.Second, Ramp: 500 * time.Millisecond, Seed: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Connected != rep.Clients {
		t.Fatalf("%d of %d bots connected: %v", rep.Connected, rep.Clients, rep.Errors)
	}
	// The bots closed their sessions; let the room read all their
	// goodbyes (each sends netcode.DisconnectCopies; the copies after the
	// first name no session) before it stops, so nothing arrives that it
	// does not count.
	waitFor(t, 2*time.Second, func() bool {
		n := udp.Stats()
		return n.RxByType[netcode.TypeDisconnect]+n.Drops[netcode.DropSession] == netcode.DisconnectCopies*uint64(rep.Clients)
	})
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("room: %v", err)
	}
	sock := conn.Stats()
	nc := udp.Stats()
	conn.Close()
	captured := stopCapture(sock.RxDatagrams + sock.TxDatagrams)

	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	port := udp.LocalAddr().Port()
	r, err := bw.Analyze(f, bw.Options{Ports: []uint16{port}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Capture.Error != "" {
		t.Fatalf("capture damaged: %s", r.Capture.Error)
	}
	if r.Capture.Records != captured {
		t.Fatalf("pcapbw read %d records, tcpdump says it wrote %d", r.Capture.Records, captured)
	}
	t.Logf("%s: capture %d records (tcpdump: %d); socket rx %d datagrams %d B, tx %d datagrams %d B; pcapbw in %+v out %+v",
		kind, r.Capture.Records, captured, sock.RxDatagrams, sock.RxBytes, sock.TxDatagrams, sock.TxBytes, r.In, r.Out)

	if sock.RxDropped != 0 || sock.TxDropped != 0 || sock.RxTruncated != 0 {
		t.Fatalf("the socket dropped datagrams (rx %d, tx %d, truncated %d): the counts cannot match",
			sock.RxDropped, sock.TxDropped, sock.RxTruncated)
	}
	// Out: every datagram the socket handed to the network is in the
	// capture, and nothing else left the server's port.
	if r.Out.Packets != sock.TxDatagrams || r.Out.UDPPayloadBytes != sock.TxBytes {
		t.Errorf("out: pcapbw %d datagrams %d B, socket %d datagrams %d B", r.Out.Packets, r.Out.UDPPayloadBytes, sock.TxDatagrams, sock.TxBytes)
	}
	if nc.TxBytes != sock.TxBytes {
		t.Errorf("out: transport counted %d B, socket %d B", nc.TxBytes, sock.TxBytes)
	}
	// In: every datagram that reached the port was read by the room.
	if r.In.Packets != sock.RxDatagrams || r.In.UDPPayloadBytes != sock.RxBytes {
		t.Errorf("in: pcapbw %d datagrams %d B, socket %d datagrams %d B", r.In.Packets, r.In.UDPPayloadBytes, sock.RxDatagrams, sock.RxBytes)
	}
	// Per packet type, against the transport's counts of what it sent and
	// of what it accepted. A closing client sends its disconnect
	// netcode.DisconnectCopies times against loss; the first ends the
	// session and the others name no session, so the transport drops them
	// (DropSession). They are in
	// the capture and in the socket's count, not in the accepted ones.
	if nc.RxBytes != sock.RxBytes {
		t.Errorf("in: the transport read %d B, the socket %d B", nc.RxBytes, sock.RxBytes)
	}
	var drops uint64
	for d, n := range nc.Drops {
		if netcode.Drop(d) != netcode.DropSession {
			drops += n
		}
	}
	if drops != 0 {
		t.Errorf("the transport dropped datagrams for reasons other than a closed session: %v", nc.Drops)
	}
	out, in := byType(r.ByTypeOut), byType(r.ByTypeIn)
	for ty := netcode.TypeRequest; ty <= netcode.TypeKeepalive; ty++ {
		if got, want := out[ty.String()], nc.TxByType[ty]; got != want {
			t.Errorf("out %s: pcapbw %d packets, transport %d", ty, got, want)
		}
		want := nc.RxByType[ty]
		if ty == netcode.TypeDisconnect {
			want += nc.Drops[netcode.DropSession]
		}
		if got := in[ty.String()]; got != want {
			t.Errorf("in %s: pcapbw %d packets, transport accepted+dropped %d", ty, got, want)
		}
	}
	if got, want := in[netcode.TypeDisconnect.String()], netcode.DisconnectCopies*uint64(rep.Clients); got != want {
		t.Errorf("in: %d disconnects, want %d from each of %d bots", got, netcode.DisconnectCopies, rep.Clients)
	}
	if n := out[bw.TypeNonFlotilla] + in[bw.TypeNonFlotilla] + out[bw.TypeCut] + in[bw.TypeCut]; n != 0 {
		t.Errorf("%d packets of the run are not Flotilla datagrams", n)
	}
	// One flow per bot and direction, all to the one server address.
	if len(r.Clients) != 2*rep.Clients {
		t.Errorf("%d flows, want %d (a bot in each direction)", len(r.Clients), 2*rep.Clients)
	}
	for _, fl := range r.Clients {
		if fl.Server != udp.LocalAddr() {
			t.Errorf("flow %v ↔ %v: server is not %v", fl.Server, fl.Client, udp.LocalAddr())
		}
	}
	// Frame bytes on loopback (tcpdump writes Ethernet framing for lo):
	// 14 B Ethernet + 20 B IPv4 + 8 B UDP on every datagram.
	if got, want := r.Total.FrameBytes, r.Total.UDPPayloadBytes+42*r.Total.Packets; got != want {
		t.Errorf("frame bytes %d, want payload + 42 B a packet = %d", got, want)
	}
}

// requireEnv makes the test fail, not skip, when it cannot capture: .ci/run
// sets it, so CI never passes without having compared a real capture.
const requireEnv = "FLOTILLA_REQUIRE_CAPTURE"

// unable ends a test that cannot capture here (no tcpdump, no right to
// capture on lo): a skip on a developer's machine, a failure where
// requireEnv is 1.
func unable(t *testing.T, why string) {
	t.Helper()
	if os.Getenv(requireEnv) == "1" {
		t.Fatal(why)
	}
	t.Skip(why + " (set " + requireEnv + "=1 to make this a failure)")
}

// byType maps a by-type list to packet counts.
func byType(ts []bw.TypeCounts) map[string]uint64 {
	m := make(map[string]uint64, len(ts))
	for _, tc := range ts {
		m[tc.Type] = tc.Packets
	}
	return m
}

func waitFor(t *testing.T, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not reached within %v", limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startTcpdump starts tcpdump writing loopback packets that match filter
// to file, and waits until it captures. The returned stop waits until the
// file holds want packets of the server's port (or 5 s), ends tcpdump and
// returns how many packets it says it captured; it fails the test if the
// kernel dropped any.
func startTcpdump(t *testing.T, tcpdump, file, filter string) (stop func(want uint64) uint64) {
	t.Helper()
	// --immediate-mode hands each packet to tcpdump as it comes (without
	// it, packets wait in the kernel for a block to fill or a timeout, and
	// those still waiting at SIGINT are never written); -U writes each
	// packet to the file as it comes; -Z root keeps tcpdump from switching
	// to its unprivileged user, so the output directory's owner never
	// matters; -B is the kernel buffer in KiB. In immediate mode the buffer
	// is a ring of snap-length slots: at the default 262,144 bytes 8 MiB
	// holds 32 packets and one tick's burst of snapshots overflows it, so
	// -s cuts the slots to 2,048 bytes (a Flotilla datagram is at most
	// 1,200).
	cmd := exec.Command(tcpdump, "-i", "lo", "-n", "--immediate-mode", "-U", "-Z", "root", "-B", "8192", "-s", "2048", "-w", file, filter)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	done := false
	t.Cleanup(func() {
		if !done {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	var said []string
	timeout := time.After(10 * time.Second)
	for listening := false; !listening; {
		select {
		case l, ok := <-lines:
			if !ok {
				err := cmd.Wait()
				done = true
				unable(t, fmt.Sprintf("tcpdump stopped before it captured (%v): %s (capturing on lo needs root or CAP_NET_RAW)", err, strings.Join(said, "; ")))
			}
			said = append(said, l)
			listening = strings.Contains(l, "listening on")
		case <-timeout:
			t.Fatalf("tcpdump did not start capturing within 10 s: %s", strings.Join(said, "; "))
		}
	}
	return func(want uint64) uint64 {
		t.Helper()
		// tcpdump writes each packet as it reads it (-U): wait until the
		// file holds them all, then stop it.
		deadline := time.Now().Add(5 * time.Second)
		for packetsIn(file) < want && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGINT)
		exited := make(chan error, 1)
		go func() {
			for l := range lines {
				said = append(said, l)
			}
			exited <- cmd.Wait()
		}()
		select {
		case err := <-exited:
			done = true
			if err != nil {
				t.Fatalf("tcpdump: %v: %s", err, strings.Join(said, "; "))
			}
		case <-time.After(5 * time.Second):
			t.Fatal("tcpdump did not stop within 5 s of SIGINT")
		}
		captured, dropped, err := tcpdumpCounts(said)
		if err != nil {
			t.Fatalf("%v: %s", err, strings.Join(said, "; "))
		}
		if dropped != 0 {
			t.Fatalf("the kernel dropped %d packets before tcpdump read them: the capture is incomplete (%s)", dropped, strings.Join(said, "; "))
		}
		return captured
	}
}

// packetsIn counts the records in the capture being written, as far as
// they are whole.
func packetsIn(file string) uint64 {
	f, err := os.Open(file)
	if err != nil {
		return 0
	}
	defer f.Close()
	r, err := bw.Analyze(f, bw.Options{Ports: []uint16{1}})
	if err != nil {
		return 0
	}
	return r.Capture.Records
}

var (
	capturedRe = regexp.MustCompile(`^(\d+) packets? captured`)
	droppedRe  = regexp.MustCompile(`^(\d+) packets? dropped by kernel`)
)

// tcpdumpCounts reads tcpdump's closing lines.
func tcpdumpCounts(lines []string) (captured, dropped uint64, err error) {
	var haveC, haveD bool
	for _, l := range lines {
		if m := capturedRe.FindStringSubmatch(l); m != nil {
			captured, _ = strconv.ParseUint(m[1], 10, 64)
			haveC = true
		}
		if m := droppedRe.FindStringSubmatch(l); m != nil {
			dropped, _ = strconv.ParseUint(m[1], 10, 64)
			haveD = true
		}
	}
	if !haveC || !haveD {
		return 0, 0, fmt.Errorf("tcpdump did not report its counts")
	}
	return captured, dropped, nil
}
