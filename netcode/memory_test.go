package netcode

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// idleSessions connects n sessions to a fresh server by injecting genuine
// handshake responses (valid cookies) from n addresses, and returns the
// server with the heap bytes the sessions hold.
func idleSessions(t testing.TB, n int) (*Server, float64) {
	sa := netip.MustParseAddrPort("127.0.0.1:7777")
	ca := netip.MustParseAddrPort("127.0.0.2:5000")
	sp, cp := newPipes(sa, ca)
	now := time.Now()
	s, err := NewServer(sp, ServerConfig{Handler: &nopHandler{}, MaxSessions: n}, now)
	if err != nil {
		t.Fatal(err)
	}
	ds := batch.NewBuffers(64)
	resp := make([]byte, responseSize)
	drain := func() {
		s.Poll(now)
		for {
			k, _ := cp.ReadBatch(ds, time.Time{})
			if k == 0 {
				return
			}
		}
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	for i := range n {
		addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 5000)
		putHeader(resp, TypeResponse, 0)
		binary.LittleEndian.PutUint64(resp[HeaderSize:], uint64(i)+1)
		bucket := bucketOf(now)
		binary.LittleEndian.PutUint32(resp[HeaderSize+8:], bucket)
		s.cookies.mint(resp[HeaderSize+12:], addr, uint64(i)+1, bucket)
		inject(cp, addr, resp)
		if i%100 == 99 {
			drain()
		}
	}
	drain()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	if got := s.Stats().Sessions; got != n {
		t.Fatalf("%d sessions, want %d", got, n)
	}
	return s, float64(ms.HeapAlloc-before) / float64(n)
}

// Memory per idle session at 10,000 sessions, KCP included: the goal is 20 KB.
// A KCP core holds a 3.6 KB flush buffer and three 64-segment rings.
func TestIdleSessionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("connects 10,000 sessions")
	}
	s, per := idleSessions(t, 10000)
	t.Logf("%.0f bytes of heap per idle session at %d sessions", per, s.Stats().Sessions)
	if per > 20<<10 {
		t.Fatalf("%.0f bytes per idle session, over the 20 KB goal", per)
	}
	runtime.KeepAlive(s)
}
