package bridge

import (
	"bytes"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla/flotilla/browser-bridge/bridgetest"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/netcode/udpio"
)

// recorder is a Handler that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	open     []*Peer
	closed   []*Peer
	reliable [][]byte
	unrel    [][]byte
	refuse   bool
}

func (r *recorder) Open(p *Peer) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse {
		return false
	}
	r.open = append(r.open, p)
	return true
}
func (r *recorder) Reliable(_ *Peer, m []byte) {
	r.mu.Lock()
	r.reliable = append(r.reliable, append([]byte(nil), m...))
	r.mu.Unlock()
}
func (r *recorder) Unreliable(_ *Peer, m []byte) {
	r.mu.Lock()
	r.unrel = append(r.unrel, append([]byte(nil), m...))
	r.mu.Unlock()
}
func (r *recorder) Closed(p *Peer) {
	r.mu.Lock()
	r.closed = append(r.closed, p)
	r.mu.Unlock()
}

// rig is a bridge on a real loopback UDP socket, read by a stand-in owner
// that also counts the native (non-WebRTC) datagrams it is handed.
type rig struct {
	conn   batch.Conn
	demux  *Demux
	bridge *Bridge
	rec    *recorder
	native chan []byte
	stop   chan struct{}
	done   chan struct{}
}

