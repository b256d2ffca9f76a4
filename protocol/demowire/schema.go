// Package demowire declares the demo game's wire schema: which fields of a
// ship, a torpedo and a rigid body go on the wire, with what range and
// precision, at which level of detail, and how a combat event is carried.
// It is the one place that knows both the sim (fleet) and the codec; the
// server, the bots, the perf harness and the browser client all use it.
package demowire

import (
	"fmt"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
)

// Entity kinds on the wire, in schema order.
const (
	KindShip    uint8 = 0
	KindTorpedo uint8 = 1
	KindBody    uint8 = 2
)

// Event kinds on the wire.
const (
	EventCombat uint8 = 0
)

// Ship fields, by field index.
const (
	ShipX       = iota // position, 1/16 unit
	ShipY              //
	ShipVX             // velocity, 1/16 unit per frame
	ShipVY             //
	ShipHeading        // 10-bit binary angle (0.35°)
	ShipHull           // 0..fleet.MaxHull
	ShipShield         // 0..fleet.MaxShield
	ShipTeam           // 0..fleet.NumTeams-1
	ShipClass          // 0..fleet.NumClasses-1
	ShipStatus         // fleet.Status* bits
	ShipLX             // position, whole units (low detail)
	ShipLY             //
	ShipBX             // position, 16-unit cells (sensor blip)
	ShipBY             //
)

// Torpedo fields.
const (
	TorpX = iota
	TorpY
	TorpVX
	TorpVY
	TorpTarget // entity id of the ship it homes on
)

// Body fields.
const (
	BodyX   = iota // position, 1/32 unit
	BodyY          //
	BodyZ          //
	BodyRot        // smallest-three quaternion, 9 bits a component (full detail only)
	BodyLX         // position, whole units (low detail)
	BodyLY         //
	BodyLZ         //
)

// Combat event fields: exactly those of fleet.CombatEvent.
const (
	EvSeq = iota
	EvSource
	EvTarget
	EvCard
	EvType
	EvCellQ
	EvCellR
	EvDamage
	EvHP
	EvStatus
)

// MaxEntityID bounds entity ids carried inside fields (torpedo targets,
// event sources and targets).
const MaxEntityID = 1<<31 - 1

// MaxDamage bounds the damage of one combat event on the wire (cards deal
// −30..40 today); larger magnitudes are clamped.
const MaxDamage = 127

// Wire is the demo game's schema with the quantizers that feed it. It is
// immutable after New and safe for concurrent use; views are built by a
// Builder, one per goroutine.
type Wire struct {
	Schema *codec.Schema

	Pos      codec.FixedQuantizer    // ship and torpedo positions
	PosLow   codec.FixedQuantizer    // low-detail positions
	ShipVel  codec.VelocityQuantizer // ship velocities
	TorpVel  codec.VelocityQuantizer // torpedo velocities
	Heading  codec.AngleQuantizer
	BodyPos  codec.FixedQuantizer
	BodyZPos codec.FixedQuantizer
	BodyRot  codec.QuatQuantizer

	tileSize sim.Fixed
}

