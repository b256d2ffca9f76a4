package codec

// Pricing a delta record by record, for a sender that chooses which
// entities to bring up to date within a bit budget (the server's priority
// accumulator). The bits of a snapshot of v against base are exactly
//
//	FrameBits(records, v) + Σ over its records, in id order,
//	    IDBits(id, previous record's id) + the record's own bits
//
// where a record's own bits are EntityBits for an add or an update and
// RemoveBits for a removal (deltas only). Each call measures one part with
// the same routine that writes it, so the sum equals MeasureDelta; the
// tests hold the two to that.

// RemoveBits is the size of a removal record after its id: the op code.
const RemoveBits = 2

// IDBits is the size of the id code of a record for id, when the previous
// record of the snapshot had id prev (-1 for the first record). id must be
// greater than prev.
func IDBits(id uint32, prev int64) int {
	d := uint32(int64(id) - prev - 1)
	n := 0
	for _, t := range idTiers {
		n++ // the tier's flag bit
		if d >= t.base && d-t.base < 1<<t.bits {
			return n + int(t.bits)
		}
	}
	return n + 32
}

// EntityBits is the size of e's record after its id, in a delta whose
// baseline holds b for e's id (nil: e is not in the baseline), or in a full
// snapshot when delta is false (b is then ignored). It is 0 when the delta
// needs no record for e: same kind and tier as b, and no carried field
// changed. e must be valid for the schema (see AppendDelta).
func (c *Codec) EntityBits(b, e *Entity, delta bool) int {
	s := &c.s
	s.ResetMeasure()
	if !delta {
		c.serializeEntity(s, e)
		return s.Bits()
	}
	if b == nil || b.Kind != e.Kind || b.LOD != e.LOD {
		op := opAdd
		serializeOp(s, &op)
		c.serializeEntity(s, e)
		return s.Bits()
	}
	if e.V == b.V {
		return 0
	}
	mask := c.schema.entities[e.Kind].changed(e, b)
	if mask == 0 {
		return 0
	}
	op := opUpdate
	serializeOp(s, &op)
	c.serializeUpdate(s, e, b, mask)
	return s.Bits()
}

// FrameBits is the size of everything in a snapshot outside its records:
// the delta flag, the record count, v's events and the checksum. Only v's
// events are read.
func (c *Codec) FrameBits(records int, v *View) int {
	s := &c.s
	s.ResetMeasure()
	var delta bool
	s.Bool(&delta)
	n := uint32(records)
	s.Varint(&n)
	c.serializeEvents(s, v)
	var sum uint32
	s.Raw(&sum, 32)
	return s.Bits()
}
