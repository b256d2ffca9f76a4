package udpio

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// failAfter bounds every wait in these tests; it only matters when a test is
// about to fail, never for a pass.
const failAfter = 10 * time.Second

var loopback = netip.MustParseAddrPort("127.0.0.1:0")

// gnetSingle names, in tests only, the gnet backend with
// Options.GnetSingleRead: gnet's own one-recvfrom-per-event path.
const gnetSingle = "gnet-single-read"

// forEachKind runs f once per backend, and once more for gnet's single-read
// path, with a goroutine-leak check around it.
func forEachKind(t *testing.T, f func(t *testing.T, kind string)) {
	for _, kind := range append(Kinds(), gnetSingle) {
		t.Run(kind, func(t *testing.T) {
			checkNoLeak(t)
			f(t, kind)
		})
	}
}

// checkNoLeak fails the test if it ends with more goroutines than it began.
func checkNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		end := time.Now().Add(failAfter)
		for runtime.NumGoroutine() > before {
			if time.Now().After(end) {
				buf := make([]byte, 1<<16)
				t.Errorf("goroutines: %d before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func listen(t *testing.T, kind string, addr netip.AddrPort, opts Options) batch.Conn {
	t.Helper()
	if kind == gnetSingle {
		kind, opts.GnetSingleRead = KindGnet, true
	}
	c, err := Listen(kind, addr, opts)
	if err != nil {
		t.Fatalf("Listen(%s, %s): %v", kind, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// client is a plain stdlib socket, independent of the backends under test.
func client(t *testing.T, network string, addr netip.AddrPort) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatalf("client socket: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echo serves c until it is closed: every datagram goes back to its sender.
// The returned channel yields the address of every sender and finally the
// error that ended the loop.
func echo(c batch.Conn) (peers chan netip.AddrPort, done chan error) {
	peers, done = make(chan netip.AddrPort, 1<<16), make(chan error, 1)
	go func() {
		ds := batch.NewBuffers(64)
		for {
			n, err := c.ReadBatch(ds, time.Time{})
			if err != nil {
				done <- err
				return
			}
			for i := range n {
				select {
				case peers <- ds[i].Addr:
				default:
				}
			}
			if _, err := c.WriteBatch(ds[:n]); err != nil {
				done <- err
				return
			}
		}
	}()
	return peers, done
}

// payload is datagram seq's bytes: its size and content follow from seq.
func payload(seq, size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = byte(seq*31 + i*7)
	}
	return p
}

func TestEchoRoundTrip(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		srv := listen(t, kind, loopback, Options{})
		echoRoundTrip(t, srv, "udp4", loopback)
	})
}

func TestEchoRoundTripIPv6(t *testing.T) {
	v6 := netip.MustParseAddrPort("[::1]:0")
	if c, err := net.ListenUDP("udp6", net.UDPAddrFromAddrPort(v6)); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		c.Close()
	}
	forEachKind(t, func(t *testing.T, kind string) {
		srv := listen(t, kind, v6, Options{})
		echoRoundTrip(t, srv, "udp6", v6)
	})
}

// echoRoundTrip sends datagrams of many sizes, 1 byte and MaxDatagram among
// them, through an echo on srv and checks every byte, the peer address the
// server saw and the server's counters.
func echoRoundTrip(t *testing.T, srv batch.Conn, network string, bind netip.AddrPort) {
	if !srv.LocalAddr().IsValid() || srv.LocalAddr().Port() == 0 || srv.LocalAddr().Addr() != bind.Addr() {
		t.Fatalf("LocalAddr = %v, want %v with a port", srv.LocalAddr(), bind.Addr())
	}
	peers, done := echo(srv)
	cl := client(t, network, bind)
	me := localAddrPort(cl)

	const total, window = 2000, 32
	fixed := []int{1, batch.MaxDatagram, 2, 63, 64, 200, 512, 1200, batch.MaxDatagram - 1}
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := make([]int, total)
	wantBytes := 0
	for i := range sizes {
		if i < len(fixed) {
			sizes[i] = fixed[i]
		} else {
			sizes[i] = 1 + rng.IntN(batch.MaxDatagram)
		}
		wantBytes += sizes[i]
	}
	buf := make([]byte, 2*batch.MaxDatagram)
	for start := 0; start < total; start += window {
		end := min(start+window, total)
		for i := start; i < end; i++ {
			if _, err := cl.WriteToUDPAddrPort(payload(i, sizes[i]), srv.LocalAddr()); err != nil {
				t.Fatalf("client send %d: %v", i, err)
			}
		}
		for i := start; i < end; i++ {
			cl.SetReadDeadline(time.Now().Add(failAfter))
			n, from, err := cl.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatalf("echo %d of %d: %v (server stats %+v)", i, total, err, srv.Stats())
			}
			if from != srv.LocalAddr() {
				t.Fatalf("echo %d came from %v, want %v", i, from, srv.LocalAddr())
			}
			if !bytes.Equal(buf[:n], payload(i, sizes[i])) {
				t.Fatalf("echo %d: %d bytes, want %d with its content", i, n, sizes[i])
			}
		}
	}
	for range total {
		if p := <-peers; p != me || p.Addr().Is4In6() {
			t.Fatalf("server saw peer %v, want %v", p, me)
		}
	}
	// The last echo can reach the client before the server's WriteBatch
	// has counted it: stop the echo loop before reading the counters.
	srv.Close()
	if err := <-done; !errors.Is(err, batch.ErrClosed) {
		t.Errorf("echo loop ended with %v, want ErrClosed", err)
	}
	want := batch.Stats{
		RxDatagrams: total, RxBytes: uint64(wantBytes),
		TxDatagrams: total, TxBytes: uint64(wantBytes),
	}
	if got := srv.Stats(); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}

func TestDeadline(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		srv := listen(t, kind, loopback, Options{})
		ds := batch.NewBuffers(8)
		deadline := time.Now().Add(30 * time.Millisecond)
		n, err := srv.ReadBatch(ds, deadline)
		if n != 0 || err != nil {
			t.Fatalf("ReadBatch to an idle socket = %d, %v; want 0, nil", n, err)
		}
		if time.Now().Before(deadline) {
			t.Fatalf("ReadBatch returned before its deadline")
		}
		// A deadline already past polls: nothing queued is 0, nil ...
		if n, err := srv.ReadBatch(ds, time.Now().Add(-time.Second)); n != 0 || err != nil {
			t.Fatalf("poll of an idle socket = %d, %v; want 0, nil", n, err)
		}
		// ... and a queued datagram comes back.
		cl := client(t, "udp4", loopback)
		if _, err := cl.WriteToUDPAddrPort([]byte("poll"), srv.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		end := time.Now().Add(failAfter)
		for {
			n, err := srv.ReadBatch(ds, time.Now().Add(-time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if n == 1 && string(ds[0].Payload()) == "poll" {
				break
			}
			if n != 0 || time.Now().After(end) {
				t.Fatalf("poll = %d (%q), want the queued datagram", n, ds[0].Payload())
			}
			time.Sleep(time.Millisecond)
		}
	})
}

func TestWakeUnblocksRead(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		srv := listen(t, kind, loopback, Options{})
		ds := batch.NewBuffers(8)
		type result struct {
			n   int
			err error
		}
		res := make(chan result, 1)
		for range 3 { // a Wake before or during the wait, several times
			go func() {
				n, err := srv.ReadBatch(ds, time.Time{})
				res <- result{n, err}
			}()
			time.Sleep(5 * time.Millisecond) // usually lets the read block first
			srv.Wake()
			select {
			case r := <-res:
				if r.n != 0 || r.err != nil {
					t.Fatalf("woken ReadBatch = %d, %v; want 0, nil", r.n, r.err)
				}
			case <-time.After(failAfter):
				t.Fatal("Wake did not unblock ReadBatch")
			}
		}
		// A Wake with no reader waiting ends the next ReadBatch at once.
		srv.Wake()
		if n, err := srv.ReadBatch(ds, time.Now().Add(failAfter)); n != 0 || err != nil {
			t.Fatalf("ReadBatch after Wake = %d, %v", n, err)
		}
		// And data still flows after wakes.
		cl := client(t, "udp4", loopback)
		cl.WriteToUDPAddrPort([]byte("after"), srv.LocalAddr())
		if n, err := srv.ReadBatch(ds, time.Now().Add(failAfter)); n != 1 || err != nil || string(ds[0].Payload()) != "after" {
			t.Fatalf("ReadBatch after wakes = %d, %v", n, err)
		}
	})
}

