package payload

import (
	"fmt"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/codec/fbs"
	dw "github.com/flotilla/flotilla/protocol/demowire"
	flatbuffers "github.com/google/flatbuffers/go"
)

// fbsTypes are the integer types codec/fbs/frame.fbs declares for the demo
// schema's fields (ids and tiers aside).
var fbsTypes = []fieldType{
	{false, kShip, dw.ShipX, rangeI32}, {false, kShip, dw.ShipY, rangeI32},
	{false, kShip, dw.ShipVX, rangeI8}, {false, kShip, dw.ShipVY, rangeI8},
	{false, kShip, dw.ShipHeading, rangeU16}, {false, kShip, dw.ShipHull, rangeU8},
	{false, kShip, dw.ShipShield, rangeU8}, {false, kShip, dw.ShipTeam, rangeU8},
	{false, kShip, dw.ShipClass, rangeU8}, {false, kShip, dw.ShipStatus, rangeU8},
	{false, kShip, dw.ShipLX, rangeI32}, {false, kShip, dw.ShipLY, rangeI32},
	{false, kShip, dw.ShipBX, rangeI32}, {false, kShip, dw.ShipBY, rangeI32},
	{false, kTorp, dw.TorpX, rangeI32}, {false, kTorp, dw.TorpY, rangeI32},
	{false, kTorp, dw.TorpVX, rangeI16}, {false, kTorp, dw.TorpVY, rangeI16},
	{false, kTorp, dw.TorpTarget, rangeU32},
	{false, kBody, dw.BodyX, rangeI32}, {false, kBody, dw.BodyY, rangeI32}, {false, kBody, dw.BodyZ, rangeI32},
	{false, kBody, dw.BodyRot, rangeU32},
	{false, kBody, dw.BodyLX, rangeI32}, {false, kBody, dw.BodyLY, rangeI32}, {false, kBody, dw.BodyLZ, rangeI32},
	{true, kEv, dw.EvSeq, rangeU32}, {true, kEv, dw.EvSource, rangeU32}, {true, kEv, dw.EvTarget, rangeU32},
	{true, kEv, dw.EvCard, rangeU16}, {true, kEv, dw.EvType, rangeU8},
	{true, kEv, dw.EvCellQ, rangeI16}, {true, kEv, dw.EvCellR, rangeI16},
	{true, kEv, dw.EvDamage, rangeI8}, {true, kEv, dw.EvHP, rangeU8}, {true, kEv, dw.EvStatus, rangeU8},
}

// flatBuffers encodes a view as codec/fbs.Frame with one reused Builder
// (Reset before each tick), and decodes it with the generated accessors
// into a view. It carries the quantized view whole every tick.
type flatBuffers struct {
	schema *codec.Schema
	b      *flatbuffers.Builder
	offs   [numKinds][]flatbuffers.UOffsetT

	frame fbs.Frame
	ship  fbs.Ship
	torp  fbs.Torpedo
	body  fbs.Body
	ev    fbs.CombatEvent
	lists kindLists
	out   codec.View
}

func newFlatBuffers(w *dw.Wire) (*flatBuffers, error) {
	if err := checkTypes(w.Schema, FormatFlatBuffers, fbsTypes); err != nil {
		return nil, err
	}
	return &flatBuffers{schema: w.Schema, b: flatbuffers.NewBuilder(64 << 10)}, nil
}

func (*flatBuffers) name() string { return FormatFlatBuffers }

