package server

import (
	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
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
}

// viewPool recycles views so steady state allocates nothing. Bound: it
// keeps at most maxFree idle views; the live ones are bounded by clients ×
// protocol.History plus one tick's cache.
type viewPool struct {
	free []*view
	live int
}

const maxFreeViews = 4096

func (p *viewPool) get(frame uint32) *view {
	var v *view
	if n := len(p.free); n > 0 {
		v, p.free = p.free[n-1], p.free[:n-1]
	} else {
		v = &view{}
	}
	v.v.Reset()
	v.frame, v.refs = frame, 1
	p.live++
	return v
}

func (p *viewPool) hold(v *view) *view {
	v.refs++
	return v
}

func (p *viewPool) release(v *view) {
	v.refs--
	if v.refs > 0 {
		return
	}
	if v.refs < 0 {
		panic("server: view released more often than held")
	}
	p.live--
	if len(p.free) < maxFreeViews {
		p.free = append(p.free, v)
	}
}

// tileKey names a shared view: what an observer on tile sees at this tick,
// with the events of the frames after since.
type tileKey struct {
	tile  sim.Hex
	since uint32
}

// tileCache holds the tile views built during one tick, so every client on
// the same tile with the same event window gets the same view (and, with
// the same baseline, the same bytes). Cleared at the end of the tick; it
// holds one reference to each view meanwhile.
type tileCache struct {
	views map[tileKey]*view
	evs   []fleet.CombatEvent // scratch
}

func (r *Room) tileView(tile sim.Hex, since uint32) *view {
	k := tileKey{tile, since}
	if v := r.tiles.views[k]; v != nil {
		return v
	}
	v := r.pool.get(r.frame)
	r.wire.AppendEntities(&v.v, r.game, tile, *r.cfg.Interest)
	r.tiles.evs = r.events.since(r.tiles.evs[:0], since, r.frame)
	r.wire.AppendEvents(&v.v, r.tiles.evs, tile, *r.cfg.Interest)
	r.tiles.views[k] = v
	r.stats.viewsBuilt.Add(1)
	return v
}

// endTick drops the cache's references.
func (c *tileCache) endTick(p *viewPool) {
	for k, v := range c.views {
		p.release(v)
		delete(c.views, k)
	}
}
