package netcode

import (
	"testing"
	"testing/synctest"
	"time"
)

// The wheel runs on the caller's clock and KCP on its own. A Poll's now is
// read before the Poll starts, so a KCP timer armed late in a busy Poll can
// fire before KCP's clock reaches the flush time it was armed for; KCP's
// Update then does nothing. A receiver with nothing of its own in flight
// must still send the acks it owes promptly, not after the sender's
// retransmission timeout.
func TestKCPTimerFiringBeforeKCPClockKeepsAcks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, c, sh, _, now := connectedPair(t)
		tick := func() time.Time {
			time.Sleep(time.Millisecond)
			*now = time.Now()
			return *now
		}
		// pollUntil polls one side each millisecond until cond holds.
		pollUntil := func(what string, poll func(time.Time) (time.Time, error), cond func() bool) {
			for i := 0; !cond(); i++ {
				if i == 50 {
					t.Fatalf("%s did not happen", what)
				}
				poll(tick())
			}
		}
		txRel := func(st Stats) uint64 { return st.TxByType[TypeReliable] }

		// "a", delivered and acked, so both KCP cores run.
		c.SendReliable([]byte("a"))
		for i := 0; i < 100 && (sh.reliable < 1 || c.Pending() > 0); i++ {
			tick()
			c.Poll(*now)
			s.Poll(*now)
		}
		// "b": the server acks it, which puts its next KCP flush one
		// interval (10 ms) ahead.
		c.SendReliable([]byte("b"))
		n := txRel(c.Stats())
		pollUntil("client sends b", c.Poll, func() bool { return txRel(c.Stats()) > n })
		n = txRel(s.Stats())
		pollUntil("server acks b", s.Poll, func() bool { return txRel(s.Stats()) > n })
		// "c" leaves as soon as the client reads that ack.
		c.SendReliable([]byte("c"))
		n = txRel(c.Stats())
		pollUntil("client sends c", c.Poll, func() bool { return txRel(c.Stats()) > n })
		// The server reads "c" in a Poll that began 3 ms earlier.
		time.Sleep(3 * time.Millisecond)
		s.Poll(time.Now().Add(-3 * time.Millisecond))
		if sh.reliable != 3 {
			t.Fatalf("delivered %d, want 3", sh.reliable)
		}
		// The ack for "c" must leave within the KCP interval and a tick,
		// before the client's RTO (30 ms or more) would resend "c".
		for range 15 {
			tick()
			s.Poll(*now)
			c.Poll(*now)
		}
		if p := c.Pending(); p != 0 {
			t.Fatalf("after 15 ms the client still has %d segment(s) unacknowledged", p)
		}
	})
}
