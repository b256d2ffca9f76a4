package codec

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// hasher computes the view checksum without allocating: it serializes the
// view canonically into a small scratch block and feeds xxhash64 block by block.
type hasher struct {
	d   xxhash.Digest
	buf [512]byte
	n   int
}

func (h *hasher) u32(v uint32) {
	if h.n+4 > len(h.buf) {
		h.d.Write(h.buf[:h.n])
		h.n = 0
	}
	binary.LittleEndian.PutUint32(h.buf[h.n:], v)
	h.n += 4
}

func (h *hasher) u8(v uint8) {
	if h.n+1 > len(h.buf) {
		h.d.Write(h.buf[:h.n])
		h.n = 0
	}
	h.buf[h.n] = v
	h.n++
}

// Checksum returns the 32-bit view checksum: the low 32 bits of the xxhash64
// (seed 0) of the view's canonical encoding (STANDARD.md, "Checksum"):
//
//	[entity count] (uint32) [event count] (uint32)
//	per entity: [id] (uint32) [kind] (uint8) [lod] (uint8) [carried field values] (int32 each)
//	per event:  [kind] (uint8) [field values] (int32 each)
//
// all little-endian. The view must be valid under s (kinds and tiers in range).
// Checksum is safe for concurrent use only on distinct hashers; use the
// method on Codec in hot paths.
func (s *Schema) Checksum(v *View) uint32 {
	var h hasher
	return s.checksum(&h, v)
}

func (s *Schema) checksum(h *hasher, v *View) uint32 {
	h.d.Reset()
	h.n = 0
	h.u32(uint32(len(v.Entities)))
	h.u32(uint32(len(v.Events)))
	for i := range v.Entities {
		e := &v.Entities[i]
		h.u32(e.ID)
		h.u8(e.Kind)
		h.u8(e.LOD)
		k := &s.entities[e.Kind]
		for _, f := range k.present[e.LOD][:k.count[e.LOD]] {
			h.u32(uint32(e.V[f]))
		}
	}
	for i := range v.Events {
		ev := &v.Events[i]
		h.u8(ev.Kind)
		for f := range s.events[ev.Kind].Fields {
			h.u32(uint32(ev.V[f]))
		}
	}
	h.d.Write(h.buf[:h.n])
	return uint32(h.d.Sum64())
}
