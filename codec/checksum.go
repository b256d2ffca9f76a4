package codec

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// The view checksum is built so that it can be kept up to date from a
// delta's records alone: it is a wrapping sum of one xxhash64 per entity,
// plus one xxhash64 over the counts and the events (STANDARD.md, "Checksum").
// A view remembers the entity part of its sum once the codec has computed it
// (see View), so a delta against it costs a hash per changed entity, not per
// entity in view.

// entityMax is the most canonical bytes one entity or event can take.
const entityMax = 4 + 1 + 1 + 4*MaxFields

// EntityHash returns the xxhash64 (seed 0) of e's canonical bytes:
//
//	[id] (uint32) [kind] (uint8) [lod] (uint8) [each carried field value] (int32)
//
// little-endian. e must be valid under s (kind and tier in range). It does
// not allocate and is safe for concurrent use.
func (s *Schema) EntityHash(e *Entity) uint64 {
	var b [entityMax]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], e.ID)
	b[4] = e.Kind
	b[5] = e.LOD
	k := &s.entities[e.Kind]
	lod := e.LOD & (NumLODs - 1)
	n := 6
	for _, f := range k.present[lod][:k.count[lod]] {
		le.PutUint32(b[n:], uint32(e.V[f]))
		n += 4
	}
	return xxhash.Sum64(b[:n])
}

// entitySum is the wrapping sum of EntityHash over v's entities.
func (s *Schema) entitySum(v *View) uint64 {
	var sum uint64
	for i := range v.Entities {
		sum += s.EntityHash(&v.Entities[i])
	}
	return sum
}

// eventHash is the xxhash64 of the view's counts and its events:
//
//	[entity count] (uint32) [event count] (uint32)
//	per event: [kind] (uint8) [each field value] (int32)
func (s *Schema) eventHash(v *View) uint64 {
	var b [entityMax]byte
	var h xxhash.Digest
	le := binary.LittleEndian
	h.Reset()
	le.PutUint32(b[0:], uint32(len(v.Entities)))
	le.PutUint32(b[4:], uint32(len(v.Events)))
	h.Write(b[:8])
	for i := range v.Events {
		ev := &v.Events[i]
		b[0] = ev.Kind
		n := 1
		for f := range s.events[ev.Kind].Fields {
			le.PutUint32(b[n:], uint32(ev.V[f&(MaxFields-1)]))
			n += 4
		}
		h.Write(b[:n])
	}
	return h.Sum64()
}

// Checksum returns the 32-bit checksum of v computed from scratch: the low
// 32 bits of eventHash(v) + Σ EntityHash(e), sums wrapping at 2^64. v must be
// valid under s. It ignores and does not update the sum v caches; it does not
// allocate and is safe for concurrent use.
func (s *Schema) Checksum(v *View) uint32 {
	return uint32(s.eventHash(v) + s.entitySum(v))
}
