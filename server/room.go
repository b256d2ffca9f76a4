package server

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/sim"
)

// Room is one world and the clients connected to it, over any number of
// transports. Run owns it; Stats, SetBudget, Wake and Close are safe from
// any goroutine.
type Room struct {
	cfg        Config // in force; SetBudget changes its defaults (Run's goroutine)
	start      Config // as New accepted it, for Config()
	log        *slog.Logger
	game       Game
	schema     *codec.Schema
	transports []Transport
	waiter     Waiter
	frame      uint32    // last stepped frame
	now        time.Time // the clock of the loop iteration running

	clients  map[ClientID]*client
	order    []*client // every client (c.index is its place): the snapshot loop's order
	lastID   ClientID
	unproven int
	perAddr  map[netip.Addr]addrCount // sessions per address (batch.AddrKey)
	proven   int
	// proving lists the unproven arrivals, oldest first, from provingHead
	// (entries of clients since proven or gone are skipped): timeouts and
	// evictions take the front. Bound: arrivals within ProofTimeout.
	proving     []proofEntry
	provingHead int
	queue       *actionQueue
	mesh        *meshState // nil: a server alone
	origin      uint16     // the origin of the room's own actions: its mesh member id, 0 alone
	frameTicks  uint64     // ticks tried on a mesh (the peers' dials' clock)
	pool        viewPool
	states      states
	views       viewCache
	workers     []*worker // the per-client stage's; workers[0] is the room's goroutine
	crew        crew
	due         []*client // clients with a snapshot this tick, in client order
	work        []*client // the same, by shared view
	proof       *view     // the shared proof snapshot's view (empty), held for good
	results     []sim.Result
	pkt         []byte
	msg         []byte
	welcome     protocol.Welcome
	scratch     struct {
		gone []*client
	}

	budgets chan budgetChange // from SetBudget, applied by Run
	stats   Stats
	stop    chan struct{}
	once    sync.Once
	closing bool
}

type budgetChange struct {
	id      ClientID // 0: every client and the defaults
	hz, bps int
}

