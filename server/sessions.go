package server

import (
	"net/netip"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/protocol"
)

// events is the room as its transports see it (Events). Its methods run
// on the room's goroutine, inside a transport's Poll.
type events Room

// Admit refuses a session before it begins when the room is closing or
// its address already holds the most unproven sessions or clients an
// address may.
func (e *events) Admit(addr netip.AddrPort) Reason {
	r := (*Room)(e)
	if r.closing || r.mesh != nil && r.mesh.leaveAsked.Load() {
		return ReasonShutdown // closing, or leaving the mesh: no new client
	}
	if n := r.perAddr[batch.AddrKey(addr.Addr())]; n.unproven >= r.cfg.MaxUnprovenPerAddr || n.proven >= r.cfg.MaxClientsPerAddr {
		r.stats.throttled.Add(1)
		return ReasonThrottled
	}
	return 0
}

// Arrive admits a new session as an unproven client and sends its Welcome
// (the first tick after this poll sends it the proof snapshot, whatever
// ProofHz, so a client that hears proves itself in about a round trip; not
// at once, since a snapshot that overtakes the Welcome is refused), or
// sends it away: the room is closing, or its address holds too many
// unproven sessions or clients. When MaxUnproven sessions are unproven,
// one of them is sent away (throttled) to make room (evictOldestUnproven):
// a real client proves itself within a round trip, so the one to go is
// one that waited long, from an address that holds several.
func (e *events) Arrive(l Link) ClientID {
	r := (*Room)(e)
	addr := l.Addr()
	key := batch.AddrKey(addr.Addr())
	if reason := e.Admit(addr); reason != 0 {
		r.stats.sentAway[reason].Add(1)
		l.Close(reason)
		return 0
	}
	if r.unproven >= r.cfg.MaxUnproven {
		r.evictOldestUnproven()
	}
	id := r.newID()
	c := &client{id: id, link: l, addr: addr, arrived: r.now, lastSnap: r.frame, index: len(r.order)}
	c.setBudget(&r.cfg, 0, 0)
	c.tokens = c.tokenCap
	r.clients[id] = c
	r.order = append(r.order, c)
	r.unproven++
	n := r.perAddr[key]
	n.unproven++
	r.perAddr[key] = n
	r.proving = append(r.proving, proofEntry{id: id, arrived: r.now})
	r.stats.unproven.Store(int64(r.unproven))
	r.stats.connects.Add(1)
	// Native clients only: the browser page does not follow a Redirect
	// yet (it names a UDP address, not a peer's signaling URL).
	if _, native := l.(*udpLink); native {
		if to, ok := r.redirectTarget(); ok {
			c.redirected = true
			r.mesh.redirecting++
			r.mesh.redirects++
			if err := c.link.SendReliable(protocol.AppendRedirect(r.msg[:0], &protocol.Redirect{Addr: to})); err != nil {
				r.forget(c)
				return 0
			}
			r.log.Debug("client pointed to a peer", "client", id, "addr", addr, "to", to)
			return id
		}
	}
	w := r.welcome
	w.Client, w.Frame = uint32(id), r.frame
	w.SnapshotHz, w.BytesPerSec = uint32(c.hz), uint32(c.bps)
	if err := c.link.SendReliable(protocol.AppendWelcome(r.msg[:0], &w)); err != nil {
		// The transport ended the session (it cannot take one message):
		// it has nothing to report to a client the room never named.
		r.log.Debug("welcome failed", "client", id, "err", err)
		r.forget(c)
		return 0
	}
	r.log.Debug("client arrived", "client", id, "addr", addr)
	return id
}

// proofEntry is an unproven arrival in Room.proving, oldest first.
type proofEntry struct {
	id      ClientID
	arrived time.Time
}

// frontUnproven drops from the front of Room.proving the entries of
// clients no longer unproven (gone, or proven) and returns the oldest
// unproven client, or nil.
func (r *Room) frontUnproven() *client {
	for r.provingHead < len(r.proving) {
		e := r.proving[r.provingHead]
		if c := r.clients[e.id]; c != nil && !c.proven && c.arrived.Equal(e.arrived) {
			return c
		}
		r.proving[r.provingHead] = proofEntry{}
		r.provingHead++
		if r.provingHead >= 1024 && 2*r.provingHead >= len(r.proving) {
			// Under a steady stream the list never empties: move the
			// live part to the front, so the array stays bounded.
			n := copy(r.proving, r.proving[r.provingHead:])
			clear(r.proving[n:])
			r.proving, r.provingHead = r.proving[:n], 0
		}
	}
	// Empty: reuse the array from the start.
	r.proving, r.provingHead = r.proving[:0], 0
	return nil
}

