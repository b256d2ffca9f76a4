package codec

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// SchemaFormatVersion numbers the layout of a schema's description (the JSON
// of SchemaDesc) and of the bytes its hash covers. It changes whenever either
// layout changes, for instance when Field gains an attribute that affects
// the wire.
const SchemaFormatVersion = 1

// Hash returns the schema hash: the xxhash64 (seed 0) of the schema's
// canonical bytes (STANDARD.md 2.1, "Schema hash"), little-endian:
//
//	[format version] (uint32)       SchemaFormatVersion
//	[max entities] (uint32)
//	[max events] (uint32)
//	[entity kind count] (uint8)
//	[event kind count] (uint8)
//	each entity kind, then each event kind, in kind order:
//	  [name length] (uint32) [name] (bytes)
//	  [field count] (uint8)
//	  each field, in field order:
//	    [name length] (uint32) [name] (bytes)
//	    [min] (int32) [max] (int32) [delta] (uint8) [wrap] (uint8, 0 or 1)
//	  entity kinds only: [tier mask] (uint16) for tiers 0, 1, 2, 3
//
// The bytes cover everything that decides how a view is encoded or which
// input a decoder accepts: the kinds and their order, each field's range,
// delta width and wrap flag, the fields each tier carries, and the view
// bounds. A field's width is a function of its range and is not repeated.
// Names are covered too: they are how a client built from the served
// description addresses fields, so two schemas whose wire bytes agree but
// whose names differ (x and y swapped) are different contracts. Distinct
// schemas have distinct canonical bytes; two schemas whose hashes differ
// are incompatible.
//
// The hash is computed once by NewSchema. Hash does not allocate and is safe
// for concurrent use.
func (s *Schema) Hash() uint64 { return s.hash }

// computeHash hashes the canonical bytes of a schema NewSchema has built.
func (s *Schema) computeHash() uint64 {
	return xxhash.Sum64(s.appendCanonical(nil))
}

// appendCanonical appends the bytes Hash covers to b.
func (s *Schema) appendCanonical(b []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, SchemaFormatVersion)
	b = le.AppendUint32(b, uint32(s.maxEntities))
	b = le.AppendUint32(b, uint32(s.maxEvents))
	b = append(b, uint8(len(s.entities)), uint8(len(s.events)))
	for i := range s.entities {
		b = appendCanonicalKind(b, &s.entities[i].Kind, true)
	}
	for i := range s.events {
		b = appendCanonicalKind(b, &s.events[i].Kind, false)
	}
	return b
}

func appendCanonicalKind(b []byte, k *Kind, entity bool) []byte {
	le := binary.LittleEndian
	b = appendCanonicalName(b, k.Name)
	b = append(b, uint8(len(k.Fields)))
	for i := range k.Fields {
		f := &k.Fields[i]
		b = appendCanonicalName(b, f.Name)
		b = le.AppendUint32(b, uint32(f.Min))
		b = le.AppendUint32(b, uint32(f.Max))
		wrap := uint8(0)
		if f.Wrap {
			wrap = 1
		}
		b = append(b, f.Delta, wrap)
	}
	if entity {
		for _, m := range k.LOD {
			b = le.AppendUint16(b, uint16(m))
		}
	}
	return b
}

func appendCanonicalName(b []byte, name string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(name)))
	return append(b, name...)
}
