package server

import (
	"sync"
	"time"
)

// Inbox is how a transport that runs goroutines of its own (the browser
// bridge's WebRTC peers) hands its sessions' events to a room: its
// goroutines push events, the room drains them on its own goroutine. An
// Inbox is a Transport: pass it to New beside the others.
//
// Bounds: at most Capacity events and MaxBytes message bytes wait at once,
// and at most perLinkEvents of one session's (so one session cannot crowd
// out the others). When full, Arrive, Message and Acked report false and
// change nothing:
// the transport must then refuse the session or end it with ReasonBacklog
// (a reliable message is never dropped silently). Leave is never refused:
// it takes no room beyond one event per session that arrived.
//
// The Links an Inbox hands to the room have their methods called on the
// room's goroutine; they must be safe against the transport's own
// goroutines, and comparable (pointers): the Inbox keys its sessions by
// Link. Each message is copied into the Inbox (an allocation per message:
// the browser bridge, its first user, should pool them).
type Inbox struct {
	mu       sync.Mutex
	events   []inboxEvent
	spare    []inboxEvent // the drained array, reused
	bytes    int
	capacity int
	maxBytes int
	wake     func()
	leaves   int          // Leave events waiting (outside the capacity)
	perLink  map[Link]int // events waiting by session (Leave aside)

	// Room goroutine only.
	ids map[Link]ClientID
	ev  Events
}

type inboxKind uint8

const (
	inboxArrive inboxKind = iota
	inboxLeave
	inboxMessage
	inboxAcked
)

type inboxEvent struct {
	kind inboxKind
	link Link
	seq  uint16
	msg  []byte
}

// NewInbox returns an Inbox holding at most capacity events and maxBytes
// bytes of messages.
func NewInbox(capacity, maxBytes int) *Inbox {
	return &Inbox{capacity: capacity, maxBytes: maxBytes, ids: make(map[Link]ClientID), perLink: make(map[Link]int)}
}

// Arrive queues a new session. Safe from any goroutine.
func (in *Inbox) Arrive(l Link) bool { return in.push(inboxEvent{kind: inboxArrive, link: l}) }

// Message queues a copy of msg from l's reliable channel. Safe from any
// goroutine.
func (in *Inbox) Message(l Link, msg []byte) bool {
	return in.push(inboxEvent{kind: inboxMessage, link: l, msg: msg})
}

// Acked queues l's acknowledgement of the room's snapshot seq. Safe from
// any goroutine.
func (in *Inbox) Acked(l Link, seq uint16) bool {
	return in.push(inboxEvent{kind: inboxAcked, link: l, seq: seq})
}

// Leave queues the end of l's session; it is never refused. Safe from any
// goroutine.
func (in *Inbox) Leave(l Link) {
	in.mu.Lock()
	in.events = append(in.events, inboxEvent{kind: inboxLeave, link: l})
	in.leaves++
	wake := in.wake
	in.mu.Unlock()
	if wake != nil {
		wake()
	}
}

// perLinkEvents bounds one session's waiting events.
const perLinkEvents = 64

func (in *Inbox) push(e inboxEvent) bool {
	in.mu.Lock()
	if len(in.events)-in.leaves >= in.capacity || in.bytes+len(e.msg) > in.maxBytes || in.perLink[e.link] >= perLinkEvents {
		in.mu.Unlock()
		return false
	}
	in.perLink[e.link]++
	if e.msg != nil {
		e.msg = append([]byte(nil), e.msg...)
		in.bytes += len(e.msg)
	}
	in.events = append(in.events, e)
	wake := in.wake
	in.mu.Unlock()
	if wake != nil {
		wake()
	}
	return true
}

// Bind implements Transport.
func (in *Inbox) Bind(ev Events, wake func()) {
	in.mu.Lock()
	in.ev, in.wake = ev, wake
	in.mu.Unlock()
}

// Poll implements Transport: it delivers every waiting event, in order.
func (in *Inbox) Poll(time.Time) (time.Time, error) {
	in.mu.Lock()
	evs := in.events
	in.events, in.spare = in.spare[:0], nil
	in.bytes, in.leaves = 0, 0
	clear(in.perLink)
	in.mu.Unlock()
	for i := range evs {
		e := &evs[i]
		switch e.kind {
		case inboxArrive:
			if id := in.ev.Arrive(e.link); id != 0 {
				in.ids[e.link] = id
			}
		case inboxLeave:
			if id, ok := in.ids[e.link]; ok {
				delete(in.ids, e.link)
				in.ev.Leave(id)
			}
		case inboxMessage:
			if id, ok := in.ids[e.link]; ok {
				in.ev.Message(id, e.msg)
			}
		case inboxAcked:
			if id, ok := in.ids[e.link]; ok {
				in.ev.Acked(id, e.seq)
			}
		}
		*e = inboxEvent{}
	}
	in.mu.Lock()
	if in.spare == nil {
		in.spare = evs[:0]
	}
	in.mu.Unlock()
	return time.Time{}, nil
}

// Forget is called by a Link's Close (on the room's goroutine) so the
// Inbox drops the session's later events.
func (in *Inbox) Forget(l Link) { delete(in.ids, l) }

// Shutdown implements Transport: every session the room holds is closed
// with ReasonShutdown.
func (in *Inbox) Shutdown(time.Time) {
	for l := range in.ids {
		l.Close(ReasonShutdown)
	}
	clear(in.ids)
}
