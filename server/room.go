package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
)

// Room is one world and the clients connected to it. Run owns it; Stats,
// SetBudget and Close are safe from any goroutine.
type Room struct {
	cfg    Config // in force; SetBudget changes its defaults (Run's goroutine)
	start  Config // as New accepted it, for Config()
	log    *slog.Logger
	net    *netcode.Server
	game   *fleet.Game
	world  *sim.World
	wire   *demowire.Wire
	schema *codec.Schema
	codec  *codec.Codec
	frame  uint32 // last stepped frame

	clients map[netcode.SessionID]*client
	order   []*client // clients in connect order: the snapshot loop's order
	queue   *actionQueue
	events  eventLog
	pool    viewPool
	tiles   tileCache
	enc     encCache
	results []sim.Result
	pkt     []byte
	msg     []byte
	scratch struct {
		picked   []int32 // prioritize's picks with a record, in priority order
		keys     []uint64
		pick     []bool
		cost     []int32 // bits of each entity's record, as priced
		inBase   []int32 // each entity's index in the baseline, or -1
		noEvents codec.View
		prio     []prioEntry
		body     []byte
	}

	budgets chan budgetChange // from SetBudget, applied by Run
	stats   Stats
	stop    chan struct{}
	once    sync.Once
}

type budgetChange struct {
	id      netcode.SessionID // 0: every client and the defaults
	hz, bps int
}

// New returns a room serving on conn. It does not start: call Run.
func New(conn batch.Conn, cfg Config, log *slog.Logger) (*Room, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wire, err := demowire.New(cfg.Game)
	if err != nil {
		return nil, fmt.Errorf("server: wire schema: %w", err)
	}
	r := &Room{
		cfg:     cfg,
		start:   cfg,
		log:     log,
		wire:    wire,
		schema:  wire.Schema,
		codec:   codec.NewCodec(wire.Schema),
		clients: make(map[netcode.SessionID]*client),
		queue:   newActionQueue(cfg.InputDelay+2, cfg.MaxActionsPerFrame),
		pkt:     make([]byte, 0, maxDatagram),
		msg:     make([]byte, 0, protocol.MaxMessage),
		budgets: make(chan budgetChange, 64),
		stop:    make(chan struct{}),
	}
	r.scratch.body = make([]byte, 0, maxSnapshot)
	r.tiles.views = make(map[tileKey]*view)
	r.enc.m = make(map[encKey]encoding)
	r.game = fleet.New(cfg.Game, cfg.Seed)
	r.world = sim.NewWorld(r.game)
	r.stats.init()
	r.net, err = netcode.NewServer(conn, netcode.ServerConfig{
		Config:      cfg.Net,
		MaxSessions: cfg.MaxClients,
		CookieKey:   cfg.CookieKey,
		Handler:     (*handler)(r),
	}, time.Now())
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return r, nil
}

// Config returns the settings the room started with, defaults applied
// (SetBudget's later changes are not in it). Safe from any goroutine.
func (r *Room) Config() Config { return r.start }

// LocalAddr is the address the room listens on.
func (r *Room) LocalAddr() netip.AddrPort { return r.net.LocalAddr() }

// Net returns the transport's counters. Safe from any goroutine.
func (r *Room) Net() netcode.Stats { return r.net.Stats() }

// SetBudget changes the snapshot rate and byte budget of one client (id),
// or of every client and of clients yet to come (id 0). Zero keeps the
// room's default. It takes effect at the next tick. Safe from any goroutine;
// it reports false when too many changes are already waiting.
func (r *Room) SetBudget(id netcode.SessionID, hz, bps int) bool {
	select {
	case r.budgets <- budgetChange{id, hz, bps}:
		r.net.Wake()
		return true
	default:
		return false
	}
}

// Close makes Run return after telling the clients. Safe from any
// goroutine, more than once.
func (r *Room) Close() {
	r.once.Do(func() { close(r.stop) })
	r.net.Wake()
}

// Run runs the room until ctx ends or Close is called; then it tells every
// client the server is shutting down and returns. It returns early only on
// a transport error.
func (r *Room) Run(ctx context.Context) error {
	tick := r.cfg.tick()
	next := time.Now().Add(tick)
	stopCtx := context.AfterFunc(ctx, r.Close)
	defer stopCtx()
	for {
		select {
		case <-r.stop:
			r.net.Shutdown(time.Now())
			r.dropAll()
			return nil
		default:
		}
		now := time.Now()
		wake, err := r.net.Poll(now)
		if err != nil {
			return fmt.Errorf("server: %w", err)
		}
		r.applyBudgets()
		if !now.Before(next) {
			behind := int(now.Sub(next) / tick)
			if behind >= r.cfg.MaxLagFrames {
				r.skip(behind)
				next = next.Add(time.Duration(behind) * tick)
			}
			r.Tick()
			next = next.Add(tick)
			continue // poll again before waiting: the tick queued sends
		}
		deadline := next
		if !wake.IsZero() && wake.Before(deadline) {
			deadline = wake
		}
		if err := r.net.Wait(deadline); err != nil && !errors.Is(err, batch.ErrClosed) {
			return fmt.Errorf("server: %w", err)
		}
	}
}

