package server

import (
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
	// Order of preference: highest priority first, then lower index (id).
	// Keys sort ascending as (^acc, index).
	keys := r.scratch.keys[:0]
	for i := range ents {
		keys = append(keys, uint64(^c.prio[i].acc)<<32|uint64(i))
	}
	slices.Sort(keys)
	r.scratch.keys = keys
	order := r.scratch.order[:0]
	for _, k := range keys {
		order = append(order, int32(uint32(k)))
	}
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
	roomBits := 8 * room
	last := -1 // the k that out holds
	measure := func(k int, events bool) int {
		last = k
		clear(pick)
		for _, i := range order[:k] {
			pick[i] = true
		}
		r.partial(&out.v, bv, &cur.v, pick, events)
		bits, err := r.codec.MeasureDelta(bv, &out.v)
		if err != nil {
			panic("server: measuring a prioritized view: " + err.Error())
		}
		r.stats.measures.Add(1)
		return bits
	}
	// The largest k that fits. Each measurement costs a pass over the view,
	// so k is first guessed from the bits per entity of the last
	// measurement (a few passes), and only then bisected.
	events := measure(0, true) <= roomBits
	lo, hi := 0, len(order) // measure(lo) fits; measure(hi+1) does not
	k, bits := len(order), 0
	for range 4 {
		bits = measure(k, events)
		if bits <= roomBits {
			lo = k
			break
		}
		hi = k - 1
		next := int(int64(k) * int64(roomBits) / int64(bits) * 15 / 16)
		if next <= lo {
			break
		}
		k = next
	}
	for lo < hi && hi-lo > len(order)/32 {
		mid := (lo + hi + 1) / 2
		if measure(mid, events) <= roomBits {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if last != lo {
		measure(lo, events)
	}
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
