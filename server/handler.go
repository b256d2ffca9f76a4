package server

import (
	"net/netip"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
)

// handler is the room seen as netcode's Handler. Its methods run inside
// Poll, on the room's goroutine.
type handler Room

// Connected gives the new client its welcome and queues its join: "a
// client that connects gets a ship".
func (h *handler) Connected(id netcode.SessionID, addr netip.AddrPort) {
	r := (*Room)(h)
	c := &client{id: id, addr: addr, lastSnap: r.frame}
	c.setBudget(&r.cfg, 0, 0)
	c.tokens = c.tokenCap
	r.clients[id] = c
	r.order = append(r.order, c)
	r.stats.clients.Store(int64(len(r.order)))
	r.stats.connects.Add(1)
	w := protocol.Welcome{
		Client: uint32(id), Frame: r.frame,
		TickHz: uint32(r.cfg.TickHz), SnapshotHz: uint32(c.hz), BytesPerSec: uint32(c.bps),
		InputDelay: uint32(r.cfg.InputDelay),
		TileSize:   int64(r.cfg.Game.TileSize), WorldRadius: int64(r.cfg.Game.WorldRadius),
	}
	r.sendReliable(c, protocol.AppendWelcome(r.msg[:0], &w))
	// The class follows the session id so a crowd mixes classes; the team
	// is the smallest one.
	r.stamp(c, &protocol.Action{Seq: joinSeq, Kind: fleet.KindJoin, Args: [4]int32{-1, int32(uint32(id) % fleet.NumClasses)}})
	r.log.Debug("client connected", "client", id, "addr", addr)
}

// Disconnected forgets the client and removes its ships from the world at
// the next frame it can stamp.
func (h *handler) Disconnected(id netcode.SessionID, reason netcode.Reason) {
	r := (*Room)(h)
	c := r.clients[id]
	if c == nil {
		return
	}
	delete(r.clients, id)
	for i, o := range r.order {
		if o == c {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
	c.drop(&r.pool)
	r.stats.clients.Store(int64(len(r.order)))
	r.stats.disconnects.Add(1)
	leave := sim.Action{Frame: r.frame + 1 + uint32(r.cfg.InputDelay), Client: uint32(id), Kind: fleet.KindLeave}
	if !r.queue.push(leave) {
		r.log.Warn("frame full: a departed client's ships stay", "client", id)
	}
	r.log.Debug("client disconnected", "client", id, "reason", reason.String())
}

// Reliable handles a client's message. A message that does not parse ends
// the session with netcode.ReasonProtocol: the client is told why.
func (h *handler) Reliable(id netcode.SessionID, msg []byte) {
	r := (*Room)(h)
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
	r.log.Info("client broke the protocol; disconnecting", "client", id, "err", err)
	r.net.Disconnect(id, netcode.ReasonProtocol)
}

// Unreliable: clients send nothing on the unreliable channel; their acks
// ride in every packet's header. Refused, so never acknowledged.
func (h *handler) Unreliable(netcode.SessionID, uint16, []byte) bool {
	(*Room)(h).stats.badMessages.Add(1)
	return false
}

// Acked: the client holds snapshot seq.
func (h *handler) Acked(id netcode.SessionID, seq uint16) {
	r := (*Room)(h)
	if c := r.clients[id]; c != nil {
		c.ack(seq, &r.pool)
	}
}
