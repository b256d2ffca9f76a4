package netcode

import "math/bits"

// The timer wheel schedules each session's KCP updates and housekeeping
// (keepalive, timeout) so that a session with nothing due costs nothing: no
// goroutine, no polling. Slots are one tick wide; a timer further out than
// one turn sits in its slot and is skipped until its turn comes round.
const (
	wheelTick  = int64(1e6) // one millisecond, in nanoseconds
	wheelSlots = 4096       // one turn ≈ 4.1 s
	wheelMask  = wheelSlots - 1
	wheelWords = wheelSlots / 64
	never      = int64(1<<63 - 1)
)

// timer is intrusive: it lives inside its owner, so scheduling never
// allocates.
type timer struct {
	at         int64 // deadline, ns on the endpoint's clock
	tick       int64 // the tick it fires at: at rounded up
	prev, next *timer
	slot       int32 // -1 when not scheduled
	owner      *peer
	kind       uint8
}

const (
	timerKCP   = 0 // call KCP's Update
	timerHouse = 1 // keepalive and timeout
)

type wheel struct {
	heads [wheelSlots]*timer
	used  [wheelWords]uint64 // bit per non-empty slot
	cur   int64              // last tick processed
	n     int
}

func newWheel(now int64) *wheel { return &wheel{cur: now / wheelTick} }

func (t *timer) init(owner *peer, kind uint8) {
	t.owner, t.kind, t.slot = owner, kind, -1
}

func (t *timer) scheduled() bool { return t.slot >= 0 }

// schedule (re)arms t for at, rounded up to a whole tick: a timer never fires
// early, and at most one tick late. A deadline at or before the current tick
// fires at the next tick.
func (w *wheel) schedule(t *timer, at int64) {
	if t.slot >= 0 {
		w.stop(t)
	}
	tick := (at + wheelTick - 1) / wheelTick
	if tick <= w.cur {
		tick = w.cur + 1
	}
	s := int32(tick & wheelMask)
	t.at, t.tick, t.slot = at, tick, s
	t.prev, t.next = nil, w.heads[s]
	if t.next != nil {
		t.next.prev = t
	}
	w.heads[s] = t
	w.used[s>>6] |= 1 << (s & 63)
	w.n++
}

// stop disarms t; stopping a timer that is not armed does nothing.
func (w *wheel) stop(t *timer) {
	s := t.slot
	if s < 0 {
		return
	}
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		w.heads[s] = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	}
	if w.heads[s] == nil {
		w.used[s>>6] &^= 1 << (s & 63)
	}
	t.prev, t.next, t.slot = nil, nil, -1
	w.n--
}

// advance moves the wheel to now and appends every timer that is due to dst,
// disarmed. The caller fires them; firing may re-arm them.
func (w *wheel) advance(now int64, dst []*timer) []*timer {
	end := now / wheelTick
	if end <= w.cur {
		return dst
	}
	from := w.cur + 1
	if end-from >= wheelSlots {
		from = end - wheelSlots + 1
	}
	for tick := from; tick <= end; tick++ {
		s := int32(tick & wheelMask)
		if w.used[s>>6]&(1<<(s&63)) == 0 {
			continue
		}
		for t := w.heads[s]; t != nil; {
			next := t.next
			if t.tick <= end {
				w.stop(t)
				dst = append(dst, t)
			}
			t = next
		}
	}
	w.cur = end
	return dst
}

// next returns the start of the first tick after the current one whose slot
// holds a timer, or never. It may be early (a timer a turn or more away) but
// never late.
func (w *wheel) next() int64 {
	if w.n == 0 {
		return never
	}
	start := (w.cur + 1) & wheelMask
	for i := int64(0); i <= wheelWords; i++ {
		word := ((start >> 6) + i) % wheelWords
		bitsWord := w.used[word]
		if i == 0 {
			bitsWord &= ^uint64(0) << (start & 63)
		}
		if i == wheelWords {
			bitsWord &= (1 << (start & 63)) - 1
		}
		if bitsWord == 0 {
			continue
		}
		slot := word<<6 + int64(bits.TrailingZeros64(bitsWord))
		ahead := (slot - start) & wheelMask
		return (w.cur + 1 + ahead) * wheelTick
	}
	return never
}