func TestCloseUnblocksRead(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		srv := listen(t, kind, loopback, Options{})
		errc := make(chan error, 1)
		go func() {
			_, err := srv.ReadBatch(batch.NewBuffers(4), time.Time{})
			errc <- err
		}()
		time.Sleep(5 * time.Millisecond)
		if err := srv.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		select {
		case err := <-errc:
			if !errors.Is(err, batch.ErrClosed) {
				t.Fatalf("blocked ReadBatch after Close = %v, want ErrClosed", err)
			}
		case <-time.After(failAfter):
			t.Fatal("Close did not unblock ReadBatch")
		}
		ds := batch.NewBuffers(1)
		if _, err := srv.ReadBatch(ds, time.Time{}); !errors.Is(err, batch.ErrClosed) {
			t.Errorf("ReadBatch after Close = %v", err)
		}
		ds[0].Addr, ds[0].N = netip.MustParseAddrPort("127.0.0.1:9"), 1
		if _, err := srv.WriteBatch(ds); !errors.Is(err, batch.ErrClosed) {
			t.Errorf("WriteBatch after Close = %v", err)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
	})
}

func TestTruncationCounted(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		srv := listen(t, kind, loopback, Options{})
		cl := client(t, "udp4", loopback)
		big := payload(7, batch.MaxDatagram+100)
		cl.WriteToUDPAddrPort(big, srv.LocalAddr())                     // longer than MaxDatagram
		cl.WriteToUDPAddrPort(big[:200], srv.LocalAddr())               // longer than the small buffer
		cl.WriteToUDPAddrPort(big[:batch.MaxDatagram], srv.LocalAddr()) // fits exactly
		ds := []batch.Datagram{{Buf: make([]byte, batch.MaxDatagram)}, {Buf: make([]byte, 100)}, {Buf: make([]byte, batch.MaxDatagram)}}
		got := 0
		for got < 3 {
			n, err := srv.ReadBatch(ds[got:], time.Now().Add(failAfter))
			if err != nil || n == 0 {
				t.Fatalf("ReadBatch = %d, %v", n, err)
			}
			got += n
		}
		for i, want := range []int{batch.MaxDatagram, 100, batch.MaxDatagram} {
			if ds[i].N != want || !bytes.Equal(ds[i].Payload(), big[:want]) {
				t.Errorf("datagram %d: N = %d, want %d with the datagram's first bytes", i, ds[i].N, want)
			}
		}
		st := srv.Stats()
		if st.RxTruncated != 2 || st.RxDatagrams != 3 || st.RxBytes != 2*batch.MaxDatagram+100 {
			t.Errorf("stats = %+v, want 3 datagrams, 2 truncated, %d bytes", st, 2*batch.MaxDatagram+100)
		}
	})
}

