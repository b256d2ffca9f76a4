package halfopen

import (
	"sync"
	"time"
)

// pacer hands out the times at which handshakes may begin, interval apart,
// so that the run's handshakes, first ones and those that start over alike,
// keep to its rate. The first ramp turns belong to the sessions' first
// handshakes, in order (turn i at start + i·interval); the turns after them
// go to sessions starting over, in the order they ask. A session that
// starts over during the ramp therefore waits for its end: the ramp is
// never starved by sessions knocking again. Safe for concurrent use.
type pacer struct {
	start    time.Time
	interval time.Duration // 0: unpaced

	mu   sync.Mutex
	next time.Time // the earliest turn not yet handed out
}

// newPacer returns a pacer for rate handshakes a second (0: unpaced) whose
// first ramp turns, from start, are the ramp's.
func newPacer(rate int, start time.Time, ramp int) *pacer {
	p := &pacer{start: start}
	if rate > 0 {
		p.interval = time.Second / time.Duration(rate)
	}
	p.next = start.Add(time.Duration(ramp) * p.interval)
	return p
}

// rampTurn is the time of the ramp's turn i.
func (p *pacer) rampTurn(i int) time.Time { return p.start.Add(time.Duration(i) * p.interval) }

// reserve takes the next turn after the ramp that is not before earliest,
// and returns its time.
func (p *pacer) reserve(earliest time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	at := p.next
	if at.Before(earliest) {
		at = earliest
	}
	p.next = at.Add(p.interval)
	return at
}
