package server

import (
	"testing"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/sim"
)

func TestActionQueueNeverOverwritesAnotherFrame(t *testing.T) {
	q := newActionQueue(4, 2, 10) // frames 10..13 may be pushed
	for _, f := range []uint32{9, 14, 100} {
		if q.push(sim.Action{Frame: f}) {
			t.Errorf("frame %d outside the window accepted", f)
		}
	}
	if !q.push(sim.Action{Frame: 13, Seq: 1}) || !q.push(sim.Action{Frame: 13, Seq: 2}) {
		t.Fatal("frame 13 refused within its quota")
	}
	if q.push(sim.Action{Frame: 13, Seq: 3}) {
		t.Error("local quota of 2 exceeded")
	}
	// A peer's batch is accepted whole beyond the local quota, or not at all.
	if !q.pushBatch(13, []sim.Action{{Frame: 13, Origin: 2, Seq: 1}, {Frame: 13, Origin: 2, Seq: 2}}) {
		t.Error("peer batch refused")
	}
	if q.pushBatch(12, []sim.Action{{Frame: 12}, {Frame: 11}}) {
		t.Error("a batch with another frame's action accepted")
	}
	if got := q.take(10); len(got) != 0 {
		t.Errorf("frame 10: %v", got)
	}
	// Frame 14 shares frame 10's slot: now in the window, it must not see 13's.
	if !q.push(sim.Action{Frame: 14, Seq: 9}) {
		t.Fatal("frame 14 refused after 10 was taken")
	}
	q.pushControl(sim.Action{Frame: 0, Client: 5, Kind: 1})
	q.take(11)
	if got := q.take(12); len(got) != 0 {
		t.Errorf("frame 12: %v (control actions go to the next frame taken only)", got)
	}
	got := q.take(13)
	if len(got) != 4 {
		t.Fatalf("frame 13: %d actions, want 4", len(got))
	}
	if got := q.take(14); len(got) != 1 || got[0].Seq != 9 {
		t.Errorf("frame 14: %v", got)
	}
}

func TestActionQueueControlNeverRefused(t *testing.T) {
	q := newActionQueue(3, 1, 1)
	for i := range 1000 {
		q.pushControl(sim.Action{Client: uint32(i + 1)})
	}
	got := q.take(1)
	if len(got) != 1000 {
		t.Fatalf("%d control actions taken, want 1000", len(got))
	}
	for _, a := range got {
		if a.Frame != 1 {
			t.Fatalf("control action stamped %d, want the frame taken", a.Frame)
		}
	}
}

// The view pool serves a crowd's churn from idle views, and gives them
// back when the crowd is gone, down to its floor in bytes.
func TestViewPoolFollowsTheNeed(t *testing.T) {
	p := viewPool{maxFree: 100 * entitySize}
	var vs []*view
	for range 10 {
		v := p.get(1, 0)
		v.v.Entities = make([]codec.Entity, 0, 30) // a crowd's view
		vs = append(vs, v)
	}
	p.endTick() // a tick that took 10 views
	for _, v := range vs {
		p.release(v)
	}
	if p.live != 0 || p.idle() != 10 {
		t.Fatalf("live %d, %d idle views; want 0 and the 10 a tick needed", p.live, p.idle())
	}
	v := p.get(2, 0)
	if cap(v.v.Entities) != 30 {
		t.Errorf("a reused view has capacity %d, want the 30 it had", cap(v.v.Entities))
	}
	p.release(v)
	// The crowd is gone: the need decays and the idle views go, down to
	// what fits the floor (3 views of 30 entities in 100).
	for range 150 {
		p.endTick()
	}
	if p.idle() != 3 || p.freeBytes != 90*entitySize {
		t.Errorf("%d idle views of %d bytes after the crowd left; want 3 of %d", p.idle(), p.freeBytes, 90*entitySize)
	}
}

// get prefers, among the most recently freed views, one whose entity
// array is large enough for the view to come.
func TestViewPoolFitsTheView(t *testing.T) {
	p := viewPool{maxFree: 1 << 30}
	small, large := p.get(1, 0), p.get(1, 0)
	small.v.Entities = make([]codec.Entity, 0, 10)
	large.v.Entities = make([]codec.Entity, 0, 1000)
	p.release(large)
	p.release(small) // the most recent: taken first when it fits
	if v := p.get(2, 500); v != large {
		t.Errorf("a 500-entity view got an array of %d", cap(v.v.Entities))
	}
	if v := p.get(2, 5); v != small {
		t.Errorf("the last free view was not taken")
	}
}
