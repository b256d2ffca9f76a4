package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"

	bridge "github.com/flotilla/flotilla/browser-bridge"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/protocol"
)

// WebRTCConfig configures a Client's WebRTC transport: the page's wire
// (STANDARD.md section 5), spoken by pion.
type WebRTCConfig struct {
	// URL is the server's signaling endpoint (its POST /rtc). Required.
	URL string
	// HTTP makes the signaling request; nil: http.DefaultClient.
	HTTP *http.Client
	// Loopback gathers loopback candidates too (a server on 127.0.0.1).
	Loopback bool
	// Queue bounds the events (messages, channel openings, the close)
	// pion's goroutines hand to Poll. Default 256. A snapshot that finds it
	// full is dropped (Stats.QueueDrops); any other event ends the session.
	Queue int
	// OpenTimeout bounds the time from the answer to both channels open;
	// then the state is netcode.StateHandshakeTimedOut. Default 5 s.
	OpenTimeout time.Duration
	// Conn, when set, is the one connection pion sends and receives on
	// (its only candidate), instead of sockets of its own: a netsim
	// endpoint, to run the browser's wire through the project's simulator,
	// or a socket bound to a chosen source address (bots from many
	// loopback addresses). The Client owns it from then on and closes it;
	// NewWebRTC closes it when it fails.
	Conn batch.Conn
}

// Defaults of WebRTCConfig.
const (
	DefaultQueue       = 256
	DefaultOpenTimeout = 5 * time.Second
	maxOffer           = 16 << 10 // what the server takes (STANDARD.md 5)
)

// NewWebRTC validates cfg and rtc, makes the offer and posts it to rtc.URL
// (blocking until the answer, ctx bounding it), and returns a Client whose
// channels open in the background: Poll delivers what happens. cfg.Server
// is not used, nor cfg.Net but its SendQueue. now is the caller's clock.
//
// Over WebRTC, Client.State is netcode.StateRequesting until both channels
// are open, then netcode.StateConnected; Transport counts messages (not
// datagrams) and their payload bytes; LocalAddr is the selected ICE
// candidate's address once connected.
func NewWebRTC(ctx context.Context, rtc WebRTCConfig, cfg Config, now time.Time) (c *Client, err error) {
	if rtc.Conn != nil {
		defer func() {
			if err != nil {
				_ = rtc.Conn.Close() // a second close, after the mux's, is harmless
			}
		}()
	}
	if rtc.URL == "" {
		return nil, errors.New("client: WebRTCConfig.URL is required")
	}
	if rtc.Queue == 0 {
		rtc.Queue = DefaultQueue
	}
	if rtc.OpenTimeout == 0 {
		rtc.OpenTimeout = DefaultOpenTimeout
	}
	if rtc.Queue < 4 || rtc.OpenTimeout < 0 {
		return nil, fmt.Errorf("client: queue %d under 4 or open timeout %v negative", rtc.Queue, rtc.OpenTimeout)
	}
	if rtc.HTTP == nil {
		rtc.HTTP = http.DefaultClient
	}
	c, err = newClient(cfg, now)
	if err != nil {
		return nil, err
	}
	c.overhead = bridge.Overhead
	l := &rtcLink{
		c:      c,
		events: make(chan rtcEvent, rtc.Queue),
		notify: make(chan struct{}, 1),
		timer:  time.NewTimer(time.Hour),
		openBy: now.Add(rtc.OpenTimeout),
		ends:   make([]uint64, sendQueue(&c.cfg)),
	}
	l.timer.Stop()
	l.state.Store(int32(netcode.StateRequesting))
	if err := l.dial(ctx, &rtc); err != nil {
		l.Close(now)
		return nil, fmt.Errorf("client: webrtc %s: %w", rtc.URL, err)
	}
	c.tr = l
	return c, nil
}

// SignalingError is the server's refusal of an offer: 429 and 503 are
// worth another try later (STANDARD.md section 5), the rest not. Match it
// with errors.As.
type SignalingError struct {
	Status int    // the HTTP status
	Body   string // the server's text
}

func (e *SignalingError) Error() string {
	return fmt.Sprintf("signaling: %d %s: %s", e.Status, http.StatusText(e.Status), e.Body)
}

