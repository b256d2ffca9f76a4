package server

import "github.com/flotilla/flotilla/sim"

// actionQueue holds stamped actions by the frame they apply to. Every source
// of actions pushes into it: local clients now, a mesh peer's batch for
// frame F later (with its Origin). Frames live in a ring of slots indexed by
// frame mod len(slots); a slot holds one frame's actions.
//
// Bounds: a frame takes at most maxPerFrame actions; push refuses beyond.
// The ring spans the input delay, so any frame an action can be stamped for
// has its own slot.
type actionQueue struct {
	slots       []frameActions
	maxPerFrame int
}

type frameActions struct {
	frame   uint32
	actions []sim.Action
}

func newActionQueue(span, maxPerFrame int) *actionQueue {
	return &actionQueue{slots: make([]frameActions, span), maxPerFrame: maxPerFrame}
}

// push adds a, stamped for a.Frame, which must lie within the ring's span
// ahead of the frame being taken next. It reports false when the frame is
// full.
func (q *actionQueue) push(a sim.Action) bool {
	s := &q.slots[a.Frame%uint32(len(q.slots))]
	if s.frame != a.Frame {
		s.frame, s.actions = a.Frame, s.actions[:0]
	}
	if len(s.actions) >= q.maxPerFrame {
		return false
	}
	s.actions = append(s.actions, a)
	return true
}

// take returns the actions stamped for frame and empties its slot. The
// slice stays valid until the slot is reused, len(slots) frames later.
func (q *actionQueue) take(frame uint32) []sim.Action {
	s := &q.slots[frame%uint32(len(q.slots))]
	if s.frame != frame {
		return nil
	}
	a := s.actions
	s.actions = s.actions[:0]
	s.frame = 0
	return a
}
