package server

import (
	"net/netip"
	"time"
)

// ClientID is the room's name for a client. Ids are the room's own, never a
// transport's: a client keeps its id whichever transport carries it. 0 is
// no client.
type ClientID uint32

// Reason says why the room sends a client away. A transport carries it in
// its own vocabulary (netcode's disconnect reasons for UDP).
type Reason uint8

// Reasons the room gives.
const (
	ReasonKicked    Reason = iota + 1 // the server ended the session
	ReasonFull                        // the room holds its maximum of clients
	ReasonThrottled                   // too many unproven sessions from the address
	ReasonProtocol                    // the client broke the session protocol
	ReasonTimeout                     // the client acknowledged no snapshot in time
	ReasonShutdown                    // the room is shutting down
	ReasonBacklog                     // the client cannot take what it is sent
)

var reasonNames = [...]string{"none", "kicked", "full", "throttled", "protocol", "timeout", "shutdown", "backlog"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Link is one client's session on a transport, as the room sees it. The
// room calls its methods on its own goroutine only, from the moment it is
// handed to Events.Arrive until the transport reports the client left (or
// the room closed it).
type Link interface {
	// Addr is the client's network address (per-address limits, logs).
	Addr() netip.AddrPort
	// SendReliable queues msg on the session's reliable, ordered channel;
	// the transport copies it before returning. An error means the session
	// is over or cannot keep up; the transport ends it and reports Leave.
	SendReliable(msg []byte) error
	// SendSnapshot sends payload unreliably as the room's snapshot seq. If
	// the client delivers and accepts it, the transport reports
	// Events.Acked with seq (once). The transport copies payload.
	SendSnapshot(seq uint16, payload []byte) error
	// Overhead is what the transport adds to every snapshot payload on
	// the wire, in bytes: budgets count it.
	Overhead() int
	// Close ends the session, telling the client reason. The transport
	// reports no more events for it, not even Leave.
	Close(reason Reason)
}

// Events is the room as a transport sees it. Its methods must be called on
// the room's goroutine, inside the transport's Poll; byte slices are valid
// only during the call.
type Events interface {
	// Admit: may a session from addr begin? A transport that can ask
	// before it spends anything on a session (netcode, before it creates
	// one) does; 0 admits, another reason refuses. Arrive checks again.
	Admit(addr netip.AddrPort) Reason
	// Arrive: a session completed its transport's handshake. The room
	// returns the client's id, or 0 when it refused it (it has then closed
	// l with the reason).
	Arrive(l Link) ClientID
	// Leave: the session of client id ended for a reason of the transport
	// (timeout, closed by the client, backlog).
	Leave(id ClientID)
	// Message: the next message of id's reliable channel.
	Message(id ClientID, msg []byte)
	// Acked: id holds snapshot seq.
	Acked(id ClientID, seq uint16)
}

// Transport is one way clients reach a room: netcode over UDP (NewUDP), a
// transport with goroutines of its own through an Inbox, and later the
// browser bridge. A room serves several at once, all on its one goroutine.
type Transport interface {
	// Bind is called once, before the first Poll, with the room's events
	// and a function that wakes the room's goroutine from any goroutine.
	Bind(ev Events, wake func())
	// Poll delivers what arrived through ev, runs the transport's timers
	// and writes what is queued, without blocking. It returns when it next
	// needs to run (zero: only when woken) and a fatal error, if any.
	Poll(now time.Time) (time.Time, error)
	// Shutdown tells every session the room is going away and ends them,
	// without reporting Leave.
	Shutdown(now time.Time)
}

// Waiter is a Transport that can block the room's goroutine until its
// input arrives (an event loop's socket). A room waits on its first
// Transport that is a Waiter; the others wake it.
type Waiter interface {
	// Wait blocks until input arrives, Wake is called, or the deadline
	// passes (zero: no limit).
	Wait(deadline time.Time) error
	// Wake makes a Wait return at once. Safe from any goroutine.
	Wake()
}

// chanWaiter is the room's Waiter when no transport is one.
type chanWaiter struct{ c chan struct{} }

func newChanWaiter() *chanWaiter { return &chanWaiter{c: make(chan struct{}, 1)} }

func (w *chanWaiter) Wait(deadline time.Time) error {
	if deadline.IsZero() {
		<-w.c
		return nil
	}
	d := time.Until(deadline)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.c:
	case <-t.C:
	}
	return nil
}

func (w *chanWaiter) Wake() {
	select {
	case w.c <- struct{}{}:
	default:
	}
}