// Temporary reports whether the server may take an offer later: it was
// throttled (429) or full (503).
func (e *SignalingError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable
}

// rtcLink is a Client's WebRTC transport: one pion PeerConnection with the
// two pre-negotiated channels of STANDARD.md section 5. pion's goroutines
// only push events (and touch the atomics); Poll, on the Client's
// goroutine, takes them.
type rtcLink struct {
	c      *Client
	pc     *webrtc.PeerConnection
	un, re *webrtc.DataChannel
	mux    *ice.UDPMuxDefault // over WebRTCConfig.Conn, if given

	events chan rtcEvent
	notify chan struct{} // one token: Wait wakes
	full   atomic.Bool   // an event that must not be lost found the queue full
	state  atomic.Int32  // a netcode.State
	st     rtcCounters

	// The Client's goroutine only.
	timer  *time.Timer // Wait's
	openBy time.Time
	opened int
	reason netcode.Reason
	local  netip.AddrPort
	acks   [protocol.MaxAcks]uint16 // accepted in this Poll, to acknowledge
	nacks  int
	ackBuf [2 * protocol.MaxAcks]byte
	sent   uint64 // reliable payload bytes sent
	// buffered is the reliable channel's bytes not yet acknowledged
	// (re.BufferedAmount).
	buffered func() uint64
	ends     []uint64 // ring: the value of sent after each unacknowledged message
	head, n  int
	once     sync.Once
}

type rtcKind uint8

const (
	rtcOpen rtcKind = iota
	rtcReliable
	rtcUnreliable
	rtcClosed
)

// rtcEvent is one thing pion reported. data is pion's own copy of the
// message (its read loop allocates one per message), handed over as is.
type rtcEvent struct {
	kind rtcKind
	data []byte
}

type rtcCounters struct {
	rxMessages, rxBytes, txMessages, txBytes atomic.Uint64
	reliableIn, reliableOut                  atomic.Uint64
	unreliableIn, unreliableOut, refused     atomic.Uint64
}

// dial creates the peer and its channels, gathers, and signals.
func (l *rtcLink) dial(ctx context.Context, rtc *WebRTCConfig) error {
	var se webrtc.SettingEngine
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelDisabled
	se.LoggerFactory = lf
	se.SetIncludeLoopbackCandidate(rtc.Loopback)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	if rtc.Conn != nil {
		l.mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: batch.PacketConn(rtc.Conn), Logger: lf.NewLogger("ice")})
		se.SetICEUDPMux(l.mux)
		if rtc.Conn.LocalAddr().Addr().IsLoopback() {
			se.SetIncludeLoopbackCandidate(true)
		}
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	l.pc = pc
	no, yes, zero := false, true, uint16(0)
	idU, idR := bridge.ChannelUnreliable, bridge.ChannelReliable
	if l.un, err = pc.CreateDataChannel("snapshots", &webrtc.DataChannelInit{Negotiated: &yes, ID: &idU, Ordered: &no, MaxRetransmits: &zero}); err != nil {
		return err
	}
	if l.re, err = pc.CreateDataChannel("session", &webrtc.DataChannelInit{Negotiated: &yes, ID: &idR, Ordered: &yes}); err != nil {
		return err
	}
	l.buffered = l.re.BufferedAmount
	l.un.OnOpen(func() { l.push(rtcEvent{kind: rtcOpen}, true) })
	l.re.OnOpen(func() { l.push(rtcEvent{kind: rtcOpen}, true) })
	l.un.OnMessage(func(m webrtc.DataChannelMessage) { l.push(rtcEvent{kind: rtcUnreliable, data: m.Data}, false) })
	l.re.OnMessage(func(m webrtc.DataChannelMessage) { l.push(rtcEvent{kind: rtcReliable, data: m.Data}, true) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		// Disconnected is transient: only Failed and Closed end.
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			l.push(rtcEvent{kind: rtcClosed}, true)
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return ctx.Err()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rtc.URL, strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/sdp")
	resp, err := rtc.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxOffer+1))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return &SignalingError{Status: resp.StatusCode, Body: strings.TrimSpace(string(answer))}
	}
	return pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)})
}

