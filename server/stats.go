package server

import (
	"math"
	"sync/atomic"
)

// Stats are the room's counters. Reading them is safe from any goroutine;
// the ops endpoint and the live summary read them.
type Stats struct {
	clients, unproven          atomic.Int64
	freeViewBytes              atomic.Int64
	throttled, full, evicted   atomic.Uint64
	sentAway                   [len(reasonNames)]atomic.Uint64
	proofs                     atomic.Uint64
	proofTimeouts, ackTimeouts atomic.Uint64
	reserved, joinsFizzled     atomic.Uint64
	views                      atomic.Int64
	knowns                     atomic.Int64
	stores                     atomic.Int64
	storedStates               atomic.Int64
	statesRestored             atomic.Uint64
	oldestStore                atomic.Int64
	frame                      atomic.Uint64
	connects, disconnects      atomic.Uint64
	actions, applied, fizzled  atomic.Uint64
	busy                       atomic.Uint64
	fulls, deltas, heartbeats  atomic.Uint64
	budgetSkips, prioritized   atomic.Uint64
	measures                   atomic.Uint64
	prioritySkips, priceMisses atomic.Uint64
	entitiesDeferred           atomic.Uint64
	eventsDropped              atomic.Uint64
	encodes, encodeShared      atomic.Uint64
	viewsBuilt                 atomic.Uint64
	crowdCoarsened             atomic.Uint64
	desyncReports              atomic.Uint64
	desyncPermanent            atomic.Uint64
	badMessages, framesSkipped atomic.Uint64
	tickSeconds, snapshotBytes histogram
	proofSeconds               histogram
}

// StatsSnapshot is a copy of the room's counters at one instant.
type StatsSnapshot struct {
	Clients  int64 // proven clients: in the world
	Unproven int64 // sessions that have not yet acknowledged a snapshot
	// FreeViewBytes is the memory kept in idle views for reuse (bounded by
	// Config.MaxFreeViewBytes).
	FreeViewBytes int64
	// Throttled counts refusals and sendings-away as throttled: a
	// handshake (each retransmitted response counts) from an address that
	// held too many unproven sessions or clients, or an unproven session
	// sent away for a new one when the pool was full (Evicted counts
	// those); Full, clients proven while the room held MaxClients.
	Throttled, Evicted, Full uint64
	// SentAway counts the sessions the room ended, by reason (indexed by
	// Reason: kicked, full, throttled, protocol, timeout, shutdown,
	// backlog; index 0 unused). Throttled arrivals are counted here too.
	SentAway [8]uint64
	Proofs   uint64 // proof snapshots sent to unproven clients
	// ProofTimeouts: unproven sessions that acknowledged nothing within
	// ProofTimeout; AckTimeouts: clients that acknowledged nothing sent for
	// AckTimeout.
	ProofTimeouts, AckTimeouts uint64
	Reserved                   uint64            // client actions of a kind reserved to the server (fizzled)
	JoinsFizzled               uint64            // the game refused a proven client its place
	ProofSeconds               HistogramSnapshot // from arrival to the first acknowledgement
	LiveViews                  int64             // views held by the tick's cache (and the proof view)
	// LiveKnowns is the known states held by client histories (one per
	// snapshot a history keeps, shared where clients got the same view);
	// LiveStores the state stores they name, StoredStates the entity
	// states those hold (states.go).
	LiveKnowns, LiveStores, StoredStates int64
	// StatesRestored counts baseline states stored again because they
	// were older than maxStateAge frames.
	StatesRestored uint64
	// OldestStoreFrames is the age in frames of the oldest live state
	// store: how far back the clients' histories reach.
	OldestStoreFrames int64
	Frame             uint64 // last stepped frame
	Connects          uint64
	Disconnects       uint64
	Actions           uint64 // actions that reached their frame
	Applied           uint64
	Fizzled           uint64 // including those refused as busy
	Busy              uint64 // fizzled at receipt: too many pending, the frame's quota spent, or not yet in the world
	Fulls             uint64 // snapshots sent whole
	Deltas            uint64 // snapshots sent as a delta
	Heartbeats        uint64 // snapshots that said "nothing changed"
	BudgetSkips       uint64 // snapshots not sent: budget spent
	Prioritized       uint64 // snapshots cut down by the priority accumulator
	Measures          uint64 // exact size sums over a view the accumulator made
	// PrioritySkips counts snapshots skipped because a baseline's
	// removals alone did not fit the room; PriceMisses, prioritized views
	// whose encoding did not fit what they were priced at (a bug: the
	// codec's price list is exact). Both skip the client's snapshot.
	PrioritySkips, PriceMisses uint64
	Deferred                   uint64 // entity updates left out by it
	EventsDropped              uint64 // combat events that did not fit
	Encodes                    uint64 // codec encodings made
	EncodesShared              uint64 // sends that reused another client's encoding
	ViewsBuilt                 uint64
	CrowdCoarsened             uint64 // snapshots due whose view MaxViewEntities coarsened (sent or then skipped)
	DesyncReports              uint64 // clients' checksum mismatch reports
	DesyncPermanent            uint64 // of which outlived the client's repair window
	BadMessages                uint64 // client messages that broke the protocol
	FramesSkipped              uint64 // frames dropped because the room fell behind
	TickSeconds                HistogramSnapshot
	SnapshotBytes              HistogramSnapshot // UDP payload bytes per snapshot datagram
}

