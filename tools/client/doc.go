// Package client is Flotilla's native client library: one session to one
// game server, on top of netcode's client. It speaks the session protocol of
// protocol: it takes the Welcome, learns its ship from the join
// Result, sends actions and matches their Results, and rebuilds the world
// view from the snapshot stream.
//
// # Snapshots
//
// The client keeps protocol.History views in a ring indexed by snapshot
// sequence mod History. A Full snapshot is decoded on its own; a Delta
// against the view the client accepted at sequence seq−Back; a Heartbeat is
// that view again at a later frame, with no events (events are not state:
// a view carries only the events of its own snapshot). A snapshot is accepted
// (and so acknowledged to the server, which may then encode against it) only
// when its baseline is in the ring under exactly that sequence and the
// rebuilt view matches the sender's checksum. Otherwise it is refused, never
// acknowledged, and counted under one reason (Stats). Decoding goes into a
// spare view that takes the slot's place only on success, so a refused
// snapshot never damages a baseline. In steady state the receive path
// allocates nothing.
//
// # Desyncs
//
// A checksum mismatch starts a desync episode: the client sends one
// protocol.Desync report with Permanent false. The next accepted snapshot
// ends the episode. An episode with no accepted snapshot for more than
// Config.DesyncAfter (1 s) after its first mismatch is permanent: it is
// counted once and reported once more with Permanent true.
//
// # Goroutines
//
// A Client is owned by one goroutine, the one that calls Poll and Wait (its
// loop); every method is for that goroutine unless its comment says
// otherwise. Callbacks run on it, inside Poll. Stats, Transport, State and
// Wake are safe from any goroutine.
package client