// push hands e to Poll without blocking pion. An event that finds the
// queue full is dropped if it is a snapshot (counted), else it ends the
// session: a reliable message must not be lost.
func (l *rtcLink) push(e rtcEvent, must bool) {
	select {
	case l.events <- e:
	default:
		if must {
			l.full.Store(true)
		} else {
			l.c.st.queueDrops.Add(1)
		}
	}
	l.Wake()
}

// Poll takes the events queued so far (at most the queue's capacity, so
// that a flood cannot hold it) and acknowledges the snapshots accepted.
func (l *rtcLink) Poll(now time.Time) (time.Time, error) {
	var next time.Time
	for range cap(l.events) {
		select {
		case e := <-l.events:
			l.handle(e)
			continue
		default:
		}
		break
	}
	if len(l.events) > 0 {
		next = now
	}
	l.flushAcks()
	if l.full.Load() && l.State() >= 0 {
		l.end(netcode.StateClosed, netcode.ReasonBacklog)
		l.c.fail(fmt.Errorf("%w: ended: the event queue overflowed", ErrSession))
		l.closePC()
	}
	if l.State() == netcode.StateRequesting {
		if !now.Before(l.openBy) {
			l.end(netcode.StateHandshakeTimedOut, netcode.ReasonTimeout)
			l.closePC()
		} else {
			next = earliest(next, l.openBy)
		}
	}
	return next, nil
}

func (l *rtcLink) handle(e rtcEvent) {
	st := l.State()
	switch e.kind {
	case rtcOpen:
		if l.opened++; l.opened == 2 {
			l.connect()
		}
	case rtcClosed:
		if st >= 0 {
			l.end(netcode.StateClosed, netcode.ReasonClosed)
			l.c.fail(fmt.Errorf("%w: ended: the peer connection closed", ErrSession))
		}
	case rtcReliable:
		l.received(e.data)
		if st < 0 {
			return
		}
		l.connect()
		l.st.reliableIn.Add(1)
		if t, err := protocol.Type(e.data); err == nil && t == protocol.MsgBye {
			l.bye(e.data)
			return
		}
		l.c.reliable(e.data)
	case rtcUnreliable:
		l.received(e.data)
		if st < 0 {
			return
		}
		l.connect()
		l.st.unreliableIn.Add(1)
		seq, ok := l.c.receive(e.data)
		if !ok {
			l.st.refused.Add(1)
			return
		}
		if l.nacks == len(l.acks) {
			l.flushAcks()
		}
		l.acks[l.nacks] = seq
		l.nacks++
	}
}

// connect moves to StateConnected once both channels opened or a message
// came: pion runs OnOpen handlers on goroutines of their own, so a
// channel's first message can be queued before its opening. A channel
// that delivers is open.
func (l *rtcLink) connect() {
	if l.State() != netcode.StateRequesting {
		return
	}
	l.state.Store(int32(netcode.StateConnected))
	l.learnLocal()
}

func (l *rtcLink) received(msg []byte) {
	l.st.rxMessages.Add(1)
	l.st.rxBytes.Add(uint64(len(msg)))
}

// bye ends the session with the server's reason.
func (l *rtcLink) bye(msg []byte) {
	var y protocol.Bye
	if err := protocol.ParseBye(msg, &y); err != nil {
		l.c.st.badMessage.Add(1)
		return
	}
	reason := netcode.Reason(y.Reason)
	if y.Reason == 0 || reason >= netcode.ReasonUnknown {
		reason = netcode.ReasonUnknown
	}
	l.end(netcode.StateClosed, reason)
	l.c.fail(fmt.Errorf("%w: ended: %v", ErrSession, reason))
	l.closePC()
}

// flushAcks acknowledges the snapshots accepted since the last flush, in
// one message. A send that fails is a lost acknowledgement, as a lost
// datagram would be: the server encodes against an older baseline.
func (l *rtcLink) flushAcks() {
	if l.nacks == 0 {
		return
	}
	msg := protocol.AppendAcks(l.ackBuf[:0], l.acks[:l.nacks]...)
	l.nacks = 0
	if l.State() != netcode.StateConnected {
		return
	}
	if l.un.Send(msg) == nil { // pion copies msg
		l.sent1(&l.st.unreliableOut, len(msg))
	}
}

