package payload

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/flotilla/flotilla/codec"
	dw "github.com/flotilla/flotilla/protocol/demowire"
	"github.com/klauspost/compress/zstd"
)

// jsonFrame is the plain struct the json-zstd format marshals per tick:
// the quantized view, one list per entity kind in id order, each entity with
// its id, tier and the fields its tier carries (omitempty leaves out zeros,
// which include every field the tier does not carry).
type jsonFrame struct {
	Ships     []jsonShip    `json:"ships,omitempty"`
	Torpedoes []jsonTorpedo `json:"torpedoes,omitempty"`
	Bodies    []jsonBody    `json:"bodies,omitempty"`
	Events    []jsonEvent   `json:"events,omitempty"`
}

type jsonShip struct {
	ID      uint32 `json:"id"`
	LOD     uint8  `json:"lod,omitempty"`
	X       int32  `json:"x,omitempty"`
	Y       int32  `json:"y,omitempty"`
	VX      int32  `json:"vx,omitempty"`
	VY      int32  `json:"vy,omitempty"`
	Heading int32  `json:"heading,omitempty"`
	Hull    int32  `json:"hull,omitempty"`
	Shield  int32  `json:"shield,omitempty"`
	Team    int32  `json:"team,omitempty"`
	Class   int32  `json:"class,omitempty"`
	Status  int32  `json:"status,omitempty"`
	LX      int32  `json:"lx,omitempty"`
	LY      int32  `json:"ly,omitempty"`
	BX      int32  `json:"bx,omitempty"`
	BY      int32  `json:"by,omitempty"`
}

type jsonTorpedo struct {
	ID     uint32 `json:"id"`
	LOD    uint8  `json:"lod,omitempty"`
	X      int32  `json:"x,omitempty"`
	Y      int32  `json:"y,omitempty"`
	VX     int32  `json:"vx,omitempty"`
	VY     int32  `json:"vy,omitempty"`
	Target int32  `json:"target,omitempty"`
}

type jsonBody struct {
	ID  uint32 `json:"id"`
	LOD uint8  `json:"lod,omitempty"`
	X   int32  `json:"x,omitempty"`
	Y   int32  `json:"y,omitempty"`
	Z   int32  `json:"z,omitempty"`
	Rot int32  `json:"rot,omitempty"`
	LX  int32  `json:"lx,omitempty"`
	LY  int32  `json:"ly,omitempty"`
	LZ  int32  `json:"lz,omitempty"`
}

type jsonEvent struct {
	Seq    int32 `json:"seq"`
	Source int32 `json:"source,omitempty"`
	Target int32 `json:"target,omitempty"`
	Card   int32 `json:"card,omitempty"`
	Type   int32 `json:"type,omitempty"`
	CellQ  int32 `json:"cell_q,omitempty"`
	CellR  int32 `json:"cell_r,omitempty"`
	Damage int32 `json:"damage,omitempty"`
	HP     int32 `json:"hp,omitempty"`
	Status int32 `json:"status,omitempty"`
}

// jsonZstd marshals a jsonFrame with encoding/json and compresses each tick
// on its own as one zstd frame at the default level (SpeedDefault, about
// zstd level 3), without a frame checksum, with one reused encoder and
// decoder. It carries the quantized view whole every tick.
type jsonZstd struct {
	schema *codec.Schema
	zenc   *zstd.Encoder
	zdec   *zstd.Decoder
	buf    bytes.Buffer
	jenc   *json.Encoder
	frame  jsonFrame // encode side
	in     jsonFrame // decode side
	raw    []byte
	lists  kindLists
	out    codec.View
}

func newJSONZstd(w *dw.Wire) (*jsonZstd, error) {
	f := &jsonZstd{schema: w.Schema}
	var err error
	f.zenc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))
	if err != nil {
		return nil, fmt.Errorf("payload: zstd encoder: %w", err)
	}
	f.zdec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		f.zenc.Close()
		return nil, fmt.Errorf("payload: zstd decoder: %w", err)
	}
	f.jenc = json.NewEncoder(&f.buf)
	return f, nil
}

