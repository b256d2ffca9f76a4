package netcode

import (
	"fmt"
	"time"

	kcp "github.com/xtaci/kcp-go/v5"
)

// kcpOverhead is the size of one KCP segment header.
const kcpOverhead = kcp.IKCP_OVERHEAD

// KCPConfig tunes the reliable-ordered channel. The zero value is Flotilla's
// tuning for game traffic (small messages, latency over throughput):
//
//   - nodelay on: minimum RTO 30 ms instead of 100 ms, and RTO grows by half
//     instead of doubling on each retransmission;
//   - interval 10 ms: the flush period, which bounds how long a queued message
//     or an ack waits (10 ms is KCP's lower limit);
//   - fast resend after 2 duplicate acks;
//   - congestion control off: a session sends at most its window, and game
//     messages are small, so the window is the rate limit;
//   - windows of 128 segments each way;
//   - MTU such that a reliable datagram with its Flotilla header is at most
//     MaxPacket bytes.
type KCPConfig struct {
	NormalMode bool          // KCP's normal mode instead of nodelay
	Interval   time.Duration // flush interval, 10 ms to 5 s; 0 means 10 ms
	Resend     int           // duplicate acks that trigger a fast resend; 0 means 2, -1 disables
	Congestion bool          // turn KCP's congestion window on
	SendWindow int           // segments in flight; 0 means 128
	RecvWindow int           // segments the receiver buffers; 0 means 128
}

func (c KCPConfig) withDefaults() KCPConfig {
	if c.Interval == 0 {
		c.Interval = 10 * time.Millisecond
	}
	if c.Resend == 0 {
		c.Resend = 2
	}
	if c.Resend < 0 {
		c.Resend = 0
	}
	if c.SendWindow == 0 {
		c.SendWindow = 128
	}
	if c.RecvWindow == 0 {
		c.RecvWindow = 128
	}
	return c
}

func (c KCPConfig) validate() error {
	if c.Interval < 10*time.Millisecond || c.Interval > 5*time.Second {
		return fmt.Errorf("netcode: KCP interval %v outside [10ms, 5s]", c.Interval)
	}
	if c.SendWindow < 1 || c.SendWindow > 4096 || c.RecvWindow < 1 || c.RecvWindow > 4096 {
		return fmt.Errorf("netcode: KCP windows %d/%d outside [1, 4096]", c.SendWindow, c.RecvWindow)
	}
	return nil
}

// kcpMTU is the KCP MTU: a reliable datagram is the Flotilla header, the acks,
// then at most this many bytes of KCP segments.
const kcpMTU = MaxPacket - HeaderSize - AckSize

// kcpMSS is the payload of one KCP segment.
const kcpMSS = kcpMTU - kcpOverhead

// maxFragments bounds a message's fragments: KCP's limit, and fewer than the
// receive window, or the message could never be delivered.
func maxMessageFor(recvWindow int) int {
	frags := min(255, recvWindow-1)
	return frags * kcpMSS
}

func newKCP(conv uint32, cfg KCPConfig, output func(buf []byte, size int)) *kcp.KCP {
	k := kcp.NewKCP(conv, output)
	nodelay := 1
	if cfg.NormalMode {
		nodelay = 0
	}
	nc := 1
	if cfg.Congestion {
		nc = 0
	}
	k.NoDelay(nodelay, int(cfg.Interval/time.Millisecond), cfg.Resend, nc)
	k.WndSize(cfg.SendWindow, cfg.RecvWindow)
	k.SetMtu(kcpMTU)
	return k
}

// kcpClock reads KCP's own millisecond clock, which is private to kcp-go: a
// KCP core that was never updated answers Check with the current time.
type kcpClock struct{ k *kcp.KCP }

func newKCPClock() kcpClock { return kcpClock{kcp.NewKCP(0, func([]byte, int) {})} }

func (c kcpClock) nowMs() uint32 { return c.k.Check() }

// kcpDelay is how long until KCP time at, seen from KCP time now.
func kcpDelay(at, now uint32) int64 {
	d := int32(at - now)
	if d < 0 {
		d = 0
	}
	return int64(d) * int64(time.Millisecond)
}
