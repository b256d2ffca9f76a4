package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode/netsim"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim"
)

// tally is a second, small game behind the room's Game seam: every client
// owns one counter; its one action adds 1..10 to it (mod 1024). Nothing
// of the fleet game is in it.
type tally struct {
	schema   *codec.Schema
	counters []counter // by id
	nextID   uint32
	frame    uint32
	state    []byte
}

type counter struct {
	id, owner uint32
	value     int32
}

const (
	tallyJoin  uint16 = 1
	tallyLeave uint16 = 2
	tallyAdd   uint16 = 3
)

func newTally(t testing.TB) *tally {
	s, err := codec.NewSchema(codec.SchemaConfig{Entities: []codec.Kind{{
		Name:   "counter",
		Fields: []codec.Field{{Name: "value", Min: 0, Max: 1023}},
		LOD:    [codec.NumLODs]codec.FieldMask{1, 1, 1, 1},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return &tally{schema: s, nextID: 1}
}

func (g *tally) Schema() *codec.Schema { return g.schema }
func (g *tally) Params() []byte        { return []byte("tally") }

func (g *tally) Step(frame uint32, actions []sim.Action, dst []sim.Result) ([]sim.Result, error) {
	if frame != g.frame+1 {
		return dst, sim.ErrFrameOrder
	}
	sim.SortActions(actions)
	for i := range actions {
		a := &actions[i]
		res := sim.Result{Origin: a.Origin, Client: a.Client, Seq: a.Seq}
		res.Status, res.Reason = g.apply(a, frame)
		dst = append(dst, res)
	}
	g.frame = frame
	return dst, nil
}

func (g *tally) apply(a *sim.Action, frame uint32) (sim.Status, uint8) {
	if a.Frame != frame {
		return sim.StatusFizzled, sim.ReasonWrongFrame
	}
	i := g.find(a.Client)
	switch a.Kind {
	case tallyJoin:
		if i >= 0 {
			return sim.StatusFizzled, sim.ReasonFull
		}
		g.counters = append(g.counters, counter{id: g.nextID, owner: a.Client})
		g.nextID++
	case tallyLeave:
		if i < 0 {
			return sim.StatusFizzled, sim.ReasonNoEntity
		}
		g.counters = append(g.counters[:i], g.counters[i+1:]...)
	case tallyAdd:
		if i < 0 {
			return sim.StatusFizzled, sim.ReasonNoEntity
		}
		if a.Args[0] < 1 || a.Args[0] > 10 {
			return sim.StatusFizzled, sim.ReasonBadArgs
		}
		g.counters[i].value = (g.counters[i].value + a.Args[0]) % 1024
	default:
		return sim.StatusFizzled, sim.ReasonUnknownKind
	}
	return sim.StatusApplied, sim.ReasonNone
}

func (g *tally) find(owner uint32) int {
	for i := range g.counters {
		if g.counters[i].owner == owner {
			return i
		}
	}
	return -1
}

func (g *tally) Hash() uint64 {
	g.state = binary.LittleEndian.AppendUint32(g.state[:0], g.frame)
	for _, c := range g.counters {
		g.state = binary.LittleEndian.AppendUint32(g.state, c.id)
		g.state = binary.LittleEndian.AppendUint32(g.state, c.owner)
		g.state = binary.LittleEndian.AppendUint32(g.state, uint32(c.value))
	}
	return xxhash.Sum64(g.state)
}

func (g *tally) Join(uint32) sim.Action     { return sim.Action{Kind: tallyJoin} }
func (g *tally) Leave(uint32) sim.Action    { return sim.Action{Kind: tallyLeave} }
func (g *tally) ClientMay(kind uint16) bool { return kind == tallyAdd }
func (g *tally) Focus(uint32) uint64        { return 0 }

func (g *tally) Avatar(_ uint16, client uint32) uint32 {
	if i := g.find(client); i >= 0 {
		return g.counters[i].id
	}
	return 0
}

func (g *tally) AppendView(dst *codec.View, _ uint64, _ uint32) {
	for _, c := range g.counters {
		e := codec.Entity{ID: c.id}
		e.V[0] = c.value
		dst.Entities = append(dst.Entities, e)
	}
}

// memLink is a session of an in-memory transport whose client runs on the
// test's goroutine: the room's sends queue under a lock, and the client's
// messages and acknowledgements go through an Inbox.
type memLink struct {
	addr netip.AddrPort
	in   *Inbox

	mu       sync.Mutex
	reliable [][]byte
	snaps    [][]byte
	closed   Reason
	log      func(snapshot []byte) // if set, sees every snapshot sent
}

func (l *memLink) Addr() netip.AddrPort { return l.addr }
func (l *memLink) Overhead() int        { return 0 }

func (l *memLink) SendReliable(msg []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed != 0 {
		return errors.New("closed")
	}
	l.reliable = append(l.reliable, append([]byte(nil), msg...))
	return nil
}

func (l *memLink) SendSnapshot(_ uint16, p []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed != 0 {
		return errors.New("closed")
	}
	l.snaps = append(l.snaps, append([]byte(nil), p...))
	if l.log != nil {
		l.log(p)
	}
	return nil
}

func (l *memLink) Close(r Reason) {
	l.mu.Lock()
	l.closed = r
	l.mu.Unlock()
	l.in.Forget(l)
}

func (l *memLink) take() (rel, snaps [][]byte, closed Reason) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rel, snaps, closed = l.reliable, l.snaps, l.closed
	l.reliable, l.snaps = nil, nil
	return
}

// memClient is the client end of a memLink: it rebuilds views with the
// codec from the snapshots, acknowledges what it rebuilt through the
// Inbox, and keeps its results.
type memClient struct {
	t       testing.TB
	link    *memLink
	codec   *codec.Codec
	ring    protocol.Ring[probeSlot]
	newest  *probeSlot
	welcome protocol.Welcome
	results map[uint32]protocol.Result
	avatar  uint32
	nextSeq uint32
	applied int32 // sum of the applied adds
	sent    map[uint32]int32
}

func newMemClient(t testing.TB, in *Inbox, schema *codec.Schema, addr string) *memClient {
	c := &memClient{t: t, link: &memLink{addr: netip.MustParseAddrPort(addr), in: in}, codec: codec.NewCodec(schema),
		results: map[uint32]protocol.Result{}, nextSeq: 1, sent: map[uint32]int32{}}
	if !in.Arrive(c.link) {
		t.Fatal("inbox full")
	}
	return c
}

func (c *memClient) poll() {
	rel, snaps, _ := c.link.take()
	for _, m := range rel {
		switch protocol.MsgType(m[0]) {
		case protocol.MsgWelcome:
			if err := protocol.ParseWelcome(m, &c.welcome); err != nil {
				c.t.Errorf("welcome: %v", err)
			}
		case protocol.MsgResult:
			var r protocol.Result
			if err := protocol.ParseResult(m, &r); err != nil {
				c.t.Errorf("result: %v", err)
				continue
			}
			if _, dup := c.results[r.Seq]; dup {
				c.t.Errorf("two results for action %d", r.Seq)
			}
			c.results[r.Seq] = r
			if r.Seq == 0 && r.Status == protocol.Applied {
				c.avatar = r.Value
			}
			if r.Seq != 0 && r.Status == protocol.Applied {
				c.applied += c.sent[r.Seq]
			}
		}
	}
	for _, p := range snaps {
		h, body, err := protocol.ParseSnapshotHead(p)
		if err != nil {
			c.t.Errorf("head: %v", err)
			continue
		}
		var base *codec.View
		frame := h.Frame
		if h.Form != protocol.Full {
			b := c.ring.At(h.Seq - uint16(h.Back))
			if b == nil {
				continue // never acknowledged: the room never builds on it
			}
			base, frame = &b.v, b.frame+h.Frame
		}
		c.ring.Clear(h.Seq)
		slot := c.ring.Slot(h.Seq)
		if h.Form == protocol.Heartbeat {
			slot.v.CopyFrom(base)
		} else if err := c.codec.Decode(body, base, &slot.v); err != nil {
			c.t.Errorf("snapshot %d: %v", h.Seq, err)
			continue
		}
		slot.frame = frame
		c.newest = c.ring.Set(h.Seq)
		c.link.in.Acked(c.link, h.Seq)
	}
}

func (c *memClient) add(n int32) {
	a := protocol.Action{Seq: c.nextSeq, Kind: tallyAdd, Args: [4]int32{n}}
	c.sent[a.Seq] = n
	c.nextSeq++
	if !c.link.in.Message(c.link, protocol.AppendAction(nil, &a)) {
		c.t.Fatal("inbox full")
	}
}

// A room runs a game that is not the fleet game, for clients of a
// transport that runs on goroutines of its own (through an Inbox): the
// seams carry everything, and the views rebuild exactly.
func TestRoomRunsAnotherGameOverAnInbox(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		game := newTally(t)
		in := NewInbox(256, 1<<16)
		room, err := New(Config{}, game, nil, in)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- room.Run(ctx) }()
		var cs []*memClient
		for i := range 3 {
			cs = append(cs, newMemClient(t, in, game.schema, fmt.Sprintf("192.0.2.%d:9", i+1)))
		}
		for step := range 200 { // 2 s
			for i, c := range cs {
				c.poll()
				if c.avatar != 0 && step%10 == i {
					c.add(int32(1 + (step+i)%10))
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		// A client goes; the others see its counter leave.
		gone := cs[0]
		in.Leave(gone.link)
		for range 50 {
			for _, c := range cs[1:] {
				c.poll()
			}
			time.Sleep(10 * time.Millisecond)
		}
		st := room.Stats()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if st.Clients != 2 || st.Connects != 3 {
			t.Errorf("clients %d, connects %d: want 2 and 3", st.Clients, st.Connects)
		}
		for i, c := range cs[1:] {
			if c.welcome.SchemaHash != game.schema.Hash() || string(c.welcome.Game) != "tally" {
				t.Errorf("client %d: welcome %+v", i, c.welcome)
			}
			if c.newest == nil || c.avatar == 0 {
				t.Fatalf("client %d: no view or no counter", i)
			}
			v := &c.newest.v
			if v.Find(gone.avatar) >= 0 {
				t.Errorf("client %d still sees the departed client's counter", i)
			}
			j := v.Find(c.avatar)
			if j < 0 {
				t.Fatalf("client %d does not see its own counter", i)
			}
			if got := v.Entities[j].V[0]; got != c.applied%1024 || c.applied == 0 {
				t.Errorf("client %d: counter %d, its applied adds sum to %d", i, got, c.applied)
			}
			for seq := uint32(1); seq < c.nextSeq; seq++ {
				if _, ok := c.results[seq]; !ok {
					t.Errorf("client %d: action %d unanswered", i, seq)
				}
			}
		}
		if len(game.counters) != 2 {
			t.Errorf("%d counters in the world for 2 clients", len(game.counters))
		}
	})
}

// One room serves two transports at once on its one goroutine: native
// clients over UDP (netcode on the simulated network) and clients of an
// Inbox transport; all get their ships and rebuild their views.
func TestRoomServesTwoTransportsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := netsim.New(netsim.Config{Seed: 6, Latency: 10 * time.Millisecond})
		conn, err := net.Listen(roomAddr)
		if err != nil {
			t.Fatal(err)
		}
		game, err := demowire.NewGame(demowire.GameConfig{})
		if err != nil {
			t.Fatal(err)
		}
		udp, err := NewUDP(conn, UDPConfig{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		in := NewInbox(256, 1<<16)
		room, err := New(Config{}, game, nil, udp, in)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- room.Run(ctx) }()
		var probes []*probe
		for i := range 2 {
			c, err := net.Listen(netip.MustParseAddrPort(fmt.Sprintf("10.0.2.%d:1000", i+1)))
			if err != nil {
				t.Fatal(err)
			}
			probes = append(probes, newProbe(t, c, roomAddr, false))
		}
		var mems []*memClient
		for i := range 2 {
			mems = append(mems, newMemClient(t, in, game.Schema(), fmt.Sprintf("192.0.2.%d:9", i+1)))
		}
		for range 300 {
			for _, p := range probes {
				if _, err := p.nc.Poll(time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			for _, m := range mems {
				m.poll()
			}
			time.Sleep(10 * time.Millisecond)
		}
		st := room.Stats()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if st.Clients != 4 {
			t.Errorf("%d clients in the world, want 4", st.Clients)
		}
		for i, p := range probes {
			v, _, ok := p.view()
			if !ok || p.ship() == 0 || v.Find(p.ship()) < 0 || p.refused["checksum"] != 0 {
				t.Errorf("UDP client %d: ship %d, view %v, refused %v", i, p.ship(), ok, p.refused)
			}
		}
		for i, m := range mems {
			if m.avatar == 0 || m.newest == nil || m.newest.v.Find(m.avatar) < 0 {
				t.Errorf("inbox client %d: ship %d, view %v", i, m.avatar, m.newest != nil)
			}
		}
	})
}