func (l *rtcLink) sent1(ch *atomic.Uint64, n int) {
	ch.Add(1)
	l.st.txMessages.Add(1)
	l.st.txBytes.Add(uint64(n))
}

// end moves to a final state once.
func (l *rtcLink) end(s netcode.State, reason netcode.Reason) {
	if l.State() < 0 {
		return
	}
	l.reason = reason
	l.state.Store(int32(s))
}

func (l *rtcLink) learnLocal() {
	if l.pc == nil {
		return
	}
	pair, err := l.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		return
	}
	if a, err := netip.ParseAddr(pair.Local.Address); err == nil {
		l.local = netip.AddrPortFrom(a.Unmap(), pair.Local.Port)
	}
}

// Wait blocks until an event is queued, Wake is called, or the deadline
// passes (zero: no limit).
func (l *rtcLink) Wait(deadline time.Time) error {
	if len(l.events) > 0 {
		return nil
	}
	if deadline.IsZero() {
		<-l.notify
		return nil
	}
	d := time.Until(deadline)
	if d <= 0 {
		return nil
	}
	l.timer.Reset(d)
	select {
	case <-l.notify:
	case <-l.timer.C:
	}
	l.timer.Stop()
	return nil
}

// Wake makes a Wait return at once. Safe from any goroutine.
func (l *rtcLink) Wake() {
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// SendReliable sends msg on the reliable channel (pion copies it).
func (l *rtcLink) SendReliable(msg []byte) error {
	if l.State() != netcode.StateConnected {
		return fmt.Errorf("%w: not connected", ErrSession)
	}
	if l.Pending() == len(l.ends) {
		return fmt.Errorf("%w: %d reliable messages unacknowledged", ErrBacklog, len(l.ends))
	}
	if err := l.re.Send(msg); err != nil {
		return fmt.Errorf("%w: %w", ErrSession, err)
	}
	l.sent += uint64(len(msg))
	l.ends[(l.head+l.n)%len(l.ends)] = l.sent
	l.n++
	l.sent1(&l.st.reliableOut, len(msg))
	return nil
}

// Pending counts the newest messages that the bytes SCTP still holds
// unacknowledged cover (its buffered amount falls as the server's SACKs
// come).
func (l *rtcLink) Pending() int {
	acked := l.sent - l.buffered()
	for l.n > 0 && l.ends[l.head] <= acked {
		l.head = (l.head + 1) % len(l.ends)
		l.n--
	}
	return l.n
}

// Close ends the session: the peer connection closes (the server sees it
// go). Callbacks no longer reach the Client.
func (l *rtcLink) Close(time.Time) {
	l.end(netcode.StateClosed, netcode.ReasonClosed)
	l.closePC()
}

func (l *rtcLink) closePC() {
	l.once.Do(func() {
		if l.pc != nil {
			_ = l.pc.Close()
		}
		if l.mux != nil {
			_ = l.mux.Close()
		}
	})
}

// State is the connection state. Safe from any goroutine.
func (l *rtcLink) State() netcode.State { return netcode.State(l.state.Load()) }

func (l *rtcLink) Reason() netcode.Reason { return l.reason }

func (l *rtcLink) LocalAddr() netip.AddrPort { return l.local }

// Stats counts messages as packets. Safe from any goroutine.
func (l *rtcLink) Stats() netcode.Stats {
	s := &l.st
	return netcode.Stats{
		RxPackets:         s.rxMessages.Load(),
		RxBytes:           s.rxBytes.Load(),
		TxPackets:         s.txMessages.Load(),
		TxBytes:           s.txBytes.Load(),
		ReliableIn:        s.reliableIn.Load(),
		ReliableOut:       s.reliableOut.Load(),
		UnreliableIn:      s.unreliableIn.Load(),
		UnreliableOut:     s.unreliableOut.Load(),
		UnreliableRefused: s.refused.Load(),
	}
}

// earliest is the earlier of a and b, where zero means never.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