func TestWriteDropsUnsendable(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		srv := listen(t, kind, loopback, Options{})
		cl := client(t, "udp4", loopback)
		to := localAddrPort(cl)
		ds := batch.NewBuffers(6)
		for i := range ds {
			ds[i].Addr, ds[i].N = to, 10
		}
		ds[1].Addr = netip.AddrPort{}                                                  // no address
		ds[2].N = batch.MaxDatagram + 1                                                // longer than its buffer
		ds[3].Addr = netip.MustParseAddrPort("[::1]:9")                                // IPv6 from an IPv4 socket
		ds[4].Addr = netip.AddrPortFrom(to.Addr(), 0)                                  // no port
		ds[5].Addr = netip.AddrPortFrom(netip.AddrFrom16(to.Addr().As16()), to.Port()) // v4-mapped: fine
		n, err := srv.WriteBatch(ds)
		if n != 2 || err != nil {
			t.Fatalf("WriteBatch = %d, %v; want 2, nil", n, err)
		}
		st := srv.Stats()
		if st.TxDatagrams != 2 || st.TxBytes != 20 || st.TxDropped != 4 {
			t.Errorf("stats = %+v, want 2 sent, 20 bytes, 4 dropped", st)
		}
		buf := make([]byte, 64)
		for range 2 {
			cl.SetReadDeadline(time.Now().Add(failAfter))
			if n, from, err := cl.ReadFromUDPAddrPort(buf); err != nil || n != 10 || from != srv.LocalAddr() {
				t.Fatalf("client got %d from %v: %v", n, from, err)
			}
		}
	})
}

func TestSocketBuffersGranted(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		srv := listen(t, kind, loopback, Options{RecvBuffer: 1 << 20, SendBuffer: 512 << 10})
		recv, send, ok := SocketBuffers(srv)
		if !ok {
			t.Fatal("SocketBuffers: not a udpio conn")
		}
		t.Logf("asked 1 MiB / 512 KiB, kernel reports SO_RCVBUF %d, SO_SNDBUF %d", recv, send)
		if runtime.GOOS == "linux" && (recv < 1<<20 || send < 512<<10) {
			// Linux grants at least what was asked (doubled) when the
			// request is under the sysctl limits or FORCE is allowed.
			t.Logf("kernel capped the buffers (no CAP_NET_ADMIN and low rmem_max/wmem_max?)")
		}
		if recv <= 0 || send <= 0 {
			t.Errorf("granted buffers %d/%d", recv, send)
		}
	})
}

func TestListenErrors(t *testing.T) {
	if _, err := Listen("quic", loopback, Options{}); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("unknown kind: %v", err)
	}
	for _, o := range []Options{{RingSize: -1}, {RingSize: MaxRingSize + 1}, {BatchSize: MaxBatchSize + 1}} {
		for _, kind := range Kinds() {
			if _, err := Listen(kind, loopback, o); !errors.Is(err, ErrBadOptions) {
				t.Errorf("%s with %+v: %v", kind, o, err)
			}
		}
	}
	for _, kind := range Kinds() {
		c, err := Listen(kind, netip.AddrPort{}, Options{})
		if err == nil {
			t.Errorf("%s on no address: no error", kind)
		}
		if c != nil {
			t.Errorf("%s: failed Listen returned a non-nil batch.Conn (%T)", kind, c)
		}
	}
}

// gnet sets SO_REUSEPORT, so binding a taken port would succeed and share the
// traffic; ListenGnet's exclusive probe must refuse it instead.
func TestGnetRefusesTakenPort(t *testing.T) {
	checkNoLeak(t)
	held := client(t, "udp4", loopback)
	if c, err := ListenGnet(localAddrPort(held), Options{}); err == nil {
		c.Close()
		t.Fatal("ListenGnet on a port a plain socket holds: no error")
	}
	first, err := ListenGnet(loopback, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if c, err := ListenGnet(first.LocalAddr(), Options{}); err == nil {
		c.Close()
		t.Fatal("ListenGnet on a port another gnet backend holds: no error")
	}
}
