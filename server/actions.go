package server

import "github.com/flotilla/flotilla/sim"

// actionQueue holds stamped actions by the frame they apply to. Every source
// of actions pushes into it: the room's own clients one action at a time
// (push, within the local per-frame quota decided at entry), a mesh peer a
// whole batch for a frame (pushBatch, accepted whole), and the room itself
// its joins and leaves (control, never refused).
//
// Frames live in a ring of slots indexed by frame mod len(slots); a slot
// holds one frame's actions, and only frames from next (the next frame to
// be taken) to next+len(slots)-1 may be pushed, so a push can never land in
// a slot that still holds another frame's actions.
//
// Bounds: local actions per frame by the quota; a peer's batch by the
// peer's own quota; control actions by two per client (a join and a
// leave).
type actionQueue struct {
	slots      []frameActions
	next       uint32 // the next frame take returns
	localQuota int
	control    []sim.Action
	taken      []sim.Action // take's result: the slot's and control's actions
}

type frameActions struct {
	frame   uint32
	used    bool
	local   int // actions pushed by push (the room's own clients)
	actions []sim.Action
}

func newActionQueue(span, localQuota int, next uint32) *actionQueue {
	return &actionQueue{slots: make([]frameActions, span), localQuota: localQuota, next: next}
}

// slot returns frame's slot, claiming it if it holds no frame, or nil when
// frame lies outside the window.
func (q *actionQueue) slot(frame uint32) *frameActions {
	if int32(frame-q.next) < 0 || frame-q.next >= uint32(len(q.slots)) {
		return nil
	}
	s := &q.slots[frame%uint32(len(q.slots))]
	if !s.used {
		s.frame, s.used, s.local, s.actions = frame, true, 0, s.actions[:0]
	}
	return s
}

// push adds one of the room's own clients' actions, stamped for a.Frame.
// It reports false, changing nothing, when the frame lies outside the
// window or its local quota is spent.
func (q *actionQueue) push(a sim.Action) bool {
	s := q.slot(a.Frame)
	if s == nil || s.local >= q.localQuota {
		return false
	}
	s.local++
	s.actions = append(s.actions, a)
	return true
}

// pushBatch adds a whole batch of actions for frame (a mesh peer's), every
// one stamped for frame. It reports false, adding none, when the frame lies
// outside the window or an action is stamped for another frame.
func (q *actionQueue) pushBatch(frame uint32, batch []sim.Action) bool {
	for i := range batch {
		if batch[i].Frame != frame {
			return false
		}
	}
	s := q.slot(frame)
	if s == nil {
		return false
	}
	s.actions = append(s.actions, batch...)
	return true
}

// pushControl adds one of the room's own actions (a join, a leave): it
// applies at the next frame taken, whatever that is, and is never refused.
func (q *actionQueue) pushControl(a sim.Action) { q.control = append(q.control, a) }

// pushControlAt adds one of the room's own actions for a.Frame, outside the
// local quota (a mesh member's joins and leaves, which ride its batch for
// that frame). It reports false when the frame lies outside the window.
func (q *actionQueue) pushControlAt(a sim.Action) bool {
	s := q.slot(a.Frame)
	if s == nil {
		return false
	}
	s.actions = append(s.actions, a)
	return true
}

// dropOrigin removes from frame's actions those of origin (a mesh peer's
// batch that did not come in whole before its session ended).
func (q *actionQueue) dropOrigin(frame uint32, origin uint16) {
	s := q.slot(frame)
	if s == nil {
		return
	}
	keep := s.actions[:0]
	for _, a := range s.actions {
		if a.Origin != origin {
			keep = append(keep, a)
		}
	}
	clear(s.actions[len(keep):])
	s.actions = keep
}

// actionsFor returns the actions queued for frame so far (valid until the
// queue changes).
func (q *actionQueue) actionsFor(frame uint32) []sim.Action {
	s := q.slot(frame)
	if s == nil {
		return nil
	}
	return s.actions
}

// take returns the actions for frame, which must be next: the slot's and
// every control action, the latter restamped for frame. The slice stays
// valid until the next take.
func (q *actionQueue) take(frame uint32) []sim.Action {
	q.next = frame + 1
	q.taken = q.taken[:0]
	s := &q.slots[frame%uint32(len(q.slots))]
	if s.used && s.frame == frame {
		q.taken = append(q.taken, s.actions...)
		s.used, s.actions = false, s.actions[:0]
	}
	for _, a := range q.control {
		a.Frame = frame
		q.taken = append(q.taken, a)
	}
	q.control = q.control[:0]
	return q.taken
}
