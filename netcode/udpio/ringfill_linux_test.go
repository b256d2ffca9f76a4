package udpio

import (
	"bytes"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// TestRingFillerDrainsIntoRing drives the gnet backend's recvmmsg drain
// directly on a plain socket: every queued datagram lands in the ring with
// its peer, an oversized one is marked cut, and a full ring stops the drain.
func TestRingFillerDrainsIntoRing(t *testing.T) {
	sock := client(t, "udp4", loopback)
	cl := client(t, "udp4", loopback)
	to, from := localAddrPort(sock), localAddrPort(cl)
	sizes := []int{1, 64, batch.MaxDatagram, batch.MaxDatagram + 7, 200, 3, 4, 5, 6, 7}
	for i, n := range sizes {
		if _, err := cl.WriteToUDPAddrPort(payload(i, n), to); err != nil {
			t.Fatal(err)
		}
	}
	rc, err := sock.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	r := newRing(8) // smaller than what is queued
	f := newRingFiller(3)
	published := 0
	got := 0
	end := time.Now().Add(failAfter)
	for got < 8 && time.Now().Before(end) {
		rc.Control(func(fd uintptr) { got += f.fill(int(fd), r, func() { published++ }) })
	}
	if got != 8 || published < 3 {
		t.Fatalf("filled %d datagrams in %d batches, want 8 in at least 3", got, published)
	}
	if n := f.fill(-1, r, func() {}); n != 0 { // full: no syscall at all
		t.Fatalf("fill into a full ring read %d", n)
	}
	ds := batch.NewBuffers(8)
	n, nb, trunc := r.pop(ds)
	if n != 8 || trunc != 1 {
		t.Fatalf("pop = %d datagrams, %d cut; want 8, 1", n, trunc)
	}
	wantBytes := 0
	for i := range n {
		want := payload(i, sizes[i])[:min(sizes[i], batch.MaxDatagram)]
		wantBytes += len(want)
		if !bytes.Equal(ds[i].Payload(), want) || ds[i].Addr != from {
			t.Errorf("datagram %d: %d bytes from %v, want %d from %v", i, ds[i].N, ds[i].Addr, len(want), from)
		}
	}
	if nb != wantBytes {
		t.Errorf("popped %d bytes, want %d", nb, wantBytes)
	}
}
