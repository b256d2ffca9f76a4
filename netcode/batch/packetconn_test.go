package batch_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/netcode/netsim"
)

func TestPacketConnOverNetsim(t *testing.T) {
	n := netsim.New(netsim.Config{Seed: 1})
	ea, err := n.Listen(netip.MustParseAddrPort("127.0.0.1:1000"))
	if err != nil {
		t.Fatal(err)
	}
	eb, err := n.Listen(netip.MustParseAddrPort("127.0.0.2:2000"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := batch.PacketConn(ea), batch.PacketConn(eb)
	var _ net.PacketConn = a
	if _, err := a.WriteTo([]byte("hello"), net.UDPAddrFromAddrPort(eb.LocalAddr())); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if err := b.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	k, from, err := b.ReadFrom(buf)
	if err != nil || string(buf[:k]) != "hel" || from.String() != "127.0.0.1:1000" {
		t.Fatalf("read %q from %v: %v (want the datagram cut to the buffer)", buf[:k], from, err)
	}
	// The deadline ends a read that finds nothing.
	b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, _, err := b.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	// Close ends a blocked read.
	b.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, _, err := b.ReadFrom(buf); done <- err }()
	time.Sleep(10 * time.Millisecond)
	b.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read after close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a blocked read outlived Close")
	}
	if _, err := b.WriteTo([]byte("x"), net.UDPAddrFromAddrPort(ea.LocalAddr())); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if _, err := a.WriteTo(make([]byte, batch.MaxDatagram+1), net.UDPAddrFromAddrPort(eb.LocalAddr())); err == nil {
		t.Fatal("a datagram over MaxDatagram was taken")
	}
	a.Close()
}
