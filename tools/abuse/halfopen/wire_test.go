package halfopen

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/flotilla/flotilla/netcode"
)

// The sizes written here from STANDARD.md 3.2 agree with what netcode
// exports.
func TestSizesAgreeWithNetcode(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"keepalive", keepaliveSize, 14},
		{"challenge", challengeSize, 36},
		{"response", responseSize, 36},
		{"accept", acceptSize, 24},
		{"disconnect", disconnectSize, 17},
		{"unreliable", unreliableMin, 16},
		{"reliable", reliableMin, 38},
		{"unreliable vs netcode", netcode.MaxPacket - unreliableMin, netcode.MaxUnreliablePayload},
		{"request", len(appendRequest(nil, 1)), netcode.RequestSize},
		{"types", numTypes, 9},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
}

// Every packet a session sends parses as netcode parses headers, with the
// type, version and session it was written with.
func TestPacketsParseWithNetcode(t *testing.T) {
	challenge := serverPacket(netcode.TypeChallenge, 0, challengeSize, 7)
	for _, c := range []struct {
		b       []byte
		typ     netcode.Type
		session uint32
	}{
		{appendRequest(nil, 7), netcode.TypeRequest, 0},
		{appendResponse(nil, challenge), netcode.TypeResponse, 0},
		{appendKeepalive(nil, 0xDEADBEEF), netcode.TypeKeepalive, 0xDEADBEEF},
	} {
		h, err := netcode.ParseHeader(c.b)
		if err != nil {
			t.Fatalf("%v: %v", c.typ, err)
		}
		if h.Version != netcode.Version || h.Type != c.typ || h.Session != c.session {
			t.Errorf("%v: parsed %+v", c.typ, h)
		}
	}
}

// Golden bytes: a change to what goes on the wire is a visible diff.
func TestGoldenBytes(t *testing.T) {
	challenge := serverPacket(netcode.TypeChallenge, 0, challengeSize, 0x0807060504030201)
	for i := netcode.HeaderSize + 8; i < challengeSize; i++ {
		challenge[i] = byte(0xA0 + i) // bucket and mac
	}
	request := appendRequest(nil, 0x0807060504030201)
	for _, c := range []struct {
		name string
		got  []byte
		want string
	}{
		{"keepalive", appendKeepalive(nil, 0x04030201), "464c0108" + "01020304" + "ffff" + "00000000"},
		{"request head", request[:16], "464c0101" + "00000000" + "0102030405060708"},
		{"response", appendResponse(nil, challenge), "464c0103" + "00000000" + "0102030405060708" +
			"b0b1b2b3" + "b4b5b6b7b8b9babbbcbdbebfc0c1c2c3"},
	} {
		if got := hex.EncodeToString(c.got); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	if !bytes.Equal(request[16:], make([]byte, netcode.RequestSize-16)) {
		t.Error("request padding is not zero")
	}
}

func TestReasonNames(t *testing.T) {
	for b, want := range map[byte]string{1: "closed", 4: "full", 6: "timeout", 11: "throttled", 0: "unknown(0)", 12: "unknown(12)", 255: "unknown(255)"} {
		if got := reasonName(b); got != want {
			t.Errorf("reason %d: %q, want %q", b, got, want)
		}
	}
}

// serverPacket builds a packet of type t and size n as a server would, its
// first 8 bytes after the header holding nonce (the handshake packets' and
// an accept's layout; a disconnect's nonce follows its reason byte).
func serverPacket(t netcode.Type, session uint32, n int, nonce uint64) []byte {
	b := appendHeader(make([]byte, 0, n), t, session)
	b = b[:n]
	if t == netcode.TypeDisconnect {
		binary.LittleEndian.PutUint64(b[netcode.HeaderSize+1:], nonce)
	} else if n >= netcode.HeaderSize+8 {
		binary.LittleEndian.PutUint64(b[netcode.HeaderSize:], nonce)
	}
	return b
}
