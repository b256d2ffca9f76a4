package halfopen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/flotilla/flotilla/netcode"
)

// Report is the outcome of a run; it marshals to the JSON the command
// prints. Reasons are named as netcode names them ("timeout", "full"), a
// byte netcode does not define as "unknown(N)"; packet types likewise
// ("keepalive"), with "invalid" for datagrams whose header does not parse.
//
//   - Attempted: sessions begun (fewer than Sessions when the run ended
//     during the ramp). Rehandshakes: handshakes begun again by sessions
//     starting over (Reconnect; always 0 without it). Every handshake
//     attempt, Attempted + Rehandshakes of them, ended in exactly one of
//     DisconnectedTotal, RefusedTotal, TimedOut (the handshake timed out)
//     or Failed (its socket failed), or is at the end Live or Handshaking
//     (still in it). Without Reconnect an attempt is a session.
//   - Accepted: attempts whose handshake completed; Handshake is the time
//     from their first request to the accept.
//   - DisconnectedTotal: accepted attempts the server later ended with a
//     disconnect naming them, Disconnected by reason; Lifetime is the time
//     from their accept to that disconnect, LifetimeByReason the same by
//     reason. Live: accepted and neither disconnected nor failed at the
//     end.
//   - Rx: every datagram read, by type. DisconnectReasons: every disconnect
//     datagram of valid length by reason, copies and stale ones included
//     (a server sends 3 copies of each). Ignored: datagrams the sessions
//     did not act on, by reason (see STANDARD.md 3.9); session packets read
//     and discarded by a connected session are not in it.
type Report struct {
	Server            string  `json:"server"`
	Sessions          int     `json:"sessions"`
	Sources           int     `json:"sources"` // 0: the kernel picked
	KeepaliveMs       float64 `json:"keepalive_ms"`
	Rate              int     `json:"rate"` // handshakes per second asked for, 0 for unpaced
	DurationS         float64 `json:"duration_s"`
	Reconnect         bool    `json:"reconnect"`
	ReconnectDelayMs  float64 `json:"reconnect_delay_ms"` // 0 without Reconnect
	Attempted         int     `json:"attempted"`
	Rehandshakes      int     `json:"rehandshakes"`
	Accepted          int     `json:"accepted"`
	Live              int     `json:"live"`
	TimedOut          int     `json:"handshake_timed_out"`
	Handshaking       int     `json:"handshaking"`
	Failed            int     `json:"failed"`
	RefusedTotal      int     `json:"refused_total"`
	DisconnectedTotal int     `json:"disconnected_total"`

	Refused           map[string]int     `json:"refused"`
	Disconnected      map[string]int     `json:"disconnected"`
	Handshake         Spread             `json:"handshake_ms"`              // first request to accept
	Lifetime          Spread             `json:"accepted_to_disconnect_ms"` // accept to the server's disconnect
	LifetimeByReason  map[string]Spread  `json:"accepted_to_disconnect_ms_by_reason"`
	ServerKeepaliveMs int                `json:"server_keepalive_ms"` // from the first accept
	ServerTimeoutMs   int                `json:"server_timeout_ms"`   // from the first accept
	Rx                map[string]Traffic `json:"rx"`
	Tx                map[string]Traffic `json:"tx"`
	RxPackets         uint64             `json:"rx_packets"`
	RxBytes           uint64             `json:"rx_bytes"`
	TxPackets         uint64             `json:"tx_packets"`
	TxBytes           uint64             `json:"tx_bytes"`

	DisconnectReasons map[string]uint64 `json:"rx_disconnect_reasons"`
	Ignored           map[string]uint64 `json:"ignored"`
	PortUnreachable   uint64            `json:"port_unreachable"`
	SocketErrors      uint64            `json:"socket_errors"`
}

