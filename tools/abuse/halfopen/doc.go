// Package halfopen reproduces the half-open session attack on a netcode
// server, so that a fix can be measured against it.
//
// A half-open session completes the handshake of STANDARD.md section 3.3
// (request, challenge, response echoing the cookie, accept) from a real UDP
// socket, and afterwards sends nothing but a bare keepalive every
// Config.Keepalive. The keepalive's acks name nothing as received (ack
// 0xFFFF, no history bits: STANDARD.md 3.7), so the server never learns that
// anything it sent arrived, yet it hears from the session often enough never
// to time it out. The session reads and discards everything the server
// sends (so its socket buffer never matters), answers nothing, acknowledges
// nothing and never sends reliable data. What it reads is counted by packet
// type, and disconnects by reason.
//
// Starting over (Config.Reconnect): a server that sends away sessions
// which acknowledge nothing (after a proof timeout, or at once when too
// many are pending) ends each attempt, so the attack keeps its pressure
// only by coming back. A session whose attempt ended begins a new
// handshake on the same socket, with a new nonce, Config.ReconnectDelay
// later, at its turn: Config.Rate bounds every handshake begun, first or
// not (pacer.go), so the load a run puts on the server's handshake path is
// at most Rate handshakes a second whatever the server does. The first
// handshakes keep their turns; sessions starting over during the ramp wait
// for its end.
//
// Sockets: each session has its own UDP socket, bound to one of
// Config.Sources on a port the kernel picks and connected to the server, and
// its own goroutine. One socket per session is what a real attacker's
// clients look like to the server (one address and port each), a connected
// socket lets the kernel drop what does not come from the server, and a few
// thousand sockets and goroutines cost little. It costs one file descriptor
// per session: Run opens every socket before the first handshake and fails,
// having sent nothing, if it cannot. A source address has about 28,000
// ephemeral ports (Linux's default range); more sessions need more sources.
//
// The packets are written here from STANDARD.md (wire.go): netcode exports
// its header layout and Type and Reason values but not the handshake sizes
// or its writers.
package halfopen
