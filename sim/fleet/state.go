package fleet

import (
	"encoding/binary"

	"github.com/flotilla/flotilla/sim"
)

// stateVersion is the first byte of the canonical state; bump it when the
// layout below changes.
const stateVersion = 1

// AppendState appends the canonical little-endian encoding of the whole game
// to b: version, random generator, id and event counters, then every ship,
// projectile, body, pending order and this frame's events, each list prefixed
// by its length and in ID (or Seq) order.
func (g *Game) AppendState(b []byte) []byte {
	le := binary.LittleEndian
	b = append(b, stateVersion)
	b = le.AppendUint64(b, g.rng.State)
	b = le.AppendUint32(b, g.nextID)
	b = le.AppendUint32(b, g.eventSeq)
	b = le.AppendUint64(b, g.eventsDropped)
	b = le.AppendUint32(b, uint32(len(g.ships)))
	for i := range g.ships {
		b = appendShip(b, &g.ships[i])
	}
	b = le.AppendUint32(b, uint32(len(g.projectiles)))
	for i := range g.projectiles {
		p := &g.projectiles[i]
		b = le.AppendUint32(b, p.ID)
		b = le.AppendUint32(b, p.Source)
		b = le.AppendUint32(b, p.Target)
		b = le.AppendUint16(b, p.Card)
		b = appendVec2(b, p.Pos)
		b = appendVec2(b, p.Vel)
		b = le.AppendUint16(b, p.TTL)
	}
	b = le.AppendUint32(b, uint32(len(g.bodies)))
	for i := range g.bodies {
		b = appendBody(b, &g.bodies[i])
	}
	b = le.AppendUint32(b, uint32(len(g.orders)))
	for _, o := range g.orders {
		b = le.AppendUint32(b, o.Ship)
		b = le.AppendUint32(b, o.Target)
		b = le.AppendUint16(b, o.Card)
	}
	b = le.AppendUint32(b, uint32(len(g.events)))
	for _, e := range g.events {
		b = le.AppendUint32(b, e.Seq)
		b = le.AppendUint32(b, e.Source)
		b = le.AppendUint32(b, e.Target)
		b = le.AppendUint16(b, e.Card)
		b = append(b, e.Type)
		b = appendHex(b, e.Cell)
		b = le.AppendUint32(b, uint32(e.Damage))
		b = le.AppendUint32(b, uint32(e.HP))
		b = le.AppendUint32(b, e.Status)
	}
	return b
}

func appendShip(b []byte, s *Ship) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, s.ID)
	b = append(b, s.Team, s.Class)
	b = le.AppendUint16(b, s.Origin)
	b = le.AppendUint32(b, s.Owner)
	b = appendVec2(b, s.Pos)
	b = appendVec2(b, s.Vel)
	b = appendVec2(b, s.Home)
	b = appendHex(b, s.Tile)
	b = le.AppendUint16(b, uint16(s.Heading))
	b = le.AppendUint16(b, uint16(s.TargetHeading))
	b = append(b, uint8(s.Throttle))
	b = le.AppendUint16(b, s.Hull)
	b = le.AppendUint16(b, s.Shield)
	b = le.AppendUint16(b, s.Cooldown[0])
	b = le.AppendUint16(b, s.Cooldown[1])
	b = le.AppendUint32(b, s.Status)
	b = le.AppendUint16(b, s.StatusTTL)
	b = le.AppendUint16(b, s.Respawn)
	return append(b, boolByte(s.Active))
}

func appendBody(b []byte, x *Body) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, x.ID)
	b = le.AppendUint16(b, x.Origin)
	b = le.AppendUint32(b, x.Owner)
	b = le.AppendUint64(b, uint64(x.Radius))
	b = le.AppendUint64(b, uint64(x.Mass))
	b = appendVec3(b, x.Pos)
	b = appendVec3(b, x.Vel)
	b = appendVec3(b, sim.Vec3{X: x.Rot.X, Y: x.Rot.Y, Z: x.Rot.Z})
	b = le.AppendUint64(b, uint64(x.Rot.W))
	b = appendVec3(b, x.AngVel)
	return append(b, x.Calm, boolByte(x.Resting))
}

func appendVec2(b []byte, v sim.Vec2) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(v.X))
	return binary.LittleEndian.AppendUint64(b, uint64(v.Y))
}

func appendVec3(b []byte, v sim.Vec3) []byte {
	b = appendVec2(b, sim.Vec2{X: v.X, Y: v.Y})
	return binary.LittleEndian.AppendUint64(b, uint64(v.Z))
}

func appendHex(b []byte, h sim.Hex) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(h.Q))
	return binary.LittleEndian.AppendUint32(b, uint32(h.R))
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}
