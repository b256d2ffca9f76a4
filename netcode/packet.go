// Package netcode carries bytes between one server and thousands of clients over
// one UDP port. Every datagram starts with an 8-byte header naming the protocol,
// its version, the packet type and the session. After a stateless cookie
// handshake a session has two channels: reliable-ordered messages (a KCP core
// per session, sharing the one socket) and unreliable-sequenced payloads whose
// receipt the peer acknowledges in every packet it sends.
//
// netcode knows nothing of games and never holds a socket: it reads and writes
// batches through batch.Conn, so the gnet backend, the recvmmsg backend and the
// network simulator carry the same protocol. STANDARD.md, section 3, specifies
// every byte this package puts on the wire.
//
// Server and Client are each owned by one goroutine (the caller's loop): Poll
// processes what arrived and runs due timers, Wait blocks until datagrams
// arrive, and the Send methods queue datagrams that Poll and Flush write.
// Time is passed in; only the outermost loop reads the clock. The one exception
// is KCP, which reads its own monotonic clock (see reliable.go).
package netcode

import (
	"encoding/binary"
	"errors"
)

// Wire constants. See STANDARD.md, section 3.
const (
	ProtocolID = 0x4C46 // the bytes "FL" little-endian
	Version    = 1

	HeaderSize = 8 // [protocol id] u16, [version] u8, [type] u8, [session id] u32
	AckSize    = 6 // [ack] u16, [ack bits] u32

	// MaxPacket is the largest datagram a Flotilla endpoint sends. It fits the
	// IPv6 minimum MTU with room for IP and UDP headers on any common path.
	MaxPacket = 1200
	// RequestSize is the exact size of a connect request: padding it to a full
	// packet proves the path carries MaxPacket-byte datagrams and makes every
	// reply to an unverified address smaller than what the address sent.
	RequestSize = MaxPacket

	challengeSize  = HeaderSize + 8 + 4 + macSize // nonce, bucket, mac
	responseSize   = challengeSize
	acceptSize     = HeaderSize + 8 + 2 + 2 + 4 // nonce, keepalive ms, timeout in 100 ms, max message
	disconnectSize = HeaderSize + 1 + 8         // reason, nonce
	keepaliveSize  = HeaderSize + AckSize
	unreliableHead = HeaderSize + AckSize + 2 // + sequence

	// MaxUnreliablePayload is the largest payload SendUnreliable accepts.
	MaxUnreliablePayload = MaxPacket - unreliableHead
)

// Type is a packet type, the fourth byte of the header.
type Type uint8

// Packet types. Values not listed are invalid and ignored.
const (
	TypeRequest    Type = 1 // client → server: connect request, padded to RequestSize
	TypeChallenge  Type = 2 // server → client: stateless cookie
	TypeResponse   Type = 3 // client → server: the cookie echoed
	TypeAccept     Type = 4 // server → client: session created
	TypeDisconnect Type = 5 // either way: a reason
	TypeReliable   Type = 6 // either way: acks, then KCP segments
	TypeUnreliable Type = 7 // either way: acks, sequence, payload
	TypeKeepalive  Type = 8 // either way: acks only
	numTypes            = 9
)

var typeNames = [numTypes]string{"invalid", "request", "challenge", "response", "accept", "disconnect", "reliable", "unreliable", "keepalive"}

func (t Type) String() string {
	if int(t) < numTypes {
		return typeNames[t]
	}
	return "invalid"
}

// Header is the fixed start of every datagram.
type Header struct {
	Version uint8
	Type    Type
	Session uint32
}

// Errors of ParseHeader.
var (
	ErrShort    = errors.New("netcode: datagram shorter than the header")
	ErrProtocol = errors.New("netcode: not a Flotilla datagram")
)

// ParseHeader reads the header of b. It checks only the length and the protocol
// id; the version and type are the caller's to judge.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, ErrShort
	}
	if binary.LittleEndian.Uint16(b) != ProtocolID {
		return Header{}, ErrProtocol
	}
	return Header{Version: b[2], Type: Type(b[3]), Session: binary.LittleEndian.Uint32(b[4:])}, nil
}

// putHeader writes a header of the current version at the start of b.
func putHeader(b []byte, t Type, session uint32) {
	binary.LittleEndian.PutUint16(b, ProtocolID)
	b[2] = Version
	b[3] = byte(t)
	binary.LittleEndian.PutUint32(b[4:], session)
}

// Acks is the receive state of a peer's unreliable channel, carried in every
// reliable, unreliable and keepalive packet: the newest sequence received and,
// in bit i, whether sequence Ack-1-i was received.
type Acks struct {
	Ack  uint16
	Bits uint32
}

func putAcks(b []byte, a Acks) {
	binary.LittleEndian.PutUint16(b, a.Ack)
	binary.LittleEndian.PutUint32(b[2:], a.Bits)
}

func readAcks(b []byte) Acks {
	return Acks{Ack: binary.LittleEndian.Uint16(b), Bits: binary.LittleEndian.Uint32(b[2:])}
}

// validLength reports whether a datagram of n bytes is well formed for type t.
func validLength(t Type, n int) bool {
	switch t {
	case TypeRequest:
		return n == RequestSize
	case TypeChallenge:
		return n == challengeSize
	case TypeResponse:
		return n == responseSize || n == peerResponseSize
	case TypeAccept:
		return n == acceptSize
	case TypeDisconnect:
		return n == disconnectSize
	case TypeReliable:
		return n >= HeaderSize+AckSize+kcpOverhead && n <= MaxPacket
	case TypeUnreliable:
		return n >= unreliableHead && n <= MaxPacket
	case TypeKeepalive:
		return n == keepaliveSize
	}
	return false
}
