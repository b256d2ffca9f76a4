package server

import (
	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/sim"
)

// Game is what the room needs of a game: the game-logic API. The room
// owns the game on its goroutine: no method is called concurrently with
// another. The demo fleet game implements it in protocol/demowire; a game
// developer implements it for their own game, and nothing else in the
// server changes.
//
// Client numbers passed to a Game are the room's ClientIDs; Origin (in
// sim.Action and sim.Result) names the server a client belongs to on a
// mesh, 0 on a single server.
type Game interface {
	// Schema is the wire schema of the game's views. Immutable.
	Schema() *codec.Schema
	// Params are the bytes a client needs beside the schema's hash to
	// build the same schema (protocol.Welcome.Game), at most
	// protocol.MaxGameParams.
	Params() []byte

	// Step runs frame (the one after the last stepped): it applies the
	// actions stamped for it, in a deterministic order, appending one
	// result per action to dst, then advances the world.
	Step(frame uint32, actions []sim.Action, dst []sim.Result) ([]sim.Result, error)
	// Hash is the hash of the world's state after the last Step.
	Hash() uint64

	// Join is the action that brings a client into the world (the room
	// sets its Frame, Origin, Client and Seq); Leave is the one that
	// removes everything the client owns. Both are the server's own: the
	// room never drops them, and clients may not send their kinds.
	Join(client uint32) sim.Action
	Leave(client uint32) sim.Action
	// ClientMay reports whether a client may send actions of kind. It must
	// be false for the kinds of Join and Leave.
	ClientMay(kind uint16) bool
	// Avatar is the entity the client controls once its join applied (0:
	// none). It is the join result's value, outranks every other entity
	// in the client's snapshots, and centres its view.
	Avatar(origin uint16, client uint32) uint32

	// Focus names where the view of a client controlling avatar (0: none
	// yet) is centred. Clients with the same focus see the same view, so
	// the room builds it once per tick and shares it.
	Focus(avatar uint32) uint64
	// AppendView appends to dst what a client with focus sees now: its
	// entities sorted by id, and the events of the frames after since up
	// to the last stepped one (as far back as the game keeps them). It
	// allocates only when dst lacks capacity.
	AppendView(dst *codec.View, focus uint64, since uint32)
}
