// Package bridge is Flotilla's WebRTC transport for browsers (pion/webrtc):
// a browser is a peer with two pre-negotiated data channels, one
// unreliable and unordered for snapshots and their acknowledgements, one
// reliable and ordered for everything else. It knows nothing of games: the
// server adapts its peers to the room's sessions, as it adapts netcode's.
//
// One UDP port serves native clients and browsers: Demux splits a
// batch.Conn by each datagram's first byte (RFC 7983: 0–3 STUN, 20–63
// DTLS) into the connection netcode reads and a net.PacketConn that pion's
// ICE UDP mux reads. Signaling is one HTTP POST: the browser's SDP offer in,
// the answer out (ICE-lite: the server gathers nothing and waits for
// nothing).
//
// Goroutines: pion runs its own (about 20 a peer). A Handler's methods are
// called from them; Peer's methods are safe from any goroutine.
package bridge
