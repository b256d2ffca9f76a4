package netsim

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// Endpoint is one bound address on a Network. It implements batch.Conn:
// ReadBatch and WriteBatch belong to one goroutine; Wake, Stats, LocalAddr
// and Close are safe from any goroutine.
type Endpoint struct {
	net  *Network
	addr netip.AddrPort

	// links caches the endpoint's outgoing links; the writer goroutine
	// alone touches it, so WriteBatch takes no network lock per datagram.
	links map[netip.AddrPort]*link

	mu       sync.Mutex
	closed   bool
	incoming minHeap[*packet] // copies whose delivery time may not have come
	ready    fifo             // arrived, unread: the receive buffer

	isClosed atomic.Bool
	woken    atomic.Bool
	notify   chan struct{} // capacity 1: an arrival or a Wake since the last look
	done     chan struct{} // closed by Close
	timer    *time.Timer   // the reader's wait for the next delivery or the deadline

	rxDatagrams, rxBytes, rxDropped, rxTruncated atomic.Uint64
	txDatagrams, txBytes, txDropped              atomic.Uint64
}

var _ batch.Conn = (*Endpoint)(nil)

func newEndpoint(n *Network, addr netip.AddrPort) *Endpoint {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &Endpoint{
		net:    n,
		addr:   addr,
		links:  make(map[netip.AddrPort]*link),
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
		timer:  t,
	}
}

// LocalAddr is the address the endpoint listens at. Safe from any goroutine.
func (e *Endpoint) LocalAddr() netip.AddrPort { return e.addr }

// WriteBatch copies each ds[i].Buf[:ds[i].N] into the network, addressed to
// ds[i].Addr, and returns how many it handed to the network; it keeps no
// reference to ds. A datagram with N outside 0..min(cap(Buf), MaxDatagram),
// an invalid address or port 0, or a new link beyond Config.MaxLinks is
// refused and counted in Stats.TxDropped. Whatever the network then does to
// a datagram it accepted (loss, a full queue, nobody listening) is counted
// in Network.LinkStats, not here. Called by the endpoint's one I/O goroutine.
func (e *Endpoint) WriteBatch(ds []batch.Datagram) (int, error) {
	if e.isClosed.Load() {
		return 0, batch.ErrClosed
	}
	now := e.net.now()
	sent := 0
	for i := range ds {
		d := &ds[i]
		to := unmap(d.Addr)
		if d.N < 0 || d.N > cap(d.Buf) || d.N > batch.MaxDatagram || !to.IsValid() || to.Port() == 0 {
			e.txDropped.Add(1)
			continue
		}
		l := e.links[to]
		if l == nil {
			if l = e.net.link(e.addr, to); l == nil {
				e.txDropped.Add(1)
				continue
			}
			e.links[to] = l
		}
		l.send(now, d.Buf[:d.N])
		e.txDatagrams.Add(1)
		e.txBytes.Add(uint64(d.N))
		sent++
	}
	return sent, nil
}

// ReadBatch copies arrived datagrams into ds[i].Buf[:cap] in arrival order
// and returns how many. If none has arrived it waits until the next one is
// due, Wake is called, Close is called, or the deadline passes (zero: no
// limit; past: poll); a wake or a timeout returns 0, nil. A datagram longer
// than its buffer is cut to it and counted in Stats.RxTruncated. After Close
// it returns batch.ErrClosed. Called by the endpoint's one I/O goroutine.
func (e *Endpoint) ReadBatch(ds []batch.Datagram, deadline time.Time) (int, error) {
	for {
		now := e.net.now()
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return 0, batch.ErrClosed
		}
		e.advance(now)
		n := e.fill(ds)
		next, pending := int64(0), e.incoming.len() > 0
		if pending {
			next = e.incoming.top().at
		}
		e.mu.Unlock()

		// Any return answers a pending Wake, and the caller looks at its
		// other work after the return, so no wake-up is lost by clearing it.
		if e.woken.Swap(false) || n > 0 || len(ds) == 0 {
			return n, nil
		}
		wait := int64(-1) // no limit
		if pending {
			wait = next - now
		}
		if !deadline.IsZero() {
			left := int64(deadline.Sub(e.net.epoch)) - now
			if left <= 0 {
				return 0, nil
			}
			if wait < 0 || left < wait {
				wait = left
			}
		}
		if !e.wait(wait) {
			return 0, batch.ErrClosed
		}
	}
}

