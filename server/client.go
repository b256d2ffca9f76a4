package server

import (
	"net/netip"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/sim"
)

// client is the room's state for one connected session. It belongs to the
// room's goroutine.
type client struct {
	id   netcode.SessionID
	addr netip.AddrPort
	ship uint32  // the client's ship, 0 until its join applied
	tile sim.Hex // where its view is centred: its ship's tile

	hz, bps int // snapshot rate and byte budget in force
	// tokens is the byte budget bucket, scaled by the tick rate: each tick
	// adds bps, a snapshot of n UDP payload bytes takes n·TickHz. It is
	// capped at two snapshots' worth (at least one largest datagram).
	tokens, tokenCap int

	lastSnap uint32 // frame of the last snapshot sent: events after it are owed
	hist     [protocol.History]histSlot
	acked    uint16 // newest acknowledged snapshot sequence, when hasAcked
	hasAcked bool

	pending int // actions awaiting their frame
	prio    []prioEntry
	// lastFill is how far down its priority order the client's last
	// prioritized snapshot looked: the next one sorts about twice that.
	lastFill int
	// crowded: the last prioritized snapshot left entities out, so the
	// next one goes straight to the accumulator (see sendSnapshot).
	crowded bool
}

// histSlot is one sent snapshot: the view the client will hold if it
// accepts sequence seq, and the frame it describes.
type histSlot struct {
	v     *view
	seq   uint16
	frame uint32
	acked bool
}

// setBudget applies a rate and budget, clamped to the room's limits.
func (c *client) setBudget(cfg *Config, hz, bps int) {
	if hz <= 0 {
		hz = cfg.SnapshotHz
	}
	if bps <= 0 {
		bps = cfg.BytesPerSec
	}
	c.hz = min(max(hz, 1), cfg.MaxSnapshotHz)
	c.bps = min(max(bps, minBytesPerSec), cfg.MaxBytesPerSec)
	c.tokenCap = max(2*c.bps/c.hz, maxDatagram) * cfg.TickHz
	c.tokens = min(c.tokens, c.tokenCap)
}

// due reports whether frame is one of the client's snapshot frames: the
// frames where ⌊frame·hz/TickHz⌋ steps. Clients with the same rate share
// their frames, so they can share views and encodings.
func (c *client) due(frame uint32, tickHz int) bool {
	f, hz, t := uint64(frame), uint64(c.hz), uint64(tickHz)
	return f*hz/t != (f-1)*hz/t
}

// baseline returns the newest acknowledged snapshot the client still holds
// within reach of sequence next, and how far back it is; nil for none.
func (c *client) baseline(next uint16) (*histSlot, uint8) {
	if !c.hasAcked {
		return nil, 0
	}
	back := next - c.acked
	if back == 0 || back > protocol.MaxBack {
		return nil, 0
	}
	s := &c.hist[c.acked%protocol.History]
	if s.v == nil || s.seq != c.acked || !s.acked {
		return nil, 0
	}
	return s, uint8(back)
}

// ack records that the client holds snapshot seq. Snapshots older than the
// newest acknowledged one can never be a baseline again; their views are
// released.
func (c *client) ack(seq uint16, pool *viewPool) {
	s := &c.hist[seq%protocol.History]
	if s.v == nil || s.seq != seq {
		return // older than the history: nothing to do
	}
	s.acked = true
	if c.hasAcked && int16(seq-c.acked) <= 0 {
		return
	}
	c.acked, c.hasAcked = seq, true
	for i := range c.hist {
		o := &c.hist[i]
		if o.v != nil && int16(o.seq-seq) < 0 {
			pool.release(o.v)
			*o = histSlot{}
		}
	}
}

// record stores what snapshot seq carries, taking a reference to v.
func (c *client) record(seq uint16, v *view, frame uint32, pool *viewPool) {
	s := &c.hist[seq%protocol.History]
	if s.v != nil {
		pool.release(s.v)
	}
	*s = histSlot{v: v, seq: seq, frame: frame}
}

// drop releases everything the client holds.
func (c *client) drop(pool *viewPool) {
	for i := range c.hist {
		if c.hist[i].v != nil {
			pool.release(c.hist[i].v)
			c.hist[i] = histSlot{}
		}
	}
}
