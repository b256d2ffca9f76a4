package udpio

import (
	"errors"
	"os"
	"testing"
)

// TestKernelDropsCountsOverflow floods a socket whose receive buffer is the
// kernel's smallest and never reads it: the kernel's count of what it
// dropped shows in KernelDrops, and a quiet socket beside it shows none.
func TestKernelDropsCountsOverflow(t *testing.T) {
	if _, err := os.Stat(procNetUDP4); err != nil {
		t.Skipf("no %s: %v", procNetUDP4, err)
	}
	sink := client(t, "udp4", loopback)
	if err := sink.SetReadBuffer(1); err != nil { // SO_RCVBUF, raised to the kernel's floor
		t.Fatal(err)
	}
	quiet := client(t, "udp4", loopback)
	src := client(t, "udp4", loopback)
	to := localAddrPort(sink)
	if d, err := KernelDrops(to); d != 0 || err != nil {
		t.Fatalf("before the flood: %d drops, %v", d, err)
	}

	// Loopback delivers within the send call, so every datagram is queued or
	// dropped by the time the loop ends; a few fit in the floor's buffer.
	const sent = 3000
	msg := make([]byte, 256)
	for range sent {
		if _, err := src.WriteToUDPAddrPort(msg, to); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	d, err := KernelDrops(to)
	if err != nil || d == 0 || d > sent {
		t.Errorf("after %d datagrams into a full buffer: %d drops, %v; want 1..%d", sent, d, err, sent)
	}
	t.Logf("kernel dropped %d of %d datagrams", d, sent)
	if d, err := KernelDrops(localAddrPort(quiet)); d != 0 || err != nil {
		t.Errorf("quiet socket: %d drops, %v; want 0", d, err)
	}
}

// TestKernelDropsFindsBackendSockets checks that every backend's socket is
// found under its LocalAddr, gnet's SO_REUSEPORT one included.
func TestKernelDropsFindsBackendSockets(t *testing.T) {
	if _, err := os.Stat(procNetUDP4); err != nil {
		t.Skipf("no %s: %v", procNetUDP4, err)
	}
	forEachKind(t, func(t *testing.T, kind string) {
		c := listen(t, kind, loopback, Options{})
		if d, err := KernelDrops(c.LocalAddr()); d != 0 || err != nil {
			t.Errorf("%s on %s: %d drops, %v; want 0, nil", kind, c.LocalAddr(), d, err)
		}
	})
}

// TestKernelDropsNoSocket asks for a port nobody holds any more.
func TestKernelDropsNoSocket(t *testing.T) {
	if _, err := os.Stat(procNetUDP4); err != nil {
		t.Skipf("no %s: %v", procNetUDP4, err)
	}
	c := client(t, "udp4", loopback)
	gone := localAddrPort(c)
	c.Close()
	// Another test may bind the freed port in between; then there is a
	// socket and nothing to check.
	if _, err := KernelDrops(gone); err != nil && !errors.Is(err, ErrNoSocket) {
		t.Errorf("closed socket: %v, want ErrNoSocket", err)
	} else if err == nil {
		t.Logf("port of %s taken again", gone)
	}
}
