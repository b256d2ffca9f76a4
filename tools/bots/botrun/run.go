// Package botrun runs many virtual players against a Flotilla server in one
// process: each bot is one client.Client on its own UDP socket (or, with
// TransportWebRTC, its own pion PeerConnection, the page's wire), driven by
// its own goroutine, steering and firing like a player from what its own
// view shows. The bots command (tools/bots) wraps it; the server binary
// uses it to spawn in-process bots; tests run it over netsim.
//
// A run has three phases per bot: connect (handshake, Welcome and ship,
// bounded by ConnectTimeout), act (until Duration has passed since Start, or
// ctx ends), and drain (no more actions; poll until every action has its
// result, or until nothing is unacknowledged and Grace has passed, and never
// longer than DrainLimit). Then the bot closes its session and its report
// is merged.
package botrun

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/netcode/udpio"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/tools/client"
)

// Config configures a run.
type Config struct {
	// Transport is how the bots reach the server: TransportUDP (netcode,
	// the default) or TransportWebRTC (the page's wire through the
	// server's browser bridge, STANDARD.md section 5).
	Transport string
	// RTC is the server's WebRTC signaling URL (its POST /rtc endpoint,
	// http://host:port/rtc). Required with TransportWebRTC.
	RTC string
	// Server is the server's UDP address. Required with TransportUDP (the
	// default); not used with TransportWebRTC. An unspecified address
	// (0.0.0.0:port, [::]:port, what a server listening on every interface
	// reports) means the loopback address of its family.
	Server netip.AddrPort
	// Clients is the number of bots, 1..MaxClients.
	Clients int
	// Duration is how long the bots act, from Start; zero: until ctx ends.
	Duration time.Duration
	// IO is the udpio backend of the bots' sockets. Default "batched".
	IO string
	// Bind is the address the bots' sockets bind (each to its own port).
	// Default: 127.0.0.1 for a loopback server, else the unspecified
	// address of the server's family. An IPv4 loopback address is spread:
	// BotsPerLoopbackAddr bots a source address, from Bind up. Over
	// WebRTC, a bot with a Bind address gives pion one socket there and
	// signals from the same address (so that a server's per-address
	// bounds see many loopback addresses, not one); without one (a server
	// not on loopback, by default) pion gathers on its own sockets.
	Bind netip.Addr
	// Listen, if set, replaces the sockets: it returns bot i's connection,
	// which the bot closes when done (netsim endpoints in tests).
	Listen func(i int) (batch.Conn, error)
	// Seed seeds the bots' choices; bot i draws from its own stream.
	Seed uint64
	// Rate is the snapshot rate and byte budget each bot asks for (zero:
	// the server's defaults).
	Rate protocol.Rate
	// Detail is the levels of detail each bot asks for (protocol.Detail;
	// zero: the server's default, all).
	Detail uint8
	// ActionInterval: a bot decides every ActionInterval to twice that,
	// uniformly. Default 150 ms (150–300 ms).
	ActionInterval time.Duration
	// ConnectTimeout bounds the handshake, Welcome and join. Default 5 s.
	ConnectTimeout time.Duration
	// Ramp spreads the bots' starts evenly over this long. Default 0.
	Ramp time.Duration
	// Grace is how long a draining bot waits for results once nothing is
	// unacknowledged. Default 2 s.
	Grace time.Duration
	// DrainLimit bounds a bot's drain whatever happens. Default 10 s.
	DrainLimit time.Duration
	// Net tunes the transport (timeouts, queues) of every bot.
	Net netcode.ClientConfig
}

// Transports of Config.Transport.
const (
	TransportUDP    = "udp"
	TransportWebRTC = "webrtc"
)

// MaxClients bounds Config.Clients.
const MaxClients = 100000

