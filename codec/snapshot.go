package codec

import "fmt"

// Snapshot operations in a delta.
const (
	opUpdate uint8 = iota // same kind and tier as the baseline; changed fields follow
	opAdd                 // new entity, or kind/tier changed: everything carried follows
	opRemove              // in the baseline, gone now
)

// record is one entry of a planned snapshot: an entity that the encoder must
// mention, in increasing id order.
type record struct {
	id   uint32
	op   uint8
	cur  int32     // index in the current view (add, update)
	base int32     // index in the baseline (update, remove, add that replaces)
	mask FieldMask // update: changed fields, by position among the carried fields
}

// Codec encodes and decodes snapshots of one schema. It owns scratch space so
// that encoding and decoding allocate nothing in steady state. A Codec is not
// safe for concurrent use; use one per goroutine (they are cheap).
type Codec struct {
	schema *Schema
	s      Stream
	recs   []record
	last   [MaxKinds]int32 // per event kind: index of the previous event in this snapshot, -1 if none
	verify bool            // recompute baselines' recorded checksums before trusting them
}

// VerifyBaselines makes the encoder recompute the checksum recorded in every
// baseline, and in the view it encodes when that holds one, before using
// it, and fail with ErrView if the view changed in place since it was
// recorded. It costs a hash per baseline entity; use it in
// tests and when debugging desyncs.
func (c *Codec) VerifyBaselines(on bool) { c.verify = on }

// NewCodec returns a codec for schema s.
func NewCodec(s *Schema) *Codec {
	return &Codec{schema: s, recs: make([]record, 0, 256)}
}

// Schema returns the codec's schema.
func (c *Codec) Schema() *Schema { return c.schema }

// AppendFull appends the full encoding of v (no baseline) to dst, within
// cap(dst); it never grows dst. ErrOverflow means cap(dst) is too small.
func (c *Codec) AppendFull(dst []byte, v *View) ([]byte, error) {
	return c.AppendDelta(dst, nil, v)
}

// AppendDelta appends the encoding of v as a delta against base to dst,
// within cap(dst). A nil base encodes a full snapshot. The receiver must hold
// exactly base (the enclosing packet names which one it is).
//
// base is only read. AppendDelta records v's checksum in v (see View) unless
// v holds one, so v must not be encoded from two goroutines at once until it
// holds one (Schema.Seal records it); if base carries such a record, v's
// checksum costs a hash per changed entity only.
func (c *Codec) AppendDelta(dst []byte, base, v *View) ([]byte, error) {
	if err := c.plan(base, v); err != nil {
		return dst, err
	}
	c.s.ResetWrite(dst)
	c.serialize(&c.s, base, v)
	out, err := c.s.Finish()
	if err != nil {
		return dst, err
	}
	return out, nil
}

// MeasureDelta returns the exact number of bits AppendDelta would write for
// v against base (nil base: full). Bytes on the wire are (bits+7)/8. Like
// AppendDelta it records v's checksum in v.
func (c *Codec) MeasureDelta(base, v *View) (int, error) {
	if err := c.plan(base, v); err != nil {
		return 0, err
	}
	c.s.ResetMeasure()
	c.serialize(&c.s, base, v)
	return c.s.Bits(), c.s.Err()
}

// Decode decodes the snapshot in src into out. A delta snapshot needs the
// baseline the sender encoded against in base; a full snapshot ignores base.
// out is overwritten and must not alias base; its capacity is reused, so
// decoding into a view of sufficient capacity allocates nothing. The
// checksum is verified: ErrChecksum means out does not match the sender's
// view (wrong baseline). On success out records its checksum (see View), so
// that the next delta against it is verified at the cost of its changes; base
// is only read. Any error leaves out in an unspecified state.
func (c *Codec) Decode(src []byte, base, out *View) error {
	if base != nil && (base == out || sharesArray(base.Entities, out.Entities)) {
		return fmt.Errorf("%w: decode output aliases the baseline", ErrView)
	}
	c.s.ResetRead(src)
	c.serialize(&c.s, base, out)
	_, err := c.s.Finish()
	return err
}

// IsDelta reports whether an encoded snapshot needs a baseline. It reports
// false for an empty input.
func IsDelta(src []byte) bool { return len(src) > 0 && src[0]&1 == 1 }

