package udpio

import (
	"net/netip"
	"sync/atomic"

	"github.com/flotilla/flotilla/netcode/batch"
)

// ring is a bounded single-producer, single-consumer queue of datagrams with
// its memory allocated once: size slots of MaxDatagram bytes each. The gnet
// event loop pushes, the ReadBatch owner pops; neither ever waits for the
// other, and a full ring refuses the push.
type ring struct {
	head atomic.Uint64 // next slot to pop; written by the consumer only
	_    [56]byte      // keep head and tail on their own cache lines
	tail atomic.Uint64 // next slot to push; written by the producer only
	_    [56]byte

	mask  uint64
	mem   []byte     // slot i is mem[i*MaxDatagram:(i+1)*MaxDatagram]
	slots []ringSlot // slot i's peer and length
}

type ringSlot struct {
	addr netip.AddrPort
	n    int // the datagram's length as received, maybe more than MaxDatagram
}

// newRing returns a ring of at least size slots (rounded up to a power of two).
func newRing(size int) *ring {
	n := 1
	for n < size {
		n <<= 1
	}
	return &ring{
		mask:  uint64(n - 1),
		mem:   make([]byte, n*batch.MaxDatagram),
		slots: make([]ringSlot, n),
	}
}

// push copies p (at most MaxDatagram bytes of it) and its peer into the next
// slot; false means the ring is full and nothing was copied. Producer only.
func (r *ring) push(addr netip.AddrPort, p []byte) bool {
	t := r.tail.Load()
	if t-r.head.Load() > r.mask {
		return false
	}
	i := t & r.mask
	copy(r.slot(i), p)
	r.slots[i] = ringSlot{addr: addr, n: len(p)}
	r.tail.Store(t + 1)
	return true
}

// reserve returns the next sequence number to push and how many slots are
// free from there, for a producer that fills slots in place. Producer only.
func (r *ring) reserve() (tail uint64, free int) {
	t := r.tail.Load()
	return t, int(r.mask + 1 - (t - r.head.Load()))
}

// slotAt is the buffer of the slot for sequence number seq.
func (r *ring) slotAt(seq uint64) []byte { return r.slot(seq & r.mask) }

// fill records the peer and length of the datagram written in place into
// seq's slot; n beyond MaxDatagram marks it cut. Producer only.
func (r *ring) fill(seq uint64, addr netip.AddrPort, n int) {
	r.slots[seq&r.mask] = ringSlot{addr: addr, n: n}
}

// publish makes the slots before tail visible to the consumer. Producer only.
func (r *ring) publish(tail uint64) { r.tail.Store(tail) }

// pop moves up to len(ds) datagrams into ds, each cut to its buffer's
// capacity, and returns how many, their bytes, and how many were cut.
// Consumer only.
func (r *ring) pop(ds []batch.Datagram) (n, bytes, truncated int) {
	h, t := r.head.Load(), r.tail.Load()
	for h != t && n < len(ds) {
		i := h & r.mask
		s := &r.slots[i]
		d := &ds[n]
		m := copy(d.Buf[:cap(d.Buf)], r.slot(i)[:min(s.n, batch.MaxDatagram)])
		if s.n > m {
			truncated++
		}
		d.N, d.Addr = m, s.addr
		bytes += m
		n++
		h++
	}
	r.head.Store(h)
	return n, bytes, truncated
}

// empty reports whether nothing is queued. Consumer only.
func (r *ring) empty() bool { return r.head.Load() == r.tail.Load() }

func (r *ring) slot(i uint64) []byte {
	return r.mem[i*batch.MaxDatagram : (i+1)*batch.MaxDatagram]
}
