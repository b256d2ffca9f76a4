package client_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/netsim"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
	"github.com/flotilla/flotilla/tools/client"
	"github.com/flotilla/flotilla/tools/client/clienttest"
)

func act(t *testing.T, p *player, kind uint16, a0, a1 int32) uint32 {
	t.Helper()
	seq, err := p.c.Act(time.Now(), kind, [4]int32{a0, a1, 0, int32(p.c.Ship())})
	if err != nil {
		t.Fatalf("act %d: %v", kind, err)
	}
	return seq
}

// Full, then deltas while ships move and fire, then heartbeats while they
// rest: every accepted view is exactly the one the server sent under that
// sequence (rig.compare), on a perfect network and on a lossy one.
func TestSnapshotChainRebuildsServerViews(t *testing.T) {
	for _, tc := range []struct {
		name string
		nc   netsim.Config
	}{
		{"perfect", netsim.Config{Seed: 1, Latency: 5 * time.Millisecond}},
		{"lossy", netsim.Config{Seed: 7, Latency: 30 * time.Millisecond, Jitter: 20 * time.Millisecond,
			Loss: 0.15, Duplicate: 0.05, Reorder: 0.05}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, tc.nc, clienttest.Config{})
				rate := protocol.Rate{Hz: 10, BytesPerSec: 9000}
				a := r.add(client.Config{Rate: rate})
				b := r.add(client.Config{})
				withEvents := 0
				a.onSnap = func(p *player, s client.SnapshotInfo) {
					if v, _, ok := p.c.View(); ok && s.Refusal == client.Accepted && len(v.Events) > 0 {
						withEvents++
					}
				}
				r.ready()
				act(t, a, fleet.KindThrust, 100, 0)
				act(t, a, fleet.KindTurn, 12000, 0)
				act(t, b, fleet.KindThrust, -60, 0)
				for range 10 {
					act(t, a, fleet.KindFire, int32(fleet.CardLaser), int32(b.c.Ship()))
					r.run(100 * time.Millisecond)
				}
				act(t, a, fleet.KindThrust, 0, 0)
				act(t, b, fleet.KindThrust, 0, 0)
				r.run(time.Second)

				for _, p := range r.clients {
					st := p.c.Stats()
					if st.Full == 0 || st.Delta == 0 || st.Heartbeat == 0 {
						t.Errorf("forms full %d, delta %d, heartbeat %d: want each at least once", st.Full, st.Delta, st.Heartbeat)
					}
					if st.MissingBaseline+st.ChecksumMismatch+st.Malformed != 0 || st.DesyncReports != 0 {
						t.Errorf("a correct server's snapshots refused: %+v", st)
					}
					accepted, bytes := uint64(0), uint64(0)
					for _, s := range p.snaps {
						bytes += uint64(s.Bytes)
						if s.Refusal == client.Accepted {
							accepted++
						}
						if s.Refusal == client.Accepted && s.Form == protocol.Heartbeat && s.Bytes > client.DatagramOverhead+protocol.MaxHeartbeat {
							t.Errorf("heartbeat datagram of %d bytes", s.Bytes)
						}
					}
					if st.Snapshots != accepted || st.Full+st.Delta+st.Heartbeat != accepted || st.SnapshotBytes != bytes ||
						st.SnapshotDatagrams != uint64(len(p.snaps)) || st.Refused != uint64(len(p.snaps))-accepted {
						t.Errorf("stats %+v disagree with %d datagrams (%d accepted, %d bytes)", st, len(p.snaps), accepted, bytes)
					}
					if ss := r.session(p); ss.Acked == 0 {
						t.Error("server saw no acknowledgement")
					}
					t.Logf("%s: %+v", tc.name, st)
				}
				if withEvents == 0 {
					t.Error("no accepted view carried the laser's combat events")
				}
				if got := r.session(a).Rates; len(got) != 1 || got[0] != rate {
					t.Errorf("server got rates %v, want [%v]", got, rate)
				}
				if got := r.session(b).Rates; len(got) != 0 {
					t.Errorf("client without a rate sent %v", got)
				}
				if w := a.c.Welcome(); w.TickHz != 20 || a.c.Wire().Schema.Hash() != w.SchemaHash {
					t.Errorf("welcome %+v", w)
				}
			})
		})
	}
}

