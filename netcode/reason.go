package netcode

// Reason says why a session ended or a connection was refused. It travels in
// disconnect packets as one byte.
type Reason uint8

// Disconnect reasons. 0 never travels; values not listed are read as
// ReasonUnknown.
const (
	ReasonNone      Reason = 0
	ReasonClosed    Reason = 1  // the peer closed the session
	ReasonShutdown  Reason = 2  // the server is shutting down
	ReasonVersion   Reason = 3  // the client speaks another protocol version
	ReasonFull      Reason = 4  // the server holds its maximum number of sessions
	ReasonCookie    Reason = 5  // the challenge cookie is forged, expired or for another address
	ReasonTimeout   Reason = 6  // nothing heard from the peer for the timeout
	ReasonBacklog   Reason = 7  // the reliable send queue to the peer is full
	ReasonKicked    Reason = 8  // the server application ended the session
	ReasonProtocol  Reason = 9  // the peer broke the protocol (a message over the size limit)
	ReasonToken     Reason = 10 // reserved: the connect token is invalid
	ReasonThrottled Reason = 11 // too many connection attempts, or sessions not yet proven, from the address
	ReasonUnknown   Reason = 12 // a reason byte this version does not know
	numReasons             = 13
)

var reasonNames = [numReasons]string{"none", "closed", "shutdown", "version", "full", "cookie", "timeout", "backlog", "kicked", "protocol", "token", "throttled", "unknown"}

func (r Reason) String() string {
	if int(r) < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

func readReason(b byte) Reason {
	if b == 0 || b >= byte(ReasonUnknown) {
		return ReasonUnknown
	}
	return Reason(b)
}

// Drop is why a received datagram was ignored. Every ignored datagram is
// counted under exactly one reason; STANDARD.md section 3.9 gives the order
// in which a receiver checks them.
type Drop uint8

// Drop reasons.
const (
	DropShort    Drop = iota // shorter than the header
	DropProtocol             // wrong protocol id: not a Flotilla datagram
	DropVersion              // another protocol version
	DropType                 // unknown type, or a type this side never receives
	DropLength               // length invalid for the type
	DropState                // a handshake packet the endpoint's state does not expect
	DropCookie               // a response whose cookie does not verify
	DropFull                 // a request or response while the server is full
	DropSession              // names no session this endpoint holds
	DropAddress              // names a session held by another address
	DropNonce                // a handshake reply or disconnect with the wrong nonce
	DropKCP                  // KCP refused the segments
	DropStale                // an unreliable payload not newer than the newest delivered
	DropOversize             // a reliable message over the size limit
	DropAck                  // acknowledges an unreliable sequence never sent (the session ends)
	DropProof                // a peer response whose proof of the peer key does not verify
	NumDrops
)

var dropNames = [NumDrops]string{"short", "protocol", "version", "type", "length", "state", "cookie", "full", "session", "address", "nonce", "kcp", "stale", "oversize", "ack", "proof"}

func (d Drop) String() string {
	if d < NumDrops {
		return dropNames[d]
	}
	return "invalid"
}
