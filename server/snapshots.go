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
type encKey struct{ cur, base *view }

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

// encode returns the encoding of cur against base, from the cache when
// another client needed the same one this tick.
func (r *Room) encode(cur, base *view) (encoding, []byte) {
	k := encKey{cur, base}
	if e, ok := r.enc.m[k]; ok {
		r.stats.encodeShared.Add(1)
		return e, r.enc.arena[e.off : e.off+e.n]
	}
	var e encoding
	if base != nil && len(cur.v.Events) == 0 && r.schema.Equal(&base.v, &cur.v) {
		e.heartbeat = true
		r.enc.m[k] = e
		return e, nil
	}
	if cap(r.enc.arena)-len(r.enc.arena) < maxSnapshot {
		grown := make([]byte, len(r.enc.arena), 2*cap(r.enc.arena)+4*maxSnapshot)
		copy(grown, r.enc.arena)
		r.enc.arena = grown
	}
	start := len(r.enc.arena)
	var bv *codec.View
	if base != nil {
		bv = &base.v
	}
	out, err := r.codec.AppendDelta(r.enc.arena[:start:start+maxSnapshot-maxHead], bv, &cur.v)
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
		r.enc.arena = r.enc.arena[:len(out)]
	}
	r.enc.m[k] = e
	return e, r.enc.arena[e.off : e.off+e.n]
}

func (c *encCache) endTick() {
	clear(c.m)
	c.arena = c.arena[:0]
}

// sendSnapshot sends c the freshest state it can see, as a delta against
// the newest snapshot it acknowledged, within its budget. Nothing is queued:
// a client whose budget is spent skips this snapshot and the next one
// carries the state of its own tick.
func (r *Room) sendSnapshot(c *client) {
	over := c.link.Overhead()
	room := min(c.tokens/r.cfg.TickHz, maxDatagram) - over
	if room < protocol.MaxHeartbeat {
		r.stats.budgetSkips.Add(1)
		return
	}
	seq := c.seq
	bs, back := c.hist.Baseline(seq)
	var base *view
	head := protocol.SnapshotHead{Form: protocol.Full, Seq: seq, Frame: r.frame}
	if bs != nil {
		base = bs.v
		head = protocol.SnapshotHead{Form: protocol.Delta, Back: back, Seq: seq, Frame: r.frame - bs.frame}
	}
	cur := r.focusView(c.focus, c.lastSnap, c.detail)
	var e encoding
	var body []byte
	if c.crowded && base != nil {
		// Its last snapshot could not carry everything: go straight to the
		// accumulator instead of encoding a whole view to learn it does
		// not fit again. The accumulator clears the mark once all fits.
		e.over = true
	} else {
		e, body = r.encode(cur, base)
	}
	sent := cur
	switch {
	case e.heartbeat:
		head.Form = protocol.Heartbeat
		sent, body = base, nil
	case e.over || maxHead+len(body) > room:
		sent, body = r.prioritize(c, cur, base, room-maxHead)
		if sent == nil {
			return
		}
		r.stats.prioritized.Add(1)
	}
	if !r.send(c, head, body, sent, sent != cur && sent != base) {
		return
	}
	c.lastSnap = r.frame
	switch head.Form {
	case protocol.Full:
		r.stats.fulls.Add(1)
	case protocol.Delta:
		r.stats.deltas.Add(1)
	default:
		r.stats.heartbeats.Add(1)
	}
}

// send writes head and body to c as its next snapshot and records that it
// carries view v at the current frame. v is a view the room holds (a
// cached or baseline view, which send holds once more) or, with own, one
// made for c alone (whose one reference passes to the history). It reports
// false, releasing an own view, when nothing was sent.
func (r *Room) send(c *client, head protocol.SnapshotHead, body []byte, v *view, own bool) bool {
	pkt, ok := protocol.AppendSnapshotHead(r.pkt[:0], head)
	if !ok {
		// The baseline is too many frames old to name: start over.
		c.drop(&r.pool)
		if own {
			r.pool.release(v)
		}
		return false
	}
	pkt = append(pkt, body...)
	if err := c.link.SendSnapshot(head.Seq, pkt); err != nil {
		if own {
			r.pool.release(v)
		}
		return false
	}
	if !own {
		r.pool.hold(v)
	}
	c.hist.Record(head.Seq, histEntry{v: v, frame: r.frame}, func(e *histEntry) { r.pool.release(e.v) })
	c.seq++
	n := c.link.Overhead() + len(pkt)
	c.tokens -= n * r.cfg.TickHz
	if c.unackedSince.IsZero() {
		c.unackedSince = r.now
	}
	r.stats.snapshotBytes.observe(float64(n))
	return true
}
