package server

import (
	"net/netip"
	"time"

	"github.com/flotilla/flotilla/protocol"
)

// events is the room as its transports see it (Events). Its methods run
// on the room's goroutine, inside a transport's Poll.
type events Room

// Arrive admits a new session as an unproven client and sends its Welcome,
// or sends it away: the room is closing, or too many sessions (overall or
// from its address) have not yet acknowledged a snapshot.
func (e *events) Arrive(l Link) ClientID {
	r := (*Room)(e)
	addr := l.Addr()
	key := addrKey(addr.Addr())
	switch {
	case r.closing:
		r.stats.sentAway[ReasonShutdown].Add(1)
		l.Close(ReasonShutdown)
		return 0
	case r.unproven >= r.cfg.MaxUnproven || r.perAddr[key].unproven >= r.cfg.MaxUnprovenPerAddr:
		r.stats.throttled.Add(1)
		r.stats.sentAway[ReasonThrottled].Add(1)
		l.Close(ReasonThrottled)
		r.log.Debug("session throttled: too many unproven", "addr", addr)
		return 0
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
	r.stats.unproven.Store(int64(r.unproven))
	r.stats.connects.Add(1)
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

// addrCount is what one address (addrKey) holds: sessions not yet proven
// and clients in the world.
type addrCount struct{ unproven, proven int }

// addrKey is the key the per-address bounds count under: an IPv4 address,
// or an IPv6 address's /64 (one subscriber's prefix: an attacker holds
// every address in it).
func addrKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}

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
	if !c.hist.Ack(seq, func(h *histEntry) { r.pool.release(h.v) }) {
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
	key := addrKey(c.addr.Addr())
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
		r.stats.throttled.Add(1)
		r.sendAway(c, ReasonThrottled)
		return
	}
	n.proven++
	r.setAddr(key, n)
	c.joined = true
	r.proven++
	r.stats.clients.Store(int64(r.proven))
	r.stats.proofSeconds.observe(r.now.Sub(c.arrived).Seconds())
	join := r.game.Join(uint32(c.id))
	join.Client, join.Seq, join.Origin = uint32(c.id), joinSeq, 0
	r.queue.pushControl(join)
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
	c.drop(&r.pool)
	key := addrKey(c.addr.Addr())
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
		leave.Client, leave.Seq, leave.Origin = uint32(c.id), leaveSeq, 0
		r.queue.pushControl(leave)
	}
	r.log.Debug("client gone", "client", c.id)
}

// sendProof sends an unproven client the shared proof snapshot: the empty
// view, in full, at the current frame. Acknowledging it proves the client
// can hear the room.
func (r *Room) sendProof(c *client) {
	e, body := r.encode(r.proof, nil)
	if e.over || e.heartbeat {
		panic("server: the empty proof view does not encode")
	}
	if r.send(c, protocol.SnapshotHead{Form: protocol.Full, Seq: c.seq, Frame: r.frame}, body, r.proof, false) {
		r.stats.proofs.Add(1)
	}
}

// expire sends away the sessions past their deadlines: unproven ones after
// ProofTimeout, proven ones that acknowledged nothing sent for AckTimeout.
// The tick calls it once a frame.
func (r *Room) expire(now time.Time) {
	gone := r.scratch.gone[:0]
	for _, c := range r.order {
		switch {
		case !c.proven && now.Sub(c.arrived) > r.cfg.ProofTimeout:
			r.stats.proofTimeouts.Add(1)
			gone = append(gone, c)
		case c.proven && !c.unackedSince.IsZero() && now.Sub(c.unackedSince) > r.cfg.AckTimeout:
			r.stats.ackTimeouts.Add(1)
			gone = append(gone, c)
		}
	}
	for _, c := range gone {
		r.log.Debug("client acknowledged nothing in time; sending it away", "client", c.id, "proven", c.proven)
		r.sendAway(c, ReasonTimeout)
	}
	clear(gone)
	r.scratch.gone = gone[:0]
}
