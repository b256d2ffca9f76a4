// Package server is Flotilla's authoritative game server: a Room runs the
// deterministic world at a fixed tick rate, turns the actions of connected
// clients into stamped sim actions, tells every client what became of each
// of its actions, and sends each client the part of the world it can see as
// a bit-packed delta against the newest snapshot that client acknowledged,
// within the client's rate and byte budget.
//
// A Room owns its netcode.Server, its game and every client's state on one
// goroutine (the one in Run). Stats and SetBudget are safe from any
// goroutine.
//
// Files, one idea each: config.go (settings and defaults), actions.go
// (stamping and the per-frame action queue: where a mesh peer's batch will
// be one more source), views.go (the reference-counted views and the
// per-tick cache of tile views), snapshots.go (per-client history, baseline
// choice, encode once send many), priority.go (the budget and the priority
// accumulator), events.go (combat events kept until every snapshot schedule
// has carried them), room.go (the loop, the tick and the netcode callbacks),
// stats.go (counters for the ops endpoint).
package server
