package server

import (
	"sync"
	"unsafe"

	"github.com/flotilla/flotilla/codec"
)

// view is one snapshot's content, shared by every client it was sent to and
// kept while any client's history holds it. A view is immutable once built:
// the codec records its checksum in it, and later deltas against it trust
// that record (codec.View). refs counts the holders; at zero it returns to
// the pool.
type view struct {
	v     codec.View
	frame uint32
	refs  int32
	// tiers counts the game's entities of the view by level of detail,
	// before a client's Detail or the crowd bound left any out (counted
	// only when the crowd bound is on).
	tiers [codec.NumLODs]int32
	class uint8 // sharedView or ownView, for the pool
}

// viewPool recycles views so steady state allocates nothing. Bound: it
// keeps idle views while they are at most twice as many as a recent tick
// took (need, decaying by a 32nd a tick: it halves in about 22 ticks), or
// while they hold at most maxFree bytes of entity and event arrays; a view
// released beyond that is left to the garbage collector, and endTick trims
// the pool down to it. So a crowd's churn is served from the pool, and what
// a crowd leaves behind is given back within seconds of its leaving. Live
// views are bounded by clients × protocol.History plus one tick's cache.
//
// Workers take views (get) and give back the ones they did not use
// (release) during the per-client stage: mu guards the pool, and the
// counts of views that may be shared between clients.
type viewPool struct {
	mu sync.Mutex
	// free holds the idle views by class: the game's shared views and the
	// clients' own are of different sizes in a crowd, and each is reused
	// for its kind.
	free      [numViewClasses][]*view
	freeBytes int
	maxFree   int                 // bytes kept whatever the need (Config.MaxFreeViewBytes)
	need      [numViewClasses]int // views of each class taken by a recent tick, decaying
	taken     [numViewClasses]int // views of each class taken this tick
	live      int
}

// fit is how many free views get looks through for one large enough.
const fit = 8

// View classes: what a view is built as.
const (
	sharedView = iota // built from the game (focusView), the proof
	ownView           // a client's prioritized view
	numViewClasses
)

var (
	entitySize = int(unsafe.Sizeof(codec.Entity{}))
	eventSize  = int(unsafe.Sizeof(codec.Event{}))
)

// bytes is what v's arrays hold in memory.
func (v *view) bytes() int {
	return cap(v.v.Entities)*entitySize + cap(v.v.Events)*eventSize
}

// get takes a view of class for frame: a free one of its class,
// preferring among the most recently freed (up to fit of them) one whose
// entity array holds at least entities, since a small array given to a
// large view would be replaced (garbage) as the view grows.
func (p *viewPool) get(frame uint32, entities, class int) *view {
	p.mu.Lock()
	defer p.mu.Unlock()
	var v *view
	free := p.free[class]
	if n := len(free); n > 0 {
		i := n - 1
		for k := n - 1; k >= max(0, n-fit); k-- {
			if cap(free[k].v.Entities) >= entities {
				i = k
				break
			}
		}
		v = free[i]
		free[i] = free[n-1]
		free[n-1] = nil
		p.free[class] = free[:n-1]
		p.freeBytes -= v.bytes()
	} else {
		v = &view{class: uint8(class)}
	}
	if class == sharedView && cap(v.v.Entities) < entities {
		// Grown once to the size expected, with room to spare, rather
		// than doubled by the game's appends that fill it. (An own view is
		// sized by codec.AppendSubset, which knows its size exactly.)
		v.v.Entities = make([]codec.Entity, 0, entities+entities/4)
	}
	v.v.Reset()
	v.frame, v.refs = frame, 1
	p.live++
	p.taken[class]++
	return v
}

// keeps reports whether the pool keeps one more idle view of class c and
// b bytes: each class keeps twice its own recent need, so that a crowd's
// many own views do not crowd out the few shared ones, or while the idle
// views hold at most maxFree bytes.
func (p *viewPool) keeps(c, b int) bool {
	return len(p.free[c]) < 2*p.need[c] || p.freeBytes+b <= p.maxFree
}

// idle is how many views the pool keeps for reuse.
func (p *viewPool) idle() int { return len(p.free[sharedView]) + len(p.free[ownView]) }

// endTick updates the pool's recent need and trims the idle views to the
// bound.
func (p *viewPool) endTick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range numViewClasses {
		p.need[c] = max(p.taken[c], p.need[c]-(p.need[c]+31)/32)
		p.taken[c] = 0
		for free := p.free[c]; len(free) > 2*p.need[c] && p.freeBytes > p.maxFree; free = p.free[c] {
			k := len(free) - 1
			p.freeBytes -= free[k].bytes()
			free[k] = nil
			p.free[c] = free[:k]
		}
	}
}

func (p *viewPool) hold(v *view) *view {
	p.mu.Lock()
	defer p.mu.Unlock()
	v.refs++
	return v
}

func (p *viewPool) release(v *view) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v.refs--
	if v.refs > 0 {
		return
	}
	if v.refs < 0 {
		panic("server: view released more often than held")
	}
	p.live--
	if b := v.bytes(); p.keeps(int(v.class), b) {
		p.free[v.class] = append(p.free[v.class], v)
		p.freeBytes += b
	}
}

// viewKey names a shared view: what a client with this focus sees at this
// tick, with the events of the frames after since, at its levels of detail
// (0: all).
type viewKey struct {
	focus  uint64
	since  uint32
	detail uint8
}

// viewCache holds the views built during one tick, so every client with
// the same focus and event window gets the same view (and, with the same
// baseline, the same bytes). Cleared at the end of the tick; it holds one
// reference to each view meanwhile.
type viewCache struct {
	views map[viewKey]*view
	// largest is the most entities of a view the game built last tick
	// (the size a new one is given), largestNow this tick's so far.
	largest, largestNow int
}

func (r *Room) focusView(focus uint64, since uint32, detail uint8) *view {
	k := viewKey{focus, since, detail}
	if v := r.views.views[k]; v != nil {
		return v
	}
	v := r.pool.get(r.frame, r.views.largest, sharedView)
	r.game.AppendView(&v.v, focus, since)
	r.views.largestNow = max(r.views.largestNow, len(v.v.Entities))
	defer r.schema.Seal(&v.v) // workers encode it at once: its checksum first
	v.tiers = [codec.NumLODs]int32{}
	if r.cfg.MaxViewEntities > 0 { // the crowd bound's input, counted only for it
		for i := range v.v.Entities {
			v.tiers[v.v.Entities[i].LOD&(codec.NumLODs-1)]++
		}
	}
	if detail != 0 && detail < codec.NumLODs {
		// The client asked for its detail tiers only (protocol.Detail), or
		// the crowd leaves no room for the coarser: they stay out.
		ents := v.v.Entities[:0]
		for _, e := range v.v.Entities {
			if e.LOD < detail {
				ents = append(ents, e)
			}
		}
		v.v.Entities = ents
	}
	r.views.views[k] = v
	r.stats.viewsBuilt.Add(1)
	return v
}

// endTick drops the cache's references.
func (c *viewCache) endTick(p *viewPool) {
	if c.largestNow > 0 {
		c.largest, c.largestNow = c.largestNow, 0
	}
	for k, v := range c.views {
		p.release(v)
		delete(c.views, k)
	}
}
