package bridge

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"

	"github.com/flotilla/flotilla/netcode/batch"
)

// Data channel ids, pre-negotiated: the browser creates the same two with
// {negotiated: true, id}.
const (
	// ChannelUnreliable carries snapshots (server to browser) and their
	// acknowledgements (browser to server): unordered, no retransmission.
	ChannelUnreliable uint16 = 0
	// ChannelReliable carries everything else, reliable and ordered.
	ChannelReliable uint16 = 1
)

// MaxMessage is the largest data-channel message a peer sends or accepts:
// one SCTP chunk in one datagram (DTLS and SCTP add about 65 bytes).
const MaxMessage = 1135

// Overhead is what DTLS and SCTP add to one data-channel message on the
// wire, in bytes (UDP payload): what a byte budget counts beside the
// message.
const Overhead = 65

// Config configures a Bridge.
type Config struct {
	// MaxPeers bounds the peers, open or still connecting (default 1024);
	// MaxConnecting bounds those still connecting (default 128), and
	// MaxConnectingPerAddr those of one address (default 4; an IPv6
	// address counts under its /64). An offer beyond any is answered 503
	// (429 for the address's).
	MaxPeers, MaxConnecting, MaxConnectingPerAddr int
	// OffersPerSecond is how many offers an address may make a second, in
	// a burst of twice that (default 2); more are answered 429. Each offer
	// costs a PeerConnection before the browser proves anything.
	OffersPerSecond float64
	// OpenTimeout bounds the time from an offer to both channels open
	// (default 5 s; a browser takes about 0.2 s); a peer that takes longer
	// is closed.
	OpenTimeout time.Duration
	// PublicIPs, when set, are the addresses the server's candidates
	// advertise instead of its own (behind NAT, in a container).
	PublicIPs []string
	// Loopback includes loopback candidates (a server bound to 127.0.0.1).
	Loopback bool
	// MaxOffer bounds an offer's size in bytes (default 16 KiB).
	MaxOffer int
	// Redirect, when set, is asked before each offer that was not itself
	// redirected: a host:port it returns is another server's public HTTP
	// address (a less loaded member of a mesh), and the browser is answered
	// 307 to that server's /rtc, marked so that it is not sent on again.
	// The browser re-sends its offer there (a cross-origin request: every
	// /rtc answer allows any origin, and ServeHTTP answers the preflight).
	Redirect func() (hostPort string, ok bool)
	// Log receives the bridge's events; nil discards them.
	Log *slog.Logger
}

// Handler receives what peers do. Its methods are called from pion's
// goroutines, several at once for different peers, one at a time for one
// peer's channel; msg is valid only during the call.
type Handler interface {
	// Open: both channels of p are open. Returning false refuses p (the
	// bridge closes it, and Closed is not called).
	Open(p *Peer) bool
	// Reliable, Unreliable: a message on the reliable or unreliable
	// channel of an open peer.
	Reliable(p *Peer, msg []byte)
	Unreliable(p *Peer, msg []byte)
	// Closed: p ended (after Open returned true); nothing more comes from
	// it.
	Closed(p *Peer)
}

// Offer's refusals.
var (
	// ErrFull: the bridge holds MaxPeers peers, or MaxConnecting
	// connecting ones.
	ErrFull = errors.New("bridge: too many peers")
	// ErrThrottled: the address makes offers too fast, or has too many
	// peers connecting.
	ErrThrottled = errors.New("bridge: too many offers from the address")
)

// Bridge accepts browsers' offers and runs their peers.
type Bridge struct {
	cfg Config
	h   Handler
	log *slog.Logger
	mux *ice.UDPMuxDefault
	api *webrtc.API

	mu         sync.Mutex
	peers      map[*Peer]struct{}
	connecting int
	perAddr    map[netip.Addr]int     // connecting peers by batch.AddrKey
	buckets    map[netip.Addr]*bucket // offer rate by batch.AddrKey
	done       bool

	flushing inFlight // peers closing once their last messages left
	closing  inFlight // PeerConnections being closed

	st         [numRefusals]atomic.Uint64
	redirected atomic.Uint64
}

// Refusal is why the bridge turned a browser away before it was a peer.
type Refusal int

// Refusals, counted by Refused.
const (
	RefusedFull        Refusal = iota // 503: MaxPeers or MaxConnecting reached
	RefusedThrottled                  // 429: the address offers too fast or has too many connecting
	RefusedBadOffer                   // 400: the offer did not parse or could not be answered
	RefusedTooLarge                   // 413: over MaxOffer
	RefusedOpenTimeout                // answered, but its channels did not open within OpenTimeout
	numRefusals
)

var refusalNames = [numRefusals]string{"full", "throttled", "bad_offer", "too_large", "open_timeout"}

func (r Refusal) String() string {
	if r >= 0 && r < numRefusals {
		return refusalNames[r]
	}
	return "unknown"
}

