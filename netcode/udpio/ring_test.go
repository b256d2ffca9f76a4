package udpio

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/flotilla/flotilla/netcode/batch"
)

func TestRingRoundsUpToPowerOfTwo(t *testing.T) {
	for _, c := range []struct{ ask, want int }{{1, 1}, {3, 4}, {4096, 4096}, {5000, 8192}} {
		if got := int(newRing(c.ask).mask + 1); got != c.want {
			t.Errorf("newRing(%d) has %d slots, want %d", c.ask, got, c.want)
		}
	}
}

func TestRingFullRefusesAndWraps(t *testing.T) {
	r := newRing(4)
	from := netip.MustParseAddrPort("127.0.0.1:9")
	ds := batch.NewBuffers(3)
	for round := range 10 { // many times round the ring, across the wrap
		for i := range 4 {
			if !r.push(from, []byte{byte(round), byte(i)}) {
				t.Fatalf("round %d: push %d refused with room left", round, i)
			}
		}
		if r.push(from, []byte{0xff}) {
			t.Fatalf("round %d: push into a full ring accepted", round)
		}
		n, nb, trunc := r.pop(ds)
		if n != 3 || nb != 6 || trunc != 0 {
			t.Fatalf("round %d: pop = %d, %d bytes, %d cut; want 3, 6, 0", round, n, nb, trunc)
		}
		for i := range n {
			if !bytes.Equal(ds[i].Payload(), []byte{byte(round), byte(i)}) || ds[i].Addr != from {
				t.Fatalf("round %d: datagram %d = %v from %v", round, i, ds[i].Payload(), ds[i].Addr)
			}
		}
		if n, _, _ = r.pop(ds); n != 1 || ds[0].Payload()[1] != 3 {
			t.Fatalf("round %d: last pop = %d", round, n)
		}
		if !r.empty() {
			t.Fatalf("round %d: ring not empty after popping all", round)
		}
	}
}

func TestRingCutsToBufferAndMaxDatagram(t *testing.T) {
	r := newRing(4)
	big := make([]byte, batch.MaxDatagram+10)
	for i := range big {
		big[i] = byte(i)
	}
	r.push(netip.AddrPort{}, big)      // longer than a slot
	r.push(netip.AddrPort{}, big[:50]) // longer than the small buffer below
	r.push(netip.AddrPort{}, big[:20]) // fits
	ds := []batch.Datagram{
		{Buf: make([]byte, 2*batch.MaxDatagram)},
		{Buf: make([]byte, 30)},
		{Buf: make([]byte, 30)},
	}
	n, nb, trunc := r.pop(ds)
	if n != 3 || trunc != 2 || nb != batch.MaxDatagram+30+20 {
		t.Fatalf("pop = %d, %d bytes, %d cut; want 3, %d, 2", n, nb, trunc, batch.MaxDatagram+50)
	}
	if ds[0].N != batch.MaxDatagram || !bytes.Equal(ds[0].Payload(), big[:batch.MaxDatagram]) {
		t.Errorf("oversized datagram: N = %d", ds[0].N)
	}
	if ds[1].N != 30 || !bytes.Equal(ds[1].Payload(), big[:30]) {
		t.Errorf("datagram cut to its buffer: N = %d", ds[1].N)
	}
	if ds[2].N != 20 {
		t.Errorf("fitting datagram: N = %d", ds[2].N)
	}
}
