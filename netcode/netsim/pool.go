package netsim

import (
	"net/netip"
	"sync"

	"github.com/flotilla/flotilla/netcode/batch"
)

// packet is one datagram copy the network owns between WriteBatch and
// ReadBatch. Packets come from the Network's pool and go back to it.
type packet struct {
	at   int64          // delivery time, ns on the network's clock
	from netip.AddrPort // sender
	seq  uint64         // index of the original on its link
	dup  bool           // the second copy of a duplicated datagram
	n    int
	buf  [batch.MaxDatagram]byte
}

// before orders arrivals: by delivery time, then source, then send order,
// then original before duplicate. Every key is a function of the link's
// draws and send times, never of goroutine scheduling.
func (p *packet) before(q *packet) bool {
	if p.at != q.at {
		return p.at < q.at
	}
	if c := p.from.Compare(q.from); c != 0 {
		return c < 0
	}
	if p.seq != q.seq {
		return p.seq < q.seq
	}
	return !p.dup && q.dup
}

// pool hands out at most limit packets, reusing returned ones, so that the
// network holds a bounded amount of memory and allocates nothing per
// datagram once warm.
type pool struct {
	mu    sync.Mutex
	free  []*packet
	live  int // packets allocated so far
	limit int
}

// get returns a packet, or nil if limit packets are out.
func (p *pool) get() *packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		pk := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return pk
	}
	if p.live >= p.limit {
		return nil
	}
	p.live++
	return new(packet)
}

// put returns a packet to the pool.
func (p *pool) put(pk *packet) {
	p.mu.Lock()
	p.free = append(p.free, pk)
	p.mu.Unlock()
}
