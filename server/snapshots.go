package server

import (
	"errors"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/protocol"
)

const (
	// maxDatagram is the largest datagram a snapshot may take on the
	// wire, transport overhead included.
	maxDatagram = netcode.MaxPacket
	// maxSnapshot is the largest snapshot payload (head and codec bytes)
	// on a transport with no overhead.
	maxSnapshot = maxDatagram
	// maxHead is the largest snapshot head.
	maxHead = protocol.MaxHead
)

// encKey names one encoding: view cur against baseline base (nil: full).
type encKey struct {
	cur  *view
	base *known
}

// encoding is a cached encoding's place in the tick's arena.
type encoding struct {
	off, n    int32
	heartbeat bool // cur equals base and carries no events
	over      bool // does not fit one datagram
}

// encCache holds the encodings made during one tick: clients that share a
// view and a baseline share the bytes (encode once, send many). Cleared at
// the end of the tick; the arena keeps its capacity, so steady state
// allocates nothing.
type encCache struct {
	m     map[encKey]encoding
	arena []byte
}

// encode returns the encoding of cur against base, from the worker's cache
// when another of its clients needed the same one this tick.
func (w *worker) encode(cur *view, base *known) (encoding, []byte) {
	r, enc := w.r, &w.enc
	k := encKey{cur, base}
	if e, ok := enc.m[k]; ok {
		r.stats.encodeShared.Add(1)
		return e, enc.arena[e.off : e.off+e.n]
	}
	w.prepare(cur)
	var bv *codec.View
	if base != nil {
		bv = w.load(base)
	}
	var e encoding
	if base != nil && len(cur.v.Events) == 0 && base.sum == cur.known.sum && r.schema.Equal(bv, &cur.v) {
		e.heartbeat = true
		enc.m[k] = e
		return e, nil
	}
	if cap(enc.arena)-len(enc.arena) < maxSnapshot {
		grown := make([]byte, len(enc.arena), 2*cap(enc.arena)+4*maxSnapshot)
		copy(grown, enc.arena)
		enc.arena = grown
	}
	start := len(enc.arena)
	out, err := w.codec.AppendDelta(enc.arena[:start:start+maxSnapshot-maxHead], bv, &cur.v)
	r.stats.encodes.Add(1)
	switch {
	case errors.Is(err, codec.ErrOverflow):
		e.over = true
	case err != nil:
		// The room built the view itself: a codec refusal is a bug.
		panic("server: encoding a view the room built: " + err.Error())
	default:
		e.off, e.n = int32(start), int32(len(out)-start)
		// out shares the arena's array (the codec never grows dst) but
		// its capacity was cut to one snapshot: keep the arena's.
		enc.arena = enc.arena[:len(out)]
	}
	enc.m[k] = e
	return e, enc.arena[e.off : e.off+e.n]
}

func (c *encCache) endTick() {
	clear(c.m)
	c.arena = c.arena[:0]
}

// build makes c's snapshot of this tick (c.job): the freshest state it
// can see (c.cur, the shared view the room chose before the workers
// started), as a delta against the newest snapshot it acknowledged, within
// its budget. It runs on a worker and writes only the worker's state and
// c's; the room sends the job (emit). Nothing is queued: a client whose
// budget is spent skips this snapshot and the next one carries the state
// of its own tick.
func (w *worker) build(c *client) {
	r := w.r
	c.job = job{}
	over := c.link.Overhead()
	room := min(c.tokens/r.cfg.TickHz, maxDatagram) - over
	if room < protocol.MaxHeartbeat {
		r.stats.budgetSkips.Add(1)
		return
	}
	bs, back := c.hist.Baseline(c.seq)
	var base *known
	head := protocol.SnapshotHead{Form: protocol.Full, Seq: c.seq, Frame: r.frame}
	if bs != nil {
		base = bs.k
		head = protocol.SnapshotHead{Form: protocol.Delta, Back: back, Seq: c.seq, Frame: r.frame - bs.frame}
	}
	cur := c.cur
	var e encoding
	var body []byte
	if c.crowded && base != nil {
		// Its last snapshot could not carry everything: go straight to the
		// accumulator instead of encoding a whole view to learn it does
		// not fit again. The accumulator clears the mark once all fits.
		e.over = true
	} else {
		e, body = w.encode(cur, base)
	}
	w.prepare(cur)
	sent := cur.known
	switch {
	case e.heartbeat:
		// The client keeps its baseline; the history records this tick's
		// known (the same states, by value and checksum), so a client whose
		// view stopped changing does not pin its baseline's old stores.
		head.Form = protocol.Heartbeat
		body = nil
	case e.over || maxHead+len(body) > room:
		sent, body = w.prioritize(c, cur, base, room-maxHead)
		if sent == nil {
			return
		}
		r.stats.prioritized.Add(1)
	}
	off, n := w.keep(body)
	c.job = job{head: head, w: w, off: off, n: n, sent: sent, own: sent != cur.known && sent != base, ok: true}
}

// emit sends the snapshot a worker built for c, on the room's goroutine.
func (r *Room) emit(c *client) {
	j := c.job
	c.job, c.cur = job{}, nil
	if !j.ok {
		return
	}
	if !r.send(c, j.head, j.w.out[j.off:j.off+j.n], j.sent, j.own) {
		return
	}
	c.lastSnap = r.frame
	switch j.head.Form {
	case protocol.Full:
		r.stats.fulls.Add(1)
	case protocol.Delta:
		r.stats.deltas.Add(1)
	default:
		r.stats.heartbeats.Add(1)
	}
}

// send writes head and body to c as its next snapshot and records that it
// carries the states k at the current frame. k is one the room holds (a
// cached view's or a baseline, which send holds once more) or, with own,
// one made for c alone (whose one hold passes to the history). It reports
// false, releasing an own k, when nothing was sent.
func (r *Room) send(c *client, head protocol.SnapshotHead, body []byte, k *known, own bool) bool {
	pkt, ok := protocol.AppendSnapshotHead(r.pkt[:0], head)
	if !ok {
		// The baseline is too many frames old to name: start over.
		c.drop(&r.states)
		if own {
			r.states.release(k)
		}
		return false
	}
	pkt = append(pkt, body...)
	if err := c.link.SendSnapshot(head.Seq, pkt); err != nil {
		if own {
			r.states.release(k)
		}
		return false
	}
	if !own {
		r.states.hold(k)
	}
	// An unacknowledged snapshot older than maxUnackedAge frames gives
	// its states back: a client that acknowledges rarely (or at 1 Hz) does
	// not pin a tick's stores for its whole ack timeout.
	c.hist.DropUnacked(func(e *histEntry) bool { return r.frame-e.frame > uint32(maxUnackedAge*r.cfg.TickHz) },
		func(e *histEntry) { r.states.release(e.k) })
	c.hist.Record(head.Seq, histEntry{k: k, frame: r.frame}, func(e *histEntry) { r.states.release(e.k) })
	c.seq++
	n := c.link.Overhead() + len(pkt)
	c.tokens -= n * r.cfg.TickHz
	if c.unackedSince.IsZero() {
		c.unackedSince = r.now
	}
	r.stats.snapshotBytes.observe(float64(n))
	return true
}
