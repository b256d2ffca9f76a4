//go:build linux

package udpio

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
)

// The kernel's tables of the UDP sockets in this process's network
// namespace, one per address family.
const (
	procNetUDP4 = "/proc/net/udp"
	procNetUDP6 = "/proc/net/udp6"
)

// kernelDrops reads the table of local's family; local is unmapped and has
// no zone (see KernelDrops).
func kernelDrops(local netip.AddrPort) (uint64, error) {
	path := procNetUDP4
	if local.Addr().Is6() {
		path = procNetUDP6
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("udpio: kernel drops of %s: %w", local, err)
	}
	defer f.Close()
	drops, sockets, err := procDrops(f, local, binary.NativeEndian)
	if err != nil {
		return 0, fmt.Errorf("udpio: kernel drops of %s: %s: %w", local, path, err)
	}
	if sockets == 0 {
		return 0, fmt.Errorf("udpio: kernel drops of %s: %w", local, ErrNoSocket)
	}
	return drops, nil
}
