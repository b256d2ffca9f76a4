package fleet

import "github.com/flotilla/flotilla/sim"

// Card ids. Valid ids are 1..NumCards; 0 is no card.
const (
	CardLaser   uint16 = 1 // instant hit, may miss
	CardTorpedo uint16 = 2 // homing projectile
	CardRepair  uint16 = 3 // heals an ally (or the firing ship)
	CardEMP     uint16 = 4 // drains shield and stuns
	// NumCards is the highest card id.
	NumCards = 4
)

// MaxCooldown is the longest cooldown of any card, in frames.
const MaxCooldown = 120

// Card is the fixed definition of one card.
type Card struct {
	Slot      uint8     // weapon slot whose Cooldown the card uses (0 or 1)
	Damage    int32     // hull/shield damage; for CardRepair, the hull restored
	Shield    int32     // shield drained (EMP) or restored (repair)
	Cooldown  uint16    // frames before the slot can fire again
	Range     sim.Fixed // max distance to the target when fired
	HitChance int       // percent chance an instant card hits
	Speed     sim.Fixed // projectile speed in units per frame (torpedo)
	TTL       uint16    // projectile lifetime in frames (torpedo)
	StunTTL   uint16    // frames of StatusStunned applied (EMP)
	Ally      bool      // targets own team (repair) instead of enemies
}

// cardTable holds the cards by id; index 0 is unused.
var cardTable = [NumCards + 1]Card{
	CardLaser:   {Slot: 0, Damage: 8, Cooldown: 12, Range: 100 * sim.One, HitChance: 85},
	CardTorpedo: {Slot: 1, Damage: 35, Cooldown: 75, Range: 160 * sim.One, HitChance: 100, Speed: 6 * sim.One, TTL: 60},
	CardRepair:  {Slot: 1, Damage: 30, Shield: 20, Cooldown: 90, Range: 100 * sim.One, HitChance: 100, Ally: true},
	CardEMP:     {Slot: 1, Shield: 25, Cooldown: 120, Range: 80 * sim.One, HitChance: 100, StunTTL: 40},
}

// CardByID returns the card with the given id and whether it exists.
func CardByID(id uint16) (Card, bool) {
	if id == 0 || id > NumCards {
		return Card{}, false
	}
	return cardTable[id], true
}

// TorpedoHitRadius is how close a torpedo must come to its target to hit.
const TorpedoHitRadius = 2 * sim.One