// Tick runs one frame: the actions stamped for it apply, the world steps,
// results go back, and every client due a snapshot gets one. Run calls it
// on the room's clock; tests and benchmarks may call it directly, on the
// goroutine that owns the room.
func (r *Room) Tick() {
	start := time.Now()
	frame := r.frame + 1
	actions := r.queue.take(frame)
	var err error
	r.results, err = r.world.Step(frame, actions, r.results[:0])
	if err != nil {
		panic("server: " + err.Error()) // the room steps its own frames in order
	}
	r.frame = frame
	r.events.record(frame, r.game.Events())
	r.stats.actions.Add(uint64(len(actions)))
	for i := range r.results {
		r.deliver(&r.results[i], frame)
	}
	ships := r.game.Ships()
	for _, c := range r.order {
		if c.ship != 0 {
			if i := r.game.ShipIndex(c.ship); i >= 0 {
				c.tile = ships[i].Tile
			}
		}
		c.tokens = min(c.tokens+c.bps, c.tokenCap)
		if c.due(frame, r.cfg.TickHz) {
			r.sendSnapshot(c)
		}
	}
	r.tiles.endTick(&r.pool)
	r.enc.endTick()
	r.stats.frame.Store(uint64(frame))
	r.stats.views.Store(int64(r.pool.live))
	r.stats.tickSeconds.observe(time.Since(start).Seconds())
}

// skip drops n frames the room cannot catch up with: their actions fizzle
// with protocol.ReasonGone and the world steps them without input.
func (r *Room) skip(n int) {
	r.stats.framesSkipped.Add(uint64(n))
	r.log.Warn("room behind its clock; skipping frames", "frames", n)
	for range n {
		frame := r.frame + 1
		for _, a := range r.queue.take(frame) {
			res := sim.Result{Origin: a.Origin, Client: a.Client, Seq: a.Seq, Status: sim.StatusFizzled, Reason: protocol.ReasonGone}
			r.deliver(&res, frame)
		}
		var err error
		r.results, err = r.world.Step(frame, nil, r.results[:0])
		if err != nil {
			panic("server: " + err.Error())
		}
		r.frame = frame
		r.events.record(frame, r.game.Events())
	}
}

// deliver tells a local client what became of its action.
func (r *Room) deliver(res *sim.Result, frame uint32) {
	if res.Origin != 0 {
		return // a peer's action: its server tells its client
	}
	c := r.clients[netcode.SessionID(res.Client)]
	if c == nil {
		return // the client left
	}
	c.pending--
	out := protocol.Result{Seq: res.Seq, Frame: frame, Status: protocol.Applied, Reason: res.Reason}
	if res.Status != sim.StatusApplied {
		out.Status = protocol.Fizzled
		r.stats.fizzled.Add(1)
	} else {
		r.stats.applied.Add(1)
	}
	if res.Seq == joinSeq && out.Status == protocol.Applied {
		c.ship = r.findShip(res.Client)
		out.Value = c.ship
	}
	r.sendReliable(c, protocol.AppendResult(r.msg[:0], &out))
}

// joinSeq is the sequence of the join the room makes for a client when it
// connects; a client's own actions count from 1.
const joinSeq = 0

// findShip returns the id of the newest ship the client owns, or 0.
func (r *Room) findShip(cid uint32) uint32 {
	ships := r.game.Ships()
	for i := len(ships) - 1; i >= 0; i-- {
		if ships[i].Owner == cid && ships[i].Origin == 0 {
			return ships[i].ID
		}
	}
	return 0
}

// stamp queues a client's action for the frame InputDelay frames after the
// next one; beyond its bounds it fizzles at once with protocol.ReasonBusy.
func (r *Room) stamp(c *client, a *protocol.Action) {
	sa := sim.Action{
		Frame:  r.frame + 1 + uint32(r.cfg.InputDelay),
		Client: uint32(c.id),
		Seq:    a.Seq,
		Kind:   a.Kind,
		Args:   a.Args,
	}
	if c.pending >= r.cfg.MaxPendingActions || !r.queue.push(sa) {
		r.stats.fizzled.Add(1)
		r.stats.busy.Add(1)
		out := protocol.Result{Seq: a.Seq, Frame: sa.Frame, Status: protocol.Fizzled, Reason: protocol.ReasonBusy}
		r.sendReliable(c, protocol.AppendResult(r.msg[:0], &out))
		return
	}
	c.pending++
}

func (r *Room) sendReliable(c *client, msg []byte) {
	if err := r.net.SendReliable(c.id, msg); err != nil {
		r.log.Debug("reliable send failed", "client", c.id, "err", err)
	}
}

// applyBudgets applies the changes SetBudget queued.
func (r *Room) applyBudgets() {
	for {
		select {
		case b := <-r.budgets:
			if b.id == 0 {
				if b.hz > 0 {
					r.cfg.SnapshotHz = min(b.hz, r.cfg.MaxSnapshotHz)
				}
				if b.bps > 0 {
					r.cfg.BytesPerSec = min(max(b.bps, minBytesPerSec), r.cfg.MaxBytesPerSec)
				}
				for _, c := range r.order {
					c.setBudget(&r.cfg, b.hz, b.bps)
				}
			} else if c := r.clients[b.id]; c != nil {
				c.setBudget(&r.cfg, b.hz, b.bps)
			}
		default:
			return
		}
	}
}

func (r *Room) dropAll() {
	for _, c := range r.order {
		c.drop(&r.pool)
	}
	r.order = r.order[:0]
	clear(r.clients)
	r.stats.clients.Store(0)
}
