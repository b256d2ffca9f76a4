package payload

import (
	"fmt"
	"math"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/protocol/demowire"
)

// The general-purpose formats (FlatBuffers, protobuf, JSON) carry the
// entities of a view in one list per kind, each sorted by id, as a schema
// author would declare them; their decoders merge the lists back into one
// view in id order.

// numKinds is the number of demo entity kinds.
const numKinds = 3

// kindLists holds decoded entities per kind.
type kindLists [numKinds][]codec.Entity

func (l *kindLists) reset() {
	for k := range l {
		l[k] = l[k][:0]
	}
}

// merge writes the entities of every list into out.Entities in increasing
// id order. It fails if the result is not strictly increasing (a list out of
// order or an id in two lists).
func (l *kindLists) merge(out *codec.View) error {
	out.Entities = out.Entities[:0]
	var at [numKinds]int
	prev := int64(-1)
	for {
		best := -1
		for k := range l {
			if at[k] < len(l[k]) && (best < 0 || l[k][at[k]].ID < l[best][at[best]].ID) {
				best = k
			}
		}
		if best < 0 {
			return nil
		}
		e := &l[best][at[best]]
		at[best]++
		if int64(e.ID) <= prev {
			return fmt.Errorf("entity ids not strictly increasing at %d", e.ID)
		}
		prev = int64(e.ID)
		out.Entities = append(out.Entities, *e)
	}
}

// carried returns the fields entity kind kind carries at tier lod, or an
// error for a kind or tier the schema does not have.
func carried(s *codec.Schema, kind, lod uint8) (codec.FieldMask, error) {
	if int(kind) >= s.NumKinds() || lod >= codec.NumLODs {
		return 0, fmt.Errorf("entity kind %d tier %d unknown", kind, lod)
	}
	return s.Kind(kind).LOD[lod], nil
}

// intRange is the inclusive range of a wire integer type.
type intRange struct {
	name   string
	lo, hi int64
}

var (
	rangeI8  = intRange{"int8", math.MinInt8, math.MaxInt8}
	rangeU8  = intRange{"uint8", 0, math.MaxUint8}
	rangeI16 = intRange{"int16", math.MinInt16, math.MaxInt16}
	rangeU16 = intRange{"uint16", 0, math.MaxUint16}
	rangeI32 = intRange{"int32", math.MinInt32, math.MaxInt32}
	rangeU32 = intRange{"uint32", 0, math.MaxUint32}
)

// fieldType pairs a field of the demo schema with the integer type a
// general-purpose format declares for it.
type fieldType struct {
	event bool  // an event field, else an entity field
	kind  uint8 // entity or event kind
	field int
	typ   intRange
}

// checkTypes reports the first field whose schema range does not fit the
// type a format declares for it. A 32-bit field whose range spans the whole
// int32 (a 10-bit quaternion) fits a uint32 as its bit pattern.
func checkTypes(s *codec.Schema, format string, types []fieldType) error {
	for _, t := range types {
		k := s.Kind(t.kind)
		if t.event {
			k = s.EventKind(t.kind)
		}
		f := &k.Fields[t.field]
		lo, hi := int64(f.Min), int64(f.Max)
		if t.typ == rangeU32 && lo == math.MinInt32 && hi == math.MaxInt32 {
			continue
		}
		if lo < t.typ.lo || hi > t.typ.hi {
			return fmt.Errorf("payload: %s: %s.%s spans [%d, %d], beyond its %s", format, k.Name, f.Name, lo, hi, t.typ.name)
		}
	}
	return nil
}

// Shorthands for the demo kinds in field tables.
const (
	kShip = demowire.KindShip
	kTorp = demowire.KindTorpedo
	kBody = demowire.KindBody
	kEv   = demowire.EventCombat
)
