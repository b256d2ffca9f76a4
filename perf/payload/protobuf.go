package payload

import (
	"fmt"

	"github.com/flotilla/flotilla/codec"
	dw "github.com/flotilla/flotilla/protocol/demowire"
	"google.golang.org/protobuf/encoding/protowire"
)

// The protobuf format writes the messages of frame.proto with protowire:
// hand-written marshalling driven by the field tables below, so no protoc
// and no generated code are needed and encoding allocates nothing, like
// the reused FlatBuffers builder. The bytes are those proto.Marshal
// produces for the same message (fields in number order, zero values left
// out, minimal varints); a test decodes them with the protobuf runtime
// (dynamicpb) against a descriptor built from the same tables and checks
// both the values and that re-marshalling gives the same bytes.

// pbType is the protobuf scalar type of a field.
type pbType uint8

const (
	pbUint32  pbType = iota // varint
	pbSint32                // zigzag varint
	pbFixed32               // 4 bytes little-endian
)

// Slots of an entity that are not field values.
const (
	slotID  = -1
	slotLOD = -2
)

// pbField is one field of a message: its name and number in frame.proto,
// its type, and where its value lives (a field index of the demo kind, or
// slotID / slotLOD).
type pbField struct {
	name string
	num  protowire.Number
	typ  pbType
	slot int
}

// pbMessage is one message of frame.proto.
type pbMessage struct {
	name   string
	fields []pbField
	byNum  [20]int8 // index+1 into fields by field number; 0: unknown
}

func newPBMessage(name string, fields ...pbField) *pbMessage {
	m := &pbMessage{name: name, fields: fields}
	for i, f := range fields {
		m.byNum[f.num] = int8(i + 1)
	}
	return m
}

// Messages of frame.proto.
var (
	pbShip = newPBMessage("Ship",
		pbField{"id", 1, pbUint32, slotID}, pbField{"lod", 2, pbUint32, slotLOD},
		pbField{"x", 3, pbSint32, dw.ShipX}, pbField{"y", 4, pbSint32, dw.ShipY},
		pbField{"vx", 5, pbSint32, dw.ShipVX}, pbField{"vy", 6, pbSint32, dw.ShipVY},
		pbField{"heading", 7, pbUint32, dw.ShipHeading}, pbField{"hull", 8, pbUint32, dw.ShipHull},
		pbField{"shield", 9, pbUint32, dw.ShipShield}, pbField{"team", 10, pbUint32, dw.ShipTeam},
		pbField{"class", 11, pbUint32, dw.ShipClass}, pbField{"status", 12, pbUint32, dw.ShipStatus},
		pbField{"lx", 13, pbSint32, dw.ShipLX}, pbField{"ly", 14, pbSint32, dw.ShipLY},
		pbField{"bx", 15, pbSint32, dw.ShipBX}, pbField{"by", 16, pbSint32, dw.ShipBY})
	pbTorpedo = newPBMessage("Torpedo",
		pbField{"id", 1, pbUint32, slotID}, pbField{"lod", 2, pbUint32, slotLOD},
		pbField{"x", 3, pbSint32, dw.TorpX}, pbField{"y", 4, pbSint32, dw.TorpY},
		pbField{"vx", 5, pbSint32, dw.TorpVX}, pbField{"vy", 6, pbSint32, dw.TorpVY},
		pbField{"target", 7, pbUint32, dw.TorpTarget})
	pbBody = newPBMessage("Body",
		pbField{"id", 1, pbUint32, slotID}, pbField{"lod", 2, pbUint32, slotLOD},
		pbField{"x", 3, pbSint32, dw.BodyX}, pbField{"y", 4, pbSint32, dw.BodyY},
		pbField{"z", 5, pbUint32, dw.BodyZ}, pbField{"rot", 6, pbFixed32, dw.BodyRot},
		pbField{"lx", 7, pbSint32, dw.BodyLX}, pbField{"ly", 8, pbSint32, dw.BodyLY},
		pbField{"lz", 9, pbUint32, dw.BodyLZ})
	pbEvent = newPBMessage("CombatEvent",
		pbField{"seq", 1, pbUint32, dw.EvSeq}, pbField{"source", 2, pbUint32, dw.EvSource},
		pbField{"target", 3, pbUint32, dw.EvTarget}, pbField{"card", 4, pbUint32, dw.EvCard},
		pbField{"type", 5, pbUint32, dw.EvType}, pbField{"cell_q", 6, pbSint32, dw.EvCellQ},
		pbField{"cell_r", 7, pbSint32, dw.EvCellR}, pbField{"damage", 8, pbSint32, dw.EvDamage},
		pbField{"hp", 9, pbUint32, dw.EvHP}, pbField{"status", 10, pbUint32, dw.EvStatus})
	// pbKinds are the entity messages by demo kind; Frame field kind+1 is
	// the repeated field of kind, and field pbEventsField holds the events.
	pbKinds = [numKinds]*pbMessage{kShip: pbShip, kTorp: pbTorpedo, kBody: pbBody}
)

