package botrun

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/netcode/udpio"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
	"github.com/flotilla/flotilla/tools/client"
)

// Steering constants, in world units.
const (
	// wanderRadius bounds the random points a bot with no enemy in view
	// flies to, around the origin.
	wanderRadius = 400
	// arrived is how close a wandering bot gets before it picks a new point.
	arrived = 30
	// closeIn is the distance under which a bot slows down near its enemy.
	closeIn = 60
)

// laser is the card the bots fire.
var laser, _ = fleet.CardByID(fleet.CardLaser)

// laserRange is the laser's range in world units, with a little slack: a
// bot's view is a snapshot old, and a player fires at what looks in range.
var laserRange = 1.1 * float64(laser.Range) / float64(sim.One)

// bot is one virtual player. Its goroutine owns everything but the atomic
// fields, which Live reads; the runner reads the rest after the goroutine
// ends.
type bot struct {
	i   int
	r   *Runner
	rng *rand.Rand

	client    atomic.Pointer[client.Client]
	connected atomic.Bool

	sizes, latency *histogram
	wander         [2]float64 // the point a bot with no enemy in view flies to
	decisions      int
	firing         uint32 // the Seq of the laser shot awaiting its result; 0: none
	loaded         uint32 // the frame the laser is ready again after the last hit

	// The outcome, set when the goroutine ends.
	err     error
	lost    bool // the session ended before the bot closed it
	final   client.Stats
	pending int
}

func newBot(i int, r *Runner) *bot {
	return &bot{
		i: i, r: r, rng: botSeed(r.cfg.Seed, i),
		sizes: newSizeHistogram(), latency: newLatencyHistogram(),
	}
}

func (b *bot) run(ctx context.Context) {
	cfg := &b.r.cfg
	if cfg.Ramp > 0 && !b.sleep(ctx, b.r.start.Add(cfg.Ramp*time.Duration(b.i)/time.Duration(cfg.Clients))) {
		b.err = fmt.Errorf("bot %d: before its start: %w", b.i, ctx.Err())
		return
	}
	c, closeConn, err := b.dial(ctx)
	if err != nil {
		b.err = fmt.Errorf("bot %d: %w", b.i, err)
		return
	}
	defer closeConn()
	b.client.Store(c)
	stop := context.AfterFunc(ctx, c.Wake)
	defer stop()
	if b.err = b.connect(ctx, c); b.err == nil {
		b.connected.Store(true)
		b.act(ctx, c)
		b.drain(c)
	}
	b.final, b.pending = c.Stats(), c.Pending()
	c.Close(time.Now())
}

// config is the client configuration of every bot.
func (b *bot) config() client.Config {
	cfg := &b.r.cfg
	return client.Config{
		Server:     cfg.Server,
		Net:        cfg.Net,
		Rate:       cfg.Rate,
		Detail:     cfg.Detail,
		OnSnapshot: b.onSnapshot,
		OnResult:   b.onResult,
		OnEffect:   b.onEffect,
	}
}

// dial starts the bot's session over the run's transport; closeConn
// releases the socket once the client is closed.
func (b *bot) dial(ctx context.Context) (c *client.Client, closeConn func(), err error) {
	if b.r.cfg.Transport == TransportWebRTC {
		c, err = b.dialWebRTC(ctx)
		return c, func() {}, err
	}
	conn, err := b.listen()
	if err != nil {
		return nil, nil, fmt.Errorf("socket: %w", err)
	}
	if c, err = client.New(conn, b.config(), time.Now()); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return c, func() { conn.Close() }, nil
}

// dialWebRTC signals, offering again after a pause while the server
// answers that it is busy (429, 503: its bound on offers and peers
// connecting per address is there against floods, and a crowd of bots on
// one address is one), within ConnectTimeout.
func (b *bot) dialWebRTC(ctx context.Context) (*client.Client, error) {
	cfg := &b.r.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	rtc := client.WebRTCConfig{URL: cfg.RTC, Loopback: loopbackURL(cfg.RTC), OpenTimeout: cfg.ConnectTimeout}
	var bind netip.Addr
	if cfg.Listen == nil && cfg.Bind.IsValid() && !cfg.Bind.IsUnspecified() {
		bind = bindAddr(cfg.Bind, b.i)
		rtc.HTTP = boundHTTP(bind)
	}
	pause := 100 * time.Millisecond
	for {
		if cfg.Listen != nil || bind.IsValid() {
			conn, err := b.listen() // the client owns it, and closes it
			if err != nil {
				return nil, fmt.Errorf("socket: %w", err)
			}
			rtc.Conn = conn
		}
		c, err := client.NewWebRTC(ctx, rtc, b.config(), time.Now())
		var se *client.SignalingError
		if err == nil || !errors.As(err, &se) || !se.Temporary() {
			return c, err
		}
		// Jittered, so that bots refused together do not come back together.
		if !b.sleep(ctx, time.Now().Add(pause+time.Duration(b.rng.Int64N(int64(pause))))) {
			return nil, fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		pause = min(2*pause, time.Second)
	}
}

// boundHTTP is a signaling client whose connections leave from addr.
func boundHTTP(addr netip.Addr) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: addr.AsSlice()}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// loopbackURL reports whether url names a loopback host: the bots then
// gather loopback candidates too.
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(u.Hostname())
	return err == nil && a.IsLoopback()
}

