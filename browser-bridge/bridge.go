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
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
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
	// an offer beyond it is answered 503.
	MaxPeers int
	// OpenTimeout bounds the time from an offer to both channels open
	// (default 10 s); a peer that takes longer is closed.
	OpenTimeout time.Duration
	// PublicIPs, when set, are the addresses the server's candidates
	// advertise instead of its own (behind NAT, in a container).
	PublicIPs []string
	// Loopback includes loopback candidates (a server bound to 127.0.0.1).
	Loopback bool
	// MaxOffer bounds an offer's size in bytes (default 16 KiB).
	MaxOffer int
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

// ErrFull is returned by Offer when the bridge holds MaxPeers peers.
var ErrFull = errors.New("bridge: too many peers")

// Bridge accepts browsers' offers and runs their peers.
type Bridge struct {
	cfg Config
	h   Handler
	log *slog.Logger
	mux *ice.UDPMuxDefault
	api *webrtc.API

	mu    sync.Mutex
	peers map[*Peer]struct{}
	done  bool
}

// New starts a bridge whose peers use conn (Demux.PacketConn) for all
// their traffic.
func New(conn net.PacketConn, cfg Config, h Handler) (*Bridge, error) {
	if cfg.MaxPeers == 0 {
		cfg.MaxPeers = 1024
	}
	if cfg.OpenTimeout == 0 {
		cfg.OpenTimeout = 10 * time.Second
	}
	if cfg.MaxOffer == 0 {
		cfg.MaxOffer = 16 << 10
	}
	if cfg.MaxPeers < 1 || cfg.OpenTimeout < 0 || cfg.MaxOffer < 1 {
		return nil, fmt.Errorf("bridge: invalid config %+v", cfg)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	b := &Bridge{cfg: cfg, h: h, log: log, peers: make(map[*Peer]struct{})}
	b.mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn, Logger: quiet.NewLogger("ice")})
	var se webrtc.SettingEngine
	se.LoggerFactory = quiet
	se.SetLite(true)
	se.SetICEUDPMux(b.mux)
	se.SetIncludeLoopbackCandidate(cfg.Loopback)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
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
// signaling request's address, kept until ICE names the peer's own.
func (b *Bridge) Offer(sdp string, from netip.AddrPort) (string, error) {
	b.mu.Lock()
	if b.done || len(b.peers) >= b.cfg.MaxPeers {
		b.mu.Unlock()
		return "", ErrFull
	}
	p := &Peer{b: b, addr: from}
	b.peers[p] = struct{}{}
	b.mu.Unlock()
	answer, err := p.start(sdp)
	if err != nil {
		p.close(false)
		return "", err
	}
	return answer, nil
}

// ServeHTTP answers POST with an SDP offer as its body (application/sdp)
// with the SDP answer: 201, or 400 for a bad offer, 413 for one over
// MaxOffer, 503 when the bridge is full.
func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST an SDP offer", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(b.cfg.MaxOffer)+1))
	if err != nil {
		http.Error(w, "cannot read the offer", http.StatusBadRequest)
		return
	}
	if len(body) > b.cfg.MaxOffer {
		http.Error(w, "offer too large", http.StatusRequestEntityTooLarge)
		return
	}
	from, _ := netip.ParseAddrPort(r.RemoteAddr)
	answer, err := b.Offer(string(body), from)
	switch {
	case errors.Is(err, ErrFull):
		http.Error(w, "server full", http.StatusServiceUnavailable)
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

// Close ends every peer (without calling Closed) and the mux.
func (b *Bridge) Close() error {
	b.mu.Lock()
	b.done = true
	ps := make([]*Peer, 0, len(b.peers))
	for p := range b.peers {
		ps = append(ps, p)
	}
	b.mu.Unlock()
	for _, p := range ps {
		p.close(false)
	}
	return b.mux.Close()
}

func (b *Bridge) forget(p *Peer) {
	b.mu.Lock()
	delete(b.peers, p)
	b.mu.Unlock()
}
