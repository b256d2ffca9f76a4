package server

import (
	"errors"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/protocol"
)

const (
	// netHeader is netcode's unreliable packet overhead: header, acks and
	// sequence. Budgets count UDP payload bytes, so they include it.
	netHeader = netcode.HeaderSize + netcode.AckSize + 2
	// maxDatagram is the largest UDP payload a snapshot may take.
	maxDatagram = netcode.MaxPacket
	// maxSnapshot is the largest snapshot payload (head and codec bytes).
	maxSnapshot = maxDatagram - netHeader
	// maxHead is the largest snapshot head.
	maxHead = 5
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
		r.enc.arena = out
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
	seq, err := r.net.NextSeq(c.id)
	if err != nil {
		return
	}
	room := min(c.tokens/r.cfg.TickHz, maxDatagram) - netHeader
	if room < protocol.MaxHeartbeat {
		r.stats.budgetSkips.Add(1)
		return
	}
	bs, back := c.baseline(seq)
	var base *view
	head := protocol.SnapshotHead{Form: protocol.Full, Frame: r.frame}
	if bs != nil {
		base = bs.v
		head = protocol.SnapshotHead{Form: protocol.Delta, Back: back, Frame: r.frame - bs.frame}
	}
	cur := r.tileView(c.tile, c.lastSnap)
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
	pkt, ok := protocol.AppendSnapshotHead(r.pkt[:0], head)
	if !ok {
		// The baseline is too many frames old to name: start over.
		c.drop(&r.pool)
		c.hasAcked = false
		if sent != cur && sent != base {
			r.pool.release(sent)
		}
		return
	}
	pkt = append(pkt, body...)
	if _, err := r.net.SendUnreliable(c.id, pkt); err != nil {
		if sent != cur && sent != base {
			r.pool.release(sent)
		}
		return
	}
	if sent == cur || sent == base {
		r.pool.hold(sent)
	}
	c.record(seq, sent, r.frame, &r.pool)
	c.tokens -= (netHeader + len(pkt)) * r.cfg.TickHz
	c.lastSnap = r.frame
	n := netHeader + len(pkt)
	r.stats.snapshotBytes.observe(float64(n))
	switch head.Form {
	case protocol.Full:
		r.stats.fulls.Add(1)
	case protocol.Delta:
		r.stats.deltas.Add(1)
	default:
		r.stats.heartbeats.Add(1)
	}
}