// plan validates v and lists the records a snapshot of v against base must
// carry, in id order.
func (c *Codec) plan(base, v *View) error {
	s := c.schema
	c.recs = c.recs[:0]
	if len(v.Entities) > s.maxEntities {
		return fmt.Errorf("%w: %d entities, limit %d", ErrView, len(v.Entities), s.maxEntities)
	}
	if len(v.Events) > s.maxEvents {
		return fmt.Errorf("%w: %d events, limit %d", ErrView, len(v.Events), s.maxEvents)
	}
	for i := range v.Events {
		if int(v.Events[i].Kind) >= len(s.events) {
			return fmt.Errorf("%w: event %d has unknown kind %d", ErrView, i, v.Events[i].Kind)
		}
	}
	cur := v.Entities
	var old []Entity
	if base != nil {
		old = base.Entities
	}
	// One pass over both views in id order: validate each entity of v and
	// emit a record wherever v differs from the baseline.
	j := 0
	prev := int64(-1)
	for i := range cur {
		e := &cur[i]
		if int(e.Kind) >= len(s.entities) || e.LOD >= NumLODs {
			return fmt.Errorf("%w: entity %d has kind %d, tier %d", ErrView, e.ID, e.Kind, e.LOD)
		}
		if int64(e.ID) <= prev {
			return fmt.Errorf("%w: entity ids not strictly increasing at %d", ErrView, e.ID)
		}
		prev = int64(e.ID)
		for j < len(old) && old[j].ID < e.ID {
			c.recs = append(c.recs, record{id: old[j].ID, op: opRemove, cur: -1, base: int32(j)})
			j++
		}
		if j == len(old) || old[j].ID != e.ID {
			c.recs = append(c.recs, record{id: e.ID, op: opAdd, cur: int32(i), base: -1})
			continue
		}
		b := &old[j]
		j++
		if e.Kind != b.Kind || e.LOD != b.LOD {
			c.recs = append(c.recs, record{id: e.ID, op: opAdd, cur: int32(i), base: int32(j - 1)})
			continue
		}
		if e.V == b.V { // identical arrays: nothing carried changed
			continue
		}
		mask := s.entities[e.Kind].changed(e, b)
		if mask != 0 {
			c.recs = append(c.recs, record{id: e.ID, op: opUpdate, cur: int32(i), base: int32(j - 1), mask: mask})
		}
	}
	for ; j < len(old); j++ {
		c.recs = append(c.recs, record{id: old[j].ID, op: opRemove, cur: -1, base: int32(j)})
	}
	if base != nil && c.verify && base.sumOK && base.sum != s.entitySum(base) {
		return fmt.Errorf("%w: baseline changed in place after its checksum was recorded", ErrView)
	}
	if c.verify && v.sumOK && v.sum != s.entitySum(v) {
		return fmt.Errorf("%w: view changed in place after its checksum was recorded", ErrView)
	}
	return nil
}

// sumOf records v's entity checksum in v, after plan: from base's record
// and the planned records when base has one, else from scratch. The
// encoder calls it only once the records are written, so an encoding that
// overflows its buffer does not pay for hashing.
func (c *Codec) sumOf(base, v *View) {
	if v.sumOK {
		return // recorded: a view is not changed in place once encoded (see View)
	}
	if base == nil {
		v.sum, v.sumOK = c.schema.entitySum(v), true
		return
	}
	c.recordSum(base, v)
}

// recordSum records v's entity checksum in v: from base's record and the
// planned records when base has one, else from scratch.
func (c *Codec) recordSum(base, v *View) {
	s := c.schema
	if !base.sumOK {
		v.sum, v.sumOK = s.entitySum(v), true
		return
	}
	sum := base.sum
	for i := range c.recs {
		r := &c.recs[i]
		if r.cur >= 0 {
			sum += s.EntityHash(&v.Entities[r.cur])
		}
		if r.base >= 0 {
			sum -= s.EntityHash(&base.Entities[r.base])
		}
	}
	v.sum, v.sumOK = sum, true
}

// changed is the mask of the fields e carries at its tier whose values
// differ from b's, by position among the carried fields (an update's
// mask). e and b are of kind k and of the same tier.
func (k *kindInfo) changed(e, b *Entity) FieldMask {
	var mask FieldMask
	for p, f := range k.present[e.LOD][:k.count[e.LOD]] {
		if e.V[f] != b.V[f] {
			mask |= 1 << p
		}
	}
	return mask
}

// sharesArray reports whether a and b start at the same array element.
func sharesArray(a, b []Entity) bool {
	return cap(a) > 0 && cap(b) > 0 && &a[:1][0] == &b[:1][0]
}
