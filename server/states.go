package server

import (
	"sync"

	"github.com/flotilla/flotilla/codec"
)

// The entity states a client holds are kept for the room, not once per
// client. A client's snapshot history holds, for each snapshot, a known:
// the states of that snapshot's view as references (4 bytes an entity)
// into the room's state stores, where each worker stores each distinct
// state it meets in a tick once, however many views and clients hold it
// (two workers may each store it). So a crowd of a thousand clients, each
// holding a prioritized view of a thousand entities, costs 4 KB a client
// and the distinct states of the ticks its histories reach back to, not
// 72 KB a client (an entity is 72 bytes): BenchmarkRoomMemory measures
// about 6,000 states a store and 38 stores live. To encode against a
// known, a worker gathers its states into its own scratch view.

// stateRef names one stored entity state: its store (high 16 bits) and
// its slot there (low 16 bits).
type stateRef uint32

func (r stateRef) store() uint16 { return uint16(r >> 16) }
func (r stateRef) slot() uint16  { return uint16(r) }

const (
	storeChunk = 1024    // states in one chunk of a store
	storeSlots = 1 << 16 // most states in one store
	dirPage    = 256     // stores in one page of the directory
	maxStores  = 1 << 16 // most stores alive at once
	// maxStateAge is how many frames old a state a client keeps (an entity
	// its prioritized snapshots keep leaving out) may be before its next
	// prioritized snapshot stores it again in the tick's store: a state
	// left out for long pins its whole store (a tick's states) otherwise.
	maxStateAge = 16
	// maxUnackedAge is how many seconds a snapshot not yet acknowledged
	// keeps its known in the history (Room.send).
	maxUnackedAge = 2
)

// stateStore holds the entity states one worker stored during one tick. It
// fills while it is the worker's current store (the worker alone writes
// it), then is only read; it is emptied for reuse when no known names it.
type stateStore struct {
	chunks [storeSlots / storeChunk]*[storeChunk]codec.Entity
	n      int    // states stored
	frame  uint32 // the tick it was filled at
	holds  int32  // knowns naming it, and one while it is a worker's current store
	idx    uint16 // its index in the directory
}

func (s *stateStore) at(slot uint16) *codec.Entity {
	return &s.chunks[slot/storeChunk][slot%storeChunk]
}

// known is what a client holds once it acknowledges a snapshot: the
// states of the snapshot's view, by reference, in entity id order, and
// the view's entity checksum. It is immutable once built (a view shared by
// many clients has one known, which all their histories hold).
type known struct {
	refs   []stateRef
	stores []uint16 // the stores refs names, each once: each holds one hold of it
	sum    uint64   // the view's entity checksum (codec.View.Checksum)
	holds  int32
	// storesBuf is stores' first array: a known names a few stores (a
	// tick's, and a few older ones' for a prioritized view).
	storesBuf [8]uint16
}

// states is the room's state stores and the pool of knowns. Workers take
// and give back stores and knowns during the per-client stage: mu guards
// the directory, the holds and the idle lists. Bounds: a store holds at
// most storeSlots states and lives while a known names it. How far back
// the knowns reach is bounded three ways: a prioritized snapshot stores
// again the baseline states older than maxStateAge frames it keeps; a
// heartbeat records the tick's known, not its old baseline's; and a
// snapshot not acknowledged within maxUnackedAge seconds gives its known
// back. (An acknowledged baseline stays while it is the newest, so a
// client that acknowledges nothing new for its ack timeout pins one
// tick's stores until it is sent away.) Idle stores and
// knowns are kept up to a recent tick's need and a share of the live ones
// (keepStores, keepKnowns), the rest left to the garbage collector.
type states struct {
	mu sync.Mutex
	// dir is the directory of live stores by index, in pages that never
	// move: a worker reads a store's entry, written before any reference
	// to it existed, while another worker adds a page or an entry.
	dir     [maxStores / dirPage]*[dirPage]*stateStore
	freeIdx []uint16
	nextIdx int // indices below it were handed out once
	idle    []*stateStore
	// idleKnown holds idle knowns by size class (refClass of their
	// arrays' capacity), so a known is reused for a view of its size.
	idleKnown  [numRefClasses][]*known
	idleKnowns int
	// Each tick's take of stores and knowns, and the recent need (the
	// most taken by a tick, decaying by a 32nd a tick).
	tookStores, tookKnowns int
	needStores, needKnowns int
	liveStores, liveKnowns int
	stored                 int // states in the live stores
}