// A delta naming a baseline the client never accepted (its sequence was
// refused, so the ring slot still holds the view 32 sequences older) is
// refused, never acknowledged, and leaves the view as it was; the next
// correct snapshot is accepted.
func TestDeltaAgainstUnacceptedBaselineIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, netsim.Config{Seed: 2, Latency: 5 * time.Millisecond}, clienttest.Config{})
		p := r.add(client.Config{})
		r.ready()
		// Fill the whole ring with accepted views.
		r.until(5*time.Second, "40 snapshots", func() bool { return p.c.Stats().Snapshots >= 40 })
		r.quiet(50 * time.Millisecond)
		ss := r.session(p)
		_, frame0, _ := p.c.View()

		bad, err := r.srv.SendRaw(ss, []byte{0xFF}) // form 7: malformed
		if err != nil {
			t.Fatal(err)
		}
		r.quiet(50 * time.Millisecond)
		if st := p.c.Stats(); st.Malformed != 1 {
			t.Fatalf("malformed %d, want 1", st.Malformed)
		}
		// A well-formed delta, encoded against the view the client does
		// hold, but naming the refused sequence.
		good, _, _ := r.srv.Sent(ss, bad-1)
		var v codec.View
		r.srv.BuildView(&v)
		seq, _, err := r.srv.Send(ss, &v, clienttest.Plan{Back: 1, Against: good})
		if err != nil {
			t.Fatal(err)
		}
		r.quiet(200 * time.Millisecond)
		if st := p.c.Stats(); st.MissingBaseline != 1 {
			t.Fatalf("missing baseline %d, want 1", st.MissingBaseline)
		}
		if last := p.snaps[len(p.snaps)-1]; last.Seq != seq || last.Refusal != client.RefusedMissingBaseline {
			t.Errorf("last snapshot %+v, want %d refused for its baseline", last, seq)
		}
		if r.srv.Acked(ss, seq) || r.srv.Acked(ss, bad) {
			t.Error("a refused snapshot was acknowledged")
		}
		if _, frame, _ := p.c.View(); frame != frame0 {
			t.Errorf("view moved from frame %d to %d on refused snapshots", frame0, frame)
		}
		before := p.c.Stats().Snapshots
		r.until(time.Second, "the next snapshot", func() bool { return p.c.Stats().Snapshots > before })
		r.quiet(50 * time.Millisecond)
		if _, frame, _ := p.c.View(); !r.srv.Acked(ss, p.snaps[len(p.snaps)-1].Seq) || frame == frame0 {
			t.Errorf("the repair was not accepted and acknowledged (frame %d)", frame)
		}
	})
}

// corrupt sends ss a delta that names snapshot base but is encoded against
// that view with every ship shifted: the client rebuilds another view and
// fails the checksum.
func corrupt(t *testing.T, r *rig, ss *clienttest.Session, base uint16) uint16 {
	t.Helper()
	bv, _, ok := r.srv.Sent(ss, base)
	if !ok {
		t.Fatalf("no snapshot %d", base)
	}
	var against, v codec.View
	against.CopyFrom(bv)
	for i := range against.Entities {
		against.Entities[i].V[demowire.ShipX]++
	}
	against.Invalidate()
	r.srv.BuildView(&v)
	seq, _, err := r.srv.Send(ss, &v, clienttest.Plan{Back: uint8(r.srv.NextSeq(ss) - base), Against: &against})
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// A checksum mismatch is counted, reported once (not permanent), never
// acknowledged, and repaired by the next correct snapshot.
func TestChecksumMismatchIsReportedAndRepaired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, netsim.Config{Seed: 3, Latency: 5 * time.Millisecond}, clienttest.Config{})
		p := r.add(client.Config{})
		q := r.add(client.Config{}) // a second ship, so the view is not one entity
		r.ready()
		act(t, q, fleet.KindThrust, 90, 0)
		r.until(time.Second, "10 snapshots", func() bool { return p.c.Stats().Snapshots >= 10 })
		r.quiet(50 * time.Millisecond)
		ss := r.session(p)
		good := p.snaps[len(p.snaps)-1].Seq
		if !r.srv.Acked(ss, good) {
			t.Fatalf("snapshot %d not acknowledged", good)
		}
		if err := r.srv.Step(); err != nil { // the world moves on
			t.Fatal(err)
		}
		bad := corrupt(t, r, ss, good)
		r.quiet(100 * time.Millisecond)
		st := p.c.Stats()
		if st.ChecksumMismatch != 1 || st.DesyncEpisodes != 1 || st.DesyncReports != 1 {
			t.Fatalf("after one bad snapshot: %+v", st)
		}
		if r.srv.Acked(ss, bad) {
			t.Error("the mismatching snapshot was acknowledged")
		}
		want := protocol.Desync{Seq: bad, Frame: r.srv.Frame()}
		if len(ss.Desyncs) != 1 || ss.Desyncs[0] != want {
			t.Errorf("server got %+v, want [%+v]", ss.Desyncs, want)
		}
		r.run(2 * time.Second)
		st = p.c.Stats()
		if st.DesyncPermanent != 0 || st.DesyncReports != 1 || st.ChecksumMismatch != 1 || len(ss.Desyncs) != 1 {
			t.Errorf("a repaired mismatch: %+v, reports %+v", st, ss.Desyncs)
		}
		if _, frame, _ := p.c.View(); frame != r.srv.Frame() && frame+1 != r.srv.Frame() {
			t.Errorf("view at frame %d, server at %d", frame, r.srv.Frame())
		}
	})
}

