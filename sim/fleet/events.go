package fleet

import "github.com/flotilla/flotilla/sim"

// CombatEvent is one thing that happened in combat during a frame.
type CombatEvent struct {
	Seq    uint32  // 1 for the game's first event, +1 for each event after
	Source uint32  // ship that caused it (the target itself for EventRespawn)
	Target uint32  // ship it happened to
	Card   uint16  // card id, 0..NumCards (0 for EventRespawn)
	Type   uint8   // Event* (1..NumEventTypes)
	Cell   sim.Hex // the target's tile
	Damage int32   // hull+shield damage dealt; negative hull restored for EventRepair
	HP     int32   // target hull after the event, 0..MaxHull
	Status uint32  // target status bits after the event
}

// Event types.
const (
	EventHit       uint8 = 1 // damage reached the hull
	EventShieldHit uint8 = 2 // the shield absorbed all of the damage
	EventDestroyed uint8 = 3 // the hull reached 0
	EventMiss      uint8 = 4 // a shot missed, its target vanished, or a torpedo expired
	EventRepair    uint8 = 5 // hull and shield restored
	EventStatus    uint8 = 6 // a status effect was applied (EMP)
	EventRespawn   uint8 = 7 // a destroyed ship came back
	// NumEventTypes is the highest event type.
	NumEventTypes = 7
)

// emit records an event for the current frame, or counts it as dropped when
// the frame already holds MaxEventsPerFrame events. Dropped events take no
// sequence number, so Seq stays consecutive.
func (g *Game) emit(typ uint8, source uint32, card uint16, t *Ship, damage int32) {
	if len(g.events) >= g.cfg.MaxEventsPerFrame {
		g.eventsDropped++
		return
	}
	g.eventSeq++
	g.events = append(g.events, CombatEvent{
		Seq:    g.eventSeq,
		Source: source,
		Target: t.ID,
		Card:   card,
		Type:   typ,
		Cell:   t.Tile,
		Damage: damage,
		HP:     int32(t.Hull),
		Status: t.Status,
	})
}
