package server

import (
	"cmp"
	"slices"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/server/demowire"
)

// prioEntry is one entity's accumulated priority for one client: it grows
// each time the entity is left out of a snapshot that could not carry
// everything, and drops to zero when the entity is sent.
type prioEntry struct {
	id  uint32
	acc uint32
}

// Priority weights: what one left-out snapshot adds, by tier. The client's
// own ship outranks everything.
var tierWeight = [codec.NumLODs]uint32{16, 8, 4, 2}

const ownShipWeight = 1 << 24

// prioritize builds, for a client whose snapshot would not fit room bytes,
// a view of its own: the baseline (what the client holds) brought up to
// date for the entities of highest accumulated priority, as many as fit;
// entities that left the view are removed. The others keep their baseline
// state and gain priority, so they come first next time. It returns the view
// (one reference, owned by the caller) and its encoding, valid until the
// next call.
func (r *Room) prioritize(c *client, cur, base *view, room int) (*view, []byte) {
	ents := cur.v.Entities
	c.prio = r.accumulate(c, ents)
	// Order of preference: highest priority first, then lower id.
	order := r.scratch.order[:0]
	for i := range ents {
		order = append(order, int32(i))
	}
	slices.SortFunc(order, func(a, b int32) int {
		if x := cmp.Compare(c.prio[b].acc, c.prio[a].acc); x != 0 {
			return x
		}
		return cmp.Compare(a, b)
	})
	r.scratch.order = order
	if cap(r.scratch.pick) < len(ents) {
		r.scratch.pick = make([]bool, len(ents), 2*len(ents))
	}
	pick := r.scratch.pick[:len(ents)]

	out := r.pool.get(r.frame)
	var bv *codec.View
	if base != nil {
		bv = &base.v
	}
	fits := func(k int, events bool) bool {
		clear(pick)
		for _, i := range order[:k] {
			pick[i] = true
		}
		r.partial(&out.v, bv, &cur.v, pick, events)
		bits, err := r.codec.MeasureDelta(bv, &out.v)
		return err == nil && (bits+7)/8 <= room
	}
	// The largest k that fits, by bisection: fits(0) holds unless the
	// events alone overflow, in which case they are left out.
	events := fits(0, true)
	lo, hi := 0, len(order)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(mid, events) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	fits(lo, events)
	for _, i := range order[:lo] {
		c.prio[i].acc = 0
	}
	if !events {
		r.stats.eventsDropped.Add(uint64(len(cur.v.Events)))
	}
	r.stats.entitiesDeferred.Add(uint64(len(order) - lo))
	body, err := r.codec.AppendDelta(r.scratch.body[:0], bv, &out.v)
	if err != nil {
		panic("server: encoding a prioritized view: " + err.Error())
	}
	return out, body
}

// accumulate returns c's priorities for the entities of ents (sorted by
// id), each raised by its weight: entries of entities no longer in view are
// dropped, new ones start from zero.
func (r *Room) accumulate(c *client, ents []codec.Entity) []prioEntry {
	old := c.prio
	next := r.scratch.prio[:0]
	j := 0
	for i := range ents {
		e := &ents[i]
		for j < len(old) && old[j].id < e.ID {
			j++
		}
		p := prioEntry{id: e.ID}
		if j < len(old) && old[j].id == e.ID {
			p.acc = old[j].acc
		}
		w := tierWeight[e.LOD&(codec.NumLODs-1)]
		if e.Kind == demowire.KindShip && e.ID == c.ship {
			w = ownShipWeight
		}
		p.acc = min(p.acc+w, 1<<31)
		next = append(next, p)
	}
	// Swap buffers: the client keeps next, the scratch keeps old's array.
	r.scratch.prio = old[:0]
	return next
}

// partial fills out with base updated by the entities of cur that pick
// marks; entities of base that cur no longer has are left out (removed).
func (r *Room) partial(out, base, cur *codec.View, pick []bool, events bool) {
	out.Reset()
	var be []codec.Entity
	if base != nil {
		be = base.Entities
	}
	j := 0
	for i := range cur.Entities {
		e := &cur.Entities[i]
		for j < len(be) && be[j].ID < e.ID {
			j++ // in base only: removed
		}
		switch {
		case pick[i]:
			out.Entities = append(out.Entities, *e)
		case j < len(be) && be[j].ID == e.ID:
			out.Entities = append(out.Entities, be[j])
		}
	}
	if events {
		out.Events = append(out.Events, cur.Events...)
	}
}