// A mismatch that no accepted snapshot repairs for more than a second
// counts once as permanent and is reported again as permanent; a shorter
// one later does not.
func TestPersistentMismatchIsPermanent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, netsim.Config{Seed: 4, Latency: 5 * time.Millisecond}, clienttest.Config{})
		p := r.add(client.Config{})
		q := r.add(client.Config{})
		var firstMismatch time.Time
		p.onSnap = func(_ *player, s client.SnapshotInfo) {
			if s.Refusal == client.RefusedChecksum && firstMismatch.IsZero() {
				firstMismatch = time.Now()
			}
		}
		r.ready()
		act(t, q, fleet.KindThrust, 90, 0)
		r.until(time.Second, "10 snapshots", func() bool { return p.c.Stats().Snapshots >= 10 })
		r.quiet(50 * time.Millisecond)
		ss := r.session(p)

		// burst sends only corrupt snapshots (the server does not step),
		// one a tick, for d.
		var permanentAt time.Time
		sent := 0
		burst := func(d time.Duration) {
			good := p.snaps[len(p.snaps)-1].Seq
			end := time.Now().Add(d)
			for due := time.Now(); time.Now().Before(end); {
				if !time.Now().Before(due) {
					corrupt(t, r, ss, good)
					sent++
					due = due.Add(r.tick)
				}
				r.step()
				if permanentAt.IsZero() && p.c.Stats().DesyncPermanent > 0 {
					permanentAt = time.Now()
				}
			}
			r.quiet(50 * time.Millisecond)
		}
		repair := func() {
			if err := r.srv.Step(); err != nil {
				t.Fatal(err)
			}
			r.quiet(50 * time.Millisecond)
		}

		burst(1300 * time.Millisecond)
		st := p.c.Stats()
		if st.DesyncPermanent != 1 || st.DesyncEpisodes != 1 || st.DesyncReports != 2 || st.ChecksumMismatch != uint64(sent) {
			t.Fatalf("after a 1.3 s burst of %d bad snapshots: %+v", sent, st)
		}
		// The virtual clock is exact: the client polls every millisecond.
		if d := permanentAt.Sub(firstMismatch); d <= time.Second || d > time.Second+5*time.Millisecond {
			t.Errorf("counted permanent %v after the first mismatch", d)
		}
		if len(ss.Desyncs) != 2 || ss.Desyncs[0].Permanent || !ss.Desyncs[1].Permanent {
			t.Errorf("reports %+v: want one transient, then one permanent", ss.Desyncs)
		}
		repair()
		if got := p.snaps[len(p.snaps)-1]; got.Refusal != client.Accepted {
			t.Fatalf("repair refused: %+v", got)
		}
		burst(500 * time.Millisecond)
		repair()
		r.run(2 * time.Second)
		st = p.c.Stats()
		if st.DesyncPermanent != 1 || st.DesyncEpisodes != 2 || st.DesyncReports != 3 || st.ChecksumMismatch != uint64(sent) {
			t.Errorf("after a second, short burst (%d bad in all): %+v", sent, st)
		}
		if len(ss.Desyncs) != 3 || ss.Desyncs[2].Permanent {
			t.Errorf("reports %+v: want a third, transient", ss.Desyncs)
		}
	})
}

