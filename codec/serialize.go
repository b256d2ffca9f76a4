package codec

// serialize is the one routine behind AppendDelta, MeasureDelta and Decode.
// Writing and measuring, it walks c.recs (filled by plan) and reads v;
// reading, it rebuilds v from base and the records in the input. The layout
// it produces is specified in STANDARD.md, "Snapshot".
func (c *Codec) serialize(s *Stream, base, v *View) {
	sc := c.schema
	reading := s.IsReading()

	delta := base != nil
	s.Bool(&delta)
	if reading {
		if delta && base == nil {
			s.Fail(errNoBaseline)
			return
		}
		v.Entities = v.Entities[:0]
		v.Events = v.Events[:0]
		v.sumOK = false
	}
	// Reading: the entity checksum of v, kept up to date record by record
	// from the baseline's when it has one.
	incremental := reading && delta && base.sumOK
	var sum64 uint64
	if incremental {
		sum64 = base.sum
	}

	n := uint32(len(c.recs))
	s.Varint(&n)
	var old []Entity
	if delta {
		old = base.Entities
	}
	if reading && s.Err() == nil && int64(n) > int64(sc.maxEntities)+int64(len(old)) {
		s.Fail(corrupt("record count %d exceeds the limit", n))
		return
	}

	j := 0 // reading: next baseline entity not yet carried over
	prev := int64(-1)
	for i := uint32(0); i < n && s.Err() == nil; i++ {
		var r record
		if !reading {
			r = c.recs[i]
		}
		c.serializeID(s, &r.id, prev)
		prev = int64(r.id)
		if delta {
			serializeOp(s, &r.op)
		} else {
			r.op = opAdd
		}
		if s.Err() != nil {
			return
		}
		if reading {
			// Baseline entities before this id are unchanged: carry them over.
			for j < len(old) && old[j].ID < r.id {
				if !appendEntity(s, sc, v, &old[j]) {
					return
				}
				j++
			}
			inBase := j < len(old) && old[j].ID == r.id
			if r.op != opAdd && !inBase {
				s.Fail(corrupt("entity %d is not in the baseline", r.id))
				return
			}
			if inBase {
				r.base = int32(j)
				j++
				if incremental {
					sum64 -= sc.EntityHash(&old[r.base])
				}
			}
		}
		switch r.op {
		case opAdd:
			var e *Entity
			if reading {
				if !appendEntity(s, sc, v, &Entity{ID: r.id}) {
					return
				}
				e = &v.Entities[len(v.Entities)-1]
			} else {
				e = &v.Entities[r.cur]
			}
			c.serializeEntity(s, e)
			if incremental && s.Err() == nil {
				sum64 += sc.EntityHash(e)
			}
		case opUpdate:
			b := &old[r.base]
			var e *Entity
			if reading {
				if !appendEntity(s, sc, v, b) {
					return
				}
				e = &v.Entities[len(v.Entities)-1]
			} else {
				e = &v.Entities[r.cur]
			}
			c.serializeUpdate(s, e, b, r.mask)
			if incremental && s.Err() == nil {
				sum64 += sc.EntityHash(e)
			}
		}
	}
	if reading {
		for ; j < len(old) && s.Err() == nil; j++ {
			appendEntity(s, sc, v, &old[j])
		}
	}
	c.serializeEvents(s, v)

	if s.Err() != nil {
		return
	}
	if reading && !incremental {
		sum64 = sc.entitySum(v)
	} else if !reading {
		c.sumOf(base, v)
		sum64 = v.sum
	}
	events := sc.eventHash(v)
	sum := uint32(events + sum64)
	s.Raw(&sum, 32)
	if reading && s.Err() == nil {
		if sum != uint32(events+sum64) && incremental {
			// The baseline's recorded checksum may be stale (changed in
			// place without Invalidate): recompute once before rejecting.
			sum64 = sc.entitySum(v)
		}
		if sum != uint32(events+sum64) {
			s.Fail(ErrChecksum)
			return
		}
		v.sum, v.sumOK = sum64, true
	}
}

// appendEntity appends a copy of e to v.Entities, enforcing the view bound.
func appendEntity(s *Stream, sc *Schema, v *View, e *Entity) bool {
	if len(v.Entities) >= sc.maxEntities {
		s.Fail(corrupt("more than %d entities", sc.maxEntities))
		return false
	}
	v.Entities = append(v.Entities, *e)
	return true
}

// serializeOp codes an operation: 0 update, 10 add, 11 remove.
func serializeOp(s *Stream, op *uint8) {
	notUpdate := *op != opUpdate
	s.Bool(&notUpdate)
	if !notUpdate {
		*op = opUpdate
		return
	}
	remove := *op == opRemove
	s.Bool(&remove)
	if remove {
		*op = opRemove
	} else {
		*op = opAdd
	}
}

// Entity id gaps use a tiered prefix code. With d = id - prev - 1 (prev = -1
// before the first record):
//
//	1                  d = 0
//	01  + 3 bits       d = 1 .. 8
//	001 + 5 bits       d = 9 .. 40
//	0001 + 8 bits      d = 41 .. 296
//	0000 + 32 bits     d = 297 .. 2^32-1 (sent as d itself)
var idTiers = [...]struct {
	bits uint
	base uint32
}{{0, 0}, {3, 1}, {5, 9}, {8, 41}}

