// Package clienttest is a small game server for testing clients of the
// session protocol (protocol) the way httptest serves HTTP clients:
// it sends the Welcome, gives every session a ship (the Seq 0 result),
// answers every action, and sends each session a snapshot per tick (full,
// delta against the newest snapshot the session acknowledged, or heartbeat)
// of a toy world, with hooks to make it lose results or send snapshots the
// client cannot use.
//
// It is not the game server: no sim runs, ships fly straight at their
// throttle and heading, lasers always hit, and every session sees every
// ship at full detail. What it does follow exactly is the wire: the
// demowire schema, the snapshot head, baselines by acknowledged sequence.
//
// A Server is owned by one goroutine, like the netcode.Server inside it.
package clienttest

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
)

// Config configures a Server.
type Config struct {
	// Welcome is sent to every session; zero rates and sizes take the
	// defaults (20 Hz ticks and snapshots, fleet's default tile size and
	// world radius). Client is set per session.
	Welcome protocol.Welcome
	// Net tunes the transport; New sets its Handler.
	Net netcode.ServerConfig
	// Answer, if set, sees every action's result before it is sent and may
	// change it; returning false withholds it (a server that loses results).
	Answer func(a *protocol.Action, r *protocol.Result) bool
}

// Server is the test server.
type Server struct {
	cfg   Config
	nc    *netcode.Server
	wire  *demowire.Wire
	codec *codec.Codec
	frame uint32
	// radius is the world radius (raw sim.Fixed) the Welcome's params name.
	radius sim.Fixed

	sessions []*Session // in connect order
	ships    []ship     // by id
	nextShip uint32
	queued   []queued
	events   []codec.Event // this frame's combat events
	eventSeq int32

	view codec.View // scratch for Step
	pay  []byte     // snapshot payload buffer
	msg  []byte     // reliable message buffer
}

type queued struct {
	s *Session
	a protocol.Action
}

// Session is one connected client as the server sees it. Read it on the
// server's goroutine only.
type Session struct {
	ID   netcode.SessionID
	Ship uint32
	// Desyncs and Rates are the reports and requests the client sent.
	Desyncs []protocol.Desync
	Rates   []protocol.Rate
	// Actions counts the actions received, Withheld the results not sent.
	Actions, Withheld int
	// Acked counts the snapshots the client acknowledged.
	Acked int

	sent protocol.Sent[sent]
	gone bool
}

// sent is one snapshot sent to a session.
type sent struct {
	frame uint32
	view  codec.View
}

// New starts a server on conn, which the caller keeps owning.
func New(conn batch.Conn, cfg Config, now time.Time) (*Server, error) {
	w := &cfg.Welcome
	if w.TickHz == 0 {
		w.TickHz = 20
	}
	if w.SnapshotHz == 0 {
		w.SnapshotHz = w.TickHz
	}
	fc := fleet.DefaultConfig()
	if len(w.Game) > 0 {
		var err error
		if fc, err = demowire.ParseParams(w.Game); err != nil {
			return nil, fmt.Errorf("clienttest: %w", err)
		}
	} else {
		w.Game = demowire.AppendParams(nil, fc)
	}
	wire, err := demowire.New(fc)
	if err != nil {
		return nil, fmt.Errorf("clienttest: %w", err)
	}
	if w.SchemaHash == 0 {
		w.SchemaHash = wire.Schema.Hash()
	}
	s := &Server{
		cfg:      cfg,
		wire:     wire,
		codec:    codec.NewCodec(wire.Schema),
		radius:   fc.WorldRadius,
		nextShip: 1,
		pay:      make([]byte, 0, netcode.MaxUnreliablePayload),
		msg:      make([]byte, 0, protocol.MaxMessage),
	}
	// A test server may afford to check that no baseline changed in place.
	s.codec.VerifyBaselines(true)
	nc := cfg.Net
	nc.Handler = (*handler)(s)
	if s.nc, err = netcode.NewServer(conn, nc, now); err != nil {
		return nil, fmt.Errorf("clienttest: %w", err)
	}
	return s, nil
}

// Poll runs the transport: see netcode.Server.Poll.
func (s *Server) Poll(now time.Time) (time.Time, error) { return s.nc.Poll(now) }

// Wait blocks until datagrams arrive or the deadline passes.
func (s *Server) Wait(deadline time.Time) error { return s.nc.Wait(deadline) }

// Addr is the server's address.
func (s *Server) Addr() netip.AddrPort { return s.nc.LocalAddr() }

// Wire is the schema the server encodes with.
func (s *Server) Wire() *demowire.Wire { return s.wire }

