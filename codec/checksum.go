package codec

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// hasher computes the view checksum without allocating: it lays the view's
// canonical bytes out in a scratch block and feeds xxhash64 a block at a time.
type hasher struct {
	d   xxhash.Digest
	buf [4096]byte
}

// entityMax is the most canonical bytes one entity or event can take.
const entityMax = 4 + 1 + 1 + 4*MaxFields

// Checksum returns the 32-bit view checksum: the low 32 bits of the xxhash64
// (seed 0) of the view's canonical encoding (STANDARD.md, "Checksum"):
//
//	[entity count] (uint32) [event count] (uint32)
//	per entity: [id] (uint32) [kind] (uint8) [lod] (uint8) [carried field values] (int32 each)
//	per event:  [kind] (uint8) [field values] (int32 each)
//
// all little-endian. The view must be valid under s (kinds and tiers in range).
// It allocates a 4 KB scratch block per call; Codec.Checksum does not.
func (s *Schema) Checksum(v *View) uint32 {
	var h hasher
	return s.checksum(&h, v)
}

func (s *Schema) checksum(h *hasher, v *View) uint32 {
	h.d.Reset()
	b := h.buf[:]
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(len(v.Entities)))
	le.PutUint32(b[4:], uint32(len(v.Events)))
	n := 8
	for i := range v.Entities {
		if n > len(b)-entityMax {
			h.d.Write(b[:n])
			n = 0
		}
		e := &v.Entities[i]
		out := b[n : n+entityMax]
		le.PutUint32(out, e.ID)
		out[4] = e.Kind
		out[5] = e.LOD
		k := &s.entities[e.Kind]
		lod := e.LOD & (NumLODs - 1)
		o := 6
		for _, f := range k.present[lod][:k.count[lod]] {
			le.PutUint32(out[o:], uint32(e.V[f&(MaxFields-1)]))
			o += 4
		}
		n += o
	}
	for i := range v.Events {
		if n > len(b)-entityMax {
			h.d.Write(b[:n])
			n = 0
		}
		ev := &v.Events[i]
		b[n] = ev.Kind
		n++
		for f := range s.events[ev.Kind].Fields {
			le.PutUint32(b[n:], uint32(ev.V[f&(MaxFields-1)]))
			n += 4
		}
	}
	h.d.Write(b[:n])
	return uint32(h.d.Sum64())
}
