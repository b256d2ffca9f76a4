package udpio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// ErrNoSocket is wrapped by KernelDrops when no UDP socket is bound to the
// address asked for: the socket was closed, or it lives in another network
// namespace.
var ErrNoSocket = errors.New("udpio: no UDP socket bound to the address")

// KernelDrops returns how many datagrams the kernel dropped at the receive
// queue of the UDP sockets bound to local, before anyone read them: a full
// receive buffer (the socket's overflow counter), and the few a socket filter
// or a bad checksum discarded at that socket. Every socket bound to exactly
// local counts: gnet binds with SO_REUSEPORT, so several sockets of one
// server, and any other socket of the same user that joined them, may share
// the address. An unspecified address (0.0.0.0 or ::) matches the sockets
// bound to it, not those bound to one interface's address; a v4-mapped
// address is read as IPv4, as Listen binds it.
//
// On Linux it reads the drops column of /proc/net/udp or /proc/net/udp6
// (this process's network namespace) once per call: call it at scrape time,
// not per datagram. The kernel keeps each socket's count in 32 bits and
// forgets it when the socket closes; either looks like a counter reset. It
// wraps ErrNoSocket when no socket is bound to local, and
// errors.ErrUnsupported outside Linux. Safe to call from any goroutine.
func KernelDrops(local netip.AddrPort) (uint64, error) {
	a := local.Addr().Unmap().WithZone("")
	if !a.IsValid() || local.Port() == 0 {
		return 0, fmt.Errorf("udpio: kernel drops of %s: no IP address or port", local)
	}
	return kernelDrops(netip.AddrPortFrom(a, local.Port()))
}

// Columns of a /proc/net/udp line split at blanks: "sl", local_address, ...,
// drops last (thirteen in all since Linux 2.6.27).
const (
	procColLocal = 1
	procColDrops = 12
)

// procDrops sums the drops column of the lines of a /proc/net/udp or
// /proc/net/udp6 table whose local address is local, and counts those
// lines (sockets). order is the kernel's byte order: the table prints each
// 32-bit word of an address as a hex number in host order (127.0.0.1 is
// 0100007F on a little-endian host), a port as a plain hex number. Lines
// whose local address does not parse (the header, a short or garbled line)
// are skipped; a matching line whose drops do not parse is an error, so that
// a socket is never left out of the sum unnoticed.
func procDrops(r io.Reader, local netip.AddrPort, order binary.ByteOrder) (drops uint64, sockets int, err error) {
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) <= procColDrops {
			continue
		}
		if ap, ok := parseProcAddr(f[procColLocal], order); !ok || ap != local {
			continue
		}
		d, err := strconv.ParseUint(f[procColDrops], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("line %d: drops %q: %w", line, f[procColDrops], err)
		}
		drops += d
		sockets++
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	return drops, sockets, nil
}

// parseProcAddr decodes a /proc/net/udp address, "0100007F:1F90" (8 hex
// digits of IPv4) or 32 hex digits of IPv6 and the port; see procDrops for
// order. ok is false for anything else.
func parseProcAddr(s string, order binary.ByteOrder) (ap netip.AddrPort, ok bool) {
	hexAddr, hexPort, found := strings.Cut(s, ":")
	if !found {
		return ap, false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return ap, false
	}
	var b [16]byte
	words := len(hexAddr) / 8
	if len(hexAddr)%8 != 0 || (words != 1 && words != 4) {
		return ap, false
	}
	for i := range words {
		w, err := strconv.ParseUint(hexAddr[8*i:8*i+8], 16, 32)
		if err != nil {
			return ap, false
		}
		order.PutUint32(b[4*i:], uint32(w))
	}
	if words == 1 {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), uint16(port)), true
	}
	return netip.AddrPortFrom(netip.AddrFrom16(b), uint16(port)), true
}