const pbEventsField protowire.Number = 4

// appendValue appends field f holding x, or nothing when x is zero.
func (f *pbField) appendValue(b []byte, x int32) []byte {
	if x == 0 {
		return b
	}
	switch f.typ {
	case pbUint32:
		b = protowire.AppendTag(b, f.num, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(uint32(x)))
	case pbSint32:
		b = protowire.AppendTag(b, f.num, protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeZigZag(int64(x)))
	default:
		b = protowire.AppendTag(b, f.num, protowire.Fixed32Type)
		return protowire.AppendFixed32(b, uint32(x))
	}
}

// wireType returns the wire type of f's values.
func (f *pbField) wireType() protowire.Type {
	if f.typ == pbFixed32 {
		return protowire.Fixed32Type
	}
	return protowire.VarintType
}

// beginSub appends the tag of a length-delimited field num and one byte
// reserved for the length; endSub fills it in once the body is written.
func beginSub(b []byte, num protowire.Number) ([]byte, int) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = append(b, 0)
	return b, len(b)
}

// endSub writes the length of the body that follows the reserved byte at
// at-1, moving the body if the length needs more than one byte.
func endSub(b []byte, at int) []byte {
	n := len(b) - at
	if n < 0x80 {
		b[at-1] = byte(n)
		return b
	}
	extra := protowire.SizeVarint(uint64(n)) - 1
	b = append(b, make([]byte, extra)...)
	copy(b[at+extra:], b[at:at+n])
	protowire.AppendVarint(b[:at-1], uint64(n))
	return b
}

// protobuf encodes a view as the Frame message of frame.proto and decodes
// it back. It carries the quantized view whole every tick.
type protobuf struct {
	schema *codec.Schema
	lists  kindLists
	out    codec.View
}

func newProtobuf(w *dw.Wire) *protobuf { return &protobuf{schema: w.Schema} }

func (*protobuf) name() string { return FormatProtobuf }

func (p *protobuf) encode(dst []byte, w *window, k int) ([]byte, error) {
	v := &w.frames[k].View
	// Repeated fields in field order, as proto.Marshal writes them: one
	// pass over the view per entity kind.
	for kind := range uint8(numKinds) {
		m := pbKinds[kind]
		for i := range v.Entities {
			e := &v.Entities[i]
			if e.Kind != kind {
				continue
			}
			mask, err := carried(p.schema, e.Kind, e.LOD)
			if err != nil {
				return dst, err
			}
			var at int
			dst, at = beginSub(dst, protowire.Number(kind)+1)
			for j := range m.fields {
				f := &m.fields[j]
				switch {
				case f.slot == slotID:
					dst = f.appendValue(dst, int32(e.ID))
				case f.slot == slotLOD:
					dst = f.appendValue(dst, int32(e.LOD))
				case mask.Has(f.slot):
					dst = f.appendValue(dst, e.V[f.slot])
				}
			}
			dst = endSub(dst, at)
		}
	}
	for i := range v.Events {
		var at int
		dst, at = beginSub(dst, pbEventsField)
		for j := range pbEvent.fields {
			f := &pbEvent.fields[j]
			dst = f.appendValue(dst, v.Events[i].V[f.slot])
		}
		dst = endSub(dst, at)
	}
	return dst, nil
}