// oldest is how many frames before frame the oldest live store was
// filled (0: none live). Under mu.
func (st *states) oldest(frame uint32) uint32 {
	var age uint32
	for _, page := range st.dir[:(st.nextIdx+dirPage-1)/dirPage] {
		for _, s := range page {
			if s != nil {
				age = max(age, frame-s.frame)
			}
		}
	}
	return age
}

// lookup returns the live store of index i.
func (st *states) lookup(i uint16) *stateStore { return st.dir[i/dirPage][i%dirPage] }

// newStore takes an empty store for frame, held once (by the worker that
// fills it). It reports nil when maxStores are alive.
func (st *states) newStore(frame uint32) *stateStore {
	st.mu.Lock()
	defer st.mu.Unlock()
	var i uint16
	switch {
	case len(st.freeIdx) > 0:
		i = st.freeIdx[len(st.freeIdx)-1]
		st.freeIdx = st.freeIdx[:len(st.freeIdx)-1]
	case st.nextIdx < maxStores:
		i = uint16(st.nextIdx)
		st.nextIdx++
	default:
		return nil
	}
	var s *stateStore
	if n := len(st.idle); n > 0 {
		s = st.idle[n-1]
		st.idle[n-1] = nil
		st.idle = st.idle[:n-1]
	} else {
		s = new(stateStore)
	}
	s.n, s.frame, s.holds, s.idx = 0, frame, 1, i
	page := st.dir[i/dirPage]
	if page == nil {
		page = new([dirPage]*stateStore)
		st.dir[i/dirPage] = page
	}
	page[i%dirPage] = s
	st.liveStores++
	st.tookStores++
	return s
}

// dropStore gives back one hold of s; the last empties it. Under mu.
func (st *states) dropStore(s *stateStore) {
	s.holds--
	if s.holds > 0 {
		return
	}
	if s.holds < 0 {
		panic("server: state store dropped more often than held")
	}
	st.dir[s.idx/dirPage][s.idx%dirPage] = nil
	st.freeIdx = append(st.freeIdx, s.idx)
	st.liveStores--
	st.stored -= s.n
	if len(st.idle) < st.keepStores() {
		// It keeps the chunks its last fill used, not those of a larger
		// fill before: an idle store is no larger than the last one.
		for c := (s.n + storeChunk - 1) / storeChunk; c < len(s.chunks) && s.chunks[c] != nil; c++ {
			s.chunks[c] = nil
		}
		st.idle = append(st.idle, s)
	}
}

// releaseStore gives back the worker's hold of its current store.
func (st *states) releaseStore(s *stateStore) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.stored += s.n // counted once it stops filling
	st.dropStore(s)
}

// Size classes of knowns' arrays: four a doubling, from 64 states (at most
// a fifth more than asked for, beyond 64). Below 64 states, one class: a
// tick's small views come and go in many sizes, and 256 bytes is little.
const numRefClasses = 48

func refClassSize(c int) int { return (4 + c%4) << (c/4 + 4) }

// refClass is the smallest class that holds n states.
func refClass(n int) int {
	c := 0
	for refClassSize(c) < n {
		c++
	}
	return c
}

// getKnown takes an empty known for at most n states, held once: an idle
// one of n's size class or of one of the next eight (at most four times
// as large), else a new one.
func (st *states) getKnown(n int) *known {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := refClass(n)
	var k *known
	for d := c; d <= min(c+8, numRefClasses-1); d++ {
		idle := st.idleKnown[d]
		if m := len(idle); m > 0 {
			k = idle[m-1]
			idle[m-1] = nil
			st.idleKnown[d] = idle[:m-1]
			st.idleKnowns--
			break
		}
	}
	if k == nil {
		k = &known{refs: make([]stateRef, 0, refClassSize(c))}
		k.stores = k.storesBuf[:0]
	}
	k.holds = 1
	st.liveKnowns++
	st.tookKnowns++
	return k
}