// New declares the schema for a game with configuration cfg (the world
// radius and tile size set the ranges).
func New(cfg fleet.Config) (*Wire, error) {
	cfg = cfg.WithDefaults()
	r := cfg.WorldRadius.Int()
	w := &Wire{
		Pos:      codec.FixedQuantizer{FracBits: sim.FracBits, Precision: 4, Min: -r, Max: r},
		PosLow:   codec.FixedQuantizer{FracBits: sim.FracBits, Precision: 0, Min: -r, Max: r},
		ShipVel:  codec.VelocityQuantizer{FracBits: sim.FracBits, Precision: 4, Max: int64(fleet.MaxShipSpeed / sim.One)},
		TorpVel:  codec.VelocityQuantizer{FracBits: sim.FracBits, Precision: 4, Max: 8},
		Heading:  codec.AngleQuantizer{Bits: 10},
		BodyPos:  codec.FixedQuantizer{FracBits: sim.FracBits, Precision: 5, Min: -r, Max: r},
		BodyZPos: codec.FixedQuantizer{FracBits: sim.FracBits, Precision: 5, Min: 0, Max: r},
		BodyRot:  codec.QuatQuantizer{FracBits: sim.FracBits, Bits: 9},
		tileSize: cfg.TileSize,
	}
	for name, err := range map[string]error{
		"position": w.Pos.Validate(), "ship velocity": w.ShipVel.Validate(), "torpedo velocity": w.TorpVel.Validate(),
		"heading": w.Heading.Validate(), "body position": w.BodyPos.Validate(), "body height": w.BodyZPos.Validate(),
		"body rotation": w.BodyRot.Validate(),
	} {
		if err != nil {
			return nil, fmt.Errorf("demowire: %s quantizer: %w", name, err)
		}
	}
	// Hex cells of a world of radius r: |q|, |r| stay below 2r/size + 2.
	cell := int32(2*cfg.WorldRadius/cfg.TileSize) + 2

	field := func(name string, min, max int32, delta uint8) codec.Field {
		f := codec.Field{Name: name, Min: min, Max: max}
		// Small worlds have narrow position fields: a delta form must stay
		// narrower than the field itself to be worth a flag bit.
		if w := f.Width(); delta > 0 && uint(delta) < w {
			f.Delta = delta
		}
		return f
	}
	ranged := func(name string, q interface{ Range() (int32, int32) }, delta uint8) codec.Field {
		lo, hi := q.Range()
		return field(name, lo, hi, delta)
	}
	blip := func(name string) codec.Field {
		// Blip positions are low-detail positions shifted right by 4
		// (floor division by 16): 16-unit cells.
		lo, hi := w.PosLow.Range()
		return field(name, lo>>4, hi>>4, 0)
	}
	heading := ranged("heading", w.Heading, 6)
	heading.Wrap = true

	ship := codec.Kind{
		Name: "ship",
		Fields: []codec.Field{
			ShipX: ranged("x", w.Pos, 8), ShipY: ranged("y", w.Pos, 8),
			ShipVX: ranged("vx", w.ShipVel, 4), ShipVY: ranged("vy", w.ShipVel, 4),
			ShipHeading: heading,
			ShipHull:    field("hull", 0, fleet.MaxHull, 0), ShipShield: field("shield", 0, fleet.MaxShield, 0),
			ShipTeam: field("team", 0, fleet.NumTeams-1, 0), ShipClass: field("class", 0, fleet.NumClasses-1, 0),
			ShipStatus: field("status", 0, 1<<fleet.NumStatusBits-1, 0),
			ShipLX:     ranged("lx", w.PosLow, 4), ShipLY: ranged("ly", w.PosLow, 4),
			ShipBX: blip("bx"), ShipBY: blip("by"),
		},
		LOD: [codec.NumLODs]codec.FieldMask{
			mask(ShipX, ShipY, ShipVX, ShipVY, ShipHeading, ShipHull, ShipShield, ShipTeam, ShipClass, ShipStatus),
			mask(ShipX, ShipY, ShipHeading, ShipHull, ShipTeam, ShipClass, ShipStatus),
			mask(ShipLX, ShipLY, ShipTeam, ShipClass),
			mask(ShipBX, ShipBY, ShipTeam),
		},
	}
	torp := codec.Kind{
		Name: "torpedo",
		Fields: []codec.Field{
			TorpX: ranged("x", w.Pos, 8), TorpY: ranged("y", w.Pos, 8),
			TorpVX: ranged("vx", w.TorpVel, 5), TorpVY: ranged("vy", w.TorpVel, 5),
			TorpTarget: field("target", 0, MaxEntityID, 0),
		},
		LOD: [codec.NumLODs]codec.FieldMask{
			mask(TorpX, TorpY, TorpVX, TorpVY, TorpTarget),
			mask(TorpX, TorpY),
		},
	}
	body := codec.Kind{
		Name: "body",
		Fields: []codec.Field{
			BodyX: ranged("x", w.BodyPos, 8), BodyY: ranged("y", w.BodyPos, 8), BodyZ: ranged("z", w.BodyZPos, 8),
			BodyRot: ranged("rot", w.BodyRot, 0),
			BodyLX:  ranged("lx", w.PosLow, 4), BodyLY: ranged("ly", w.PosLow, 4), BodyLZ: field("lz", 0, int32(r), 4),
		},
		LOD: [codec.NumLODs]codec.FieldMask{
			mask(BodyX, BodyY, BodyZ, BodyRot),
			mask(BodyX, BodyY, BodyZ),
			mask(BodyLX, BodyLY, BodyLZ),
			mask(BodyLX, BodyLY),
		},
	}
	combat := codec.Kind{
		Name: "combat",
		Fields: []codec.Field{
			EvSeq:    field("seq", 0, 1<<31-1, 4),
			EvSource: field("source", 0, MaxEntityID, 12),
			EvTarget: field("target", 0, MaxEntityID, 12),
			EvCard:   field("card", 0, int32(fleet.NumCards), 0),
			EvType:   field("type", 0, fleet.NumEventTypes, 0),
			EvCellQ:  field("cell_q", -cell, cell, 3),
			EvCellR:  field("cell_r", -cell, cell, 3),
			EvDamage: field("damage", -MaxDamage-1, MaxDamage, 0),
			EvHP:     field("hp", 0, fleet.MaxHull, 0),
			EvStatus: field("status", 0, 1<<fleet.NumStatusBits-1, 0),
		},
	}
	s, err := codec.NewSchema(codec.SchemaConfig{
		Entities: []codec.Kind{KindShip: ship, KindTorpedo: torp, KindBody: body},
		Events:   []codec.Kind{EventCombat: combat},
	})
	if err != nil {
		return nil, fmt.Errorf("demowire: %w", err)
	}
	w.Schema = s
	return w, nil
}

func mask(fields ...int) codec.FieldMask {
	var m codec.FieldMask
	for _, f := range fields {
		m |= 1 << f
	}
	return m
}
