package server

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
)

type probeSlot struct {
	v     codec.View
	frame uint32
}

// probe is the room's unit tests' client: it rebuilds views from the
// snapshots with the codec (or, with blind set, accepts them unread, the
// cheapest client a benchmark can drive), and keeps what it was told.
type probe struct {
	t     testing.TB
	nc    *netcode.Client
	blind bool

	welcome protocol.Welcome
	codec   *codec.Codec
	ring    protocol.Ring[probeSlot]
	newest  *probeSlot // the newest accepted view, nil before any
	results []protocol.Result
	refused map[string]int
	forms   [3]int
	sizes   []int
	nextSeq uint32
}

func newProbe(t testing.TB, conn batch.Conn, server netip.AddrPort, blind bool) *probe {
	p := &probe{t: t, blind: blind, refused: map[string]int{}, nextSeq: 1}
	nc, err := netcode.NewClient(conn, netcode.ClientConfig{Server: server, Handler: p}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Connect(time.Now()); err != nil {
		t.Fatal(err)
	}
	p.nc = nc
	return p
}

func (p *probe) Connected(netcode.SessionID, netip.AddrPort)    {}
func (p *probe) Disconnected(netcode.SessionID, netcode.Reason) {}
func (p *probe) Acked(netcode.SessionID, uint16)                {}

func (p *probe) Reliable(_ netcode.SessionID, msg []byte) {
	t, _ := protocol.Type(msg)
	switch t {
	case protocol.MsgWelcome:
		if err := protocol.ParseWelcome(msg, &p.welcome); err != nil {
			p.t.Errorf("welcome: %v", err)
			return
		}
		fc, err := demowire.ParseParams(p.welcome.Game)
		if err != nil {
			p.t.Errorf("params: %v", err)
			return
		}
		w, err := demowire.New(fc)
		if err != nil {
			p.t.Errorf("wire: %v", err)
			return
		}
		if w.Schema.Hash() != p.welcome.SchemaHash {
			p.t.Errorf("schema hash %x, welcome says %x", w.Schema.Hash(), p.welcome.SchemaHash)
		}
		p.codec = codec.NewCodec(w.Schema)
	case protocol.MsgResult:
		var r protocol.Result
		if err := protocol.ParseResult(msg, &r); err != nil {
			p.t.Errorf("result: %v", err)
			return
		}
		p.results = append(p.results, r)
	default:
		p.t.Errorf("unexpected message type %d", t)
	}
}

func (p *probe) Unreliable(_ netcode.SessionID, _ uint16, payload []byte) bool {
	h, body, err := protocol.ParseSnapshotHead(payload)
	if err != nil {
		p.t.Errorf("snapshot head: %v", err)
		return false
	}
	p.forms[h.Form]++
	p.sizes = append(p.sizes, netcode.HeaderSize+netcode.AckSize+2+len(payload))
	if p.blind {
		return true
	}
	if p.codec == nil {
		p.refused["no welcome"]++
		return false
	}
	seq := h.Seq
	p.ring.Clear(seq)
	slot := p.ring.Slot(seq)
	var base *codec.View
	frame := h.Frame
	if h.Form != protocol.Full {
		b := p.ring.At(seq - uint16(h.Back))
		if b == nil {
			p.refused["no baseline"]++
			return false
		}
		base, frame = &b.v, b.frame+h.Frame
	}
	if h.Form == protocol.Heartbeat {
		slot.v.CopyFrom(base)
	} else if err := p.codec.Decode(body, base, &slot.v); err != nil {
		if errors.Is(err, codec.ErrChecksum) {
			p.refused["checksum"]++
		} else {
			p.t.Errorf("decode seq %d: %v", seq, err)
		}
		return false
	}
	slot.frame = frame
	p.newest = p.ring.Set(seq)
	return true
}

// view returns the newest accepted view and its frame.
func (p *probe) view() (*codec.View, uint32, bool) {
	if p.newest == nil {
		return nil, 0, false
	}
	return &p.newest.v, p.newest.frame, true
}

func (p *probe) act(kind uint16, args [4]int32) uint32 {
	seq := p.nextSeq
	p.nextSeq++
	a := protocol.Action{Seq: seq, Kind: kind, Args: args}
	if err := p.nc.SendReliable(protocol.AppendAction(nil, &a)); err != nil {
		p.t.Fatalf("act: %v", err)
	}
	return seq
}

// ship returns the ship the room gave the probe, 0 until the join result.
func (p *probe) ship() uint32 {
	for _, r := range p.results {
		if r.Seq == 0 && r.Status == protocol.Applied {
			return r.Value
		}
	}
	return 0
}