// seal makes k's stores held by it, once each, now that k is built.
func (st *states) seal(k *known) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, i := range k.stores {
		st.lookup(i).holds++
	}
}

func (st *states) hold(k *known) *known {
	st.mu.Lock()
	defer st.mu.Unlock()
	k.holds++
	return k
}

// release gives back one hold of k; the last gives back k's holds of its
// stores.
func (st *states) release(k *known) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k.holds--
	if k.holds > 0 {
		return
	}
	if k.holds < 0 {
		panic("server: known released more often than held")
	}
	for _, i := range k.stores {
		st.dropStore(st.lookup(i))
	}
	k.refs, k.stores, k.sum = k.refs[:0], k.stores[:0], 0
	st.liveKnowns--
	if c := refClass(cap(k.refs)); st.idleKnowns < st.keepKnowns() && c < numRefClasses && refClassSize(c) == cap(k.refs) {
		st.idleKnown[c] = append(st.idleKnown[c], k)
		st.idleKnowns++
	}
}

// endTick updates the recent need and trims the idle lists to it.
func (st *states) endTick() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.needStores = max(st.tookStores, st.needStores-(st.needStores+31)/32)
	st.needKnowns = max(st.tookKnowns, st.needKnowns-(st.needKnowns+31)/32)
	st.tookStores, st.tookKnowns = 0, 0
	for len(st.idle) > st.keepStores() {
		st.idle[len(st.idle)-1] = nil
		st.idle = st.idle[:len(st.idle)-1]
	}
	for c := numRefClasses - 1; c >= 0 && st.idleKnowns > st.keepKnowns(); c-- {
		for idle := st.idleKnown[c]; len(idle) > 0 && st.idleKnowns > st.keepKnowns(); idle = st.idleKnown[c] {
			idle[len(idle)-1] = nil
			st.idleKnown[c] = idle[:len(idle)-1]
			st.idleKnowns--
		}
	}
}

// interner is a worker's side of the stores: its current store (this
// tick's), and the index that finds a state already stored there.
type interner struct {
	cur *stateStore
	// retired holds the stores the worker filled earlier this tick: it
	// keeps their holds until the tick ends, so that a known being built
	// never names a store that was emptied meanwhile.
	retired []*stateStore
	// table is open addressing over cur's slots (slot+1; 0 empty), by
	// EntityHash; hashes holds each slot's.
	table  []uint32
	hashes []uint64
	// seen marks, by store index, the stores the known being built names
	// (seen[i] == epoch).
	seen  []uint64
	epoch uint64 // never wraps: a worker builds far fewer than 2^64 knowns
}

// intern returns a reference to state e (whose EntityHash is h) in the
// worker's current store, storing it unless the store holds it already.
// It reports false when no store can be had (maxStores alive).
func (w *worker) intern(e *codec.Entity, h uint64) (stateRef, bool) {
	in := &w.in
	if in.cur == nil || in.cur.n == storeSlots {
		if !w.rotate() {
			return 0, false
		}
	}
	s := in.cur
	mask := len(in.table) - 1
	i := int(h) & mask
	for ; in.table[i] != 0; i = (i + 1) & mask {
		slot := in.table[i] - 1
		if in.hashes[slot] == h && w.r.schema.SameEntity(s.at(uint16(slot)), e) {
			return stateRef(uint32(s.idx)<<16 | slot), true
		}
	}
	slot := s.n
	c := &s.chunks[slot/storeChunk]
	if *c == nil {
		*c = new([storeChunk]codec.Entity)
	}
	(*c)[slot%storeChunk] = *e
	s.n++
	in.hashes = append(in.hashes, h)
	in.table[i] = uint32(slot) + 1
	if 2*s.n > len(in.table) {
		w.growTable()
	}
	return stateRef(uint32(s.idx)<<16 | uint32(slot)), true
}