// Traffic is a count of datagrams and their UDP payload bytes.
type Traffic struct {
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// Spread summarises durations in milliseconds; all zero when N is 0.
type Spread struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

func spreadOf(ds []time.Duration) Spread {
	if len(ds) == 0 {
		return Spread{}
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	m := len(ds) / 2
	med := ms(ds[m])
	if len(ds)%2 == 0 {
		med = (ms(ds[m-1]) + med) / 2
	}
	return Spread{N: len(ds), Min: ms(ds[0]), Median: med, Max: ms(ds[len(ds)-1])}
}

// buildReport reads the sessions that began (their goroutines have ended)
// and the counters.
func buildReport(cfg Config, begun []*runner, n *counters, elapsed time.Duration) Report {
	r := Report{
		Server: cfg.Server.String(), Sessions: cfg.Sessions, Sources: len(cfg.Sources),
		KeepaliveMs: float64(cfg.Keepalive) / float64(time.Millisecond), Rate: cfg.Rate,
		DurationS: elapsed.Seconds(), Reconnect: cfg.Reconnect, Attempted: len(begun),
		Rehandshakes: int(n.rehandshakes.Load()),
		Refused:      map[string]int{}, Disconnected: map[string]int{}, LifetimeByReason: map[string]Spread{},
		Rx: map[string]Traffic{}, Tx: map[string]Traffic{},
		DisconnectReasons: map[string]uint64{}, Ignored: map[string]uint64{},
		PortUnreachable: n.portUnreachable.Load(), SocketErrors: n.socketErrors.Load(),
	}
	if cfg.Reconnect {
		r.ReconnectDelayMs = float64(cfg.ReconnectDelay) / float64(time.Millisecond)
	}
	var handshakes, lifetimes []time.Duration
	byReason := map[string][]time.Duration{}
	tally := func(o outcome) {
		if !o.accepted.IsZero() {
			r.Accepted++
			handshakes = append(handshakes, o.accepted.Sub(o.started))
			if r.Accepted == 1 {
				r.ServerKeepaliveMs = int(o.server.keepalive)
				r.ServerTimeoutMs = int(o.server.timeout) * 100
			}
		}
		switch o.state {
		case stateConnected:
			r.Live++
		case stateRequesting, stateResponding:
			r.Handshaking++
		case stateTimedOut:
			r.TimedOut++
		case stateRefused:
			r.RefusedTotal++
			r.Refused[reasonName(o.reason)]++
		case stateDisconnected:
			r.DisconnectedTotal++
			name := reasonName(o.reason)
			r.Disconnected[name]++
			lifetimes = append(lifetimes, o.ended.Sub(o.accepted))
			byReason[name] = append(byReason[name], o.ended.Sub(o.accepted))
		case stateFailed:
			r.Failed++
		}
	}
	for _, ru := range begun {
		for _, o := range ru.past {
			tally(o)
		}
		tally(ru.s.outcome())
	}
	for name, ds := range byReason {
		r.LifetimeByReason[name] = spreadOf(ds)
	}
	r.Handshake, r.Lifetime = spreadOf(handshakes), spreadOf(lifetimes)
	for t := range numTypes {
		name := netcode.Type(t).String()
		if p := n.rxPackets[t].Load(); p > 0 {
			r.Rx[name] = Traffic{p, n.rxBytes[t].Load()}
			r.RxPackets += p
			r.RxBytes += n.rxBytes[t].Load()
		}
		if p := n.txPackets[t].Load(); p > 0 {
			r.Tx[name] = Traffic{p, n.txBytes[t].Load()}
			r.TxPackets += p
			r.TxBytes += n.txBytes[t].Load()
		}
	}
	for b := range n.disconnectPackets {
		if c := n.disconnectPackets[b].Load(); c > 0 {
			r.DisconnectReasons[reasonName(byte(b))] = c
		}
	}
	for ev := evIgnoredHeader; ev < numEvents; ev++ {
		if c := n.ignored[ev].Load(); c > 0 {
			r.Ignored[ignoredNames[ev-evIgnoredHeader]] = c
		}
	}
	return r
}

// WriteText writes a readable summary.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "half-open sessions against %s: %d attempted of %d over %.1f s (keepalive %v, rate %s, %s)\n",
		r.Server, r.Attempted, r.Sessions, r.DurationS, time.Duration(r.KeepaliveMs*float64(time.Millisecond)), rateText(r.Rate), sourcesText(r.Sources))
	if r.Reconnect {
		fmt.Fprintf(&b, "reconnect: sessions start over %v after an attempt ends; %d re-handshakes, %d attempts in all\n",
			time.Duration(r.ReconnectDelayMs*float64(time.Millisecond)), r.Rehandshakes, r.Attempted+r.Rehandshakes)
	}
	fmt.Fprintf(&b, "handshakes: %d accepted, %d refused%s, %d timed out, %d still handshaking\n",
		r.Accepted, r.RefusedTotal, reasonsText(r.Refused), r.TimedOut, r.Handshaking)
	if r.Handshake.N > 0 {
		fmt.Fprintf(&b, "  request to accept: %s\n", r.Handshake)
	}
	if r.Accepted > 0 {
		fmt.Fprintf(&b, "  server keepalive %d ms, timeout %d ms\n", r.ServerKeepaliveMs, r.ServerTimeoutMs)
	}
	fmt.Fprintf(&b, "after accept: %d live at the end, %d disconnected by the server%s\n", r.Live, r.DisconnectedTotal, reasonsText(r.Disconnected))
	if r.Lifetime.N > 0 {
		fmt.Fprintf(&b, "  accept to disconnect: %s\n", r.Lifetime)
	}
	if len(r.LifetimeByReason) > 1 {
		for _, k := range slices.Sorted(maps.Keys(r.LifetimeByReason)) {
			fmt.Fprintf(&b, "    %s: %s\n", k, r.LifetimeByReason[k])
		}
	}
	fmt.Fprintf(&b, "received: %d datagrams, %d bytes%s\n", r.RxPackets, r.RxBytes, trafficText(r.Rx))
	if len(r.DisconnectReasons) > 0 {
		fmt.Fprintf(&b, "  disconnect packets by reason:%s\n", countsText(r.DisconnectReasons))
	}
	if len(r.Ignored) > 0 {
		fmt.Fprintf(&b, "  ignored:%s\n", countsText(r.Ignored))
	}
	fmt.Fprintf(&b, "sent: %d datagrams, %d bytes%s\n", r.TxPackets, r.TxBytes, trafficText(r.Tx))
	if r.PortUnreachable > 0 || r.SocketErrors > 0 || r.Failed > 0 {
		fmt.Fprintf(&b, "sockets: %d port unreachable, %d other errors, %d sessions failed\n", r.PortUnreachable, r.SocketErrors, r.Failed)
	}
	if r.Accepted > 0 && r.ServerTimeoutMs > 0 && r.KeepaliveMs >= float64(r.ServerTimeoutMs) {
		fmt.Fprintf(&b, "note: the keepalive is not shorter than the server's timeout; the server's timeout ends the sessions\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (s Spread) String() string {
	return fmt.Sprintf("min %.1f ms, median %.1f ms, max %.1f ms (n=%d)", s.Min, s.Median, s.Max, s.N)
}

func rateText(rate int) string {
	if rate == 0 {
		return "unpaced"
	}
	return fmt.Sprintf("%d/s", rate)
}

func sourcesText(n int) string {
	switch n {
	case 0:
		return "source picked by the kernel"
	case 1:
		return "1 source address"
	}
	return fmt.Sprintf("%d source addresses", n)
}

func reasonsText(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func countsText(m map[string]uint64) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, " %s %d", k, m[k])
	}
	return b.String()
}

func trafficText(m map[string]Traffic) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "\n  %-10s %9d datagrams %11d bytes", k, m[k].Packets, m[k].Bytes)
	}
	return b.String()
}