func (f *flatBuffers) encode(dst []byte, w *window, k int) ([]byte, error) {
	v := &w.frames[k].View
	b := f.b
	b.Reset()
	for i := range f.offs {
		f.offs[i] = f.offs[i][:0]
	}
	for i := range v.Entities {
		e := &v.Entities[i]
		m, err := carried(f.schema, e.Kind, e.LOD)
		if err != nil {
			return dst, err
		}
		var off flatbuffers.UOffsetT
		switch e.Kind {
		case kShip:
			off = f.appendShip(e, m)
		case kTorp:
			off = f.appendTorpedo(e, m)
		default:
			off = f.appendBody(e, m)
		}
		f.offs[e.Kind] = append(f.offs[e.Kind], off)
	}
	var vecs [numKinds]flatbuffers.UOffsetT
	for kind, offs := range f.offs {
		if len(offs) == 0 {
			continue
		}
		b.StartVector(flatbuffers.SizeUOffsetT, len(offs), flatbuffers.SizeUOffsetT)
		for i := len(offs) - 1; i >= 0; i-- {
			b.PrependUOffsetT(offs[i])
		}
		vecs[kind] = b.EndVector(len(offs))
	}
	var events flatbuffers.UOffsetT
	if n := len(v.Events); n > 0 {
		fbs.FrameStartEventsVector(b, n)
		for i := n - 1; i >= 0; i-- {
			x := &v.Events[i].V
			fbs.CreateCombatEvent(b, uint32(x[dw.EvSeq]), uint32(x[dw.EvSource]), uint32(x[dw.EvTarget]),
				int16(x[dw.EvCellQ]), int16(x[dw.EvCellR]), uint16(x[dw.EvCard]), int8(x[dw.EvDamage]),
				uint8(x[dw.EvType]), uint8(x[dw.EvHP]), uint8(x[dw.EvStatus]))
		}
		events = b.EndVector(n)
	}
	fbs.FrameStart(b)
	if vecs[kShip] != 0 {
		fbs.FrameAddShips(b, vecs[kShip])
	}
	if vecs[kTorp] != 0 {
		fbs.FrameAddTorpedoes(b, vecs[kTorp])
	}
	if vecs[kBody] != 0 {
		fbs.FrameAddBodies(b, vecs[kBody])
	}
	if events != 0 {
		fbs.FrameAddEvents(b, events)
	}
	b.Finish(fbs.FrameEnd(b))
	return append(dst, b.FinishedBytes()...), nil
}

// The appenders add the fields the entity's tier carries; the builder
// leaves out those equal to their default 0, as FlatBuffers does.

func (f *flatBuffers) appendShip(e *codec.Entity, m codec.FieldMask) flatbuffers.UOffsetT {
	b, v := f.b, &e.V
	fbs.ShipStart(b)
	fbs.ShipAddId(b, e.ID)
	fbs.ShipAddLod(b, e.LOD)
	if m.Has(dw.ShipX) {
		fbs.ShipAddX(b, v[dw.ShipX])
	}
	if m.Has(dw.ShipY) {
		fbs.ShipAddY(b, v[dw.ShipY])
	}
	if m.Has(dw.ShipVX) {
		fbs.ShipAddVx(b, int8(v[dw.ShipVX]))
	}
	if m.Has(dw.ShipVY) {
		fbs.ShipAddVy(b, int8(v[dw.ShipVY]))
	}
	if m.Has(dw.ShipHeading) {
		fbs.ShipAddHeading(b, uint16(v[dw.ShipHeading]))
	}
	if m.Has(dw.ShipHull) {
		fbs.ShipAddHull(b, uint8(v[dw.ShipHull]))
	}
	if m.Has(dw.ShipShield) {
		fbs.ShipAddShield(b, uint8(v[dw.ShipShield]))
	}
	if m.Has(dw.ShipTeam) {
		fbs.ShipAddTeam(b, uint8(v[dw.ShipTeam]))
	}
	if m.Has(dw.ShipClass) {
		fbs.ShipAddClass(b, uint8(v[dw.ShipClass]))
	}
	if m.Has(dw.ShipStatus) {
		fbs.ShipAddStatus(b, uint8(v[dw.ShipStatus]))
	}
	if m.Has(dw.ShipLX) {
		fbs.ShipAddLx(b, v[dw.ShipLX])
	}
	if m.Has(dw.ShipLY) {
		fbs.ShipAddLy(b, v[dw.ShipLY])
	}
	if m.Has(dw.ShipBX) {
		fbs.ShipAddBx(b, v[dw.ShipBX])
	}
	if m.Has(dw.ShipBY) {
		fbs.ShipAddBy(b, v[dw.ShipBY])
	}
	return fbs.ShipEnd(b)
}

