package client_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode/netsim"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/tools/client"
	"github.com/flotilla/flotilla/tools/client/clienttest"
)

var serverAddr = netip.MustParseAddrPort("127.0.0.1:7777")

// rig is a clienttest server and clients on one simulated network, stepped
// together by one goroutine on synctest's virtual clock.
type rig struct {
	t       *testing.T
	net     *netsim.Network
	srv     *clienttest.Server
	clients []*player
	// tick is the interval of Step when run drives the server.
	tick time.Duration
	last time.Time
}

// player is one client and what its callbacks saw.
type player struct {
	c        *client.Client
	snaps    []client.SnapshotInfo
	results  []client.Outcome
	effects  []client.Outcome
	onSnap   func(p *player, s client.SnapshotInfo)
	mismatch int // accepted views that differ from what the server sent
}

func newRig(t *testing.T, nc netsim.Config, sc clienttest.Config) *rig {
	t.Helper()
	r := &rig{t: t, net: netsim.New(nc), tick: 50 * time.Millisecond}
	conn, err := r.net.Listen(serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	if r.srv, err = clienttest.New(conn, sc, time.Now()); err != nil {
		t.Fatal(err)
	}
	r.last = time.Now()
	return r
}

// add connects a client; every view it accepts is compared with the view
// the server sent under that sequence.
func (r *rig) add(cfg client.Config) *player {
	r.t.Helper()
	conn, err := r.net.Listen(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(5000+len(r.clients))))
	if err != nil {
		r.t.Fatal(err)
	}
	p := &player{}
	cfg.Server = serverAddr
	cfg.OnSnapshot = func(s client.SnapshotInfo) {
		p.snaps = append(p.snaps, s)
		if s.Refusal == client.Accepted {
			r.compare(p, s)
		}
		if p.onSnap != nil {
			p.onSnap(p, s)
		}
	}
	cfg.OnResult = func(o client.Outcome) { p.results = append(p.results, o) }
	cfg.OnEffect = func(o client.Outcome) {
		if v, frame, ok := p.c.View(); !ok || v == nil || int32(frame-o.Result.Frame) < 0 {
			r.t.Errorf("effect of action %d (frame %d) reported while the view is at frame %d", o.Action.Seq, o.Result.Frame, frame)
		}
		p.effects = append(p.effects, o)
	}
	if p.c, err = client.New(conn, cfg, time.Now()); err != nil {
		r.t.Fatal(err)
	}
	r.clients = append(r.clients, p)
	return p
}

func (r *rig) compare(p *player, s client.SnapshotInfo) {
	ss := r.session(p)
	got, frame, ok := p.c.View()
	want, wframe, wok := r.srv.Sent(ss, s.Seq)
	if !ok || !wok {
		r.t.Errorf("snapshot %d accepted: client view %v, server record %v", s.Seq, ok, wok)
		return
	}
	if frame != wframe || frame != s.Frame {
		r.t.Errorf("snapshot %d: client frame %d (info %d), server frame %d", s.Seq, frame, s.Frame, wframe)
	}
	if s.Form == protocol.Heartbeat { // the baseline's entities, no events
		if len(got.Events) != 0 {
			r.t.Errorf("heartbeat %d: %d events", s.Seq, len(got.Events))
		}
	}
	if !r.srv.Wire().Schema.Equal(got, want) {
		p.mismatch++
		r.t.Errorf("snapshot %d (%v): client view differs from the server's", s.Seq, s.Form)
	}
}

// session is p's session on the server.
func (r *rig) session(p *player) *clienttest.Session {
	r.t.Helper()
	for _, ss := range r.srv.Sessions() {
		if ss.Ship == p.c.Ship() && p.c.Ship() != 0 {
			return ss
		}
	}
	r.t.Fatalf("no session with ship %d", p.c.Ship())
	return nil
}

// step polls everything once, then lets a millisecond of virtual time pass.
func (r *rig) step() {
	r.t.Helper()
	now := time.Now()
	if _, err := r.srv.Poll(now); err != nil {
		r.t.Fatal(err)
	}
	for _, p := range r.clients {
		if _, err := p.c.Poll(now); err != nil {
			r.t.Fatal(err)
		}
	}
	time.Sleep(time.Millisecond)
}

// stepServer steps like step and ticks the server every r.tick.
func (r *rig) stepServer() {
	r.t.Helper()
	if now := time.Now(); now.Sub(r.last) >= r.tick {
		r.last = now
		if err := r.srv.Step(); err != nil {
			r.t.Fatal(err)
		}
	}
	r.step()
}

// until steps (ticking the server) until cond holds, failing after limit
// of virtual time.
func (r *rig) until(limit time.Duration, what string, cond func() bool) {
	r.t.Helper()
	end := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(end) {
			r.t.Fatalf("after %v: %s did not happen", limit, what)
		}
		r.stepServer()
	}
}

// run steps for d, ticking the server.
func (r *rig) run(d time.Duration) {
	r.t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		r.stepServer()
	}
}

// quiet steps for d without ticking the server.
func (r *rig) quiet(d time.Duration) {
	r.t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		r.step()
	}
}

func (r *rig) ready() {
	r.t.Helper()
	r.until(5*time.Second, "clients ready", func() bool {
		for _, p := range r.clients {
			if !p.c.Ready() {
				return false
			}
		}
		return true
	})
}
