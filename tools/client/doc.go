// Package client is Flotilla's native client library: one session to one
// game server. It speaks the session protocol of protocol: it takes the
// Welcome, learns its ship from the join Result, sends actions and matches
// their Results, and rebuilds the world view from the snapshot stream.
//
// # Transports
//
// New runs the session over netcode's client (UDP, STANDARD.md section 3).
// NewWebRTC runs it over the browser's wire (section 5): a pion
// PeerConnection whose offer is POSTed to the server's /rtc URL, with the
// two pre-negotiated channels of the browser bridge. Snapshots are
// acknowledged there by sending their sequences (protocol.AppendAcks) on
// the unreliable channel, the accepted snapshots of one Poll in one
// message; a Bye from the server ends the session with its reason
// (Client.Reason). Everything above the transport (views, history,
// desync reports, actions) is the same code.
//
// pion calls back on its own goroutines. Its callbacks only push events
// into a bounded queue (WebRTCConfig.Queue) and wake Wait; Poll takes them
// on the Client's goroutine. A snapshot that finds the queue full is
// dropped and counted (Stats.QueueDrops), like a lost datagram; any other
// event that finds it full ends the session, since a reliable message must
// not be lost. pion's read loop allocates a new slice for every message
// received; the client hands that slice over as is and copies nothing
// more, so the WebRTC receive path costs that one allocation a message
// (and pion's own per-send allocations), where the netcode path
// allocates nothing.
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
// Wake are safe from any goroutine, over either transport.
package client
