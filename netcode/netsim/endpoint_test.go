package netsim

import (
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

func TestListenAddrInUse(t *testing.T) {
	n := New(Config{})
	a := listen(t, n, addrA)
	if _, err := n.Listen(addrA); !errors.Is(err, ErrAddrInUse) {
		t.Fatalf("second Listen: %v, want ErrAddrInUse", err)
	}
	mapped := netip.AddrPortFrom(netip.AddrFrom16(addrA.Addr().As16()), addrA.Port())
	if _, err := n.Listen(mapped); !errors.Is(err, ErrAddrInUse) {
		t.Fatalf("Listen %s: %v, want ErrAddrInUse", mapped, err)
	}
	a.Close()
	if _, err := n.Listen(addrA); err != nil {
		t.Fatalf("Listen after Close: %v", err)
	}
	for _, bad := range []netip.AddrPort{{}, netip.MustParseAddrPort("0.0.0.0:9000"), netip.MustParseAddrPort("[::]:9000")} {
		if _, err := n.Listen(bad); !errors.Is(err, ErrAddr) {
			t.Errorf("Listen %s: %v, want ErrAddr", bad, err)
		}
	}
}

func TestListenPortZero(t *testing.T) {
	n := New(Config{})
	ip := netip.MustParseAddr("10.0.0.9")
	e1 := listen(t, n, netip.AddrPortFrom(ip, 0))
	e2 := listen(t, n, netip.AddrPortFrom(ip, 0))
	if e1.LocalAddr().Port() < firstEphemeral || e1.LocalAddr() == e2.LocalAddr() || e1.LocalAddr().Addr() != ip {
		t.Fatalf("ports %s and %s", e1.LocalAddr(), e2.LocalAddr())
	}
}

func TestSendToNobody(t *testing.T) {
	n := New(Config{})
	a := listen(t, n, addrA)
	out := batch.NewBuffers(1)
	stamp(&out[0], addrB, 0, 0, 32)
	if k, err := a.WriteBatch(out); k != 1 || err != nil {
		t.Fatalf("WriteBatch = %d, %v; want it handed to the network", k, err)
	}
	if st := a.Stats(); st.TxDatagrams != 1 || st.TxBytes != 32 || st.TxDropped != 0 {
		t.Fatalf("stats %+v", st)
	}
	if st := n.LinkStats(addrA, addrB); st.Sent != 1 || st.Unrouted != 1 {
		t.Fatalf("link %+v, want 1 unrouted", st)
	}
	// A listener that comes later gets what is sent later.
	b := listen(t, n, addrB)
	a.WriteBatch(out)
	if k, _ := b.ReadBatch(batch.NewBuffers(2), time.Now()); k != 1 {
		t.Fatalf("read %d after Listen", k)
	}
}

func TestWriteRefusals(t *testing.T) {
	n := New(Config{MaxLinks: 1})
	a := listen(t, n, addrA)
	listen(t, n, addrB)
	out := batch.NewBuffers(6)
	for i := range out {
		stamp(&out[i], addrB, uint32(i), 0, 16)
	}
	out[1].N = batch.MaxDatagram + 1
	out[1].Buf = make([]byte, 2*batch.MaxDatagram)
	out[2].N = -1
	out[3].Buf = out[3].Buf[:4:12] // N beyond cap
	out[4].Addr = netip.AddrPort{}
	out[5].Addr = addrC // a second link, beyond MaxLinks
	if k, err := a.WriteBatch(out); k != 1 || err != nil {
		t.Fatalf("WriteBatch = %d, %v; want 1 handed over", k, err)
	}
	if st := a.Stats(); st.TxDropped != 5 || st.TxDatagrams != 1 {
		t.Fatalf("stats %+v, want 5 refused", st)
	}
}

func TestTruncation(t *testing.T) {
	n := New(Config{})
	a, b := listen(t, n, addrA), listen(t, n, addrB)
	out := batch.NewBuffers(1)
	for i := range 20 {
		out[0].Buf[i] = byte(i)
	}
	out[0].Addr, out[0].N = addrB, 20
	a.WriteBatch(out)
	ds := []batch.Datagram{{Buf: make([]byte, 3, 10)}}
	k, err := b.ReadBatch(ds, time.Time{})
	if k != 1 || err != nil || ds[0].N != 10 || ds[0].Payload()[9] != 9 || ds[0].Addr != addrA {
		t.Fatalf("ReadBatch = %d, %v, N %d, from %s", k, err, ds[0].N, ds[0].Addr)
	}
	if st := b.Stats(); st.RxTruncated != 1 || st.RxBytes != 10 || st.RxDatagrams != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestWake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{})
		b := listen(t, n, addrB)
		ds := batch.NewBuffers(4)
		result := make(chan error)
		go func() {
			_, err := b.ReadBatch(ds, time.Time{})
			result <- err
		}()
		synctest.Wait() // the reader is durably blocked
		start := time.Now()
		b.Wake()
		if err := <-result; err != nil || time.Since(start) != 0 {
			t.Fatalf("woken ReadBatch: %v after %v", err, time.Since(start))
		}
		// A Wake with no reader waiting makes the next ReadBatch return at once,
		// and only that one.
		b.Wake()
		if k, err := b.ReadBatch(ds, time.Time{}); k != 0 || err != nil || time.Since(start) != 0 {
			t.Fatalf("ReadBatch after Wake = %d, %v after %v", k, err, time.Since(start))
		}
		if k, err := b.ReadBatch(ds, start.Add(time.Second)); k != 0 || err != nil || time.Since(start) != time.Second {
			t.Fatalf("second ReadBatch = %d, %v after %v; the wake was spent", k, err, time.Since(start))
		}
	})
}

func TestCloseUnblocksAndRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{Latency: time.Second})
		a, b := listen(t, n, addrA), listen(t, n, addrB)
		out := batch.NewBuffers(1)
		stamp(&out[0], addrB, 0, 0, 8)
		a.WriteBatch(out) // in flight while b closes
		ds := batch.NewBuffers(4)
		result := make(chan error)
		go func() {
			_, err := b.ReadBatch(ds, time.Time{})
			result <- err
		}()
		synctest.Wait()
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-result; !errors.Is(err, batch.ErrClosed) {
			t.Fatalf("blocked ReadBatch after Close: %v", err)
		}
		if _, err := b.ReadBatch(ds, time.Time{}); !errors.Is(err, batch.ErrClosed) {
			t.Fatalf("ReadBatch after Close: %v", err)
		}
		if _, err := b.WriteBatch(out); !errors.Is(err, batch.ErrClosed) {
			t.Fatalf("WriteBatch after Close: %v", err)
		}
		if err := b.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		a.WriteBatch(out)
		if st := n.LinkStats(addrA, addrB); st.Unrouted != 1 {
			t.Fatalf("sent to a closed endpoint: %+v", st)
		}
	})
}

func TestDeadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{Latency: 100 * time.Millisecond})
		a, b := listen(t, n, addrA), listen(t, n, addrB)
		ds := batch.NewBuffers(4)
		start := time.Now()
		elapsed := func() time.Duration { return time.Since(start) }

		// Nothing pending: the deadline ends the wait, exactly.
		if k, err := b.ReadBatch(ds, start.Add(50*time.Millisecond)); k != 0 || err != nil || elapsed() != 50*time.Millisecond {
			t.Fatalf("empty wait = %d, %v after %v", k, err, elapsed())
		}
		// A past deadline polls.
		if k, err := b.ReadBatch(ds, start); k != 0 || err != nil || elapsed() != 50*time.Millisecond {
			t.Fatalf("poll = %d, %v after %v", k, err, elapsed())
		}
		out := batch.NewBuffers(1)
		stamp(&out[0], addrB, 0, 0, 8)
		a.WriteBatch(out) // due at 150 ms
		// A deadline before the delivery wins...
		if k, err := b.ReadBatch(ds, start.Add(100*time.Millisecond)); k != 0 || err != nil || elapsed() != 100*time.Millisecond {
			t.Fatalf("early deadline = %d, %v after %v", k, err, elapsed())
		}
		// ...and without one the reader sleeps until the delivery, exactly.
		if k, err := b.ReadBatch(ds, time.Time{}); k != 1 || err != nil || elapsed() != 150*time.Millisecond {
			t.Fatalf("wait for delivery = %d, %v after %v", k, err, elapsed())
		}
		// A datagram that arrived earlier is returned by a poll.
		a.WriteBatch(out)
		time.Sleep(time.Second)
		if k, err := b.ReadBatch(ds, start); k != 1 || err != nil {
			t.Fatalf("poll with data = %d, %v", k, err)
		}
	})
}

