package netcode

import (
	"math/rand/v2"
	"sort"
	"testing"
)

func TestWheelFiresInOrderAndOnTime(t *testing.T) {
	w := newWheel(0)
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 2000
	ts := make([]timer, n)
	for i := range ts {
		ts[i].init(nil, uint8(i%2))
		// Up to 3 turns of the wheel ahead, so far timers are exercised.
		w.schedule(&ts[i], rng.Int64N(3*wheelSlots*wheelTick))
	}
	// Stop every tenth; they must never fire.
	for i := 0; i < n; i += 10 {
		w.stop(&ts[i])
	}
	fired := map[*timer]int64{}
	var now int64
	var due []*timer
	for w.n > 0 {
		next := w.next()
		if next == never {
			t.Fatalf("next says nothing with %d armed", w.n)
		}
		if next <= now {
			t.Fatalf("next %d not after now %d", next, now)
		}
		now = next
		due = w.advance(now, due[:0])
		for _, tm := range due {
			if tm.at > now {
				t.Fatalf("timer due at %d fired at %d", tm.at, now)
			}
			if now-tm.at > wheelTick {
				t.Fatalf("timer due at %d fired late at %d", tm.at, now)
			}
			if _, dup := fired[tm]; dup {
				t.Fatal("timer fired twice")
			}
			fired[tm] = now
		}
	}
	if len(fired) != n-n/10 {
		t.Fatalf("fired %d timers, want %d", len(fired), n-n/10)
	}
	for i := 0; i < n; i += 10 {
		if _, ok := fired[&ts[i]]; ok {
			t.Fatal("a stopped timer fired")
		}
	}
}

func TestWheelLongJumpAndReschedule(t *testing.T) {
	w := newWheel(0)
	var a, b timer
	a.init(nil, 0)
	b.init(nil, 0)
	w.schedule(&a, 5*wheelTick)
	w.schedule(&b, 7*wheelTick)
	w.schedule(&a, 9*wheelTick) // re-arming moves it
	// Jump many turns at once: both fire in one advance.
	due := w.advance(10*wheelSlots*wheelTick, nil)
	sort.Slice(due, func(i, j int) bool { return due[i].at < due[j].at })
	if len(due) != 2 || due[0] != &b || due[1] != &a || w.n != 0 || a.scheduled() {
		t.Fatalf("due %v, n %d", due, w.n)
	}
	// A deadline in the past fires at the next tick.
	w.schedule(&a, 0)
	if got := w.next(); got != (10*wheelSlots+1)*wheelTick {
		t.Fatalf("next = %d", got)
	}
}

func TestWheelAllocatesNothing(t *testing.T) {
	w := newWheel(0)
	var tm timer
	tm.init(nil, 0)
	due := make([]*timer, 0, 4)
	now := int64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		w.schedule(&tm, now+3*wheelTick)
		now += 3 * wheelTick
		due = w.advance(now, due[:0])
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per schedule+advance", allocs)
	}
}
