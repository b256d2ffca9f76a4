//go:build linux

package udpio

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// setBuffers asks for SO_RCVBUF/SO_SNDBUF (a size <= 0 leaves the kernel's
// default), retries with the FORCE variants when net.core.rmem_max/wmem_max
// capped the request, and returns what the kernel reports afterwards. A FORCE
// refused for lack of CAP_NET_ADMIN is not an error: the capped size stands.
func setBuffers(c *net.UDPConn, recv, send int) (granted [2]int, err error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return granted, fmt.Errorf("udpio: socket buffers: %w", err)
	}
	var opErr error
	ctlErr := rc.Control(func(fd uintptr) {
		for i, want := range [2]struct{ size, opt, force int }{
			{recv, unix.SO_RCVBUF, unix.SO_RCVBUFFORCE},
			{send, unix.SO_SNDBUF, unix.SO_SNDBUFFORCE},
		} {
			if want.size > 0 {
				if e := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, want.opt, want.size); e != nil {
					opErr = fmt.Errorf("udpio: setsockopt %d bytes: %w", want.size, e)
					return
				}
				// Linux doubles what it grants; less than asked means capped.
				if got, e := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, want.opt); e == nil && got < want.size {
					_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, want.force, want.size)
				}
			}
			got, e := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, want.opt)
			if e != nil {
				opErr = fmt.Errorf("udpio: getsockopt: %w", e)
				return
			}
			granted[i] = got
		}
	})
	if ctlErr != nil {
		return granted, fmt.Errorf("udpio: socket buffers: %w", ctlErr)
	}
	return granted, opErr
}