// Every action gets exactly its own result; applied ones report their
// effect once a snapshot reaches their frame.
func TestResultsMatchActions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, netsim.Config{Seed: 5, Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}, clienttest.Config{})
		a := r.add(client.Config{})
		b := r.add(client.Config{})
		r.ready()
		ship, enemy := int32(a.c.Ship()), int32(b.c.Ship())
		type want struct {
			kind   uint16
			a0, a1 int32
			status uint8
			reason uint8
		}
		wants := []want{
			{fleet.KindThrust, 50, 0, protocol.Applied, 0},
			{fleet.KindTurn, 30000, 0, protocol.Applied, 0},
			{fleet.KindFire, int32(fleet.CardLaser), enemy, protocol.Applied, 0},
			{fleet.KindFire, int32(fleet.CardLaser), 999, protocol.Fizzled, fleet.ReasonNoTarget},
			{fleet.KindThrust, 200, 0, protocol.Fizzled, sim.ReasonBadArgs},
			{fleet.KindFire, int32(fleet.CardLaser), ship, protocol.Fizzled, fleet.ReasonWrongTeam},
		}
		for i, w := range wants {
			if seq := act(t, a, w.kind, w.a0, w.a1); seq != uint32(i+1) {
				t.Fatalf("action %d got seq %d", i, seq)
			}
			r.step()
		}
		r.until(2*time.Second, "all results and effects", func() bool { return a.c.InFlight() == 0 && len(a.effects) == 3 })
		r.run(500 * time.Millisecond)
		if len(a.results) != len(wants) {
			t.Fatalf("%d results, want %d", len(a.results), len(wants))
		}
		seen := map[uint32]bool{}
		for _, o := range a.results {
			w := wants[o.Action.Seq-1]
			if seen[o.Action.Seq] {
				t.Errorf("result for %d twice", o.Action.Seq)
			}
			seen[o.Action.Seq] = true
			if o.Action.Kind != w.kind || o.Action.Args != [4]int32{w.a0, w.a1, 0, ship} || o.Result.Seq != o.Action.Seq {
				t.Errorf("outcome %+v does not match action %+v", o, w)
			}
			if o.Result.Status != w.status || o.Result.Reason != w.reason {
				t.Errorf("action %d: status %d reason %d, want %d %d", o.Action.Seq, o.Result.Status, o.Result.Reason, w.status, w.reason)
			}
			if o.Received.Before(o.Sent) || !o.Effect.IsZero() {
				t.Errorf("action %d: sent %v, received %v, effect %v", o.Action.Seq, o.Sent, o.Received, o.Effect)
			}
		}
		for _, o := range a.effects {
			if o.Result.Status != protocol.Applied || o.Effect.Before(o.Received) {
				t.Errorf("effect %+v", o)
			}
		}
		st := a.c.Stats()
		if st.ActionsSent != 6 || st.ActionsApplied != 3 || st.ActionsFizzled != 3 || st.InFlight != 0 || st.Effects != 3 || st.UnknownResults != 0 {
			t.Errorf("stats %+v", st)
		}
	})
}

// Act refuses before the ship is known and beyond MaxInFlight awaiting
// results; what the server never answers stays in flight while the
// reliable channel has delivered it (Pending 0): what the bots count lost.
func TestActBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, netsim.Config{Seed: 6, Latency: 5 * time.Millisecond}, clienttest.Config{
			Answer: func(*protocol.Action, *protocol.Result) bool { return false },
		})
		p := r.add(client.Config{MaxInFlight: 4})
		if _, err := p.c.Act(time.Now(), fleet.KindThrust, [4]int32{}); !errors.Is(err, client.ErrNotReady) {
			t.Errorf("act before ready: %v", err)
		}
		r.ready()
		for range 4 {
			act(t, p, fleet.KindThrust, 10, 0)
		}
		if _, err := p.c.Act(time.Now(), fleet.KindThrust, [4]int32{10, 0, 0, int32(p.c.Ship())}); !errors.Is(err, client.ErrBacklog) {
			t.Errorf("fifth act: %v", err)
		}
		r.run(500 * time.Millisecond)
		ss := r.session(p)
		if ss.Actions != 4 || ss.Withheld != 4 || p.c.Pending() != 0 || p.c.InFlight() != 4 {
			t.Errorf("server got %d (withheld %d); client pending %d, in flight %d", ss.Actions, ss.Withheld, p.c.Pending(), p.c.InFlight())
		}
		p.c.Close(time.Now())
		if err := p.c.Err(); !errors.Is(err, client.ErrSession) {
			t.Errorf("after Close: %v", err)
		}
		if _, err := p.c.Act(time.Now(), fleet.KindThrust, [4]int32{}); !errors.Is(err, client.ErrNotReady) {
			t.Errorf("act after close: %v", err)
		}
	})
}

func TestNewValidates(t *testing.T) {
	n := netsim.New(netsim.Config{})
	conn, err := n.Listen(serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]client.Config{
		"no server":       {},
		"rate":            {Server: serverAddr, Rate: protocol.Rate{Hz: protocol.MaxRateHz + 1}},
		"detail":          {Server: serverAddr, Detail: protocol.MaxDetail + 1},
		"in flight":       {Server: serverAddr, MaxInFlight: 513},
		"in flight queue": {Server: serverAddr, MaxInFlight: 100, Net: netcode.ClientConfig{Config: netcode.Config{SendQueue: 150}}},
		"view capacity":   {Server: serverAddr, ViewCapacity: -1},
		"desync":          {Server: serverAddr, DesyncAfter: -time.Second},
	} {
		if _, err := client.New(conn, cfg, time.Now()); err == nil {
			t.Errorf("%s: accepted %+v", name, cfg)
		}
	}
}