// Refused returns how many browsers were turned away, by reason. Safe
// from any goroutine.
func (b *Bridge) Refused() map[Refusal]uint64 {
	m := make(map[Refusal]uint64, numRefusals)
	for r := range numRefusals {
		m[r] = b.st[r].Load()
	}
	return m
}

// bucket is a token bucket of offers.
type bucket struct {
	tokens float64
	at     time.Time
}

// maxBuckets bounds the addresses whose offer rate is remembered; past
// it, full buckets are forgotten.
const maxBuckets = 4096

// New starts a bridge whose peers use conn (Demux.PacketConn) for all
// their traffic.
func New(conn net.PacketConn, cfg Config, h Handler) (*Bridge, error) {
	if cfg.MaxPeers == 0 {
		cfg.MaxPeers = 1024
	}
	if cfg.MaxConnecting == 0 {
		cfg.MaxConnecting = min(128, cfg.MaxPeers)
	}
	if cfg.MaxConnectingPerAddr == 0 {
		cfg.MaxConnectingPerAddr = min(4, cfg.MaxConnecting)
	}
	if cfg.OffersPerSecond == 0 {
		cfg.OffersPerSecond = 2
	}
	if cfg.OpenTimeout == 0 {
		cfg.OpenTimeout = 5 * time.Second
	}
	if cfg.MaxOffer == 0 {
		cfg.MaxOffer = 16 << 10
	}
	if cfg.MaxPeers < 1 || cfg.MaxConnecting < 1 || cfg.MaxConnectingPerAddr < 1 || cfg.OffersPerSecond <= 0 || cfg.OpenTimeout <= 0 || cfg.MaxOffer < 1 {
		return nil, fmt.Errorf("bridge: invalid config %+v", cfg)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	b := &Bridge{cfg: cfg, h: h, log: log, peers: make(map[*Peer]struct{}),
		perAddr: make(map[netip.Addr]int), buckets: make(map[netip.Addr]*bucket)}
	b.mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn, Logger: quiet.NewLogger("ice")})
	var se webrtc.SettingEngine
	se.LoggerFactory = quiet
	se.SetLite(true)
	se.SetICEUDPMux(b.mux)
	se.SetIncludeLoopbackCandidate(cfg.Loopback)
	// Candidates of the socket's family only: an IPv6 socket would
	// otherwise advertise IPv4 addresses it cannot serve.
	network := webrtc.NetworkTypeUDP4
	if ua, ok := conn.LocalAddr().(*net.UDPAddr); ok && ua.AddrPort().Addr().Unmap().Is6() {
		network = webrtc.NetworkTypeUDP6
	}
	se.SetNetworkTypes([]webrtc.NetworkType{network})
	// Bounded buffers: a peer that stops reading holds at most this much.
	se.SetSCTPMaxReceiveBufferSize(64 << 10)
	se.SetSCTPMaxMessageSize(MaxMessage)
	se.SetICETimeouts(5*time.Second, 10*time.Second, 2*time.Second)
	if len(cfg.PublicIPs) > 0 {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{External: cfg.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost}); err != nil {
			return nil, fmt.Errorf("bridge: public addresses: %w", err)
		}
	}
	b.api = webrtc.NewAPI(webrtc.WithSettingEngine(se))
	return b, nil
}

// Peers is how many peers the bridge holds. Safe from any goroutine.
func (b *Bridge) Peers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.peers)
}

// Offer takes a browser's SDP offer and returns the answer. from is the
// signaling request's address, kept until ICE names the peer's own; the
// per-address bounds count under it.
func (b *Bridge) Offer(sdp string, from netip.AddrPort) (string, error) {
	key := batch.AddrKey(from.Addr())
	b.mu.Lock()
	switch {
	case b.done || len(b.peers) >= b.cfg.MaxPeers || b.connecting >= b.cfg.MaxConnecting:
		b.mu.Unlock()
		b.st[RefusedFull].Add(1)
		return "", ErrFull
	case b.perAddr[key] >= b.cfg.MaxConnectingPerAddr || !b.take(key):
		b.mu.Unlock()
		b.st[RefusedThrottled].Add(1)
		return "", ErrThrottled
	}
	p := &Peer{b: b, key: key, addr: from, ready: make(chan struct{}), connecting: true}
	b.peers[p] = struct{}{}
	b.connecting++
	b.perAddr[key]++
	b.mu.Unlock()
	answer, err := p.start(sdp)
	if err != nil {
		b.st[RefusedBadOffer].Add(1)
		p.close(false)
		return "", err
	}
	return answer, nil
}

// take spends one of key's offer tokens; b.mu is held.
func (b *Bridge) take(key netip.Addr) bool {
	now := time.Now()
	burst := 2 * b.cfg.OffersPerSecond
	bk := b.buckets[key]
	if bk == nil {
		if len(b.buckets) >= maxBuckets {
			for k, o := range b.buckets {
				if o.tokens+now.Sub(o.at).Seconds()*b.cfg.OffersPerSecond >= burst {
					delete(b.buckets, k)
				}
			}
			if len(b.buckets) >= maxBuckets {
				return false
			}
		}
		bk = &bucket{tokens: burst, at: now}
		b.buckets[key] = bk
	}
	bk.tokens = min(burst, bk.tokens+now.Sub(bk.at).Seconds()*b.cfg.OffersPerSecond)
	bk.at = now
	if bk.tokens < 1 {
		return false
	}
	bk.tokens--
	return true
}