// Frame is the current frame.
func (s *Server) Frame() uint32 { return s.frame }

// Sessions lists the connected sessions in connect order.
func (s *Server) Sessions() []*Session { return s.sessions }

// Transport returns the transport's counters.
func (s *Server) Transport() netcode.Stats { return s.nc.Stats() }

// Shutdown ends every session.
func (s *Server) Shutdown(now time.Time) { s.nc.Shutdown(now) }

// Step runs one tick: the frame advances, queued actions apply and their
// results go out, ships move, and every session gets a snapshot of the new
// frame (Plan{}). Call Poll after it to write the reliable messages.
func (s *Server) Step() error {
	s.frame++
	for _, q := range s.queued {
		s.apply(q.s, &q.a)
	}
	clear(s.queued)
	s.queued = s.queued[:0]
	s.move()
	for _, ss := range s.sessions {
		s.BuildView(&s.view)
		if _, _, err := s.Send(ss, &s.view, Plan{}); err != nil {
			return err
		}
	}
	s.events = s.events[:0]
	return nil
}

// Run polls and steps at the Welcome's tick rate on the caller's clock
// (time.Now: real, or virtual inside a synctest bubble) until ctx ends, then
// shuts the sessions down.
func (s *Server) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, s.nc.Wake)
	defer stop()
	tick := time.Second / time.Duration(s.cfg.Welcome.TickHz)
	due := time.Now().Add(tick)
	for {
		now := time.Now()
		if ctx.Err() != nil {
			s.nc.Shutdown(now)
			return nil
		}
		if !now.Before(due) {
			if err := s.Step(); err != nil {
				return err
			}
			if due = due.Add(tick); due.Before(now) {
				due = now.Add(tick) // fell behind: skip, do not burst
			}
		}
		next, err := s.Poll(now)
		if err != nil {
			return err
		}
		if next.IsZero() || due.Before(next) {
			next = due
		}
		if err := s.Wait(next); err != nil {
			return err
		}
	}
}

func (s *Server) session(id netcode.SessionID) *Session {
	for _, ss := range s.sessions {
		if ss.ID == id {
			return ss
		}
	}
	return nil
}

func (s *Server) sendReliable(ss *Session, msg []byte) {
	// A failure ends the session (backlog); Disconnected forgets it.
	_ = s.nc.SendReliable(ss.ID, msg)
}

// handler is the Server as its transport's netcode.Handler.
type handler Server

func (h *handler) Connected(id netcode.SessionID, _ netip.AddrPort) {
	s := (*Server)(h)
	ss := &Session{ID: id, Ship: s.spawn()}
	s.sessions = append(s.sessions, ss)
	w := s.cfg.Welcome
	w.Client, w.Frame = uint32(id), s.frame
	s.sendReliable(ss, protocol.AppendWelcome(s.msg[:0], &w))
	join := protocol.Result{Seq: 0, Frame: s.frame, Status: protocol.Applied, Value: ss.Ship}
	s.sendReliable(ss, protocol.AppendResult(s.msg[:0], &join))
}

func (h *handler) Disconnected(id netcode.SessionID, _ netcode.Reason) {
	s := (*Server)(h)
	for i, ss := range s.sessions {
		if ss.ID == id {
			ss.gone = true
			s.removeShip(ss.Ship)
			s.sessions = append(s.sessions[:i], s.sessions[i+1:]...)
			return
		}
	}
}

func (h *handler) Reliable(id netcode.SessionID, msg []byte) {
	s := (*Server)(h)
	ss := s.session(id)
	if ss == nil {
		return
	}
	t, err := protocol.Type(msg)
	if err != nil {
		return
	}
	switch t {
	case protocol.MsgAction:
		var a protocol.Action
		if protocol.ParseAction(msg, &a) == nil {
			ss.Actions++
			s.queued = append(s.queued, queued{ss, a})
		}
	case protocol.MsgDesync:
		var d protocol.Desync
		if protocol.ParseDesync(msg, &d) == nil {
			ss.Desyncs = append(ss.Desyncs, d)
		}
	case protocol.MsgRate:
		var r protocol.Rate
		if protocol.ParseRate(msg, &r) == nil {
			ss.Rates = append(ss.Rates, r)
		}
	}
}

func (h *handler) Unreliable(netcode.SessionID, uint16, []byte) bool { return false }

func (h *handler) Acked(id netcode.SessionID, seq uint16) {
	ss := (*Server)(h).session(id)
	if ss == nil {
		return
	}
	if ss.sent.Ack(seq, nil) {
		ss.Acked++
	}
}
