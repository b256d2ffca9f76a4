package codec

// Entity is one entity as a view carries it: quantized field values, of
// which only the fields its kind carries at its level of detail count.
type Entity struct {
	ID   uint32
	Kind uint8
	LOD  uint8
	// V holds field values by field index. Values of fields not carried at
	// LOD are ignored by the encoder; the decoder sets them to zero in an
	// entity it decodes whole and copies them from the baseline otherwise.
	V [MaxFields]int32
}

// Event is one transient event (a hit, an explosion) as a view carries it.
// Events are not part of the delta state: each snapshot carries the events
// its sender chose for it, all fields whole or against the previous event of
// the same kind in the same snapshot.
type Event struct {
	Kind uint8
	V    [MaxFields]int32
}

// View is what one observer is sent at one instant: entities sorted by
// strictly increasing ID, and events in sender order.
//
// When the codec encodes or decodes a view it records the entity part of the
// view's checksum in it, so that later deltas against the view as a baseline
// hash only what changed. A view used as a baseline must therefore not be
// changed in place afterwards: Reset and CopyFrom keep the record right, and
// Invalidate drops it after any other change. A stale record on the
// receiver's side costs one full recomputation when a checksum fails to
// match; on the sender's side it makes the checksum describe the baseline as
// it was when recorded, so the receiver rejects the snapshots (or, if the
// receiver holds that old state, accepts them): Codec.VerifyBaselines turns
// on a check for it at encode time. An encoder does not record again the
// checksum of a view that holds one.
type View struct {
	Entities []Entity
	Events   []Event

	sum   uint64 // Σ EntityHash over Entities, valid when sumOK
	sumOK bool
}

// Reset empties v, keeping its capacity.
func (v *View) Reset() {
	v.Entities = v.Entities[:0]
	v.Events = v.Events[:0]
	v.sumOK = false
}

// Seal records v's entity checksum in v unless it holds one. A view that
// holds one is only read by the encoder, as the view encoded or as a
// baseline, so a sealed view may be encoded from several goroutines at
// once (each with its own Codec). It costs a hash per entity.
func (s *Schema) Seal(v *View) {
	if !v.sumOK {
		v.sum, v.sumOK = s.entitySum(v), true
	}
}

// Checksum returns the entity checksum recorded in v (the wrapping sum of
// Schema.EntityHash over its entities), and whether v holds one.
func (v *View) Checksum() (uint64, bool) { return v.sum, v.sumOK }

// SetChecksum records sum as v's entity checksum without computing it: for
// a view rebuilt from entities whose checksum the caller computed, or
// recorded before (Checksum). The encoder trusts it as it trusts Seal's;
// with VerifyBaselines on, it checks it.
func (v *View) SetChecksum(sum uint64) { v.sum, v.sumOK = sum, true }

// Invalidate drops the checksum the codec recorded in v. Call it after
// changing Entities in place if v will serve as a baseline.
func (v *View) Invalidate() { v.sumOK = false }

// CopyFrom makes v a copy of src, reusing v's capacity.
func (v *View) CopyFrom(src *View) {
	v.Entities = append(v.Entities[:0], src.Entities...)
	v.Events = append(v.Events[:0], src.Events...)
	v.sum, v.sumOK = src.sum, src.sumOK
}

// Find returns the index of the entity with the given id, or -1.
func (v *View) Find(id uint32) int {
	lo, hi := 0, len(v.Entities)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if v.Entities[m].ID < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(v.Entities) && v.Entities[lo].ID == id {
		return lo
	}
	return -1
}

// Equal reports whether a and b describe the same view under s: the same
// entities with the same kinds, tiers and carried field values, and the same
// events. Field values that the tier does not carry are not compared.
func (s *Schema) Equal(a, b *View) bool {
	if len(a.Entities) != len(b.Entities) || len(a.Events) != len(b.Events) {
		return false
	}
	for i := range a.Entities {
		if !s.SameEntity(&a.Entities[i], &b.Entities[i]) {
			return false
		}
	}
	for i := range a.Events {
		x, y := &a.Events[i], &b.Events[i]
		if x.Kind != y.Kind || int(x.Kind) >= len(s.events) {
			return false
		}
		for f := range s.events[x.Kind].Fields {
			if x.V[f] != y.V[f] {
				return false
			}
		}
	}
	return true
}

// SameEntity reports whether a and b are the same entity state under s: the
// same id, kind and tier, and the same values of the fields the tier
// carries (the only ones a snapshot conveys). An entity of a kind or tier
// s does not know is the same as none.
func (s *Schema) SameEntity(a, b *Entity) bool {
	if a.ID != b.ID || a.Kind != b.Kind || a.LOD != b.LOD {
		return false
	}
	if int(a.Kind) >= len(s.entities) || a.LOD >= NumLODs {
		return false
	}
	if a.V == b.V {
		return true
	}
	k := &s.entities[a.Kind]
	for _, f := range k.present[a.LOD][:k.count[a.LOD]] {
		if a.V[f] != b.V[f] {
			return false
		}
	}
	return true
}