func (p *protobuf) decode(src []byte, _ *window, _ int) error {
	p.lists.reset()
	p.out.Events = p.out.Events[:0]
	for len(src) > 0 {
		num, typ, n := protowire.ConsumeTag(src)
		if n < 0 {
			return fmt.Errorf("protobuf: Frame: %w", protowire.ParseError(n))
		}
		src = src[n:]
		if typ != protowire.BytesType || num < 1 || num > pbEventsField {
			// An unknown field: skip it, as a protobuf parser does.
			n = protowire.ConsumeFieldValue(num, typ, src)
			if n < 0 {
				return fmt.Errorf("protobuf: Frame: %w", protowire.ParseError(n))
			}
			src = src[n:]
			continue
		}
		body, n := protowire.ConsumeBytes(src)
		if n < 0 {
			return fmt.Errorf("protobuf: Frame: %w", protowire.ParseError(n))
		}
		src = src[n:]
		if num == pbEventsField {
			ev := codec.Event{Kind: kEv}
			if _, _, err := pbEvent.decode(body, &ev.V); err != nil {
				return err
			}
			p.out.Events = append(p.out.Events, ev)
			continue
		}
		kind := uint8(num - 1)
		e := codec.Entity{Kind: kind}
		id, lod, err := pbKinds[kind].decode(body, &e.V)
		if err != nil {
			return err
		}
		if lod < 0 || lod >= codec.NumLODs {
			return fmt.Errorf("protobuf: %s %d: tier %d", pbKinds[kind].name, id, lod)
		}
		e.ID, e.LOD = uint32(id), uint8(lod)
		mask, _ := carried(p.schema, e.Kind, e.LOD)
		for f := range e.V {
			if !mask.Has(f) {
				e.V[f] = 0 // not carried at this tier: no value
			}
		}
		p.lists[kind] = append(p.lists[kind], e)
	}
	if err := p.lists.merge(&p.out); err != nil {
		return fmt.Errorf("protobuf: %w", err)
	}
	p.out.Invalidate()
	return nil
}

// decode reads one message body into v (field values) and returns its id
// and lod slots. Unknown fields, and known ones with a wire type other than
// their own, are skipped.
func (m *pbMessage) decode(b []byte, v *[codec.MaxFields]int32) (id, lod int64, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, 0, fmt.Errorf("protobuf: %s: %w", m.name, protowire.ParseError(n))
		}
		b = b[n:]
		var f *pbField
		if num > 0 && int(num) < len(m.byNum) && m.byNum[num] > 0 {
			f = &m.fields[m.byNum[num]-1]
		}
		if f == nil || f.wireType() != typ {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return 0, 0, fmt.Errorf("protobuf: %s: %w", m.name, protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		var x int32
		if typ == protowire.Fixed32Type {
			u, n := protowire.ConsumeFixed32(b)
			if n < 0 {
				return 0, 0, fmt.Errorf("protobuf: %s.%s: %w", m.name, f.name, protowire.ParseError(n))
			}
			b, x = b[n:], int32(u)
		} else {
			u, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, 0, fmt.Errorf("protobuf: %s.%s: %w", m.name, f.name, protowire.ParseError(n))
			}
			b = b[n:]
			if f.typ == pbSint32 {
				x = int32(protowire.DecodeZigZag(u & 0xffffffff))
			} else {
				x = int32(uint32(u))
			}
		}
		switch f.slot {
		case slotID:
			id = int64(uint32(x))
		case slotLOD:
			lod = int64(uint32(x))
		default:
			v[f.slot] = x
		}
	}
	return id, lod, nil
}

func (p *protobuf) check(w *window, k int) error {
	if !p.schema.Equal(&p.out, &w.frames[k].View) {
		return fmt.Errorf("protobuf: decoded view differs from the sent one")
	}
	return nil
}