// socketBuffer is what a bot asks of the kernel for each direction: a
// bot moves tens of datagrams a second, and thousands of bots with the
// default 4 MiB each would pin gigabytes under load.
const socketBuffer = 256 << 10

// listen opens the bot's socket: Config.Listen's, or a udpio socket of
// kind IO on its own port of its address (bindAddr).
func (b *bot) listen() (batch.Conn, error) {
	if b.r.cfg.Listen != nil {
		return b.r.cfg.Listen(b.i)
	}
	return udpio.Listen(b.r.cfg.IO, netip.AddrPortFrom(bindAddr(b.r.cfg.Bind, b.i), 0),
		udpio.Options{RecvBuffer: socketBuffer, SendBuffer: socketBuffer})
}

// BotsPerLoopbackAddr is how many bots share one source address when they
// bind an IPv4 loopback address: bot i binds Bind + i/BotsPerLoopbackAddr
// (127.0.0.1, 127.0.0.2, ...). A server limits the sessions of one address
// that have not yet acknowledged a snapshot (the room's
// MaxUnprovenPerAddr, 32 by default); a crowd of bots starting at once from
// one address would be throttled by it, as a flood from one address should
// be.
const BotsPerLoopbackAddr = 16

// bindAddr is bot i's source address: Bind, spread over the following
// addresses when it is an IPv4 loopback address.
func bindAddr(bind netip.Addr, i int) netip.Addr {
	if !bind.Is4() || !bind.IsLoopback() {
		return bind
	}
	a := bind.As4()
	n := uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n += uint32(i / BotsPerLoopbackAddr)
	return netip.AddrFrom4([4]byte{127, byte(n >> 16), byte(n >> 8), byte(n)})
}