// New returns a room running game for the clients of transports. It binds
// the transports; it does not start: call Run (or drive it with Poll and
// Tick from one goroutine, and Close it when done: its snapshot workers'
// goroutines end then).
func New(cfg Config, game Game, log *slog.Logger, transports ...Transport) (*Room, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if game == nil {
		return nil, fmt.Errorf("%w: no game", ErrConfig)
	}
	if len(game.Params()) > protocol.MaxGameParams {
		return nil, fmt.Errorf("%w: game params of %d bytes over %d", ErrConfig, len(game.Params()), protocol.MaxGameParams)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Room{
		cfg:        cfg,
		start:      cfg,
		log:        log,
		game:       game,
		schema:     game.Schema(),
		transports: transports,
		clients:    make(map[ClientID]*client),
		perAddr:    make(map[netip.Addr]addrCount),
		queue:      newActionQueue(cfg.InputDelay+2, cfg.MaxActionsPerFrame, 1),
		pkt:        make([]byte, 0, maxDatagram),
		msg:        make([]byte, 0, protocol.MaxMessage),
		budgets:    make(chan budgetChange, 64),
		stop:       make(chan struct{}),
	}
	r.pool.maxFree = cfg.MaxFreeViewBytes
	r.pool.states = &r.states
	r.welcome = protocol.Welcome{
		TickHz: uint32(cfg.TickHz), InputDelay: uint32(cfg.InputDelay),
		SchemaHash: r.schema.Hash(), Game: append([]byte(nil), game.Params()...),
	}
	r.views.views = make(map[viewKey]*view)
	if cfg.Mesh != nil {
		// Peers' batches come up to 2·InputDelay+2 frames ahead of the
		// next frame (a peer runs at most InputDelay+1 frames ahead of us,
		// and seals InputDelay+1 ahead of itself).
		span := 2*cfg.InputDelay + 4
		m, err := newMesh(*cfg.Mesh, span)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		r.mesh, r.origin = m, cfg.Mesh.Self
		r.queue = newActionQueue(span, cfg.MaxActionsPerFrame, 1)
	}
	for range cfg.Workers {
		r.workers = append(r.workers, newWorker(r))
	}
	r.proof = r.pool.get(0, 0)
	r.stats.init()
	for _, t := range transports {
		if w, ok := t.(Waiter); ok && r.waiter == nil {
			r.waiter = w
		}
	}
	if r.waiter == nil {
		r.waiter = newChanWaiter()
	}
	for _, t := range transports {
		t.Bind((*events)(r), r.waiter.Wake)
	}
	return r, nil
}

// Config returns the settings the room started with, defaults applied
// (SetBudget's later changes are not in it). Safe from any goroutine.
func (r *Room) Config() Config { return r.start }

// SetBudget changes the snapshot rate and byte budget of one client (id),
// or of every client and of clients yet to come (id 0). Zero keeps the
// room's default. It takes effect at the next tick. Safe from any goroutine;
// it reports false when too many changes are already waiting.
func (r *Room) SetBudget(id ClientID, hz, bps int) bool {
	select {
	case r.budgets <- budgetChange{id, hz, bps}:
		r.waiter.Wake()
		return true
	default:
		return false
	}
}

// Wake makes the room's loop look at its transports at once. Safe from
// any goroutine.
func (r *Room) Wake() { r.waiter.Wake() }

// Close makes Run return after telling the clients. Safe from any
// goroutine, more than once.
func (r *Room) Close() {
	r.once.Do(func() { close(r.stop) })
	r.crew.stop()
	r.waiter.Wake()
}

// Run runs the room until ctx ends or Close is called; then it tells every
// client the server is shutting down and returns. It returns early only on
// a transport error.
func (r *Room) Run(ctx context.Context) error {
	tick := r.cfg.tick()
	next := time.Now().Add(tick)
	stopCtx := context.AfterFunc(ctx, r.Close)
	defer stopCtx()
	defer r.crew.stop() // a transport error returns without Close
	for {
		select {
		case <-r.stop:
			r.shutdown(time.Now())
			return nil
		default:
		}
		now := time.Now()
		wake, err := r.Poll(now)
		if err != nil {
			return err
		}
		if !now.Before(next) {
			if behind := int(now.Sub(next) / tick); behind >= r.cfg.MaxLagFrames {
				r.catchUp(behind)
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
		if err := r.waiter.Wait(deadline); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
}

// Poll lets every transport deliver what arrived and write what is queued,
// applies budget changes, and ends sessions past their deadlines. It
// returns when a transport next needs to run (zero: none asked). Run calls
// it; tests may call it directly on the goroutine that owns the room.
func (r *Room) Poll(now time.Time) (time.Time, error) {
	r.now = now
	var wake time.Time
	for _, t := range r.transports {
		w, err := t.Poll(now)
		if err != nil {
			return wake, fmt.Errorf("server: %w", err)
		}
		if !w.IsZero() && (wake.IsZero() || w.Before(wake)) {
			wake = w
		}
	}
	r.applyBudgets()
	return wake, nil
}

// Tick runs one frame: the actions stamped for it apply, the world steps,
// results go back, and every client due a snapshot gets one. Run calls it
// on the room's clock; tests and benchmarks may call it directly, on the
// goroutine that owns the room.
func (r *Room) Tick() {
	start := time.Now()
	if r.now.IsZero() {
		r.now = start
	}
	if r.mesh != nil {
		defer r.publishMesh()
	}
	if !r.step() {
		r.expire(r.now) // a mesh waits for a peer's batch
		return
	}
	r.expire(r.now)
	r.snapshots()
	r.stats.views.Store(int64(r.pool.live))
	r.states.mu.Lock()
	r.stats.knowns.Store(int64(r.states.liveKnowns))
	r.stats.stores.Store(int64(r.states.liveStores))
	r.stats.storedStates.Store(int64(r.states.stored))
	r.stats.oldestStore.Store(int64(r.states.oldest(r.frame)))
	r.states.mu.Unlock()
	r.stats.freeViewBytes.Store(int64(r.pool.freeBytes))
	r.stats.tickSeconds.observe(time.Since(start).Seconds())
}

// step runs the next frame of the world with the actions stamped for it
// and answers them. On a mesh it first seals the room's batches, and runs
// the frame only when every peer's batch for it is in: it reports false
// when it did not run one.
func (r *Room) step() bool {
	if r.mesh != nil && !r.meshStep(r.now) {
		return false
	}
	frame := r.frame + 1
	actions := r.queue.take(frame)
	var err error
	r.results, err = r.game.Step(frame, actions, r.results[:0])
	if err != nil {
		panic("server: " + err.Error()) // the room steps its own frames in order
	}
	r.frame = frame
	r.stats.actions.Add(uint64(len(actions)))
	for i := range r.results {
		r.deliver(&r.results[i], frame)
	}
	r.stats.frame.Store(uint64(frame))
	if r.mesh != nil {
		r.meshRan(r.now)
	}
	return true
}

// pushControl queues one of the room's own actions (a join, a leave) for
// the next frame, or on a mesh for the first frame whose batch has not
// gone out (it rides that batch).
func (r *Room) pushControl(a sim.Action) {
	a.Origin = r.origin
	if r.mesh == nil {
		r.queue.pushControl(a)
		return
	}
	a.Frame = r.stampFrame()
	if !r.queue.pushControlAt(a) {
		panic("server: a control action outside the queue's window")
	}
}

// snapshots sends every client due one its snapshot: the proof snapshot to
// unproven clients, its own view to the others. This is the tick's
// per-client stage; it reads the world and writes only the clients' own
// state, the tick's caches and the transports.
func (r *Room) snapshots() {
	proofDue := due(r.frame, r.cfg.ProofHz, r.cfg.TickHz)
	// On the room's goroutine: proofs, and each due client's shared view
	// (the game is read here only), sealed so that workers may encode it
	// at once.
	dues := r.due[:0]
	for _, c := range r.order {
		if !c.proven {
			if c.redirected {
				continue // it goes elsewhere
			}
			// The first proof waits for a poll after the arrival's (the
			// Welcome, queued then, leaves first); the others keep ProofHz.
			if c.proofSent && proofDue || !c.proofSent && r.now.After(c.arrived) {
				r.sendProof(c)
			}
			continue
		}
		c.focus = r.game.Focus(c.avatar)
		c.tokens = min(c.tokens+c.bps, c.tokenCap)
		if c.snapDue(r.frame, r.cfg.TickHz) {
			d := c.viewDetail()
			c.cur, c.curDetail = r.focusView(c.focus, c.lastSnap, d), d
			if r.cfg.MaxViewEntities > 0 {
				c.crowd = crowdDetail(&c.cur.tiers, d, c.detail, r.cfg.MaxViewEntities)
				if d != c.detail {
					r.stats.crowdCoarsened.Add(1)
				}
			}
			dues = append(dues, c)
		}
	}
	// On every worker: each client's snapshot, dealt in runs of clients
	// that share a view (so that they share its encodings, which live in
	// each worker's cache). Then, in client order, on the room's
	// goroutine: the sends.
	work := append(r.work[:0], dues...)
	slices.SortStableFunc(work, func(a, b *client) int {
		return cmp.Or(cmp.Compare(a.focus, b.focus), cmp.Compare(a.lastSnap, b.lastSnap), cmp.Compare(a.curDetail, b.curDetail))
	})
	r.build(work)
	clear(work)
	r.work = work[:0]
	for _, c := range dues {
		r.emit(c)
	}
	clear(dues)
	r.due = dues[:0]
	r.views.endTick(&r.pool)
	for _, w := range r.workers {
		w.endTick()
	}
	r.pool.endTick()
	r.states.endTick()
}

// catchUp runs n frames the room is behind its clock without their
// snapshots: every action stamped for them applies at its frame and is
// answered, the room's joins and leaves included; only the snapshots of
// those frames are never sent (the next one carries their state).
func (r *Room) catchUp(n int) {
	r.stats.framesSkipped.Add(uint64(n))
	r.log.Warn("room behind its clock; stepping frames without snapshots", "frames", n)
	for range n {
		if !r.step() {
			return // a mesh waits for a peer's batch
		}
	}
}

// deliver tells a local client what became of its action.
func (r *Room) deliver(res *sim.Result, frame uint32) {
	if res.Origin != r.origin {
		return // a peer's action: its server tells its client
	}
	c := r.clients[ClientID(res.Client)]
	if res.Seq == leaveSeq || c == nil {
		return // the room's own leave, or the client left
	}
	out := protocol.Result{Seq: res.Seq, Frame: frame, Status: protocol.Applied, Reason: res.Reason}
	if res.Status != sim.StatusApplied {
		out.Status = protocol.Fizzled
	}
	if res.Seq == joinSeq {
		if out.Status == protocol.Applied {
			c.avatar = r.game.Avatar(r.origin, res.Client)
			out.Value = c.avatar
		} else {
			r.stats.joinsFizzled.Add(1)
		}
	} else {
		c.pending--
		if out.Status == protocol.Applied {
			r.stats.applied.Add(1)
		} else {
			r.stats.fizzled.Add(1)
		}
	}
	r.sendReliable(c, protocol.AppendResult(r.msg[:0], &out))
}

// The sequences of the room's own actions for a client: its join (the
// Result a client waits for) and its leave (sorted after anything else of
// the client's in its frame). A client's own actions count from 1.
const (
	joinSeq  = 0
	leaveSeq = 1<<32 - 1
)

// stamp queues a client's action for the frame InputDelay frames after the
// next one. An action the client may not send, or beyond the room's
// bounds, fizzles at once with a reason.
func (r *Room) stamp(c *client, a *protocol.Action) {
	sa := sim.Action{
		Frame:  r.stampFrame(),
		Origin: r.origin,
		Client: uint32(c.id),
		Seq:    a.Seq,
		Kind:   a.Kind,
		Args:   a.Args,
	}
	reason := uint8(0)
	switch {
	case a.Seq == joinSeq || a.Seq == leaveSeq || !r.game.ClientMay(a.Kind):
		reason = protocol.ReasonReserved
		r.stats.reserved.Add(1)
	case !c.proven || c.pending >= r.cfg.MaxPendingActions || !r.queue.push(sa):
		reason = protocol.ReasonBusy
		r.stats.busy.Add(1)
	}
	if reason != 0 {
		r.stats.fizzled.Add(1)
		out := protocol.Result{Seq: a.Seq, Frame: sa.Frame, Status: protocol.Fizzled, Reason: reason}
		r.sendReliable(c, protocol.AppendResult(r.msg[:0], &out))
		return
	}
	c.pending++
}

func (r *Room) sendReliable(c *client, msg []byte) {
	if err := c.link.SendReliable(msg); err != nil {
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

// shutdown tells every client the room is going away and forgets them.
func (r *Room) shutdown(now time.Time) {
	r.closing = true
	for _, t := range r.transports {
		t.Shutdown(now)
	}
	for _, c := range r.order {
		c.drop(&r.states)
	}
	r.order = r.order[:0]
	clear(r.clients)
	clear(r.perAddr)
	r.proving, r.provingHead = r.proving[:0], 0
	r.unproven, r.proven = 0, 0
	r.stats.clients.Store(0)
	r.stats.unproven.Store(0)
}