func newRig(t testing.TB, cfg Config) *rig {
	t.Helper()
	conn, err := udpio.Listen(udpio.KindNaive, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{conn: conn, demux: NewDemux(conn, 0), rec: &recorder{}, native: make(chan []byte, 16), stop: make(chan struct{}), done: make(chan struct{})}
	cfg.Loopback = true
	if r.bridge, err = New(r.demux.PacketConn(), cfg, r.rec); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.done)
		ds := batch.NewBuffers(16)
		for {
			select {
			case <-r.stop:
				return
			default:
			}
			n, err := r.demux.ReadBatch(ds, time.Now().Add(20*time.Millisecond))
			if err != nil {
				return
			}
			for i := range n {
				select {
				case r.native <- append([]byte(nil), ds[i].Payload()...):
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		r.bridge.Close()
		close(r.stop)
		<-r.done
		r.demux.Close()
		conn.Close()
	})
	return r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A browser signals over HTTP, ICE and DTLS run on the same UDP socket as
// native traffic, both channels carry messages both ways, and a native
// datagram on that socket still reaches its owner.
func TestBrowserOverOneUDPPort(t *testing.T) {
	r := newRig(t, Config{})
	srv := httptest.NewServer(r.bridge)
	defer srv.Close()
	b := bridgetest.New(t)
	b.Dial(t, srv.URL)
	waitFor(t, "the handler's Open", func() bool { r.rec.mu.Lock(); defer r.rec.mu.Unlock(); return len(r.rec.open) == 1 })
	p := r.rec.open[0]
	if !p.Addr().Addr().IsLoopback() || p.Addr().Port() == 0 {
		t.Errorf("peer address %v", p.Addr())
	}

	// Both ways, both channels.
	if err := b.Reliable.Send([]byte("hello reliable")); err != nil {
		t.Fatal(err)
	}
	if err := b.Unreliable.Send([]byte{7, 0}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the server's receipt", func() bool {
		r.rec.mu.Lock()
		defer r.rec.mu.Unlock()
		return len(r.rec.reliable) == 1 && len(r.rec.unrel) == 1
	})
	if string(r.rec.reliable[0]) != "hello reliable" || !bytes.Equal(r.rec.unrel[0], []byte{7, 0}) {
		t.Errorf("server got %q and %v", r.rec.reliable, r.rec.unrel)
	}
	if err := p.SendReliable([]byte("welcome")); err != nil {
		t.Fatal(err)
	}
	if err := p.SendUnreliable(make([]byte, MaxMessage)); err != nil {
		t.Fatal(err)
	}
	if err := p.SendUnreliable(make([]byte, MaxMessage+1)); err != ErrTooLarge {
		t.Errorf("an oversize message: %v", err)
	}
	sizes := map[int]bool{}
	for range 2 {
		select {
		case m := <-b.Got:
			sizes[len(m.Data)] = true
		case <-time.After(5 * time.Second):
			t.Fatal("the browser got nothing")
		}
	}
	if !sizes[len("welcome")] || !sizes[MaxMessage] {
		t.Errorf("browser got messages of sizes %v", sizes)
	}

	// A native datagram on the same port goes to the owner, not to pion.
	cl, err := udpio.Listen(udpio.KindNaive, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.WriteBatch([]batch.Datagram{{Addr: r.conn.LocalAddr(), Buf: []byte{0x46, 0x4C, 1, 2}, N: 4}}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-r.native:
		if m[0] != 0x46 {
			t.Errorf("owner got %x", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the native datagram did not reach the owner")
	}

	// The browser leaves: Closed is called once.
	b.PC.Close()
	waitFor(t, "the handler's Closed", func() bool { r.rec.mu.Lock(); defer r.rec.mu.Unlock(); return len(r.rec.closed) == 1 })
	waitFor(t, "the bridge forgets the peer", func() bool { return r.bridge.Peers() == 0 })
	if err := p.SendReliable([]byte("x")); err != ErrClosed {
		t.Errorf("send to a closed peer: %v", err)
	}
}

// Bounds: a full bridge answers 503, a bad offer 400, and a peer that
// never completes ICE is closed after OpenTimeout.
func TestBridgeBounds(t *testing.T) {
	r := newRig(t, Config{MaxPeers: 1, OpenTimeout: 300 * time.Millisecond})
	srv := httptest.NewServer(r.bridge)
	defer srv.Close()
	post := func(body string) int {
		resp, err := http.Post(srv.URL, "application/sdp", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("not sdp"); code != http.StatusBadRequest {
		t.Errorf("bad offer: %d", code)
	}
	waitFor(t, "the bad offer's peer to go", func() bool { return r.bridge.Peers() == 0 })
	// Both offers are made before the first is posted, so the first
	// peer's short timeout cannot run out before the second is refused.
	offer, second := bridgetest.New(t).Offer(t), bridgetest.New(t).Offer(t)
	if code := post(offer); code != http.StatusCreated {
		t.Fatalf("offer: %d", code)
	}
	// The browser never takes the answer: no ICE, no DTLS.
	if code := post(second); code != http.StatusServiceUnavailable {
		t.Errorf("offer beyond MaxPeers: %d", code)
	}
	big := strings.Repeat("a", 16<<10+1)
	if code := post(big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("offer over MaxOffer: %d", code)
	}
	waitFor(t, "the silent peer's timeout", func() bool { return r.bridge.Peers() == 0 })
	want := map[Refusal]uint64{RefusedFull: 1, RefusedThrottled: 0, RefusedBadOffer: 1, RefusedTooLarge: 1, RefusedOpenTimeout: 1}
	if got := r.bridge.Refused(); !maps.Equal(got, want) {
		t.Errorf("refusals %v, want %v", got, want)
	}
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	if len(r.rec.open) != 0 || len(r.rec.closed) != 0 {
		t.Errorf("handler told of a peer that never opened: %d open, %d closed", len(r.rec.open), len(r.rec.closed))
	}
}

// One address cannot fill the bridge: its offers are rate-limited, and
// only a few of its peers may be connecting at once.
func TestOffersPerAddress(t *testing.T) {
	r := newRig(t, Config{MaxConnectingPerAddr: 2, OffersPerSecond: 100})
	from := netip.MustParseAddrPort("192.0.2.7:5000")
	var offers []string
	for range 3 {
		offers = append(offers, bridgetest.New(t).Offer(t))
	}
	for i, o := range offers[:2] {
		if _, err := r.bridge.Offer(o, from); err != nil {
			t.Fatalf("offer %d: %v", i, err)
		}
	}
	if _, err := r.bridge.Offer(offers[2], from); err != ErrThrottled {
		t.Errorf("a third connecting peer from one address: %v", err)
	}
	other := netip.MustParseAddrPort("192.0.2.8:5000")
	if _, err := r.bridge.Offer(offers[2], other); err != nil {
		t.Errorf("another address: %v", err)
	}

	slow := newRig(t, Config{OffersPerSecond: 1}) // a burst of 2
	for i := range 3 {
		_, err := slow.bridge.Offer("not sdp", from)
		if want := i < 2; (err != ErrThrottled) != want {
			t.Errorf("offer %d at 1 a second: %v", i, err)
		}
	}
	if got := slow.bridge.Refused(); got[RefusedThrottled] != 1 || got[RefusedBadOffer] != 2 {
		t.Errorf("refusals %v: want 1 throttled and 2 bad offers", got)
	}
}

// Close's wait may see one more goroutine start while it waits (a peer's
// flush that ended late closes its PeerConnection then): no race, and the
// wait ends when the last one does, or at its bound.
func TestInFlightGainsWhileWaited(t *testing.T) {
	var f inFlight
	f.waitAtMost(time.Hour) // none in flight: at once
	f.add()
	release := make(chan struct{})
	go func() {
		<-release
		f.add() // a second one, while the first is waited for
		f.done()
		f.done()
	}()
	go func() { time.Sleep(10 * time.Millisecond); close(release) }()
	start := time.Now()
	f.waitAtMost(10 * time.Second)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("waited %v for goroutines that had ended", d)
	}
	f.add()
	start = time.Now()
	f.waitAtMost(20 * time.Millisecond)
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("returned after %v with one in flight", d)
	}
	f.done()
}

// Whatever a client posts as its offer, the bridge answers with an SDP
// answer or a refusal, and never panics (pion parses the SDP; the bridge
// bounds what it costs).
func FuzzOffer(f *testing.F) {
	r := newRig(f, Config{OpenTimeout: 200 * time.Millisecond, MaxConnecting: 8, MaxConnectingPerAddr: 8, OffersPerSecond: 1e6})
	offer := bridgetest.New(f).Offer(f)
	f.Add([]byte(offer))
	f.Add([]byte(strings.Replace(offer, "m=application", "m=audio", 1)))
	f.Add([]byte("v=0\r\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/rtc", bytes.NewReader(body))
		req.RemoteAddr = "127.0.0.1:1234"
		w := httptest.NewRecorder()
		served := make(chan struct{})
		go func() { r.bridge.ServeHTTP(w, req); close(served) }()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Fatalf("no answer in 10 s to an offer of %d bytes: %q", len(body), body)
		}
		switch w.Code {
		case http.StatusCreated:
			if !strings.HasPrefix(w.Body.String(), "v=0") {
				t.Fatalf("201 with %q", w.Body.String())
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		default:
			t.Fatalf("status %d for an offer of %d bytes: %s", w.Code, len(body), w.Body.String())
		}
	})
}

// With Redirect set, an offer is answered 307 to the other server's /rtc,
// marked; a marked offer is taken here whatever Redirect says; every
// answer allows any origin, and the preflight of a redirected offer is
// answered.
func TestRedirectSendsTheOfferOn(t *testing.T) {
	asked := 0
	r := newRig(t, Config{Redirect: func() (string, bool) { asked++; return "127.0.0.9:8080", true }})
	srv := httptest.NewServer(r.bridge)
	defer srv.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, url string) *http.Response {
		req, err := http.NewRequest(method, url, strings.NewReader("not sdp"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/sdp")
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := do(http.MethodPost, srv.URL+"/rtc")
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "http://127.0.0.9:8080/rtc?redirected=1" {
		t.Errorf("offer: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("the redirect does not allow other origins")
	}
	resp = do(http.MethodPost, srv.URL+"/rtc?redirected=1")
	if resp.StatusCode != http.StatusBadRequest || asked != 1 {
		t.Errorf("a redirected offer: %d (Redirect asked %d times); want it taken here, and refused as the bad offer it is", resp.StatusCode, asked)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("an answer to a redirected offer does not allow other origins")
	}
	resp = do(http.MethodOptions, srv.URL+"/rtc?redirected=1")
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") ||
		resp.Header.Get("Access-Control-Allow-Methods") != http.MethodPost {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if n := r.bridge.Redirected(); n != 1 {
		t.Errorf("%d redirected, want 1", n)
	}
	// Redirect saying no: the offer is taken here.
	r2 := newRig(t, Config{Redirect: func() (string, bool) { return "", false }})
	srv2 := httptest.NewServer(r2.bridge)
	defer srv2.Close()
	if resp := do(http.MethodPost, srv2.URL+"/rtc"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("offer with no redirect: %d", resp.StatusCode)
	}
}