func (c *Codec) serializeID(s *Stream, id *uint32, prev int64) {
	var d uint32
	if !s.IsReading() {
		d = uint32(int64(*id) - prev - 1)
	}
	tier := 0
	for ; tier < len(idTiers); tier++ {
		t := idTiers[tier]
		in := !s.IsReading() && d >= t.base && d-t.base < 1<<t.bits
		s.Bool(&in)
		if s.Err() != nil {
			return
		}
		if in {
			off := d - t.base
			s.Raw(&off, t.bits)
			d = off + t.base
			break
		}
	}
	if tier == len(idTiers) {
		s.Raw(&d, 32)
	}
	if s.IsReading() {
		if int64(d)+prev+1 > 0xffffffff {
			s.Fail(corrupt("entity id past 2^32-1"))
			return
		}
		*id = uint32(int64(d) + prev + 1)
	}
}

// serializeEntity codes an entity whole: kind, tier, carried fields.
func (c *Codec) serializeEntity(s *Stream, e *Entity) {
	sc := c.schema
	kind := uint32(e.Kind)
	s.Raw(&kind, sc.kindBits)
	lod := uint32(e.LOD)
	s.Raw(&lod, 2)
	if s.Err() != nil {
		return
	}
	if s.IsReading() {
		if kind >= uint32(len(sc.entities)) {
			s.Fail(corrupt("unknown entity kind %d", kind))
			return
		}
		e.Kind, e.LOD = uint8(kind), uint8(lod)
		e.V = [MaxFields]int32{}
	}
	k := &sc.entities[e.Kind]
	for _, f := range k.present[e.LOD][:k.count[e.LOD]] {
		fd := &k.Fields[f]
		s.Int(&e.V[f], fd.Min, fd.Max)
	}
}

// serializeUpdate codes the changed fields of e against its baseline b (same
// kind and tier): a mask over the carried fields, then each changed field.
func (c *Codec) serializeUpdate(s *Stream, e, b *Entity, mask FieldMask) {
	k := &c.schema.entities[e.Kind]
	carried := k.present[e.LOD][:k.count[e.LOD]]
	m := uint32(mask)
	s.Raw(&m, uint(len(carried)))
	for p, f := range carried {
		if m&(1<<p) != 0 {
			serializeChange(s, &e.V[f], b.V[f], &k.Fields[f])
		}
	}
}

// serializeChange codes *v given the reference value ref: with a Delta
// width, a flag bit then either the small difference or the whole value;
// without, the whole value.
func serializeChange(s *Stream, v *int32, ref int32, f *Field) {
	if f.Delta == 0 {
		s.Int(v, f.Min, f.Max)
		return
	}
	half := int64(1) << (f.Delta - 1)
	var d int64
	small := false
	if !s.IsReading() {
		if *v < f.Min || *v > f.Max {
			s.Fail(ErrWriteRange)
			return
		}
		d = diff(*v, ref, f)
		small = d >= -half && d < half
	}
	s.Bool(&small)
	if !small {
		s.Int(v, f.Min, f.Max)
		return
	}
	off := uint32(d + half)
	s.Raw(&off, uint(f.Delta))
	if s.IsReading() && s.Err() == nil {
		x, ok := apply(ref, int64(off)-half, f)
		if !ok {
			s.Fail(ErrRange)
			return
		}
		*v = x
	}
}

// diff is v - ref, taken modulo the range for wrapping fields.
func diff(v, ref int32, f *Field) int64 {
	d := int64(v) - int64(ref)
	if f.Wrap {
		m := int64(f.Max) - int64(f.Min) + 1
		d = ((d % m) + m) % m
		if d >= (m+1)/2 {
			d -= m
		}
	}
	return d
}

// apply is ref + d, wrapped for wrapping fields; ok is false when the result
// leaves the range of a non-wrapping field.
func apply(ref int32, d int64, f *Field) (int32, bool) {
	x := int64(ref) + d
	if f.Wrap {
		m := int64(f.Max) - int64(f.Min) + 1
		x = ((x-int64(f.Min))%m+m)%m + int64(f.Min)
	}
	if x < int64(f.Min) || x > int64(f.Max) {
		return 0, false
	}
	return int32(x), true
}

// serializeEvents codes the event list: a count, then per event its kind and
// fields, each field with a Delta width coded against the same field of the
// previous event of that kind in this snapshot.
func (c *Codec) serializeEvents(s *Stream, v *View) {
	sc := c.schema
	if len(sc.events) == 0 {
		return
	}
	n := uint32(len(v.Events))
	s.Varint(&n)
	if s.Err() != nil {
		return
	}
	if s.IsReading() && int64(n) > int64(sc.maxEvents) {
		s.Fail(corrupt("%d events, limit %d", n, sc.maxEvents))
		return
	}
	for k := range sc.events {
		c.last[k] = -1
	}
	for i := 0; i < int(n) && s.Err() == nil; i++ {
		if s.IsReading() {
			v.Events = append(v.Events, Event{})
		}
		ev := &v.Events[i]
		kind := uint32(ev.Kind)
		s.Raw(&kind, sc.eventBits)
		if s.IsReading() {
			if kind >= uint32(len(sc.events)) {
				s.Fail(corrupt("unknown event kind %d", kind))
				return
			}
			ev.Kind = uint8(kind)
		}
		k := &sc.events[kind]
		prev := c.last[kind]
		for f := range k.Fields {
			fd := &k.Fields[f]
			if prev >= 0 {
				serializeChange(s, &ev.V[f], v.Events[prev].V[f], fd)
			} else {
				s.Int(&ev.V[f], fd.Min, fd.Max)
			}
		}
		c.last[kind] = int32(i)
	}
}