// TestEarlierArrivalShortensWait: a reader waiting for a late delivery is
// woken by a sooner one sent after it started waiting.
func TestEarlierArrivalShortensWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{})
		a, c, b := listen(t, n, addrA), listen(t, n, addrC), listen(t, n, addrB)
		n.SetLink(addrA, addrB, LinkConfig{Latency: time.Second})
		n.SetLink(addrC, addrB, LinkConfig{Latency: 10 * time.Millisecond})
		start := time.Now()
		out := batch.NewBuffers(1)
		stamp(&out[0], addrB, 0, 0, 8)
		a.WriteBatch(out)
		got := make(chan netip.AddrPort)
		go func() {
			ds := batch.NewBuffers(1)
			b.ReadBatch(ds, time.Time{})
			got <- ds[0].Addr
		}()
		synctest.Wait()
		c.WriteBatch(out)
		if from := <-got; from != addrC || time.Since(start) != 10*time.Millisecond {
			t.Fatalf("first arrival from %s after %v", from, time.Since(start))
		}
	})
}

// TestPingPongVirtualTime: ten round trips over a 100 ms link take 2 s of
// the bubble's clock and next to no wall time.
func TestPingPongVirtualTime(t *testing.T) {
	wall := time.Now()
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{Latency: 100 * time.Millisecond})
		client, server := listen(t, n, addrA), listen(t, n, addrB)
		go func() { // echo server
			ds := batch.NewBuffers(8)
			for {
				k, err := server.ReadBatch(ds, time.Time{})
				if err != nil {
					return
				}
				server.WriteBatch(ds[:k]) // Addr is the sender: echo back
			}
		}()
		start := time.Now()
		out, in := batch.NewBuffers(1), batch.NewBuffers(1)
		for i := range 10 {
			stamp(&out[0], addrB, uint32(i), 0, 64)
			client.WriteBatch(out)
			if k, err := client.ReadBatch(in, time.Time{}); k != 1 || err != nil || in[0].Buf[0] != byte(i) {
				t.Fatalf("round trip %d: %d, %v", i, k, err)
			}
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("10 round trips took %v of virtual time, want 2s", d)
		}
		server.Close()
	})
	if d := time.Since(wall); d > time.Second {
		t.Fatalf("2 s of virtual time took %v of wall time", d)
	}
}

// TestRealTime: outside a bubble the simulator runs on the wall clock.
func TestRealTime(t *testing.T) {
	const lat = 20 * time.Millisecond
	n := New(Config{Latency: lat})
	a, b := listen(t, n, addrA), listen(t, n, addrB)
	out := batch.NewBuffers(1)
	stamp(&out[0], addrB, 0, 0, 8)
	start := time.Now()
	a.WriteBatch(out)
	// However the scheduler delays this goroutine, nothing arrives early.
	k, err := b.ReadBatch(batch.NewBuffers(1), start) // poll
	if k == 0 {
		k, err = b.ReadBatch(batch.NewBuffers(1), time.Time{})
	}
	if d := time.Since(start); k != 1 || err != nil || d < lat {
		t.Fatalf("ReadBatch = %d, %v after %v, latency %v", k, err, d, lat)
	}
}