// advance moves the copies due by now from incoming to the receive buffer,
// in arrival order, dropping those that find the buffer full. The buffer only
// shrinks when the reader reads, and the reader advances before it reads, so
// doing this lazily (at each read and each arrival) drops exactly what an
// eager network would. e.mu is held.
func (e *Endpoint) advance(now int64) {
	for e.incoming.len() > 0 && e.incoming.top().at <= now {
		pk := e.incoming.pop()
		if e.ready.len() >= e.net.recvBuffer {
			e.rxDropped.Add(1)
			e.net.pool.put(pk)
			continue
		}
		e.ready.push(pk, e.net.recvBuffer)
	}
}

// fill copies ready datagrams into ds and returns how many. e.mu is held.
func (e *Endpoint) fill(ds []batch.Datagram) int {
	n := 0
	for n < len(ds) && e.ready.len() > 0 {
		pk := e.ready.pop()
		d := &ds[n]
		d.Addr = pk.from
		d.N = copy(d.Buf[:cap(d.Buf)], pk.buf[:pk.n])
		if d.N < pk.n {
			e.rxTruncated.Add(1)
		}
		e.rxDatagrams.Add(1)
		e.rxBytes.Add(uint64(d.N))
		e.net.pool.put(pk)
		n++
	}
	return n
}

// wait blocks for wait nanoseconds (negative: no limit), until an arrival or
// a Wake, or until Close, and reports false for Close. It blocks only in a
// select on channels and the endpoint's timer, which a synctest bubble
// counts as durably blocked.
func (e *Endpoint) wait(wait int64) bool {
	var expired <-chan time.Time
	if wait >= 0 {
		e.timer.Reset(time.Duration(wait))
		expired = e.timer.C
	}
	select {
	case <-e.notify:
	case <-expired:
	case <-e.done:
		e.timer.Stop()
		return false
	}
	if expired != nil {
		e.timer.Stop()
	}
	return true
}

// arrive queues a copy sent to e at time now and reports false if e is
// closed. It also brings the receive buffer up to now, so an endpoint that
// never reads holds at most RecvBuffer arrived copies, not everything ever
// sent to it. Called by senders' goroutines with their link locked.
func (e *Endpoint) arrive(pk *packet, now int64) bool {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return false
	}
	e.advance(now)
	e.incoming.push(pk)
	first := e.incoming.top() == pk
	e.mu.Unlock()
	if first { // the reader may be waiting for a later delivery
		e.signal()
	}
	return true
}

// signal tells a waiting reader, or the next one, to look again.
func (e *Endpoint) signal() {
	select {
	case e.notify <- struct{}{}:
	default:
	}
}

// Wake makes a ReadBatch that is waiting, or the next one, return at once.
// Safe from any goroutine (of the same synctest bubble, in a bubble).
func (e *Endpoint) Wake() {
	e.woken.Store(true)
	e.signal()
}

// Stats returns the endpoint's counters. Safe from any goroutine.
func (e *Endpoint) Stats() batch.Stats {
	return batch.Stats{
		RxDatagrams: e.rxDatagrams.Load(),
		RxBytes:     e.rxBytes.Load(),
		RxDropped:   e.rxDropped.Load(),
		RxTruncated: e.rxTruncated.Load(),
		TxDatagrams: e.txDatagrams.Load(),
		TxBytes:     e.txBytes.Load(),
		TxDropped:   e.txDropped.Load(),
	}
}

// Close frees the endpoint's address and the datagrams waiting for it
// (they are discarded uncounted); a waiting ReadBatch returns
// batch.ErrClosed, as do later ReadBatch and WriteBatch calls. Datagrams sent
// to the address afterwards are Unrouted until someone listens there again.
// Closing twice is a no-op. Safe from any goroutine (of the same synctest
// bubble, in a bubble).
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.isClosed.Store(true)
	for e.incoming.len() > 0 {
		e.net.pool.put(e.incoming.pop())
	}
	for e.ready.len() > 0 {
		e.net.pool.put(e.ready.pop())
	}
	close(e.done)
	e.mu.Unlock()
	e.net.unlisten(e)
	return nil
}
