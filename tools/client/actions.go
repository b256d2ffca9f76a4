package client

import (
	"fmt"
	"time"

	"github.com/flotilla/flotilla/protocol"
)

// flight is one action awaiting its result.
type flight struct {
	used   bool
	action protocol.Action
	sent   time.Time
}

// actions tracks what was sent: a ring of MaxInFlight actions awaiting
// results, indexed by Seq mod its size, and the applied actions whose frame
// no accepted snapshot has reached yet (at most MaxInFlight, oldest
// forgotten first).
type actions struct {
	next     uint32 // the next action's Seq; 0 is the join's
	ring     []flight
	inFlight int
	effects  []Outcome
}

func (a *actions) init(n int) {
	a.next = 1
	a.ring = make([]flight, n)
	a.effects = make([]Outcome, 0, n)
}

// Act queues an action on the reliable channel and returns its Seq; the
// next Poll writes it (call Poll before Wait). now is the caller's clock,
// the start of the action's Outcome. Every action kind but a join names the
// own ship (Ship) in Args[3]; Act sends args as given.
//
// Act fails with ErrNotReady before the client is Ready, and with
// ErrBacklog while the action MaxInFlight sequences back still awaits its
// result, so that at most MaxInFlight actions await results at once.
func (c *Client) Act(now time.Time, kind uint16, args [4]int32) (uint32, error) {
	if !c.Ready() {
		return 0, ErrNotReady
	}
	a := &c.actions
	f := &a.ring[a.next%uint32(len(a.ring))]
	if f.used {
		return 0, fmt.Errorf("%w: %d waiting, action %d among them", ErrBacklog, a.inFlight, f.action.Seq)
	}
	act := protocol.Action{Seq: a.next, Kind: kind, Args: args}
	if err := c.tr.SendReliable(protocol.AppendAction(c.buf[:0], &act)); err != nil {
		return 0, fmt.Errorf("client: action %d: %w", act.Seq, err)
	}
	*f = flight{used: true, action: act, sent: now}
	a.inFlight++
	if a.next++; a.next == 0 {
		a.next = 1 // 0 names the join
	}
	c.st.actionsSent.Add(1)
	c.st.inFlight.Store(int64(a.inFlight))
	return act.Seq, nil
}

// result matches a Result to its action.
func (c *Client) result(r *protocol.Result) {
	if r.Seq == 0 {
		c.joinResult(r)
		return
	}
	a := &c.actions
	f := &a.ring[r.Seq%uint32(len(a.ring))]
	if !f.used || f.action.Seq != r.Seq {
		c.st.unknownResults.Add(1)
		return
	}
	o := Outcome{Action: f.action, Result: *r, Sent: f.sent, Received: c.now}
	f.used = false
	a.inFlight--
	c.st.inFlight.Store(int64(a.inFlight))
	if r.Status == protocol.Applied {
		c.st.actionsApplied.Add(1)
	} else {
		c.st.actionsFizzled.Add(1)
	}
	if c.cfg.OnResult != nil {
		c.cfg.OnResult(o)
	}
	if r.Status == protocol.Applied {
		c.awaitEffect(o)
	}
}

func (c *Client) joinResult(r *protocol.Result) {
	if c.joined || c.err != nil {
		c.st.unknownResults.Add(1)
		return
	}
	if r.Status != protocol.Applied {
		c.fail(fmt.Errorf("%w: reason %d", ErrJoin, r.Reason))
		return
	}
	c.ship, c.joined = r.Value, true
}

// awaitEffect reports o's effect at once if an accepted snapshot already
// reached its frame, or keeps it until one does.
func (c *Client) awaitEffect(o Outcome) {
	if s := c.hist.newest; s != nil && reached(s.frame, o.Result.Frame) {
		c.effect(o, o.Received)
		return
	}
	a := &c.actions
	if len(a.effects) == cap(a.effects) {
		n := copy(a.effects, a.effects[1:])
		a.effects = a.effects[:n]
		c.st.effectsDropped.Add(1)
	}
	a.effects = append(a.effects, o)
}

// reachFrame reports the effects an accepted snapshot at frame makes
// visible.
func (c *Client) reachFrame(frame uint32) {
	a := &c.actions
	if len(a.effects) == 0 {
		return
	}
	kept := a.effects[:0]
	for _, o := range a.effects {
		if reached(frame, o.Result.Frame) {
			c.effect(o, c.now)
		} else {
			kept = append(kept, o)
		}
	}
	clear(a.effects[len(kept):])
	a.effects = kept
}

func (c *Client) effect(o Outcome, at time.Time) {
	o.Effect = at
	c.st.effects.Add(1)
	if c.cfg.OnEffect != nil {
		c.cfg.OnEffect(o)
	}
}

// reached reports whether frame is at or past target, in 32-bit serial
// arithmetic.
func reached(frame, target uint32) bool { return int32(frame-target) >= 0 }
