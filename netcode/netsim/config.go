package netsim

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// Bounds a zero Config leaves to these defaults. A simulated network is
// bounded like a real one: every queue has a limit and a drop policy.
const (
	// DefaultQueueLimit is the LinkConfig.QueueLimit used when it is zero.
	DefaultQueueLimit = 4096
	// DefaultRecvBuffer is the Config.RecvBuffer used when it is zero.
	DefaultRecvBuffer = 1024
	// DefaultMaxPending is the Config.MaxPending used when it is zero.
	DefaultMaxPending = 1 << 16
	// DefaultMaxLinks is the Config.MaxLinks used when it is zero.
	DefaultMaxLinks = 1 << 16
	// DefaultBufferDelay sizes the bottleneck buffer when BufferBytes is
	// zero: as many bytes as the cap serialises in this time.
	DefaultBufferDelay = 100 * time.Millisecond
	// MinReorderDelay is the least default hold-back of a reordered datagram.
	MinReorderDelay = time.Millisecond
)

// ErrConfig is wrapped by the errors of Config.Validate and LinkConfig.Validate.
var ErrConfig = errors.New("netsim: invalid config")

// LinkConfig is the behaviour of one directed link. The zero value is a
// perfect link: no delay, no loss, no cap, default bounds.
type LinkConfig struct {
	// Latency is the one-way delay added to every datagram.
	Latency time.Duration
	// Jitter adds a uniform offset in [-Jitter, +Jitter] to the delay of
	// each copy; a delay that would be negative is zero.
	Jitter time.Duration
	// Loss is the probability, 0..1, that a datagram is lost.
	Loss float64
	// Duplicate is the probability, 0..1, that a datagram that was not lost
	// is delivered twice; the second copy has its own jitter.
	Duplicate float64
	// Reorder is the probability, 0..1, that a datagram is held back by
	// ReorderDelay on top of its latency and jitter. Every datagram sent on
	// the link less than ReorderDelay-2*Jitter after a held-back one
	// overtakes it. Jitter alone reorders too; only hold-backs are counted
	// as Reordered.
	Reorder float64
	// ReorderDelay is the hold-back of a reordered datagram. Zero means
	// max(Latency, MinReorderDelay) + 2*Jitter.
	ReorderDelay time.Duration
	// BandwidthBps caps the link at this many UDP payload bytes per second,
	// serialised in FIFO order. Zero means no cap.
	BandwidthBps int64
	// BufferBytes is the bottleneck buffer in front of the cap: a datagram
	// that would make the bytes waiting to be serialised exceed it is
	// dropped. Zero means DefaultBufferDelay worth of bytes at the cap, and
	// never less than batch.MaxDatagram. Ignored without a cap.
	BufferBytes int
	// QueueLimit is the most copies in flight on the link (sent, delivery
	// time not yet come); more are dropped. Zero means DefaultQueueLimit.
	QueueLimit int
	// Down drops every datagram sent on the link (counted as Cut).
	Down bool
}

// Config is a Network's seed, bounds, and the LinkConfig of every link that
// SetLink has not overridden. The zero value is a perfect network (within
// the default bounds) with seed 0.
type Config struct {
	// Seed derives every link's PRNG stream.
	Seed uint64

	// Latency, Jitter, Loss, Duplicate, Reorder, ReorderDelay, BandwidthBps,
	// BufferBytes and QueueLimit are the default LinkConfig; see there.
	Latency      time.Duration
	Jitter       time.Duration
	Loss         float64
	Duplicate    float64
	Reorder      float64
	ReorderDelay time.Duration
	BandwidthBps int64
	BufferBytes  int
	QueueLimit   int

	// RecvBuffer is the most arrived, unread datagrams an endpoint holds;
	// more are dropped and counted in its Stats.RxDropped. Zero means
	// DefaultRecvBuffer.
	RecvBuffer int
	// MaxPending bounds the datagram copies the whole network holds (in
	// flight or unread), each a batch.MaxDatagram buffer from one pool.
	// More are dropped (PoolDropped). Zero means DefaultMaxPending.
	MaxPending int
	// MaxLinks bounds the directed links the network tracks. A datagram for
	// a new link beyond it is refused by WriteBatch (Stats.TxDropped).
	// Zero means DefaultMaxLinks.
	MaxLinks int
}