// opened moves p out of the connecting peers.
func (b *Bridge) opened(p *Peer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unconnect(p)
}

// unconnect uncounts a connecting p; b.mu is held.
func (b *Bridge) unconnect(p *Peer) {
	p.mu.Lock()
	was := p.connecting
	p.connecting = false
	p.mu.Unlock()
	if !was {
		return
	}
	b.connecting--
	if n := b.perAddr[p.key]; n <= 1 {
		delete(b.perAddr, p.key)
	} else {
		b.perAddr[p.key] = n - 1
	}
}

// closePC closes a PeerConnection on a goroutine of its own (pion's Close
// waits for its goroutines: never on theirs); Close waits for it.
func (b *Bridge) closePC(pc *webrtc.PeerConnection) {
	b.closing.add()
	go func() {
		defer b.closing.done()
		pc.Close()
	}()
}

// Redirected returns how many offers were sent to another server
// (Config.Redirect). Safe from any goroutine.
func (b *Bridge) Redirected() uint64 { return b.redirected.Load() }

// redirectedMark is the query parameter of an offer sent on by Redirect.
const redirectedMark = "redirected"

// ServeHTTP answers POST with an SDP offer as its body (application/sdp)
// with the SDP answer: 201, or 307 to another server (Config.Redirect), 400
// for a bad offer, 413 for one over MaxOffer, 429 when the address makes
// offers too fast or has too many peers connecting, 503 when the bridge is
// full. It answers OPTIONS, a browser's preflight before an offer another
// server redirected here, with 204.
func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", http.MethodPost)
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodPost {
		h.Set("Allow", http.MethodPost+", "+http.MethodOptions)
		http.Error(w, "POST an SDP offer", http.StatusMethodNotAllowed)
		return
	}
	if b.cfg.Redirect != nil && !r.URL.Query().Has(redirectedMark) {
		if hp, ok := b.cfg.Redirect(); ok {
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			b.redirected.Add(1)
			h.Set("Location", scheme+"://"+hp+"/rtc?"+redirectedMark+"=1")
			w.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(b.cfg.MaxOffer)+1))
	if err != nil {
		http.Error(w, "cannot read the offer", http.StatusBadRequest)
		return
	}
	if len(body) > b.cfg.MaxOffer {
		b.st[RefusedTooLarge].Add(1)
		http.Error(w, "offer too large", http.StatusRequestEntityTooLarge)
		return
	}
	from, _ := netip.ParseAddrPort(r.RemoteAddr)
	answer, err := b.Offer(string(body), from)
	switch {
	case errors.Is(err, ErrFull):
		http.Error(w, "server full", http.StatusServiceUnavailable)
		return
	case errors.Is(err, ErrThrottled):
		http.Error(w, "too many offers from this address", http.StatusTooManyRequests)
		return
	case err != nil:
		b.log.Debug("bridge: offer refused", "from", r.RemoteAddr, "err", err)
		http.Error(w, "bad offer: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/sdp")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, answer)
}

// Close ends every peer (without calling Closed) and the mux. It first
// lets peers closing after a last message (CloseAfterFlush) finish, for at
// most a second, and returns once their PeerConnections have closed (at
// most 5 s).
func (b *Bridge) Close() error {
	b.mu.Lock()
	b.done = true
	b.mu.Unlock()
	b.flushing.waitAtMost(time.Second)
	b.mu.Lock()
	ps := make([]*Peer, 0, len(b.peers))
	for p := range b.peers {
		ps = append(ps, p)
	}
	b.mu.Unlock()
	for _, p := range ps {
		p.close(false)
	}
	b.closing.waitAtMost(5 * time.Second)
	return b.mux.Close()
}

// inFlight counts goroutines Close waits for. Unlike a sync.WaitGroup it
// may gain one while Close waits (a peer whose flush ends late closes its
// PeerConnection then): a wait that timed out leaves it to finish alone.
type inFlight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n falls to 0; nil while none is waited for
}

func (f *inFlight) add() {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
}

func (f *inFlight) done() {
	f.mu.Lock()
	f.n--
	if f.n == 0 && f.idle != nil {
		close(f.idle)
		f.idle = nil
	}
	f.mu.Unlock()
}

// waitAtMost returns once none is in flight, or after d.
func (f *inFlight) waitAtMost(d time.Duration) {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return
	}
	if f.idle == nil {
		f.idle = make(chan struct{})
	}
	idle := f.idle
	f.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}

func (b *Bridge) forget(p *Peer) {
	b.mu.Lock()
	delete(b.peers, p)
	b.unconnect(p)
	b.mu.Unlock()
}
