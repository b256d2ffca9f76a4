package codec

import "fmt"

// AppendSubset encodes against base the view that base becomes when it
// takes from cur the entities pick marks and drops the entities cur no
// longer has: an entity of cur that pick does not mark keeps its state in
// base, or stays absent if base lacks it. It writes that view into out (its
// checksum recorded, its events cur's when withEvents, else none) and
// appends the snapshot to dst within cap(dst), like AppendDelta; nil base
// means a full snapshot of out. pick[i] is cur.Entities[i]'s mark.
//
// It is AppendDelta(dst, base, out) for the out it builds, with the same
// bytes, for the price of a pass over the ids of cur and base, a copy of
// each entity of out, and a comparison with base of the picked entities
// only: a sender that brings a few entities of a large view up to date
// (a client's prioritized snapshot) pays nothing to compare the others.
// out must not alias base or cur; base and cur are only read, and base's
// entities must be valid for the schema (a view encoded before is).
func (c *Codec) AppendSubset(dst []byte, base, cur *View, pick []bool, withEvents bool, out *View) ([]byte, error) {
	s := c.schema
	if len(pick) != len(cur.Entities) {
		return dst, fmt.Errorf("%w: %d marks for %d entities", ErrView, len(pick), len(cur.Entities))
	}
	if out == cur || out == base {
		return dst, fmt.Errorf("%w: subset output aliases its input", ErrView)
	}
	out.Reset()
	// out has at most cur's entities: one allocation at most, with room
	// for a view a sixteenth larger (views grow and shrink by a few
	// entities a tick), and none once out's array has served one as large.
	if n := len(cur.Entities); cap(out.Entities) < n {
		out.Entities = make([]Entity, 0, n+n/16)
	}
	c.recs = c.recs[:0]
	var old []Entity
	if base != nil {
		old = base.Entities
	}
	j := 0
	prev := int64(-1)
	for i := range cur.Entities {
		e := &cur.Entities[i]
		if int64(e.ID) <= prev {
			return dst, fmt.Errorf("%w: entity ids not strictly increasing at %d", ErrView, e.ID)
		}
		prev = int64(e.ID)
		for j < len(old) && old[j].ID < e.ID {
			c.recs = append(c.recs, record{id: old[j].ID, op: opRemove, cur: -1, base: int32(j)})
			j++
		}
		inBase := j < len(old) && old[j].ID == e.ID
		switch {
		case pick[i]:
			if int(e.Kind) >= len(s.entities) || e.LOD >= NumLODs {
				return dst, fmt.Errorf("%w: entity %d has kind %d, tier %d", ErrView, e.ID, e.Kind, e.LOD)
			}
			at := int32(len(out.Entities))
			out.Entities = append(out.Entities, *e)
			if !inBase {
				c.recs = append(c.recs, record{id: e.ID, op: opAdd, cur: at, base: -1})
				break
			}
			b := &old[j]
			if e.Kind != b.Kind || e.LOD != b.LOD {
				c.recs = append(c.recs, record{id: e.ID, op: opAdd, cur: at, base: int32(j)})
				break
			}
			if e.V == b.V {
				break
			}
			mask := s.entities[e.Kind].changed(e, b)
			if mask != 0 {
				c.recs = append(c.recs, record{id: e.ID, op: opUpdate, cur: at, base: int32(j), mask: mask})
			}
		case inBase:
			out.Entities = append(out.Entities, old[j])
		}
		if inBase {
			j++
		}
	}
	for ; j < len(old); j++ {
		c.recs = append(c.recs, record{id: old[j].ID, op: opRemove, cur: -1, base: int32(j)})
	}
	if withEvents {
		if len(cur.Events) > s.maxEvents {
			return dst, fmt.Errorf("%w: %d events, limit %d", ErrView, len(cur.Events), s.maxEvents)
		}
		for i := range cur.Events {
			if int(cur.Events[i].Kind) >= len(s.events) {
				return dst, fmt.Errorf("%w: event %d has unknown kind %d", ErrView, i, cur.Events[i].Kind)
			}
		}
		out.Events = append(out.Events, cur.Events...)
	}
	if len(out.Entities) > s.maxEntities {
		return dst, fmt.Errorf("%w: %d entities, limit %d", ErrView, len(out.Entities), s.maxEntities)
	}
	if base != nil && c.verify && base.sumOK && base.sum != s.entitySum(base) {
		return dst, fmt.Errorf("%w: baseline changed in place after its checksum was recorded", ErrView)
	}
	c.s.ResetWrite(dst)
	c.serialize(&c.s, base, out)
	b, err := c.s.Finish()
	if err != nil {
		return dst, err
	}
	return b, nil
}