func (f *flatBuffers) appendTorpedo(e *codec.Entity, m codec.FieldMask) flatbuffers.UOffsetT {
	b, v := f.b, &e.V
	fbs.TorpedoStart(b)
	fbs.TorpedoAddId(b, e.ID)
	fbs.TorpedoAddLod(b, e.LOD)
	if m.Has(dw.TorpX) {
		fbs.TorpedoAddX(b, v[dw.TorpX])
	}
	if m.Has(dw.TorpY) {
		fbs.TorpedoAddY(b, v[dw.TorpY])
	}
	if m.Has(dw.TorpVX) {
		fbs.TorpedoAddVx(b, int16(v[dw.TorpVX]))
	}
	if m.Has(dw.TorpVY) {
		fbs.TorpedoAddVy(b, int16(v[dw.TorpVY]))
	}
	if m.Has(dw.TorpTarget) {
		fbs.TorpedoAddTarget(b, uint32(v[dw.TorpTarget]))
	}
	return fbs.TorpedoEnd(b)
}

func (f *flatBuffers) appendBody(e *codec.Entity, m codec.FieldMask) flatbuffers.UOffsetT {
	b, v := f.b, &e.V
	fbs.BodyStart(b)
	fbs.BodyAddId(b, e.ID)
	fbs.BodyAddLod(b, e.LOD)
	if m.Has(dw.BodyX) {
		fbs.BodyAddX(b, v[dw.BodyX])
	}
	if m.Has(dw.BodyY) {
		fbs.BodyAddY(b, v[dw.BodyY])
	}
	if m.Has(dw.BodyZ) {
		fbs.BodyAddZ(b, v[dw.BodyZ])
	}
	if m.Has(dw.BodyRot) {
		fbs.BodyAddRot(b, uint32(v[dw.BodyRot]))
	}
	if m.Has(dw.BodyLX) {
		fbs.BodyAddLx(b, v[dw.BodyLX])
	}
	if m.Has(dw.BodyLY) {
		fbs.BodyAddLy(b, v[dw.BodyLY])
	}
	if m.Has(dw.BodyLZ) {
		fbs.BodyAddLz(b, v[dw.BodyLZ])
	}
	return fbs.BodyEnd(b)
}

// decode reads src with the generated accessors, which trust the buffer (Go
// FlatBuffers has no verifier): a panic on a malformed buffer is turned into
// an error.
func (f *flatBuffers) decode(src []byte, _ *window, _ int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("flatbuffers: malformed buffer: %v", r)
		}
	}()
	if len(src) < flatbuffers.SizeUOffsetT {
		return fmt.Errorf("flatbuffers: %d bytes", len(src))
	}
	f.frame.Init(src, flatbuffers.GetUOffsetT(src))
	f.lists.reset()
	for i := range f.frame.ShipsLength() {
		f.frame.Ships(&f.ship, i)
		if err := f.readShip(); err != nil {
			return err
		}
	}
	for i := range f.frame.TorpedoesLength() {
		f.frame.Torpedoes(&f.torp, i)
		if err := f.readTorpedo(); err != nil {
			return err
		}
	}
	for i := range f.frame.BodiesLength() {
		f.frame.Bodies(&f.body, i)
		if err := f.readBody(); err != nil {
			return err
		}
	}
	if err := f.lists.merge(&f.out); err != nil {
		return fmt.Errorf("flatbuffers: %w", err)
	}
	f.out.Events = f.out.Events[:0]
	for i := range f.frame.EventsLength() {
		f.frame.Events(&f.ev, i)
		x := &f.ev
		var ev codec.Event
		ev.Kind = kEv
		ev.V[dw.EvSeq] = int32(x.Seq())
		ev.V[dw.EvSource] = int32(x.Source())
		ev.V[dw.EvTarget] = int32(x.Target())
		ev.V[dw.EvCard] = int32(x.Card())
		ev.V[dw.EvType] = int32(x.Type())
		ev.V[dw.EvCellQ] = int32(x.CellQ())
		ev.V[dw.EvCellR] = int32(x.CellR())
		ev.V[dw.EvDamage] = int32(x.Damage())
		ev.V[dw.EvHP] = int32(x.Hp())
		ev.V[dw.EvStatus] = int32(x.Status())
		f.out.Events = append(f.out.Events, ev)
	}
	f.out.Invalidate()
	return nil
}

