package netsim

import (
	"net/netip"
	"sync"
	"time"
)

// LinkStats are the cumulative counters of one directed link. Every datagram
// handed to the link is counted in Sent and in exactly one of Cut, Unrouted,
// Lost, QueueDropped, BandwidthDropped, PoolDropped or Delivered. A second
// copy made by the Duplicate draw is counted in Duplicated and Delivered if
// it goes out, else in QueueDropped or PoolDropped.
type LinkStats struct {
	Sent             uint64 // datagrams handed to the link by WriteBatch
	SentBytes        uint64 // their payload bytes
	Delivered        uint64 // copies handed to the destination endpoint, duplicates included (it may still drop them: Stats.RxDropped)
	DeliveredBytes   uint64 // their payload bytes
	Lost             uint64 // dropped by the Loss draw
	Duplicated       uint64 // second copies made by the Duplicate draw
	Reordered        uint64 // delivered datagrams held back by ReorderDelay
	QueueDropped     uint64 // copies dropped because QueueLimit were in flight
	BandwidthDropped uint64 // datagrams dropped because the bottleneck buffer was full
	PoolDropped      uint64 // copies dropped because the network held MaxPending
	Cut              uint64 // datagrams dropped because the link was down or an end isolated
	Unrouted         uint64 // datagrams dropped because nobody listened at the destination
}

// add accumulates o into s.
func (s *LinkStats) add(o LinkStats) {
	s.Sent += o.Sent
	s.SentBytes += o.SentBytes
	s.Delivered += o.Delivered
	s.DeliveredBytes += o.DeliveredBytes
	s.Lost += o.Lost
	s.Duplicated += o.Duplicated
	s.Reordered += o.Reordered
	s.QueueDropped += o.QueueDropped
	s.BandwidthDropped += o.BandwidthDropped
	s.PoolDropped += o.PoolDropped
	s.Cut += o.Cut
	s.Unrouted += o.Unrouted
}

// link is one directed link. Everything in it is guarded by mu. Lock order:
// link.mu, then Network.mu (read, to refresh the route), then Endpoint.mu,
// then pool.mu; never link.mu while holding Network.mu.
type link struct {
	net      *Network
	from, to netip.AddrPort

	mu        sync.Mutex
	p         params
	rand      rng
	seq       uint64           // index of the next datagram sent on the link
	busyUntil int64            // when the bottleneck has serialised its backlog
	inFlight  minHeap[instant] // delivery times of copies still in flight
	stats     LinkStats

	// The route, cached until the Network's generation changes.
	gen uint64
	dst *Endpoint // nil when nobody listens at to
	cut bool      // from or to is isolated
}

// send runs one datagram through the link: see the package documentation
// for the order of the steps. now is the network clock at WriteBatch.
func (l *link) send(now int64, payload []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()

	uLoss, uDup, uReorder := l.rand.next(), l.rand.next(), l.rand.next()
	uJitter, uDupJitter := l.rand.next(), l.rand.next()
	seq := l.seq
	l.seq++
	n := uint64(len(payload))
	l.stats.Sent++
	l.stats.SentBytes += n
	l.refreshRoute()
	p := &l.p

	switch {
	case p.down || l.cut:
		l.stats.Cut++
		return
	case l.dst == nil:
		l.stats.Unrouted++
		return
	case chance(uLoss, p.loss):
		l.stats.Lost++
		return
	}
	for l.inFlight.len() > 0 && int64(l.inFlight.top()) <= now {
		l.inFlight.pop()
	}
	if l.inFlight.len() >= p.queueLimit {
		l.stats.QueueDropped++
		return
	}
	depart := now
	if p.bandwidth > 0 {
		start := max(now, l.busyUntil)
		backlog := mulDiv(uint64(start-now), p.bandwidth, uint64(time.Second))
		if backlog+n > p.buffer {
			l.stats.BandwidthDropped++
			return
		}
		// Round the serialisation time up so the link never beats its cap.
		tx := (n*uint64(time.Second) + p.bandwidth - 1) / p.bandwidth
		l.busyUntil = start + int64(tx)
		depart = l.busyUntil
	}
	at := depart + p.delay(uJitter)
	held := chance(uReorder, p.reorder)
	if held {
		at += p.reorderDelay
	}
	if !l.deliver(now, at, seq, false, payload) {
		return
	}
	if held {
		l.stats.Reordered++
	}
	if !chance(uDup, p.duplicate) {
		return
	}
	if l.inFlight.len() >= p.queueLimit {
		l.stats.QueueDropped++
		return
	}
	if l.deliver(now, depart+p.delay(uDupJitter), seq, true, payload) {
		l.stats.Duplicated++
	}
}

// deliver copies payload into a pooled packet and hands it, at time now, to
// the destination endpoint, to arrive at at. It reports whether the copy is
// on its way.
func (l *link) deliver(now, at int64, seq uint64, dup bool, payload []byte) bool {
	pk := l.net.pool.get()
	if pk == nil {
		l.stats.PoolDropped++
		return false
	}
	pk.at, pk.from, pk.seq, pk.dup = at, l.from, seq, dup
	n := copy(pk.buf[:], payload)
	pk.n = n
	// From here the receiver owns pk and may already have recycled it.
	if !l.dst.arrive(pk, now) { // closed since the route was cached
		l.net.pool.put(pk)
		l.stats.Unrouted++
		return false
	}
	l.inFlight.push(instant(at))
	l.stats.Delivered++
	l.stats.DeliveredBytes += uint64(n)
	return true
}

// refreshRoute re-reads the destination and the isolation of both ends if
// an endpoint or an isolation changed since the last look.
func (l *link) refreshRoute() {
	g := l.net.gen.Load()
	if g == l.gen && l.gen != 0 {
		return
	}
	l.net.mu.RLock()
	l.dst = l.net.endpoints[l.to]
	l.cut = l.net.isolated[l.from] || l.net.isolated[l.to]
	l.net.mu.RUnlock()
	l.gen = g
}
