package server

import (
	"net/netip"
	"time"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/protocol"
)

// client is the room's state for one session. It belongs to the room's
// goroutine.
//
// A client starts unproven: it holds no avatar and no view of its own, and
// is sent the room's shared proof snapshot until it acknowledges one. Then
// it is proven: the room joins it to the game and sends it its own view.
type client struct {
	id      ClientID
	index   int // its place in Room.order
	link    Link
	addr    netip.AddrPort
	arrived time.Time
	proven  bool
	// proofSent: a proof snapshot went out (the first goes at the first
	// tick after arrival, the others at ProofHz).
	proofSent bool
	joined    bool // its join was queued: a leave must follow it
	// redirected: it was pointed to another member (protocol.Redirect)
	// instead of welcomed; it is sent nothing more and goes at its proof
	// timeout if it does not leave first.
	redirected bool
	avatar     uint32 // the entity it controls, 0 until its join applied
	focus      uint64 // where its view is centred (Game.Focus)

	hz, bps int    // snapshot rate and byte budget in force
	phase   uint32 // frames its snapshot frames are shifted by (snapDue)
	// detail: the levels of detail it asked for (protocol.Detail); 0 all.
	// crowd: the levels the crowd bound leaves it (Config.MaxViewEntities),
	// decided from its last view; 0 all.
	detail, crowd uint8
	// tokens is the byte budget bucket, scaled by the tick rate: each tick
	// adds bps, a snapshot of n bytes on the wire takes n·TickHz. It is
	// capped at two snapshots' worth (at least one largest datagram).
	tokens, tokenCap int

	seq      uint16 // the sequence of the next snapshot
	lastSnap uint32 // frame of the last snapshot sent: events after it are owed
	hist     protocol.Sent[histEntry]
	// unackedSince is when the oldest snapshot sent after the newest
	// acknowledgement went out (zero: none outstanding).
	unackedSince time.Time

	pending int // actions awaiting their frame
	prio    []prioEntry
	// lastFill is how far down its priority order the client's last
	// prioritized snapshot looked: the next one sorts about twice that.
	lastFill int
	// crowded: the last prioritized snapshot left entities out, so the
	// next one goes straight to the accumulator (see worker.build).
	crowded bool

	// This tick's snapshot: the shared view chosen for it (the room's
	// goroutine) and the levels of detail it was chosen at, and what a
	// worker built from it.
	cur       *view
	curDetail uint8
	job       job
}

// histEntry is one sent snapshot: the states the client holds if it
// accepts it, and the frame it describes.
type histEntry struct {
	k     *known
	frame uint32
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
	// The phase of its snapshot frames (snapDue): one of the period over
	// which its rate's pattern repeats (TickHz / gcd(hz, TickHz)).
	c.phase = uint32(c.id) % uint32(cfg.TickHz/gcd(c.hz, cfg.TickHz))
}

// setDetail applies a Detail: tiers levels of detail, or all.
func (c *client) setDetail(tiers uint8) {
	c.detail = tiers
	if tiers >= codec.NumLODs {
		c.detail = 0
	}
}

// viewDetail is the levels of detail of c's view: what it asked for, or
// fewer in a crowd (0: all).
func (c *client) viewDetail() uint8 {
	asked := c.detail
	if asked == 0 {
		asked = codec.NumLODs
	}
	if c.crowd != 0 && c.crowd < asked {
		return c.crowd
	}
	return c.detail
}

// crowdDetail is the levels of detail a view of the given tier counts
// leaves a client under the crowd bound most, now that its view had d
// (0: all) and it asked for asked (0: all): coarser levels go while the
// view holds more than most; one comes back while the view with it holds
// at most three quarters of most (hysteresis). 0 means all it asked for.
func crowdDetail(tiers *[codec.NumLODs]int32, d, asked uint8, most int) uint8 {
	if asked == 0 {
		asked = codec.NumLODs
	}
	if d == 0 {
		d = asked
	}
	n := 0
	for t := range d {
		n += int(tiers[t])
	}
	for d > 1 && n > most {
		d--
		n -= int(tiers[d])
	}
	for d < asked && 4*(n+int(tiers[d])) <= 3*most {
		n += int(tiers[d])
		d++
	}
	if d >= asked {
		return 0
	}
	return d
}

// The wire's detail tiers are the codec's levels of detail.
var _ = [1]struct{}{}[protocol.MaxDetail-codec.NumLODs]

// due reports whether frame is one of the frames of a client at hz: the
// frames where ⌊frame·hz/TickHz⌋ steps. Clients with the same rate share
// their frames, so they can share views and encodings; the room shifts
// each client's frames by its phase (client.snapDue), so that a crowd's
// snapshots spread evenly over the ticks instead of all falling on two
// ticks of three (at 20 Hz of 30), which doubled the worst tick.
func due(frame uint32, hz, tickHz int) bool {
	f, h, t := uint64(frame), uint64(hz), uint64(tickHz)
	return f*h/t != (f-1)*h/t
}

// snapDue reports whether c has a snapshot at frame: due at its rate,
// shifted by its phase (set with its rate, from its id). Clients of one
// phase share their frames, and their views and encodings.
func (c *client) snapDue(frame uint32, tickHz int) bool {
	return due(frame+c.phase, c.hz, tickHz)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// drop releases every known the client's history holds.
func (c *client) drop(st *states) {
	c.hist.Reset(func(e *histEntry) { st.release(e.k) })
}
