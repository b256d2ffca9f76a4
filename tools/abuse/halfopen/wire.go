package halfopen

import (
	"encoding/binary"
	"strconv"

	"github.com/flotilla/flotilla/netcode"
)

// The packets a half-open session sends and reads, written from STANDARD.md
// section 3. netcode exports the header layout (ProtocolID, Version,
// HeaderSize, AckSize, RequestSize, ParseHeader, the Type and Reason values)
// but keeps the handshake sizes, its header writer and the "nothing received"
// ack value unexported, so they are spelled out here; wire_test.go checks
// them against what netcode exports and its server accepts.

// Packet sizes, STANDARD.md section 3.2.
const (
	challengeSize  = netcode.HeaderSize + 8 + 4 + 16 // nonce, bucket, mac (3.3)
	responseSize   = challengeSize                   // the challenge echoed (3.3)
	acceptSize     = netcode.HeaderSize + 8 + 2 + 2 + 4
	disconnectSize = netcode.HeaderSize + 1 + 8 // reason, nonce (3.5)
	keepaliveSize  = netcode.HeaderSize + netcode.AckSize
	unreliableMin  = netcode.HeaderSize + netcode.AckSize + 2  // + sequence (3.7)
	reliableMin    = netcode.HeaderSize + netcode.AckSize + 24 // + one KCP segment header (3.7)
)

// noneReceived is the ack a receiver that has delivered no unreliable
// payload reports (STANDARD.md section 3.7): 0xFFFF is never sent as a
// sequence, and the history bits are all clear, so no sender can take the
// report for an acknowledgement.
var noneReceived = netcode.Acks{Ack: 0xFFFF, Bits: 0}

// numTypes bounds the packet types; 0 ("invalid") also counts datagrams
// whose header does not parse.
const numTypes = int(netcode.TypeKeepalive) + 1

// appendHeader appends a header of the current version (STANDARD.md 3.1).
func appendHeader(b []byte, t netcode.Type, session uint32) []byte {
	b = binary.LittleEndian.AppendUint16(b, netcode.ProtocolID)
	b = append(b, netcode.Version, byte(t))
	return binary.LittleEndian.AppendUint32(b, session)
}

// appendRequest appends a connect request (STANDARD.md 3.3): session 0, the
// nonce, zero padding to RequestSize.
func appendRequest(b []byte, nonce uint64) []byte {
	b = appendHeader(b, netcode.TypeRequest, 0)
	b = binary.LittleEndian.AppendUint64(b, nonce)
	for range netcode.RequestSize - netcode.HeaderSize - 8 {
		b = append(b, 0)
	}
	return b
}

// appendResponse appends the response to a challenge (STANDARD.md 3.3): the
// challenge's nonce, bucket and mac echoed under type response. challenge
// must have passed parseChallenge.
func appendResponse(b, challenge []byte) []byte {
	b = appendHeader(b, netcode.TypeResponse, 0)
	return append(b, challenge[netcode.HeaderSize:challengeSize]...)
}

// appendKeepalive appends a keepalive (STANDARD.md 3.7) whose acks name
// nothing as received.
func appendKeepalive(b []byte, session uint32) []byte {
	b = appendHeader(b, netcode.TypeKeepalive, session)
	b = binary.LittleEndian.AppendUint16(b, noneReceived.Ack)
	return binary.LittleEndian.AppendUint32(b, noneReceived.Bits)
}

// accept is what an accept packet carries (STANDARD.md 3.3).
type accept struct {
	session    uint32
	nonce      uint64
	keepalive  uint16 // ms
	timeout    uint16 // units of 100 ms
	maxMessage uint32
}

// validLength reports whether n bytes is a size STANDARD.md 3.2 allows for
// a packet of type t that a client receives.
func validLength(t netcode.Type, n int) bool {
	switch t {
	case netcode.TypeChallenge:
		return n == challengeSize
	case netcode.TypeAccept:
		return n == acceptSize
	case netcode.TypeDisconnect:
		return n == disconnectSize
	case netcode.TypeReliable:
		return n >= reliableMin && n <= netcode.MaxPacket
	case netcode.TypeUnreliable:
		return n >= unreliableMin && n <= netcode.MaxPacket
	case netcode.TypeKeepalive:
		return n == keepaliveSize
	}
	return false
}

// The readers below take a datagram whose header parsed and whose length
// validLength accepted for the type; they never read past that length.

func packetNonce(b []byte) uint64 { return binary.LittleEndian.Uint64(b[netcode.HeaderSize:]) }

func readAccept(b []byte, session uint32) accept {
	h := netcode.HeaderSize
	return accept{
		session:    session,
		nonce:      binary.LittleEndian.Uint64(b[h:]),
		keepalive:  binary.LittleEndian.Uint16(b[h+8:]),
		timeout:    binary.LittleEndian.Uint16(b[h+10:]),
		maxMessage: binary.LittleEndian.Uint32(b[h+12:]),
	}
}

// readDisconnect returns a disconnect's reason byte and nonce (STANDARD.md
// 3.5).
func readDisconnect(b []byte) (reason byte, nonce uint64) {
	return b[netcode.HeaderSize], binary.LittleEndian.Uint64(b[netcode.HeaderSize+1:])
}

// reasonName names a reason byte as netcode does, and a byte netcode reads as
// unknown (0, or above the last defined reason) with its value.
func reasonName(b byte) string {
	if b == 0 || b >= byte(netcode.ReasonUnknown) {
		return "unknown(" + strconv.Itoa(int(b)) + ")"
	}
	return netcode.Reason(b).String()
}