// sleep waits until t or ctx's end, and reports whether t came.
func (b *bot) sleep(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// connect polls until the client is ready, fails, or the timeout passes.
func (b *bot) connect(ctx context.Context, c *client.Client) error {
	deadline := time.Now().Add(b.r.cfg.ConnectTimeout)
	for {
		now := time.Now()
		next, err := c.Poll(now)
		switch {
		case err != nil:
			return fmt.Errorf("bot %d: connect: %w", b.i, err)
		case c.Ready():
			return nil
		case c.Err() != nil:
			return fmt.Errorf("bot %d: connect: %w", b.i, c.Err())
		case !now.Before(deadline):
			return fmt.Errorf("bot %d: no ship within %v (state %v)", b.i, b.r.cfg.ConnectTimeout, c.State())
		case ctx.Err() != nil:
			return fmt.Errorf("bot %d: connect: %w", b.i, ctx.Err())
		}
		if err := c.Wait(earliest(next, deadline)); err != nil {
			return fmt.Errorf("bot %d: connect: %w", b.i, err)
		}
	}
}

// act plays until the run's end or ctx's.
func (b *bot) act(ctx context.Context, c *client.Client) {
	end := b.r.end
	due := time.Now().Add(b.interval())
	for {
		now := time.Now()
		if ctx.Err() != nil || (!end.IsZero() && !now.Before(end)) {
			return
		}
		if !now.Before(due) {
			b.decide(c, now)
			due = now.Add(b.interval())
		}
		next, err := c.Poll(now)
		if err != nil {
			b.err = fmt.Errorf("bot %d: %w", b.i, err)
			return
		}
		if err := c.Err(); err != nil {
			b.err, b.lost = fmt.Errorf("bot %d: %w", b.i, err), true
			return
		}
		wake := earliest(next, due)
		if !end.IsZero() {
			wake = earliest(wake, end)
		}
		if err := c.Wait(wake); err != nil {
			b.err = fmt.Errorf("bot %d: %w", b.i, err)
			return
		}
	}
}

// drain sends nothing more and polls until every action has its result,
// or nothing is unacknowledged and Grace has passed, or DrainLimit has.
func (b *bot) drain(c *client.Client) {
	start := time.Now()
	grace, limit := start.Add(b.r.cfg.Grace), start.Add(b.r.cfg.DrainLimit)
	for {
		now := time.Now()
		next, err := c.Poll(now)
		if err != nil {
			b.err = fmt.Errorf("bot %d: drain: %w", b.i, err)
			return
		}
		if err := c.Err(); err != nil {
			if b.err == nil {
				b.err, b.lost = fmt.Errorf("bot %d: drain: %w", b.i, err), true
			}
			return
		}
		if c.InFlight() == 0 || (c.Pending() == 0 && !now.Before(grace)) || !now.Before(limit) {
			return
		}
		wake := earliest(next, limit)
		if now.Before(grace) {
			wake = earliest(wake, grace)
		}
		if err := c.Wait(wake); err != nil {
			b.err = fmt.Errorf("bot %d: drain: %w", b.i, err)
			return
		}
	}
}

// interval draws the time to the next decision: [I, 2I).
func (b *bot) interval() time.Duration {
	i := b.r.cfg.ActionInterval
	return i + time.Duration(b.rng.Int64N(int64(i)))
}

func (b *bot) onSnapshot(s client.SnapshotInfo) { b.sizes.add(uint64(s.Bytes)) }

func (b *bot) onResult(o client.Outcome) {
	if o.Action.Seq != b.firing {
		return
	}
	b.firing = 0
	if o.Result.Status == protocol.Applied {
		b.loaded = o.Result.Frame + uint32(laser.Cooldown)
	}
}

func (b *bot) onEffect(o client.Outcome) {
	b.latency.add(uint64(o.Effect.Sub(o.Sent) / time.Microsecond))
}

// decide plays one move from the bot's own view: steer (turn toward, or
// set the throttle) to the nearest enemy it sees, or to a random point when
// it sees none, and fire a laser at that enemy when it looks in range and
// the laser has cooled down (one shot awaiting its result at a time).
func (b *bot) decide(c *client.Client, now time.Time) {
	v, frame, ok := c.View()
	if !ok {
		return
	}
	w, ship := c.Wire(), c.Ship()
	me := v.Find(ship)
	if me < 0 {
		// Not in its own view (destroyed, waiting to respawn): keep the
		// throttle up so the server sees it play.
		b.send(c, now, fleet.KindThrust, int32(64+b.rng.IntN(64)), 0)
		return
	}
	self := &v.Entities[me]
	mx, my := position(w, self)
	enemy, ex, ey, dist := nearestEnemy(w, v, self)
	tx, ty := ex, ey
	if enemy == 0 {
		if math.Hypot(b.wander[0]-mx, b.wander[1]-my) < arrived || b.decisions == 0 {
			b.wander = [2]float64{(b.rng.Float64()*2 - 1) * wanderRadius, (b.rng.Float64()*2 - 1) * wanderRadius}
		}
		tx, ty = b.wander[0], b.wander[1]
	}
	b.decisions++
	if b.decisions%2 == 0 {
		heading := math.Atan2(ty-my, tx-mx) / (2 * math.Pi) // sim: 0 along +X, growing toward +Y
		if heading < 0 {
			heading++
		}
		b.send(c, now, fleet.KindTurn, int32(heading*65536)%65536, 0)
	} else {
		throttle := int32(40 + b.rng.IntN(88))
		if enemy != 0 && dist < closeIn {
			throttle = 20
		}
		b.send(c, now, fleet.KindThrust, throttle, 0)
	}
	if enemy != 0 && dist <= laserRange && b.firing == 0 && int32(frame-b.loaded) >= 0 {
		b.firing = b.send(c, now, fleet.KindFire, int32(fleet.CardLaser), int32(enemy))
	}
}

// send acts and returns the action's Seq, or 0 when Act refused it
// (ErrBacklog skips the move; a failed session shows in c.Err).
func (b *bot) send(c *client.Client, now time.Time, kind uint16, a0, a1 int32) uint32 {
	seq, _ := c.Act(now, kind, [4]int32{a0, a1, 0, int32(c.Ship())})
	return seq
}

// nearestEnemy returns the id and position of the nearest ship of another
// team in v, and its distance; id 0 when there is none.
func nearestEnemy(w *demowire.Wire, v *codec.View, self *codec.Entity) (id uint32, x, y, dist float64) {
	mx, my := position(w, self)
	team := self.V[demowire.ShipTeam]
	dist = math.Inf(1)
	for i := range v.Entities {
		e := &v.Entities[i]
		if e.Kind != demowire.KindShip || e.ID == self.ID || e.V[demowire.ShipTeam] == team {
			continue
		}
		ex, ey := position(w, e)
		if d := math.Hypot(ex-mx, ey-my); d < dist {
			id, x, y, dist = e.ID, ex, ey, d
		}
	}
	return id, x, y, dist
}

// position is a ship's position in world units at whatever detail it came.
func position(w *demowire.Wire, e *codec.Entity) (float64, float64) {
	switch e.LOD {
	case codec.LODFull, codec.LODMedium:
		return w.Pos.DequantizeFloat(e.V[demowire.ShipX]), w.Pos.DequantizeFloat(e.V[demowire.ShipY])
	case codec.LODLow:
		return w.PosLow.DequantizeFloat(e.V[demowire.ShipLX]), w.PosLow.DequantizeFloat(e.V[demowire.ShipLY])
	}
	// A blip: the centre of its 16-unit cell.
	return w.PosLow.DequantizeFloat(e.V[demowire.ShipBX]<<4) + 8, w.PosLow.DequantizeFloat(e.V[demowire.ShipBY]<<4) + 8
}

// earliest is the earlier of a and b, where zero means never.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