// rotate retires the worker's current store and takes a new one.
func (w *worker) rotate() bool {
	in := &w.in
	if in.cur != nil {
		in.retired = append(in.retired, in.cur)
		in.cur = nil
	}
	s := w.r.states.newStore(w.r.frame)
	if s == nil {
		return false
	}
	in.cur = s
	in.hashes = in.hashes[:0]
	if len(in.table) == 0 {
		in.table = make([]uint32, 1024)
	}
	clear(in.table)
	return true
}

// growTable doubles the index and puts every slot back.
func (w *worker) growTable() {
	in := &w.in
	in.table = make([]uint32, 2*len(in.table))
	mask := len(in.table) - 1
	for slot, h := range in.hashes {
		i := int(h) & mask
		for in.table[i] != 0 {
			i = (i + 1) & mask
		}
		in.table[i] = uint32(slot) + 1
	}
}

// endTick gives up the worker's stores: the next tick stores in a new
// one, and these are emptied once no known names them.
func (in *interner) endTick(st *states) {
	if in.cur != nil {
		st.releaseStore(in.cur)
		in.cur = nil
	}
	for i, s := range in.retired {
		st.releaseStore(s)
		in.retired[i] = nil
	}
	in.retired = in.retired[:0]
}

// beginKnown starts marking the stores of a known being built.
func (in *interner) beginKnown() { in.epoch++ }

// note records that the known being built into k names ref's store.
func (in *interner) note(k *known, ref stateRef) {
	i := int(ref.store())
	if i >= len(in.seen) {
		in.seen = append(in.seen, make([]uint64, i+1-len(in.seen)+64)...)
	}
	if in.seen[i] != in.epoch {
		in.seen[i] = in.epoch
		k.stores = append(k.stores, uint16(i))
	}
}

// prepare gives a shared view its known, once: its states stored and its
// checksum recorded. Workers prepare a view before they read it, so the
// first to need it does the work and the others find it done.
func (w *worker) prepare(v *view) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.known != nil {
		return
	}
	st := &w.r.states
	k := st.getKnown(len(v.v.Entities))
	in := &w.in
	in.beginKnown()
	var sum uint64
	sc := w.r.schema
	for i := range v.v.Entities {
		e := &v.v.Entities[i]
		h := sc.EntityHash(e)
		sum += h
		ref, ok := w.intern(e, h)
		if !ok {
			panic("server: more than 65,536 state stores alive")
		}
		k.refs = append(k.refs, ref)
		in.note(k, ref)
	}
	k.sum = sum
	v.v.SetChecksum(sum)
	st.seal(k)
	v.known = k
}

// load gathers the states k names into the worker's baseline scratch and
// returns it, its checksum recorded. The scratch holds one known at a
// time; loading the one it holds costs nothing.
func (w *worker) load(k *known) *codec.View {
	b := &w.base
	if w.loaded == k {
		return b
	}
	st := &w.r.states
	if cap(b.Entities) < len(k.refs) {
		b.Entities = make([]codec.Entity, 0, len(k.refs)+len(k.refs)/4)
	}
	b.Reset()
	ents := b.Entities[:len(k.refs)]
	var s *stateStore
	for i, ref := range k.refs {
		if s == nil || s.idx != ref.store() {
			s = st.lookup(ref.store())
		}
		ents[i] = *s.at(ref.slot())
	}
	b.Entities = ents
	b.SetChecksum(k.sum)
	w.loaded = k
	return b
}

// keepKnowns is how many idle knowns the pool keeps: twice a recent
// tick's take, and a quarter of the live ones (knowns live for several
// ticks, so the idle ones must cover the swings of a tick's take and
// release across size classes). Keeping fewer costs memory rather than
// saving it: at 1,000 crowded clients, half as many idle ones took the
// room's heap from 72 to 128 MB (BenchmarkRoomMemory), the knowns made
// anew leaving the heap's spans fragmented.
func (st *states) keepKnowns() int { return 2*st.needKnowns + st.liveKnowns/4 }

// keepStores is how many emptied stores the pool keeps, for the same
// reason: twice a recent tick's take, and a quarter of the live ones.
func (st *states) keepStores() int { return 2*st.needStores + st.liveStores/4 }