func (*jsonZstd) name() string { return FormatJSONZstd }

func (f *jsonZstd) close() {
	f.zenc.Close()
	f.zdec.Close()
}

func (f *jsonZstd) encode(dst []byte, w *window, k int) ([]byte, error) {
	v := &w.frames[k].View
	fr := &f.frame
	fr.Ships, fr.Torpedoes, fr.Bodies, fr.Events = fr.Ships[:0], fr.Torpedoes[:0], fr.Bodies[:0], fr.Events[:0]
	for i := range v.Entities {
		e := &v.Entities[i]
		m, err := carried(f.schema, e.Kind, e.LOD)
		if err != nil {
			return dst, err
		}
		x := &e.V
		// pick returns field i's value when the tier carries it.
		pick := func(i int) int32 {
			if m.Has(i) {
				return x[i]
			}
			return 0
		}
		switch e.Kind {
		case kShip:
			fr.Ships = append(fr.Ships, jsonShip{ID: e.ID, LOD: e.LOD,
				X: pick(dw.ShipX), Y: pick(dw.ShipY), VX: pick(dw.ShipVX), VY: pick(dw.ShipVY),
				Heading: pick(dw.ShipHeading), Hull: pick(dw.ShipHull), Shield: pick(dw.ShipShield),
				Team: pick(dw.ShipTeam), Class: pick(dw.ShipClass), Status: pick(dw.ShipStatus),
				LX: pick(dw.ShipLX), LY: pick(dw.ShipLY), BX: pick(dw.ShipBX), BY: pick(dw.ShipBY)})
		case kTorp:
			fr.Torpedoes = append(fr.Torpedoes, jsonTorpedo{ID: e.ID, LOD: e.LOD,
				X: pick(dw.TorpX), Y: pick(dw.TorpY), VX: pick(dw.TorpVX), VY: pick(dw.TorpVY),
				Target: pick(dw.TorpTarget)})
		default:
			fr.Bodies = append(fr.Bodies, jsonBody{ID: e.ID, LOD: e.LOD,
				X: pick(dw.BodyX), Y: pick(dw.BodyY), Z: pick(dw.BodyZ), Rot: pick(dw.BodyRot),
				LX: pick(dw.BodyLX), LY: pick(dw.BodyLY), LZ: pick(dw.BodyLZ)})
		}
	}
	for i := range v.Events {
		x := &v.Events[i].V
		fr.Events = append(fr.Events, jsonEvent{Seq: x[dw.EvSeq], Source: x[dw.EvSource], Target: x[dw.EvTarget],
			Card: x[dw.EvCard], Type: x[dw.EvType], CellQ: x[dw.EvCellQ], CellR: x[dw.EvCellR],
			Damage: x[dw.EvDamage], HP: x[dw.EvHP], Status: x[dw.EvStatus]})
	}
	f.buf.Reset()
	if err := f.jenc.Encode(fr); err != nil {
		return dst, fmt.Errorf("json-zstd: %w", err)
	}
	js := bytes.TrimSuffix(f.buf.Bytes(), []byte{'\n'}) // Encode ends the value with a newline
	return f.zenc.EncodeAll(js, dst), nil
}

