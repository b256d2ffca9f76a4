package codec

// Entity is one entity as a view carries it: quantized field values, of
// which only the fields its kind carries at its level of detail count.
type Entity struct {
	ID   uint32
	Kind uint8
	LOD  uint8
	// V holds field values by field index. Values of fields not carried at
	// LOD are ignored by the encoder and zero after decoding.
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
type View struct {
	Entities []Entity
	Events   []Event
}

// Reset empties v, keeping its capacity.
func (v *View) Reset() {
	v.Entities = v.Entities[:0]
	v.Events = v.Events[:0]
}

// CopyFrom makes v a copy of src, reusing v's capacity.
func (v *View) CopyFrom(src *View) {
	v.Entities = append(v.Entities[:0], src.Entities...)
	v.Events = append(v.Events[:0], src.Events...)
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
		x, y := &a.Entities[i], &b.Entities[i]
		if x.ID != y.ID || x.Kind != y.Kind || x.LOD != y.LOD {
			return false
		}
		if int(x.Kind) >= len(s.entities) || x.LOD >= NumLODs {
			return false
		}
		k := &s.entities[x.Kind]
		for _, f := range k.present[x.LOD][:k.count[x.LOD]] {
			if x.V[f] != y.V[f] {
				return false
			}
		}
	}
	for i := range a.Events {
		if a.Events[i] != b.Events[i] {
			return false
		}
	}
	return true
}
