package server

import (
	"sync"
	"unsafe"

	"github.com/flotilla/flotilla/codec"
)

// view is what a client with a given focus sees at one tick, built by the
// game once and shared by every client that sees the same: tick-local,
// held by the tick's cache (and the proof view by the room for good). A
// view is immutable once built. Its known (the same states, stored; see
// states.go) outlives it in the histories of the clients it was sent to.
// refs counts the holders; at zero it returns to the pool.
type view struct {
	v     codec.View
	frame uint32
	refs  int32
	// tiers counts the game's entities of the view by level of detail,
	// before a client's Detail or the crowd bound left any out (counted
	// only when the crowd bound is on).
	tiers [codec.NumLODs]int32
	// mu guards known, which the first worker to need it builds
	// (worker.prepare); the view holds one hold of it.
	mu    sync.Mutex
	known *known
}

// viewPool recycles views so steady state allocates nothing. Bound: it
// keeps idle views while they are at most twice as many as a recent tick
// took (need, decaying by a 32nd a tick: it halves in about 22 ticks), or
// while they hold at most maxFree bytes of entity and event arrays; a view
// released beyond that is left to the garbage collector, and endTick trims
// the pool down to it. So a crowd's churn is served from the pool, and what
// a crowd leaves behind is given back within seconds of its leaving. Live
// views are one tick's cache and the proof view.
//
// mu guards the pool: the room's goroutine takes and releases views, and
// workers take their knowns' holds through states.
type viewPool struct {
	mu        sync.Mutex
	states    *states // where a released view's known goes
	free      []*view
	freeBytes int
	maxFree   int // bytes kept whatever the need (Config.MaxFreeViewBytes)
	need      int // views taken by a recent tick, decaying
	taken     int // views taken this tick
	live      int
}

// fit is how many free views get looks through for one large enough.
const fit = 8

var (
	entitySize = int(unsafe.Sizeof(codec.Entity{}))
	eventSize  = int(unsafe.Sizeof(codec.Event{}))
)

// bytes is what v's arrays hold in memory.
func (v *view) bytes() int {
	return cap(v.v.Entities)*entitySize + cap(v.v.Events)*eventSize
}

// get takes a view for frame: a free one, preferring among the most
// recently freed (up to fit of them) one whose entity array holds at least
// entities, since a small array given to a large view would be replaced
// (garbage) as the view grows.
func (p *viewPool) get(frame uint32, entities int) *view {
	p.mu.Lock()
	defer p.mu.Unlock()
	var v *view
	if n := len(p.free); n > 0 {
		i := n - 1
		for k := n - 1; k >= max(0, n-fit); k-- {
			if cap(p.free[k].v.Entities) >= entities {
				i = k
				break
			}
		}
		v = p.free[i]
		p.free[i] = p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.freeBytes -= v.bytes()
	} else {
		v = &view{}
	}
	if cap(v.v.Entities) < entities {
		// Grown once to the size expected, with room to spare, rather
		// than doubled by the game's appends that fill it.
		v.v.Entities = make([]codec.Entity, 0, entities+entities/4)
	}
	v.v.Reset()
	v.frame, v.refs = frame, 1
	p.live++
	p.taken++
	return v
}

// keeps reports whether the pool keeps one more idle view of b bytes:
// while idle views are at most twice the recent need, or hold at most
// maxFree bytes.
func (p *viewPool) keeps(b int) bool {
	return len(p.free) < 2*p.need || p.freeBytes+b <= p.maxFree
}

// idle is how many views the pool keeps for reuse.
func (p *viewPool) idle() int { return len(p.free) }

// endTick updates the pool's recent need and trims the idle views to the
// bound.
func (p *viewPool) endTick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.need = max(p.taken, p.need-(p.need+31)/32)
	p.taken = 0
	for len(p.free) > 2*p.need && p.freeBytes > p.maxFree {
		k := len(p.free) - 1
		p.freeBytes -= p.free[k].bytes()
		p.free[k] = nil
		p.free = p.free[:k]
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
	if v.known != nil {
		p.states.release(v.known)
		v.known = nil
	}
	if b := v.bytes(); p.keeps(b) {
		p.free = append(p.free, v)
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
	v := r.pool.get(r.frame, r.views.largest)
	r.game.AppendView(&v.v, focus, since)
	r.views.largestNow = max(r.views.largestNow, len(v.v.Entities))
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
