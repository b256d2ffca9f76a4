//go:build !linux

package udpio

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
)

// kernelDrops outside Linux has no /proc/net/udp to read.
func kernelDrops(netip.AddrPort) (uint64, error) {
	return 0, fmt.Errorf("udpio: kernel drops on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