// Defaults of Config.
const (
	DefaultIO             = udpio.KindBatched
	DefaultActionInterval = 150 * time.Millisecond
	DefaultConnectTimeout = 5 * time.Second
	DefaultGrace          = 2 * time.Second
	DefaultDrainLimit     = 10 * time.Second
)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.IO == "" {
		c.IO = DefaultIO
	}
	if c.Transport == "" {
		c.Transport = TransportUDP
	}
	if a := c.Server.Addr().Unmap(); a.IsUnspecified() {
		// The server answers from a real address, and a client takes only
		// datagrams from the address it sent to.
		if a.Is4() {
			a = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		} else {
			a = netip.IPv6Loopback()
		}
		c.Server = netip.AddrPortFrom(a, c.Server.Port())
	}
	if !c.Bind.IsValid() && c.Transport == TransportWebRTC && loopbackURL(c.RTC) {
		c.Bind = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if !c.Bind.IsValid() && c.Server.IsValid() {
		switch a := c.Server.Addr().Unmap(); {
		case a.IsLoopback() && a.Is4():
			c.Bind = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		case a.IsLoopback():
			c.Bind = netip.IPv6Loopback()
		case a.Is4():
			c.Bind = netip.IPv4Unspecified()
		default:
			c.Bind = netip.IPv6Unspecified()
		}
	}
	if c.ActionInterval == 0 {
		c.ActionInterval = DefaultActionInterval
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.DrainLimit == 0 {
		c.DrainLimit = DefaultDrainLimit
	}
	return c
}

// Validate reports the first invalid field of a config with defaults set.
func (c Config) Validate() error {
	switch {
	case c.Transport != TransportUDP && c.Transport != TransportWebRTC:
		return fmt.Errorf("botrun: transport %q is neither %q nor %q", c.Transport, TransportUDP, TransportWebRTC)
	case c.Transport == TransportUDP && (!c.Server.IsValid() || c.Server.Port() == 0):
		return errors.New("botrun: a server address with a port is required")
	case c.Transport == TransportWebRTC:
		if u, err := url.Parse(c.RTC); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("botrun: the signaling URL %q is not an http or https URL", c.RTC)
		}
	}
	switch {
	case c.Clients < 1 || c.Clients > MaxClients:
		return fmt.Errorf("botrun: clients %d outside [1, %d]", c.Clients, MaxClients)
	case c.Duration < 0:
		return fmt.Errorf("botrun: negative duration %v", c.Duration)
	case c.Listen == nil && !slices.Contains(udpio.Kinds(), c.IO):
		return fmt.Errorf("botrun: io %q is none of %v", c.IO, udpio.Kinds())
	case c.Detail > protocol.MaxDetail:
		return fmt.Errorf("botrun: detail %d over %d tiers", c.Detail, protocol.MaxDetail)
	case c.Rate.Hz > protocol.MaxRateHz:
		return fmt.Errorf("botrun: rate %d Hz over %d", c.Rate.Hz, protocol.MaxRateHz)
	case c.ActionInterval < time.Millisecond:
		return fmt.Errorf("botrun: action interval %v under 1 ms", c.ActionInterval)
	case c.ConnectTimeout <= 0 || c.Grace < 0 || c.DrainLimit <= 0 || c.Ramp < 0:
		return fmt.Errorf("botrun: connect timeout %v and drain limit %v must be positive, grace %v and ramp %v not negative",
			c.ConnectTimeout, c.DrainLimit, c.Grace, c.Ramp)
	case c.Grace > c.DrainLimit:
		return fmt.Errorf("botrun: grace %v over the drain limit %v", c.Grace, c.DrainLimit)
	}
	return nil
}

// Runner is a run in progress. Its methods are safe from any goroutine.
type Runner struct {
	cfg   Config
	start time.Time
	end   time.Time // zero: until ctx ends
	bots  []*bot
	done  chan struct{}
	rep   Report
}

// Start validates cfg and starts the bots; they run until Duration has
// passed or ctx ends, then drain and stop.
func Start(ctx context.Context, cfg Config) (*Runner, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, start: time.Now(), done: make(chan struct{})}
	if cfg.Duration > 0 {
		r.end = r.start.Add(cfg.Duration)
	}
	r.bots = make([]*bot, cfg.Clients)
	var wg sync.WaitGroup
	for i := range r.bots {
		b := newBot(i, r)
		r.bots[i] = b
		wg.Go(func() { b.run(ctx) })
	}
	go func() {
		wg.Wait()
		r.rep = r.merge()
		close(r.done)
	}()
	return r, nil
}