func (f *flatBuffers) readShip() error {
	x := &f.ship
	e := codec.Entity{ID: x.Id(), Kind: kShip, LOD: x.Lod()}
	m, err := carried(f.schema, e.Kind, e.LOD)
	if err != nil {
		return fmt.Errorf("flatbuffers: ship %d: %w", e.ID, err)
	}
	v := &e.V
	if m.Has(dw.ShipX) {
		v[dw.ShipX] = x.X()
	}
	if m.Has(dw.ShipY) {
		v[dw.ShipY] = x.Y()
	}
	if m.Has(dw.ShipVX) {
		v[dw.ShipVX] = int32(x.Vx())
	}
	if m.Has(dw.ShipVY) {
		v[dw.ShipVY] = int32(x.Vy())
	}
	if m.Has(dw.ShipHeading) {
		v[dw.ShipHeading] = int32(x.Heading())
	}
	if m.Has(dw.ShipHull) {
		v[dw.ShipHull] = int32(x.Hull())
	}
	if m.Has(dw.ShipShield) {
		v[dw.ShipShield] = int32(x.Shield())
	}
	if m.Has(dw.ShipTeam) {
		v[dw.ShipTeam] = int32(x.Team())
	}
	if m.Has(dw.ShipClass) {
		v[dw.ShipClass] = int32(x.Class())
	}
	if m.Has(dw.ShipStatus) {
		v[dw.ShipStatus] = int32(x.Status())
	}
	if m.Has(dw.ShipLX) {
		v[dw.ShipLX] = x.Lx()
	}
	if m.Has(dw.ShipLY) {
		v[dw.ShipLY] = x.Ly()
	}
	if m.Has(dw.ShipBX) {
		v[dw.ShipBX] = x.Bx()
	}
	if m.Has(dw.ShipBY) {
		v[dw.ShipBY] = x.By()
	}
	f.lists[kShip] = append(f.lists[kShip], e)
	return nil
}

func (f *flatBuffers) readTorpedo() error {
	x := &f.torp
	e := codec.Entity{ID: x.Id(), Kind: kTorp, LOD: x.Lod()}
	m, err := carried(f.schema, e.Kind, e.LOD)
	if err != nil {
		return fmt.Errorf("flatbuffers: torpedo %d: %w", e.ID, err)
	}
	v := &e.V
	if m.Has(dw.TorpX) {
		v[dw.TorpX] = x.X()
	}
	if m.Has(dw.TorpY) {
		v[dw.TorpY] = x.Y()
	}
	if m.Has(dw.TorpVX) {
		v[dw.TorpVX] = int32(x.Vx())
	}
	if m.Has(dw.TorpVY) {
		v[dw.TorpVY] = int32(x.Vy())
	}
	if m.Has(dw.TorpTarget) {
		v[dw.TorpTarget] = int32(x.Target())
	}
	f.lists[kTorp] = append(f.lists[kTorp], e)
	return nil
}

func (f *flatBuffers) readBody() error {
	x := &f.body
	e := codec.Entity{ID: x.Id(), Kind: kBody, LOD: x.Lod()}
	m, err := carried(f.schema, e.Kind, e.LOD)
	if err != nil {
		return fmt.Errorf("flatbuffers: body %d: %w", e.ID, err)
	}
	v := &e.V
	if m.Has(dw.BodyX) {
		v[dw.BodyX] = x.X()
	}
	if m.Has(dw.BodyY) {
		v[dw.BodyY] = x.Y()
	}
	if m.Has(dw.BodyZ) {
		v[dw.BodyZ] = x.Z()
	}
	if m.Has(dw.BodyRot) {
		v[dw.BodyRot] = int32(x.Rot())
	}
	if m.Has(dw.BodyLX) {
		v[dw.BodyLX] = x.Lx()
	}
	if m.Has(dw.BodyLY) {
		v[dw.BodyLY] = x.Ly()
	}
	if m.Has(dw.BodyLZ) {
		v[dw.BodyLZ] = x.Lz()
	}
	f.lists[kBody] = append(f.lists[kBody], e)
	return nil
}

func (f *flatBuffers) check(w *window, k int) error {
	if !f.schema.Equal(&f.out, &w.frames[k].View) {
		return fmt.Errorf("flatbuffers: decoded view differs from the sent one")
	}
	return nil
}