// Link returns the default LinkConfig c describes.
func (c Config) Link() LinkConfig {
	return LinkConfig{
		Latency:      c.Latency,
		Jitter:       c.Jitter,
		Loss:         c.Loss,
		Duplicate:    c.Duplicate,
		Reorder:      c.Reorder,
		ReorderDelay: c.ReorderDelay,
		BandwidthBps: c.BandwidthBps,
		BufferBytes:  c.BufferBytes,
		QueueLimit:   c.QueueLimit,
	}
}

// Validate reports a negative bound or a probability outside 0..1.
func (c Config) Validate() error {
	if err := c.Link().Validate(); err != nil {
		return err
	}
	if c.RecvBuffer < 0 || c.MaxPending < 0 || c.MaxLinks < 0 {
		return fmt.Errorf("%w: negative RecvBuffer, MaxPending or MaxLinks", ErrConfig)
	}
	return nil
}

// Validate reports a negative duration or bound, or a probability outside
// 0..1 (NaN included).
func (lc LinkConfig) Validate() error {
	if lc.Latency < 0 || lc.Jitter < 0 || lc.ReorderDelay < 0 {
		return fmt.Errorf("%w: negative duration", ErrConfig)
	}
	if lc.BandwidthBps < 0 || lc.BufferBytes < 0 || lc.QueueLimit < 0 {
		return fmt.Errorf("%w: negative bandwidth, buffer or queue limit", ErrConfig)
	}
	for _, p := range [...]float64{lc.Loss, lc.Duplicate, lc.Reorder} {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("%w: probability %v outside 0..1", ErrConfig, p)
		}
	}
	return nil
}

// params is a validated LinkConfig with its defaults resolved, in the units
// the send path uses (nanoseconds, bytes).
type params struct {
	latency, jitter, reorderDelay int64
	loss, duplicate, reorder      float64
	bandwidth                     uint64 // bytes per second, 0 = no cap
	buffer                        uint64 // bottleneck buffer in bytes
	queueLimit                    int
	down                          bool
	orig                          LinkConfig
}

func resolve(lc LinkConfig) params {
	p := params{
		latency:      int64(lc.Latency),
		jitter:       int64(lc.Jitter),
		reorderDelay: int64(lc.ReorderDelay),
		loss:         lc.Loss,
		duplicate:    lc.Duplicate,
		reorder:      lc.Reorder,
		bandwidth:    uint64(lc.BandwidthBps),
		buffer:       uint64(lc.BufferBytes),
		queueLimit:   lc.QueueLimit,
		down:         lc.Down,
		orig:         lc,
	}
	if p.reorderDelay == 0 {
		p.reorderDelay = max(p.latency, int64(MinReorderDelay)) + 2*p.jitter
	}
	if p.queueLimit == 0 {
		p.queueLimit = DefaultQueueLimit
	}
	if p.bandwidth > 0 && p.buffer == 0 {
		p.buffer = max(mulDiv(p.bandwidth, uint64(DefaultBufferDelay), uint64(time.Second)), batch.MaxDatagram)
	}
	return p
}

// delay is the latency plus the jitter drawn from u, never negative.
func (p *params) delay(u uint64) int64 {
	d := p.latency
	if p.jitter > 0 {
		d += int64(below(u, uint64(2*p.jitter+1))) - p.jitter
	}
	return max(d, 0)
}

// mulDiv is a*b/c without intermediate overflow, saturating at MaxUint64.
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}