// evictOldestUnproven sends away, to make room, the unproven session that
// has waited longest among those whose address holds more than one (a
// real client holds one: a flood from many addresses holds many each), or
// else the one that has waited longest. It looks at the first
// evictionScan entries only.
func (r *Room) evictOldestUnproven() {
	oldest := r.frontUnproven()
	if oldest == nil {
		return
	}
	victim := oldest
	for i, seen := r.provingHead, 0; i < len(r.proving) && seen < evictionScan; i++ {
		e := r.proving[i]
		c := r.clients[e.id]
		if c == nil || c.proven || !c.arrived.Equal(e.arrived) {
			continue
		}
		seen++
		if r.perAddr[batch.AddrKey(c.addr.Addr())].unproven > 1 {
			victim = c
			break
		}
	}
	r.stats.evicted.Add(1)
	r.throttle(victim)
}

// evictionScan bounds the unproven sessions an eviction looks at.
const evictionScan = 64

func (r *Room) throttle(c *client) {
	r.stats.throttled.Add(1)
	r.sendAway(c, ReasonThrottled)
}

// addrCount is what one address (batch.AddrKey) holds: sessions not yet proven
// and clients in the world.
type addrCount struct{ unproven, proven int }

// newID returns the next free client id (never 0).
func (r *Room) newID() ClientID {
	for {
		r.lastID++
		if r.lastID != 0 && r.clients[r.lastID] == nil {
			return r.lastID
		}
	}
}

// Leave forgets a client whose session ended.
func (e *events) Leave(id ClientID) {
	r := (*Room)(e)
	if c := r.clients[id]; c != nil {
		r.forget(c)
		r.stats.disconnects.Add(1)
	}
}

// Message handles a client's reliable message. A message that does not
// parse sends the client away with ReasonProtocol.
func (e *events) Message(id ClientID, msg []byte) {
	r := (*Room)(e)
	c := r.clients[id]
	if c == nil {
		return
	}
	t, err := protocol.Type(msg)
	if err == nil {
		switch t {
		case protocol.MsgAction:
			var a protocol.Action
			if err = protocol.ParseAction(msg, &a); err == nil {
				r.stamp(c, &a)
				return
			}
		case protocol.MsgDesync:
			var d protocol.Desync
			if err = protocol.ParseDesync(msg, &d); err == nil {
				r.stats.desyncReports.Add(1)
				if d.Permanent {
					r.stats.desyncPermanent.Add(1)
				}
				r.log.Info("client reports desync", "client", id, "seq", d.Seq, "frame", d.Frame, "permanent", d.Permanent)
				return
			}
		case protocol.MsgRate:
			var q protocol.Rate
			if err = protocol.ParseRate(msg, &q); err == nil {
				c.setBudget(&r.cfg, int(q.Hz), int(q.BytesPerSec))
				return
			}
		case protocol.MsgDetail:
			var d protocol.Detail
			if err = protocol.ParseDetail(msg, &d); err == nil {
				c.setDetail(d.Tiers)
				return
			}
		default:
			err = protocol.ErrMalformed
		}
	}
	r.stats.badMessages.Add(1)
	r.log.Info("client broke the protocol; sending it away", "client", id, "err", err)
	r.sendAway(c, ReasonProtocol)
}

// Acked: the client holds snapshot seq. The first acknowledgement proves
// an unproven client.
func (e *events) Acked(id ClientID, seq uint16) {
	r := (*Room)(e)
	c := r.clients[id]
	if c == nil {
		return
	}
	if !c.hist.Ack(seq, func(h *histEntry) { r.states.release(h.k) }) {
		return
	}
	c.unackedSince = time.Time{}
	if !c.proven {
		r.prove(c)
	}
}

