package server

import (
	"sync"
	"sync/atomic"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/protocol"
)

// worker is one snapshot worker's own state: everything the per-client
// stage writes that belongs to no client. Worker 0 is the room's own
// goroutine; the others are the crew's.
type worker struct {
	r     *Room
	codec *codec.Codec
	enc   encCache
	sc    prioScratch
	// out holds this tick's snapshot bodies until the room sends them.
	out []byte
	in  interner
	// base is the baseline scratch: the states of loaded, gathered (load).
	// loaded (like the encodings' keys) is a pointer to a known the worker
	// does not hold: safe because no known is released during the
	// per-client stage, and endTick forgets it.
	base   codec.View
	loaded *known
}

// prioScratch is prioritize's reusable memory.
type prioScratch struct {
	picked   []int32 // picks with a record, in priority order
	keys     []uint64
	pick     []bool
	cost     []int32 // bits of each entity's record, as priced
	inBase   []int32 // each entity's index in the baseline, or -1
	noEvents codec.View
	out      codec.View // the prioritized view
	prio     []prioEntry
	body     []byte
}

func newWorker(r *Room) *worker {
	w := &worker{r: r, codec: codec.NewCodec(r.schema)}
	w.enc.m = make(map[encKey]encoding)
	w.sc.body = make([]byte, 0, maxSnapshot)
	return w
}

// job is one client's snapshot of this tick: built by a worker, sent by
// the room in client order.
type job struct {
	head protocol.SnapshotHead
	w    *worker // whose out holds the body
	off  int32
	n    int32
	sent *known
	own  bool // sent was made for this client alone
	ok   bool
}

// keep copies body into w.out for the room's send.
func (w *worker) keep(body []byte) (off, n int32) {
	off = int32(len(w.out))
	w.out = append(w.out, body...)
	return off, int32(len(body))
}

func (w *worker) endTick() {
	w.enc.endTick()
	w.out = w.out[:0]
	w.in.endTick(&w.r.states)
	w.loaded = nil
}

// crew runs the per-client stage of a tick on the room's workers: the
// room's goroutine is worker 0, and Workers−1 goroutines, started at the
// first tick that has work for them, are the rest. Clients are dealt in
// chunks from one counter, so each is built by exactly one worker, and
// what each worker writes is its own or its clients'. The goroutines end
// when the room closes (Close, or Run's return): stop closes their start
// channels, under mu, so that a tick's tokens are never sent to a
// goroutine that left, and a goroutine drains a token already sent before
// it leaves. After stop, ticks build on the room's goroutine alone.
type crew struct {
	mu      sync.Mutex
	started bool
	stopped bool
	start   []chan struct{} // one per goroutine: a tick's work is ready
	done    sync.WaitGroup
	next    atomic.Int64 // the next index of due to deal
	due     []*client
}

// stop ends the crew's goroutines once they finish the tick they may be
// in. Safe from any goroutine, more than once.
func (cr *crew) stop() {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.stopped {
		return
	}
	cr.stopped = true
	for _, s := range cr.start {
		close(s)
	}
}

// chunk is how many clients a worker takes at once: large enough that
// the counter is not contended, small enough to even out the load.
const chunk = 8

// build runs w.build for every client of due, on every worker.
func (r *Room) build(due []*client) {
	if len(r.workers) == 1 || len(due) < 2*chunk {
		for _, c := range due {
			r.workers[0].build(c)
		}
		return
	}
	cr := &r.crew
	cr.mu.Lock()
	if cr.stopped {
		cr.mu.Unlock()
		for _, c := range due {
			r.workers[0].build(c)
		}
		return
	}
	if !cr.started {
		cr.started = true
		for _, w := range r.workers[1:] {
			start := make(chan struct{}, 1)
			cr.start = append(cr.start, start)
			go w.serve(start)
		}
	}
	cr.due = due
	cr.next.Store(0)
	cr.done.Add(len(cr.start))
	for _, s := range cr.start {
		s <- struct{}{}
	}
	cr.mu.Unlock()
	r.workers[0].deal()
	cr.done.Wait()
	cr.due = nil
}

// serve is a crew goroutine: one deal per tick's token, until the crew
// stops (its start channel closed, the last token drained).
func (w *worker) serve(start <-chan struct{}) {
	for range start {
		w.deal()
		w.r.crew.done.Done()
	}
}

// deal builds chunks of the crew's clients until none is left.
func (w *worker) deal() {
	cr := &w.r.crew
	for {
		i := int(cr.next.Add(chunk)) - chunk
		if i >= len(cr.due) {
			return
		}
		for _, c := range cr.due[i:min(i+chunk, len(cr.due))] {
			w.build(c)
		}
	}
}
