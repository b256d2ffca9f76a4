package client

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode/netsim"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim/fleet"
)

// These tests drive the receive path directly, without a transport: the
// handler's methods are what netcode calls inside Poll.

var testWelcome = func() protocol.Welcome {
	fc := fleet.DefaultConfig()
	w, err := demowire.New(fc)
	if err != nil {
		panic(err)
	}
	return protocol.Welcome{Client: 1, TickHz: 20, SnapshotHz: 20, SchemaHash: w.Schema.Hash(), Game: demowire.AppendParams(nil, fc)}
}()

func newTestClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	conn, err := netsim.New(netsim.Config{}).Listen(netip.MustParseAddrPort("127.0.0.2:5000"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server = netip.MustParseAddrPort("127.0.0.1:7777")
	c, err := New(conn, cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func welcome(c *Client) { (*handler)(c).Reliable(1, protocol.AppendWelcome(nil, &testWelcome)) }

// stream is a server's side of a snapshot stream: numbered like netcode
// (0xFFFF skipped), each snapshot encoded against the previous one.
type stream struct {
	t     testing.TB
	wire  *demowire.Wire
	codec *codec.Codec
	seq   uint16
	frame uint32
	prev  codec.View
	pseq  uint16 // prev's sequence
	have  bool
}

type packet struct {
	seq   uint16
	frame uint32
	p     []byte
	view  codec.View
}

func newStream(t testing.TB, seq uint16) *stream {
	w, err := demowire.New(fleet.Config{TileSize: fleet.DefaultTileSize, WorldRadius: fleet.DefaultWorldRadius})
	if err != nil {
		t.Fatal(err)
	}
	return &stream{t: t, wire: w, codec: codec.NewCodec(w.Schema), seq: seq, frame: 1000}
}

// world returns the view at step i: n ships drifting, one combat event every
// third step, the world frozen (a heartbeat) every seventh.
func (s *stream) world(i, n int) codec.View {
	var v codec.View
	if i%7 == 6 && s.have {
		v.CopyFrom(&s.prev)
		v.Events = nil
		return v
	}
	for id := range n {
		e := codec.Entity{ID: uint32(10 + 3*id), Kind: demowire.KindShip, LOD: uint8(id % 2)}
		e.V[demowire.ShipX] = int32(100*id + i)
		e.V[demowire.ShipY] = int32(-50*id + 2*i)
		e.V[demowire.ShipHeading] = int32((i * 7) % 1024)
		e.V[demowire.ShipHull] = int32(100 + (i+id)%50)
		e.V[demowire.ShipTeam] = int32(id % fleet.NumTeams)
		v.Entities = append(v.Entities, e)
	}
	if i%3 == 0 {
		var ev codec.Event
		ev.Kind = demowire.EventCombat
		ev.V[demowire.EvSeq] = int32(i)
		ev.V[demowire.EvSource], ev.V[demowire.EvTarget] = 10, 13
		ev.V[demowire.EvCard] = int32(fleet.CardLaser)
		ev.V[demowire.EvType] = int32(fleet.EventHit)
		v.Events = append(v.Events, ev)
	}
	return v
}

// next encodes v: full for the first, heartbeat when unchanged, else a
// delta against the previous snapshot. Back is the 16-bit difference of
// the sequences: 2 across the wrap, where netcode skips 0xFFFF.
func (s *stream) next(v codec.View) packet {
	s.frame += 2
	back := uint8(s.seq - s.pseq)
	var p []byte
	switch {
	case !s.have:
		p, _ = protocol.AppendSnapshotHead(nil, protocol.SnapshotHead{Form: protocol.Full, Seq: s.seq, Frame: s.frame})
		p = append(make([]byte, 0, 1200), p...)
		p, _ = s.codec.AppendFull(p, &v)
	case len(v.Events) == 0 && s.wire.Schema.Equal(&codec.View{Entities: s.prev.Entities}, &v):
		p, _ = protocol.AppendSnapshotHead(nil, protocol.SnapshotHead{Form: protocol.Heartbeat, Back: back, Seq: s.seq, Frame: 2})
	default:
		p, _ = protocol.AppendSnapshotHead(nil, protocol.SnapshotHead{Form: protocol.Delta, Back: back, Seq: s.seq, Frame: 2})
		p = append(make([]byte, 0, 1200), p...)
		var err error
		if p, err = s.codec.AppendDelta(p, &s.prev, &v); err != nil {
			s.t.Fatal(err)
		}
	}
	pk := packet{seq: s.seq, frame: s.frame, p: p, view: v}
	s.prev.CopyFrom(&v)
	s.pseq, s.have = s.seq, true
	if s.seq++; s.seq == 0xFFFF {
		s.seq = 0
	}
	return pk
}

// The steady-state receive path (head, baseline lookup, decode, swap,
// callbacks) allocates nothing, across the sequence wrap, for full, delta
// and heartbeat snapshots alike; and each view is exactly the one sent.
func TestReceiveAllocatesNothing(t *testing.T) {
	accepted := 0
	c := newTestClient(t, Config{ViewCapacity: 16, OnSnapshot: func(s SnapshotInfo) {
		if s.Refusal == Accepted {
			accepted++
		}
	}})
	welcome(c)
	// Start near the wrap so that it happens inside the measured run.
	s := newStream(t, 0xFFFF-150)
	const warm, runs = 150, 200
	pks := make([]packet, 0, warm+runs+1)
	for i := range cap(pks) {
		pks = append(pks, s.next(s.world(i, 40))) // 40 ships: the views outgrow their capacity of 16
	}
	h := (*handler)(c)
	for _, pk := range pks[:warm] {
		if !h.Unreliable(1, pk.seq, pk.p) {
			t.Fatalf("warm-up snapshot %d refused: %+v", pk.seq, c.Stats())
		}
	}
	i := warm
	allocs := testing.AllocsPerRun(runs, func() {
		if !h.Unreliable(1, pks[i].seq, pks[i].p) {
			t.Fatalf("snapshot %d refused: %+v", pks[i].seq, c.Stats())
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per snapshot, want 0", allocs)
	}
	last := pks[len(pks)-1]
	v, frame, ok := c.View()
	if !ok || frame != last.frame || !s.wire.Schema.Equal(v, &last.view) {
		t.Errorf("final view: frame %d (want %d), equal %v", frame, last.frame, ok && s.wire.Schema.Equal(v, &last.view))
	}
	st := c.Stats()
	if accepted != len(pks) || st.Full != 1 || st.Heartbeat == 0 || st.Delta == 0 || st.Refused != 0 {
		t.Errorf("accepted %d of %d: %+v", accepted, len(pks), st)
	}
	if last.seq >= 0xFFFF-150 {
		t.Fatalf("the run did not cross the wrap (last seq %d)", last.seq)
	}
}

// Refusals in the order the client checks them, each leaving the ring and
// the newest view as they were.
func TestRefusals(t *testing.T) {
	c := newTestClient(t, Config{})
	h := (*handler)(c)
	s := newStream(t, 0xFFFE)
	full := s.next(s.world(0, 3))
	if h.Unreliable(1, full.seq, full.p) {
		t.Error("snapshot before the welcome accepted")
	}
	welcome(c)
	if !h.Unreliable(1, full.seq, full.p) {
		t.Fatalf("full refused: %+v", c.Stats())
	}
	d1 := s.next(s.world(1, 3)) // seq 0: the wrap skipped 0xFFFF
	if d1.seq != 0 || !h.Unreliable(1, d1.seq, d1.p) {
		t.Fatalf("delta %d across the wrap refused: %+v", d1.seq, c.Stats())
	}
	d2 := s.next(s.world(2, 3))
	// A baseline never received: d2 (sequence 1) naming 0xFFFF, which
	// netcode never sends.
	bad := append([]byte(nil), d2.p...)
	bad[0] = byte(protocol.Delta)<<5 | 2
	if h.Unreliable(1, d2.seq, bad) {
		t.Error("delta against a never-received baseline accepted")
	}
	// A head the format does not have.
	if h.Unreliable(1, d2.seq, []byte{3 << 5}) {
		t.Error("malformed head accepted")
	}
	// A delta cut short.
	if h.Unreliable(1, d2.seq, d2.p[:len(d2.p)-1]) {
		t.Error("truncated delta accepted")
	}
	if v, frame, _ := c.View(); frame != d1.frame || !s.wire.Schema.Equal(v, &d1.view) {
		t.Errorf("refusals changed the view (frame %d, want %d)", frame, d1.frame)
	}
	if !h.Unreliable(1, d2.seq, d2.p) {
		t.Fatalf("the good delta refused after the bad ones: %+v", c.Stats())
	}
	st := c.Stats()
	if st.Early != 1 || st.MissingBaseline != 1 || st.Malformed < 1 || st.ChecksumMismatch+st.Malformed != 2 || st.Snapshots != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestWelcomeAndJoin(t *testing.T) {
	c := newTestClient(t, Config{})
	h := (*handler)(c)
	h.Reliable(1, protocol.AppendWelcome(nil, &protocol.Welcome{TickHz: 20}))
	if !errors.Is(c.Err(), ErrWelcome) || c.Ready() {
		t.Errorf("bad welcome: err %v, ready %v", c.Err(), c.Ready())
	}

	c = newTestClient(t, Config{})
	h = (*handler)(c)
	welcome(c)
	h.Reliable(1, protocol.AppendWelcome(nil, &testWelcome))
	if c.Stats().BadMessages != 1 || c.Err() != nil {
		t.Errorf("second welcome: %+v, %v", c.Stats(), c.Err())
	}
	h.Reliable(1, protocol.AppendResult(nil, &protocol.Result{Seq: 0, Status: protocol.Fizzled, Reason: 5}))
	if !errors.Is(c.Err(), ErrJoin) || c.Ready() {
		t.Errorf("fizzled join: err %v, ready %v", c.Err(), c.Ready())
	}

	c = newTestClient(t, Config{})
	h = (*handler)(c)
	welcome(c)
	h.Reliable(1, protocol.AppendResult(nil, &protocol.Result{Seq: 0, Status: protocol.Applied, Value: 42}))
	h.Reliable(1, protocol.AppendResult(nil, &protocol.Result{Seq: 7, Status: protocol.Applied}))
	h.Reliable(1, []byte{byte(protocol.MsgAction)})
	if !c.Ready() || c.Ship() != 42 || c.Wire() == nil {
		t.Errorf("join: ready %v, ship %d", c.Ready(), c.Ship())
	}
	if st := c.Stats(); st.UnknownResults != 1 || st.BadMessages != 1 {
		t.Errorf("unknown result and bad message: %+v", st)
	}
}

// Whatever arrives, the client never panics and never damages a view it
// accepted under another sequence: after any payload at sequence 1, a
// delta at 2 against the full snapshot at 0 is still accepted.
func FuzzReceive(f *testing.F) {
	s, one := newStream(f, 0), newStream(f, 0)
	full := s.next(s.world(0, 4))
	one.next(one.world(0, 4))
	f.Add(one.next(one.world(1, 4)).p) // a good delta at 1
	f.Add([]byte{byte(protocol.Heartbeat)<<5 | 1, 3})
	f.Add([]byte{0, 1, 2, 3, 4, 5})
	s.seq = 2 // skip 1: the delta at 2 names 0 as its baseline
	after := s.next(s.world(2, 4))
	f.Fuzz(func(t *testing.T, p []byte) {
		c := newTestClient(t, Config{})
		welcome(c)
		h := (*handler)(c)
		if !h.Unreliable(1, 0, full.p) {
			t.Fatal("full refused")
		}
		h.Unreliable(1, 1, p)
		if !h.Unreliable(1, 2, after.p) {
			t.Fatalf("after payload %x, the delta against 0 was refused: %+v", p, c.Stats())
		}
		if v, _, _ := c.View(); !s.wire.Schema.Equal(v, &after.view) {
			t.Fatal("wrong view after the delta")
		}
	})
}
