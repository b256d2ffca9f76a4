// Package fleet is Flotilla's demo game: a fleet battle on a hex map with
// 2D ships that thrust, turn and fire cards at each other, homing torpedoes,
// and 3D rigid bodies (cargo crates and debris) that tumble and come to rest.
//
// Game implements sim.Game. Every entity (ship, projectile, body) takes its ID
// from one counter that starts at 1 and never reuses a value; each entity
// slice is kept sorted by ID. Ships do not collide with each other.
//
// Actions name the entity they act on in Args[3] (see the Kind constants);
// an action for an entity not owned by the action's (Origin, Client) fizzles
// with sim.ReasonNotOwner.
//
// Nothing here is safe for concurrent use; a Game belongs to one goroutine.
// Slices returned by accessors stay valid until the next Apply, Step or setup
// call and must not be modified.
package fleet
