package netcode

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

func seedDatagrams(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x46, 0x4C, 1, byte(TypeKeepalive), 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	req := make([]byte, RequestSize)
	putHeader(req, TypeRequest, 0)
	f.Add(req)
	resp := make([]byte, responseSize)
	putHeader(resp, TypeResponse, 0)
	f.Add(resp)
	rel := make([]byte, HeaderSize+AckSize+kcpOverhead+4)
	putHeader(rel, TypeReliable, 1)
	rel[HeaderSize+AckSize+4] = 81 // KCP push
	binary.LittleEndian.PutUint32(rel[HeaderSize+AckSize+20:], 4)
	f.Add(rel)
	un := make([]byte, unreliableHead+3)
	putHeader(un, TypeUnreliable, 1)
	f.Add(un)
	disc := make([]byte, disconnectSize)
	putHeader(disc, TypeDisconnect, 1)
	f.Add(disc)
}

// inject hands one datagram from addr to the endpoint behind p's peer.
func inject(p *pipe, from netip.AddrPort, b []byte) {
	if len(b) > batch.MaxDatagram {
		b = b[:batch.MaxDatagram]
	}
	save := p.addr
	p.addr = from
	p.WriteBatch([]batch.Datagram{{Addr: p.peer.addr, Buf: b, N: len(b)}})
	p.addr = save
}

// Any datagram from an unverified address: no panic, no session, and any
// reply is no larger than the datagram.
func FuzzServerDatagram(f *testing.F) {
	seedDatagrams(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		sa := netip.MustParseAddrPort("127.0.0.1:7777")
		ca := netip.MustParseAddrPort("127.0.0.2:5000")
		sp, cp := newPipes(sa, ca)
		s, err := NewServer(sp, ServerConfig{Handler: &nopHandler{}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		inject(cp, ca, b)
		s.Poll(time.Now())
		if st := s.Stats(); st.Sessions != 0 {
			t.Fatal("a datagram without a valid cookie created a session")
		}
		ds := batch.NewBuffers(8)
		n, _ := cp.ReadBatch(ds, time.Time{})
		for i := range n {
			if ds[i].N > len(b) {
				t.Fatalf("reply of %d bytes to a %d-byte datagram", ds[i].N, len(b))
			}
		}
	})
}

// Any datagram inside an established session, on both sides: no panic; the
// session survives or ends with a reason.
func FuzzSessionDatagram(f *testing.F) {
	seedDatagrams(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, c, _, _, now := connectedPair(t)
		id := uint32(c.Session())
		for _, toServer := range []bool{true, false} {
			d := append([]byte(nil), b...)
			if len(d) >= HeaderSize {
				binary.LittleEndian.PutUint32(d[4:], id) // aim at the live session
			}
			if toServer {
				inject(c.ep.conn.(*pipe), c.LocalAddr(), d)
			} else {
				inject(s.ep.conn.(*pipe), s.LocalAddr(), d)
			}
			*now = now.Add(20 * time.Millisecond)
			s.Poll(*now)
			c.Poll(*now)
		}
		if st := s.Stats(); st.Sessions > 1 {
			t.Fatalf("%d sessions", st.Sessions)
		}
	})
}

// Any datagram from the server's address while the client handshakes.
func FuzzClientDatagram(f *testing.F) {
	seedDatagrams(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		sa := netip.MustParseAddrPort("127.0.0.1:7777")
		ca := netip.MustParseAddrPort("127.0.0.2:5000")
		sp, cp := newPipes(sa, ca)
		c, err := NewClient(cp, ClientConfig{Server: sa, Handler: &nopHandler{}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Connect(time.Now()); err != nil {
			t.Fatal(err)
		}
		inject(sp, sa, b)
		c.Poll(time.Now())
		if c.State() == StateConnected {
			t.Fatal("connected without the right nonce")
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	seedDatagrams(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		out := make([]byte, HeaderSize)
		putHeader(out, h.Type, h.Session)
		out[2] = h.Version
		if string(out) != string(b[:HeaderSize]) {
			t.Fatalf("header %x parsed as %+v, rewritten %x", b[:HeaderSize], h, out)
		}
	})
}
