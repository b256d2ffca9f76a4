package client

import (
	"errors"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/protocol"
)

// newQueueLink is a WebRTC link with no peer connection: what pion's
// goroutines would push, the test pushes.
func newQueueLink(t *testing.T, queue int, now time.Time) (*Client, *rtcLink) {
	t.Helper()
	c, err := newClient(Config{}, now)
	if err != nil {
		t.Fatal(err)
	}
	l := &rtcLink{
		c: c, events: make(chan rtcEvent, queue), notify: make(chan struct{}, 1),
		timer: time.NewTimer(time.Hour), openBy: now.Add(time.Second), ends: make([]uint64, 8),
		buffered: func() uint64 { return 0 },
	}
	l.timer.Stop()
	l.state.Store(int32(netcode.StateRequesting))
	c.tr, c.overhead = l, 65
	return c, l
}

// Snapshots that find the queue full are dropped and counted; the session
// goes on.
func TestWebRTCQueueDropsSnapshots(t *testing.T) {
	now := time.Unix(100, 0)
	c, l := newQueueLink(t, 4, now)
	for range 6 {
		l.push(rtcEvent{kind: rtcUnreliable, data: []byte{0, 1, 0}}, false)
	}
	if _, err := c.Poll(now); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.QueueDrops != 2 || st.Early != 4 || c.Err() != nil || c.State() != netcode.StateConnected {
		t.Errorf("drops %d, early %d, err %v, state %v", st.QueueDrops, st.Early, c.Err(), c.State())
	}
}

// A reliable message that finds the queue full ends the session: it must
// not be lost.
func TestWebRTCQueueOverflowEndsSession(t *testing.T) {
	now := time.Unix(100, 0)
	c, l := newQueueLink(t, 4, now)
	for range 5 {
		l.push(rtcEvent{kind: rtcReliable, data: []byte{byte(protocol.MsgResult)}}, true)
	}
	if _, err := c.Poll(now); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(c.Err(), ErrSession) || c.State() != netcode.StateClosed || c.Reason() != netcode.ReasonBacklog {
		t.Errorf("err %v, state %v, reason %v", c.Err(), c.State(), c.Reason())
	}
}

// Bye ends the session with the server's reason.
func TestWebRTCBye(t *testing.T) {
	now := time.Unix(100, 0)
	c, l := newQueueLink(t, 4, now)
	l.push(rtcEvent{kind: rtcReliable, data: protocol.AppendBye(nil, &protocol.Bye{Reason: uint8(netcode.ReasonFull)})}, true)
	if _, err := c.Poll(now); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(c.Err(), ErrSession) || c.Reason() != netcode.ReasonFull || c.State() != netcode.StateClosed {
		t.Errorf("err %v, reason %v, state %v", c.Err(), c.Reason(), c.State())
	}
}

// Channels that do not open within the timeout end the attempt; Poll asks
// to run again at the timeout until then.
func TestWebRTCOpenTimeout(t *testing.T) {
	now := time.Unix(100, 0)
	c, _ := newQueueLink(t, 4, now)
	next, err := c.Poll(now)
	if err != nil || !next.Equal(now.Add(time.Second)) {
		t.Fatalf("next %v, err %v", next, err)
	}
	if _, err := c.Poll(next); err != nil {
		t.Fatal(err)
	}
	if c.State() != netcode.StateHandshakeTimedOut || !errors.Is(c.Err(), ErrSession) {
		t.Errorf("state %v, err %v", c.State(), c.Err())
	}
}

// Wait returns when pion's goroutine pushes, not at its deadline.
func TestWebRTCWaitWakesOnEvent(t *testing.T) {
	now := time.Now()
	c, l := newQueueLink(t, 4, now)
	go func() {
		time.Sleep(10 * time.Millisecond)
		l.push(rtcEvent{kind: rtcOpen}, true)
	}()
	start := time.Now()
	if err := c.Wait(start.Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Wait took %v", d)
	}
	if len(l.events) != 1 {
		t.Errorf("%d events queued, want 1", len(l.events))
	}
}
