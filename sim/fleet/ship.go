package fleet

import "github.com/flotilla/flotilla/sim"

// Ship is one ship. All fields are exported for the wire layer to read.
type Ship struct {
	ID     uint32
	Team   uint8  // 0..NumTeams-1
	Class  uint8  // 0..NumClasses-1
	Origin uint16 // server of the owning client
	Owner  uint32 // owning client id within Origin; 0 = AI
	// Pos is the position, |X|, |Y| <= Config.WorldRadius (8192 units by default).
	Pos sim.Vec2
	// Vel is the velocity in units per frame, |Vel| <= MaxShipSpeed (4 units).
	Vel sim.Vec2
	// Home is where the ship spawned and respawns.
	Home sim.Vec2
	// Tile is HexOf(Pos, Config.TileSize).
	Tile          sim.Hex
	Heading       sim.Angle
	TargetHeading sim.Angle
	Throttle      int8      // -127..127, fraction of the class acceleration
	Hull          uint16    // 0..class MaxHull (at most MaxHull)
	Shield        uint16    // 0..class MaxShield (at most MaxShield)
	Cooldown      [2]uint16 // frames until weapon slot i can fire, 0..MaxCooldown
	Status        uint32    // Status* bits
	StatusTTL     uint16    // frames until StatusStunned/StatusInvulnerable clear
	Respawn       uint16    // frames until a destroyed ship respawns
	// Active is true when the ship's state changed in the last step or will
	// change in the next one without new actions. An inactive ship's fields
	// stay bit-identical from frame to frame.
	Active bool
}

// Status bits of ships and of CombatEvent.Status.
const (
	// StatusStunned: hit by an EMP; cannot thrust, turn or fire until StatusTTL runs out.
	StatusStunned uint32 = 1 << 0
	// StatusDestroyed: hull reached 0; the ship waits Respawn frames.
	StatusDestroyed uint32 = 1 << 1
	// StatusInvulnerable: just respawned; takes no damage until StatusTTL runs out.
	StatusInvulnerable uint32 = 1 << 2
	// StatusShieldDown: the shield is at 0.
	StatusShieldDown uint32 = 1 << 3
	// NumStatusBits is the number of status bits in use (bits 0..3).
	NumStatusBits = 4
)

// Ship classes.
const (
	ClassFighter uint8 = iota
	ClassFrigate
	ClassCruiser
	// NumClasses is the number of ship classes.
	NumClasses = 3
)

// NumTeams is the number of teams.
const NumTeams = 4

// Ship limits over all classes.
const (
	// MaxShipSpeed bounds |Ship.Vel| in units per frame.
	MaxShipSpeed = 4 * sim.One
	// MaxHull is the largest hull of any class.
	MaxHull = 160
	// MaxShield is the largest shield of any class.
	MaxShield = 90
	// InvulnerableFrames is how long a respawned ship is invulnerable.
	InvulnerableFrames = 45
)

// ClassStats are the fixed properties of a ship class.
type ClassStats struct {
	MaxSpeed  sim.Fixed // units per frame
	Accel     sim.Fixed // units per frame² at full throttle
	TurnRate  sim.Angle // per frame
	MaxHull   uint16
	MaxShield uint16
}

// classTable holds the stats of each class.
var classTable = [NumClasses]ClassStats{
	ClassFighter: {MaxSpeed: 4 * sim.One, Accel: sim.One / 4, TurnRate: 1024, MaxHull: 60, MaxShield: 40},
	ClassFrigate: {MaxSpeed: 3 * sim.One, Accel: sim.One / 6, TurnRate: 640, MaxHull: 100, MaxShield: 60},
	ClassCruiser: {MaxSpeed: 2 * sim.One, Accel: sim.One / 8, TurnRate: 384, MaxHull: 160, MaxShield: 90},
}

// Class returns the stats of class c (0..NumClasses-1).
func Class(c uint8) ClassStats { return classTable[c%NumClasses] }

// Alive reports whether the ship is not destroyed.
func (s *Ship) Alive() bool { return s.Status&StatusDestroyed == 0 }

// Projectile is a homing torpedo in flight.
type Projectile struct {
	ID     uint32
	Source uint32 // ship that fired it
	Target uint32 // ship it homes on
	Card   uint16
	Pos    sim.Vec2 // within ±Config.WorldRadius
	Vel    sim.Vec2 // units per frame, |Vel| <= the card's Speed (6 units)
	TTL    uint16   // frames left before it expires as a miss
}