// prove makes an unproven client a player: it gets its place in the world
// (the game's join, never dropped) and its own view from the next
// snapshot; or it is sent away, with ReasonFull when the room holds
// MaxClients, with ReasonThrottled when its address holds
// MaxClientsPerAddr.
func (r *Room) prove(c *client) {
	key := batch.AddrKey(c.addr.Addr())
	n := r.perAddr[key]
	n.unproven--
	r.unproven--
	r.stats.unproven.Store(int64(r.unproven))
	c.proven = true // counted out of the unproven
	switch {
	case r.proven >= r.cfg.MaxClients:
		r.setAddr(key, n)
		r.stats.full.Add(1)
		r.sendAway(c, ReasonFull)
		return
	case n.proven >= r.cfg.MaxClientsPerAddr:
		r.setAddr(key, n)
		r.throttle(c)
		return
	}
	n.proven++
	r.setAddr(key, n)
	c.joined = true
	r.proven++
	r.stats.clients.Store(int64(r.proven))
	r.stats.proofSeconds.observe(r.now.Sub(c.arrived).Seconds())
	join := r.game.Join(uint32(c.id))
	join.Client, join.Seq = uint32(c.id), joinSeq
	r.pushControl(join)
}

// setAddr stores an address's counts, forgetting an address with none.
func (r *Room) setAddr(key netip.Addr, n addrCount) {
	if n == (addrCount{}) {
		delete(r.perAddr, key)
		return
	}
	r.perAddr[key] = n
}

// sendAway ends c's session with reason and forgets it.
func (r *Room) sendAway(c *client, reason Reason) {
	r.stats.sentAway[reason].Add(1)
	c.link.Close(reason)
	r.forget(c)
}

// forget removes c from the room: its views go back to the pool, and if it
// joined the world its leave is queued (never dropped), so no ship of its
// stays behind.
func (r *Room) forget(c *client) {
	if r.clients[c.id] != c {
		return
	}
	delete(r.clients, c.id)
	last := r.order[len(r.order)-1]
	r.order[c.index], last.index = last, c.index
	r.order[len(r.order)-1] = nil
	r.order = r.order[:len(r.order)-1]
	c.drop(&r.states)
	if c.redirected {
		r.mesh.redirecting--
	}
	key := batch.AddrKey(c.addr.Addr())
	n := r.perAddr[key]
	switch {
	case !c.proven:
		n.unproven--
		r.setAddr(key, n)
		r.unproven--
		r.stats.unproven.Store(int64(r.unproven))
	case c.joined:
		n.proven--
		r.setAddr(key, n)
		r.proven--
		r.stats.clients.Store(int64(r.proven))
		leave := r.game.Leave(uint32(c.id))
		leave.Client, leave.Seq = uint32(c.id), leaveSeq
		r.pushControl(leave)
	}
	r.log.Debug("client gone", "client", c.id)
}

// sendProof sends an unproven client the shared proof snapshot: the empty
// view, in full, at the current frame. Acknowledging it proves the client
// can hear the room.
func (r *Room) sendProof(c *client) {
	e, body := r.workers[0].encode(r.proof, nil)
	if e.over || e.heartbeat {
		panic("server: the empty proof view does not encode")
	}
	if r.send(c, protocol.SnapshotHead{Form: protocol.Full, Seq: c.seq, Frame: r.frame}, body, r.proof.known, false) {
		r.stats.proofs.Add(1)
		c.proofSent = true
	}
}

// expire sends away the sessions past their deadlines: unproven ones after
// ProofTimeout (from the front of Room.proving, oldest first), proven ones
// that acknowledged nothing sent for AckTimeout. The tick calls it once a
// frame.
func (r *Room) expire(now time.Time) {
	for c := r.frontUnproven(); c != nil && now.Sub(c.arrived) > r.cfg.ProofTimeout; c = r.frontUnproven() {
		r.stats.proofTimeouts.Add(1)
		r.log.Debug("session acknowledged nothing in time; sending it away", "client", c.id)
		r.sendAway(c, ReasonTimeout)
	}
	gone := r.scratch.gone[:0]
	for _, c := range r.order {
		if c.proven && !c.unackedSince.IsZero() && now.Sub(c.unackedSince) > r.cfg.AckTimeout {
			r.stats.ackTimeouts.Add(1)
			gone = append(gone, c)
		}
	}
	for _, c := range gone {
		r.log.Debug("client acknowledged nothing in time; sending it away", "client", c.id)
		r.sendAway(c, ReasonTimeout)
	}
	clear(gone)
	r.scratch.gone = gone[:0]
}
