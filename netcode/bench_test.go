package netcode

import (
	"testing"
	"time"
)

// Protocol cost of one unreliable datagram out and its ack back, over the
// in-memory pipe (no syscalls): what netcode adds on top of the I/O backend.
func BenchmarkUnreliableRoundTrip(b *testing.B) {
	s, c, _, _, now := connectedPair(b)
	id := c.Session()
	payload := make([]byte, 200)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		*now = now.Add(time.Millisecond)
		s.SendUnreliable(id, payload)
		s.Flush()
		c.Poll(*now)
		s.Poll(*now)
	}
}