func (f *jsonZstd) decode(src []byte, _ *window, _ int) error {
	var err error
	f.raw, err = f.zdec.DecodeAll(src, f.raw[:0])
	if err != nil {
		return fmt.Errorf("json-zstd: zstd: %w", err)
	}
	// Unmarshal reuses slice elements without zeroing them and keeps a
	// slice whose key is absent: empty everything first.
	in := &f.in
	clear(in.Ships[:cap(in.Ships)])
	clear(in.Torpedoes[:cap(in.Torpedoes)])
	clear(in.Bodies[:cap(in.Bodies)])
	clear(in.Events[:cap(in.Events)])
	in.Ships, in.Torpedoes, in.Bodies, in.Events = in.Ships[:0], in.Torpedoes[:0], in.Bodies[:0], in.Events[:0]
	if err := json.Unmarshal(f.raw, in); err != nil {
		return fmt.Errorf("json-zstd: %w", err)
	}
	f.lists.reset()
	for i := range in.Ships {
		s := &in.Ships[i]
		e := codec.Entity{ID: s.ID, Kind: kShip, LOD: s.LOD}
		e.V[dw.ShipX], e.V[dw.ShipY], e.V[dw.ShipVX], e.V[dw.ShipVY] = s.X, s.Y, s.VX, s.VY
		e.V[dw.ShipHeading], e.V[dw.ShipHull], e.V[dw.ShipShield] = s.Heading, s.Hull, s.Shield
		e.V[dw.ShipTeam], e.V[dw.ShipClass], e.V[dw.ShipStatus] = s.Team, s.Class, s.Status
		e.V[dw.ShipLX], e.V[dw.ShipLY], e.V[dw.ShipBX], e.V[dw.ShipBY] = s.LX, s.LY, s.BX, s.BY
		if err := f.keep(&e); err != nil {
			return err
		}
	}
	for i := range in.Torpedoes {
		t := &in.Torpedoes[i]
		e := codec.Entity{ID: t.ID, Kind: kTorp, LOD: t.LOD}
		e.V[dw.TorpX], e.V[dw.TorpY], e.V[dw.TorpVX], e.V[dw.TorpVY] = t.X, t.Y, t.VX, t.VY
		e.V[dw.TorpTarget] = t.Target
		if err := f.keep(&e); err != nil {
			return err
		}
	}
	for i := range in.Bodies {
		b := &in.Bodies[i]
		e := codec.Entity{ID: b.ID, Kind: kBody, LOD: b.LOD}
		e.V[dw.BodyX], e.V[dw.BodyY], e.V[dw.BodyZ], e.V[dw.BodyRot] = b.X, b.Y, b.Z, b.Rot
		e.V[dw.BodyLX], e.V[dw.BodyLY], e.V[dw.BodyLZ] = b.LX, b.LY, b.LZ
		if err := f.keep(&e); err != nil {
			return err
		}
	}
	if err := f.lists.merge(&f.out); err != nil {
		return fmt.Errorf("json-zstd: %w", err)
	}
	f.out.Events = f.out.Events[:0]
	for i := range in.Events {
		x := &in.Events[i]
		ev := codec.Event{Kind: kEv}
		ev.V[dw.EvSeq], ev.V[dw.EvSource], ev.V[dw.EvTarget], ev.V[dw.EvCard] = x.Seq, x.Source, x.Target, x.Card
		ev.V[dw.EvType], ev.V[dw.EvCellQ], ev.V[dw.EvCellR] = x.Type, x.CellQ, x.CellR
		ev.V[dw.EvDamage], ev.V[dw.EvHP], ev.V[dw.EvStatus] = x.Damage, x.HP, x.Status
		f.out.Events = append(f.out.Events, ev)
	}
	f.out.Invalidate()
	return nil
}

// keep validates e's tier, drops the values its tier does not carry and
// adds it to its kind's list.
func (f *jsonZstd) keep(e *codec.Entity) error {
	m, err := carried(f.schema, e.Kind, e.LOD)
	if err != nil {
		return fmt.Errorf("json-zstd: entity %d: %w", e.ID, err)
	}
	for i := range e.V {
		if !m.Has(i) {
			e.V[i] = 0
		}
	}
	f.lists[e.Kind] = append(f.lists[e.Kind], *e)
	return nil
}

func (f *jsonZstd) check(w *window, k int) error {
	if !f.schema.Equal(&f.out, &w.frames[k].View) {
		return fmt.Errorf("json-zstd: decoded view differs from the sent one")
	}
	return nil
}