// Stats returns a copy of the room's counters. Safe from any goroutine.
func (r *Room) Stats() StatsSnapshot {
	s := &r.stats
	ss := StatsSnapshot{
		Clients: s.clients.Load(), Unproven: s.unproven.Load(), FreeViewBytes: s.freeViewBytes.Load(),
		Throttled: s.throttled.Load(), Evicted: s.evicted.Load(), Full: s.full.Load(), Proofs: s.proofs.Load(),
		ProofTimeouts: s.proofTimeouts.Load(), AckTimeouts: s.ackTimeouts.Load(),
		Reserved: s.reserved.Load(), JoinsFizzled: s.joinsFizzled.Load(), ProofSeconds: s.proofSeconds.snapshot(),
		LiveViews: s.views.Load(), LiveKnowns: s.knowns.Load(), LiveStores: s.stores.Load(), StoredStates: s.storedStates.Load(), StatesRestored: s.statesRestored.Load(), OldestStoreFrames: s.oldestStore.Load(), Frame: s.frame.Load(),
		Connects: s.connects.Load(), Disconnects: s.disconnects.Load(),
		Actions: s.actions.Load(), Applied: s.applied.Load(), Fizzled: s.fizzled.Load(), Busy: s.busy.Load(),
		Fulls: s.fulls.Load(), Deltas: s.deltas.Load(), Heartbeats: s.heartbeats.Load(),
		BudgetSkips: s.budgetSkips.Load(), Prioritized: s.prioritized.Load(), Measures: s.measures.Load(),
		PrioritySkips: s.prioritySkips.Load(), PriceMisses: s.priceMisses.Load(),
		Deferred: s.entitiesDeferred.Load(), EventsDropped: s.eventsDropped.Load(),
		Encodes: s.encodes.Load(), EncodesShared: s.encodeShared.Load(), ViewsBuilt: s.viewsBuilt.Load(), CrowdCoarsened: s.crowdCoarsened.Load(),
		DesyncReports: s.desyncReports.Load(), DesyncPermanent: s.desyncPermanent.Load(),
		BadMessages: s.badMessages.Load(), FramesSkipped: s.framesSkipped.Load(),
		TickSeconds: s.tickSeconds.snapshot(), SnapshotBytes: s.snapshotBytes.snapshot(),
	}
	for i := range ss.SentAway {
		ss.SentAway[i] = s.sentAway[i].Load()
	}
	return ss
}

func (s *Stats) init() {
	s.tickSeconds.bounds = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.033, 0.05, 0.1, 0.25, 1}
	s.snapshotBytes.bounds = []float64{8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 300, 384, 512, 768, 1024, 1200}
	s.proofSeconds.bounds = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}
	s.proofSeconds.counts = make([]atomic.Uint64, len(s.proofSeconds.bounds)+1)
	s.tickSeconds.counts = make([]atomic.Uint64, len(s.tickSeconds.bounds)+1)
	s.snapshotBytes.counts = make([]atomic.Uint64, len(s.snapshotBytes.bounds)+1)
}

// histogram counts observations in fixed buckets, written by one goroutine
// and read by any.
type histogram struct {
	bounds []float64       // upper bounds, ascending; a last bucket takes the rest
	counts []atomic.Uint64 // per bucket (not cumulative)
	sum    atomic.Uint64   // float64 bits; one writer
	n      atomic.Uint64
}

func (h *histogram) observe(v float64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Store(math.Float64bits(math.Float64frombits(h.sum.Load()) + v))
	h.n.Add(1)
}

// HistogramSnapshot is a histogram's state: Counts[i] observations at most
// Bounds[i] and above the bound before; the last count is above every bound.
type HistogramSnapshot struct {
	Bounds []float64
	Counts []uint64
	Sum    float64
	Count  uint64
}

func (h *histogram) snapshot() HistogramSnapshot {
	s := HistogramSnapshot{Bounds: h.bounds, Counts: make([]uint64, len(h.counts)),
		Sum: math.Float64frombits(h.sum.Load()), Count: h.n.Load()}
	for i := range h.counts {
		s.Counts[i] = h.counts[i].Load()
	}
	return s
}

// Since returns the observations made after prev (an earlier snapshot of
// the same histogram).
func (s HistogramSnapshot) Since(prev HistogramSnapshot) HistogramSnapshot {
	d := HistogramSnapshot{Bounds: s.Bounds, Counts: make([]uint64, len(s.Counts)), Sum: s.Sum - prev.Sum, Count: s.Count - prev.Count}
	for i := range s.Counts {
		d.Counts[i] = s.Counts[i]
		if i < len(prev.Counts) {
			d.Counts[i] -= prev.Counts[i]
		}
	}
	return d
}

// Quantile returns an upper bound of quantile q: the bound of the bucket
// where it falls (+Inf above the last bound, 0 with no observations).
func (s HistogramSnapshot) Quantile(q float64) float64 {
	var total uint64
	for _, c := range s.Counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var acc uint64
	for i, c := range s.Counts {
		acc += c
		if acc >= rank && c > 0 {
			if i < len(s.Bounds) {
				return s.Bounds[i]
			}
			return math.Inf(1)
		}
	}
	return math.Inf(1)
}
