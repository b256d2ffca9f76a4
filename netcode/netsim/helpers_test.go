package netsim

import (
	"encoding/binary"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

var (
	addrA = netip.MustParseAddrPort("10.0.0.1:4000")
	addrB = netip.MustParseAddrPort("10.0.0.2:4000")
	addrC = netip.MustParseAddrPort("10.0.0.3:4000")
)

func listen(t testing.TB, n *Network, addr netip.AddrPort) *Endpoint {
	t.Helper()
	e, err := n.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// arrival is one datagram as the receiver saw it.
type arrival struct {
	from netip.AddrPort
	seq  uint32
	sent time.Duration // offset from the start of the run, written by the sender
	at   time.Duration // offset at which ReadBatch returned it
	n    int
}

func (a arrival) delay() time.Duration { return a.at - a.sent }

// stamp writes seq and the send offset at the head of d's buffer.
func stamp(d *batch.Datagram, to netip.AddrPort, seq uint32, sent time.Duration, size int) {
	d.Addr = to
	d.N = size
	binary.LittleEndian.PutUint32(d.Buf[0:], seq)
	binary.LittleEndian.PutUint64(d.Buf[4:], uint64(sent))
}

// collect reads from e until it is closed, in its own goroutine, and
// returns a function that waits for the reader and yields what it saw.
func collect(e *Endpoint, start time.Time) func() []arrival {
	var got []arrival
	done := make(chan struct{})
	go func() {
		defer close(done)
		ds := batch.NewBuffers(64)
		for {
			k, err := e.ReadBatch(ds, time.Time{})
			if err != nil {
				return
			}
			at := time.Since(start)
			for _, d := range ds[:k] {
				p := d.Payload()
				got = append(got, arrival{
					from: d.Addr,
					seq:  binary.LittleEndian.Uint32(p),
					sent: time.Duration(binary.LittleEndian.Uint64(p[4:])),
					at:   at,
					n:    d.N,
				})
			}
		}
	}()
	return func() []arrival { <-done; return got }
}

// run is one paced one-way transfer: count datagrams of size bytes from
// addrA to addrB, one every gap, then settle for the stragglers. It returns
// what addrB received and the link's counters. Call it inside a bubble.
func run(t *testing.T, n *Network, count int, gap time.Duration, size int, settle time.Duration) ([]arrival, LinkStats) {
	t.Helper()
	src, dst := listen(t, n, addrA), listen(t, n, addrB)
	start := time.Now()
	wait := collect(dst, start)
	out := batch.NewBuffers(1)
	for i := range count {
		stamp(&out[0], addrB, uint32(i), time.Since(start), size)
		if k, err := src.WriteBatch(out); k != 1 || err != nil {
			t.Fatalf("WriteBatch = %d, %v", k, err)
		}
		time.Sleep(gap)
	}
	time.Sleep(settle)
	dst.Close()
	got := wait()
	src.Close()
	return got, n.LinkStats(addrA, addrB)
}

// within reports whether got is within k standard deviations of the
// binomial mean of trials with probability p.
func within(got uint64, trials int, p, k float64) bool {
	mean := float64(trials) * p
	sd := math.Sqrt(float64(trials) * p * (1 - p))
	return float64(got) >= mean-k*sd && float64(got) <= mean+k*sd
}
