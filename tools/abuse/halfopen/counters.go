package halfopen

import (
	"sync/atomic"
	"time"

	"github.com/flotilla/flotilla/netcode"
)

// counters are the run's totals, updated by every session's goroutine and
// read by the progress loop. A datagram's type is its header's, 0 for a
// header that does not parse.
type counters struct {
	attempted, accepted, refused, timedOut, disconnected atomic.Int64
	rehandshakes                                         atomic.Int64

	rxPackets, rxBytes [numTypes]atomic.Uint64
	txPackets, txBytes [numTypes]atomic.Uint64
	disconnectPackets  [256]atomic.Uint64 // disconnect datagrams of valid length, by reason byte
	ignored            [numEvents]atomic.Uint64

	portUnreachable atomic.Uint64 // reads and writes refused by an ICMP port unreachable
	socketErrors    atomic.Uint64 // other read and write errors
}

func (n *counters) count(ev event) {
	switch ev {
	case evNone:
	case evAccepted:
		n.accepted.Add(1)
	case evRefused:
		n.refused.Add(1)
	case evTimedOut:
		n.timedOut.Add(1)
	case evDisconnected:
		n.disconnected.Add(1)
	default:
		n.ignored[ev].Add(1)
	}
}

func (n *counters) received(r received, size int) {
	n.rxPackets[r.typ].Add(1)
	n.rxBytes[r.typ].Add(uint64(size))
	if r.typ == netcode.TypeDisconnect && r.ev != evIgnoredLength {
		n.disconnectPackets[r.reason].Add(1)
	}
	n.count(r.ev)
}

func (n *counters) sent(b []byte) {
	t := b[3] // the header's type: every packet sent is built in wire.go
	n.txPackets[t].Add(1)
	n.txBytes[t].Add(uint64(len(b)))
}

func (n *counters) rxTotal() uint64 {
	var sum uint64
	for i := range n.rxPackets {
		sum += n.rxPackets[i].Load()
	}
	return sum
}

// Progress is a run's state at one moment, for a live display.
type Progress struct {
	Elapsed      time.Duration
	Attempted    int // sessions whose first handshake began
	Accepted     int
	Refused      int
	TimedOut     int // handshakes that timed out
	Disconnected int // accepted sessions the server ended
	Live         int // accepted and not disconnected
	Rehandshakes int // handshakes begun again by sessions starting over
	RxPackets    uint64
	RxPerSecond  float64 // over the last interval
}

// progress reads the counters; last is the previous Progress, for the rate.
func (n *counters) progress(elapsed time.Duration, last Progress) Progress {
	p := Progress{
		Elapsed:      elapsed,
		Attempted:    int(n.attempted.Load()),
		Accepted:     int(n.accepted.Load()),
		Refused:      int(n.refused.Load()),
		TimedOut:     int(n.timedOut.Load()),
		Disconnected: int(n.disconnected.Load()),
		Rehandshakes: int(n.rehandshakes.Load()),
		RxPackets:    n.rxTotal(),
	}
	p.Live = p.Accepted - p.Disconnected
	if dt := (elapsed - last.Elapsed).Seconds(); dt > 0 {
		p.RxPerSecond = float64(p.RxPackets-last.RxPackets) / dt
	}
	return p
}
