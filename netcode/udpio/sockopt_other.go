//go:build !linux

package udpio

import (
	"fmt"
	"net"
)

// setBuffers asks for the buffer sizes through the stdlib. Outside Linux the
// granted sizes are not read back: it reports what was asked, or 0 for the
// kernel's default.
func setBuffers(c *net.UDPConn, recv, send int) (granted [2]int, err error) {
	if recv > 0 {
		if err := c.SetReadBuffer(recv); err != nil {
			return granted, fmt.Errorf("udpio: SO_RCVBUF %d: %w", recv, err)
		}
		granted[0] = recv
	}
	if send > 0 {
		if err := c.SetWriteBuffer(send); err != nil {
			return granted, fmt.Errorf("udpio: SO_SNDBUF %d: %w", send, err)
		}
		granted[1] = send
	}
	return granted, nil
}
