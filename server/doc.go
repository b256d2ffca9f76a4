// Package server is Flotilla's authoritative game server: a Room runs a
// deterministic world at a fixed tick rate, turns the actions of connected
// clients into stamped sim actions, tells every client what became of each
// of its actions, and sends each client the part of the world it can see as
// a bit-packed delta against the newest snapshot that client acknowledged,
// within the client's rate and byte budget.
//
// The room meets everything else at small interfaces, so each can be
// replaced or multiplied without touching the others:
//
//   - transports (Transport, Link, Events): netcode over UDP is UDP; a
//     transport with goroutines of its own hands its events in through an
//     Inbox. Client ids and snapshot sequences are the room's own.
//   - the game (Game): step, hash, schema, join and leave, views. The demo
//     fleet game is demowire.Game.
//   - action sources: the room's own clients, one action at a time within a
//     per-frame quota decided where the action enters; a mesh peer's batch
//     for a frame, accepted whole; the room's own joins and leaves, never
//     refused.
//
// Cheap until proven: a session is unproven until it acknowledges a
// snapshot. Until then it is sent a small shared proof snapshot and holds
// no avatar and no view of its own; unproven sessions are bounded overall
// and per address and expire after Config.ProofTimeout.
//
// A Room owns its transports, its game and every client's state on one
// goroutine (the one in Run). Stats, SetBudget, Wake and Close are safe
// from any goroutine.
//
// Files, one idea each: config.go (settings and defaults), transport.go
// (the transport seam), udp.go (netcode as a transport), inbox.go (events
// from other goroutines), game.go (the game seam), sessions.go (arrival,
// proof, departure, timeouts), actions.go (the per-frame action queue),
// views.go (the reference-counted views, their pool and the per-tick cache
// of shared views), snapshots.go (encode once send many, sending and
// history), priority.go (the budget and the priority accumulator), room.go
// (the loop and the tick: step, then the per-client snapshot stage), stats.go
// (counters for the ops endpoint).
package server
