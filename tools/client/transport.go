package client

import (
	"net/netip"
	"time"

	"github.com/flotilla/flotilla/netcode"
)

// transport is what a Client runs its session over: *netcode.Client, or
// rtcLink (WebRTC). It delivers into the Client inside Poll: reliable
// messages to Client.reliable, snapshot payloads to Client.receive (and
// acknowledges those accepted), the session's end to Client.fail. Its
// methods are for the Client's goroutine, but Wake, State and Stats, which
// are safe from any.
type transport interface {
	Poll(now time.Time) (time.Time, error)
	Wait(deadline time.Time) error
	Wake()
	// SendReliable queues msg (copied) on the reliable ordered channel.
	SendReliable(msg []byte) error
	// Pending is how many reliable messages are queued or not yet
	// acknowledged by the server.
	Pending() int
	Close(now time.Time)
	State() netcode.State
	// Reason says why a refused, timed-out or closed session ended.
	Reason() netcode.Reason
	Stats() netcode.Stats
	LocalAddr() netip.AddrPort
}

var _ transport = (*netcode.Client)(nil)