// Run runs the bots to the end and returns the report. The error is a
// configuration error; what went wrong with bots is in the report.
func Run(ctx context.Context, cfg Config) (Report, error) {
	r, err := Start(ctx, cfg)
	if err != nil {
		return Report{}, err
	}
	return r.Wait(), nil
}

// Done is closed when every bot has stopped.
func (r *Runner) Done() <-chan struct{} { return r.done }

// Wait waits for every bot to stop and returns the report.
func (r *Runner) Wait() Report {
	<-r.done
	return r.rep
}

// Live sums the bots' counters now.
func (r *Runner) Live() Live {
	l := Live{Clients: len(r.bots), Elapsed: time.Since(r.start)}
	for _, b := range r.bots {
		if b.connected.Load() {
			l.Connected++
		}
		c := b.client.Load()
		if c == nil {
			continue
		}
		st := c.Stats()
		l.Snapshots += st.Snapshots
		l.SnapshotBytes += st.SnapshotBytes
		l.SnapshotDatagrams += st.SnapshotDatagrams
		l.ChecksumMismatch += st.ChecksumMismatch
		l.DesyncPermanent += st.DesyncPermanent
		l.ActionsSent += st.ActionsSent
		l.ActionsApplied += st.ActionsApplied
		l.ActionsFizzled += st.ActionsFizzled
		l.InFlight += st.InFlight
	}
	return l
}

// maxErrors bounds the distinct failures a report lists.
const maxErrors = 8

// merge builds the report once every bot has stopped.
func (r *Runner) merge() Report {
	rep := Report{Clients: len(r.bots), DurationSeconds: time.Since(r.start).Seconds()}
	sizes, lat := newSizeHistogram(), newLatencyHistogram()
	for _, b := range r.bots {
		sizes.merge(b.sizes)
		lat.merge(b.latency)
		if b.connected.Load() {
			rep.Connected++
		} else {
			rep.ConnectFailures++
		}
		if b.lost {
			rep.SessionsLost++
		}
		if b.err != nil && len(rep.Errors) < maxErrors && !slices.Contains(rep.Errors, b.err.Error()) {
			rep.Errors = append(rep.Errors, b.err.Error())
		}
		st := b.final
		rep.Snapshots += st.Snapshots
		rep.DesyncPermanent += st.DesyncPermanent
		rep.ChecksumMismatch += st.ChecksumMismatch
		rep.ActionsSent += st.ActionsSent
		rep.ActionsApplied += st.ActionsApplied
		rep.ActionsFizzled += st.ActionsFizzled
		rep.ActionsUnanswered += uint64(st.InFlight)
		rep.ActionsUnacked += uint64(b.pending)
		rep.ActionsLost += lost(st, b.pending)
		rep.Redirects += st.Redirects
		rep.DesyncEpisodes += st.DesyncEpisodes
		rep.SnapshotsRefused += st.Refused
		rep.Early += st.Early
		rep.MissingBaseline += st.MissingBaseline
		rep.Malformed += st.Malformed
		rep.SnapshotDatagrams += st.SnapshotDatagrams
		rep.SnapshotBytes += st.SnapshotBytes
	}
	rep.BytesPerClientTickP50 = sizes.quantile(0.50)
	rep.BytesPerClientTickP99 = sizes.quantile(0.99)
	rep.ActionToEffectMsP50 = float64(lat.quantile(0.50)) / 1000
	rep.ActionToEffectMsP99 = float64(lat.quantile(0.99)) / 1000
	return rep
}

// lost is sent − applied − fizzled − pending, never below zero: the actions
// the reliable channel delivered that were never answered.
func lost(st client.Stats, pending int) uint64 {
	answered := st.ActionsApplied + st.ActionsFizzled + uint64(pending)
	if answered >= st.ActionsSent {
		return 0
	}
	return st.ActionsSent - answered
}

func newSizeHistogram() *histogram { return newHistogram(11, batch.MaxDatagram) } // exact bytes

// newLatencyHistogram counts microseconds up to a minute, within 3%.
func newLatencyHistogram() *histogram { return newHistogram(6, uint64(time.Minute/time.Microsecond)) }

// botSeed derives bot i's PRNG from the run's seed.
func botSeed(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(i)*0x9E3779B97F4A7C15+1))
}
