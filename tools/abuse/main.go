// Command abuse reproduces attacks on a Flotilla netcode server so that a
// fix can be measured against them. Its one attack is the half-open session
// (package halfopen): sessions that complete the handshake and then send
// only keepalives that acknowledge nothing, which the server's transport
// never removes. With -reconnect each session starts over when the server
// refuses or ends it, so a server that times unproven sessions out still
// faces up to -sessions of them for the whole run.
//
//	go run ./tools/abuse -server 127.0.0.1:7777 -sessions 2000 -duration 30s
//	go run ./tools/abuse -server 127.0.0.1:7777 -sessions 2000 -source-ips 100 -reconnect
//
// It prints a report (with -json, exactly one JSON object on stdout; see
// halfopen.Report) and, unless -quiet, a progress line on stderr every
// second. go run ./tools/abuse -help documents every flag.
//
// Exit status: 0 when the run completed (whatever the server did), 1 when
// it could not start (file descriptors, sockets), 2 for bad flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flotilla/flotilla/tools/abuse/halfopen"
)

// reservedFDs is what the process needs besides the sessions' sockets.
const reservedFDs = 64

func main() {
	// The first interrupt ends the run early (it still reports); the second,
	// with the handler gone, ends the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the parsed flags.
type options struct {
	cfg   halfopen.Config
	json  bool
	quiet bool
}

// run is the command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "abuse:", err)
		return 2
	}
	if err := raiseFileLimit(uint64(o.cfg.Sessions) + reservedFDs); err != nil {
		fmt.Fprintln(stderr, "abuse:", err)
		return 1
	}
	if !o.quiet {
		o.cfg.OnProgress = func(p halfopen.Progress) {
			fmt.Fprintf(stderr, "abuse: %4.0fs  begun %d  live %d  accepted %d  disconnected %d  refused %d  timed out %d  re-handshakes %d  rx %.0f pkt/s\n",
				p.Elapsed.Seconds(), p.Attempted, p.Live, p.Accepted, p.Disconnected, p.Refused, p.TimedOut, p.Rehandshakes, p.RxPerSecond)
		}
	}
	rep, err := halfopen.Run(ctx, o.cfg)
	if err != nil {
		fmt.Fprintln(stderr, "abuse:", err)
		return 1
	}
	if o.json {
		b, err := json.Marshal(&rep)
		if err != nil {
			fmt.Fprintln(stderr, "abuse:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	if err := rep.WriteText(stdout); err != nil {
		fmt.Fprintln(stderr, "abuse:", err)
		return 1
	}
	return 0
}

const usage = `usage: abuse -server HOST:PORT [flags]

Opens half-open sessions against a Flotilla netcode server. Each session has
its own UDP socket (bound to a source address, on a port the kernel picks,
connected to the server) and goroutine. It completes the handshake of
STANDARD.md 3.3 (request, challenge, response with the cookie, accept), then
sends only a keepalive every -keepalive whose acks name nothing as received
(ack 0xFFFF, no bits: STANDARD.md 3.7). It never sends reliable data and
never answers the server, but reads and discards all the server sends,
counting it by packet type and disconnects by reason. At the end the sockets
close without a disconnect: the server keeps the sessions until it times
them out.

With -reconnect, a session whose attempt ended (the server refused it or
disconnected it, or its handshake timed out) starts over on the same socket
with a new nonce after -reconnect-delay, at its turn under -rate, until the
run ends: the run keeps up to -sessions half-open sessions on the server
whatever its timeouts and limits. -rate bounds all handshakes begun, first
ones and re-handshakes alike.

Every socket is opened before the first handshake. Each takes one file
descriptor: the soft RLIMIT_NOFILE is raised to the hard limit, and the run
refuses to start if -sessions plus %d do not fit. A source address has about
28,000 ephemeral ports; spread more sessions with -source-ips.

The report: sessions attempted, re-handshakes, handshakes accepted, refused
(by reason) and timed out, accepted sessions the server disconnected (by
reason, and the time from accept to disconnect: min, median, max),
datagrams and bytes received and sent by type. With -reconnect every count
but "attempted" is of handshake attempts. -json prints it as one JSON
object.

Exit status: 0 the run completed, 1 it could not start, 2 bad flags.

flags:
`

// parse reads the flags.
func parse(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("abuse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o         options
		server    string
		sources   string
		sourceIPs int
	)
	c := &o.cfg
	fs.StringVar(&server, "server", "", "the netcode server's UDP address, host:port (required)")
	fs.IntVar(&c.Sessions, "sessions", halfopen.DefaultSessions, fmt.Sprintf("half-open sessions to open, 1..%d", halfopen.MaxSessions))
	fs.DurationVar(&c.Keepalive, "keepalive", halfopen.DefaultKeepalive, "interval between an accepted session's keepalives; the first\ngoes one interval after the accept")
	fs.DurationVar(&c.Duration, "duration", halfopen.DefaultDuration, "length of the run from the first handshake, > 0; an interrupt\nends it early (it still reports)")
	fs.IntVar(&c.Rate, "rate", 2000, "handshakes begun per second, evenly spaced, re-handshakes\nincluded; 0 begins them all at once")
	fs.StringVar(&sources, "sources", "", "pool of local source addresses: comma-separated addresses and\nADDR/BITS ranges (from ADDR upward inside the prefix; IPv4\naddresses ending in .0 or .255 skipped). Default: "+defaultSources+"\nfor a server on IPv4 loopback, ::1 for ::1, else the kernel picks")
	fs.IntVar(&sourceIPs, "source-ips", 1, "spread the sessions round-robin over the first N addresses of\n-sources (1 = 127.0.0.1 by default; N = 3: 127.0.0.1 to .3)")
	fs.BoolVar(&c.Reconnect, "reconnect", false, "start a session over (a new handshake on its socket) when the\nserver refuses or disconnects it or its handshake times out")
	fs.DurationVar(&c.ReconnectDelay, "reconnect-delay", halfopen.DefaultReconnectDelay, "with -reconnect, the wait between an attempt's end and the\nsession's next handshake (which then waits for its turn\nunder -rate)")
	fs.DurationVar(&c.HandshakeTimeout, "handshake-timeout", halfopen.DefaultHandshakeTimeout, "how long a session tries to complete its handshake (requests\nand responses are repeated every 100 ms)")
	fs.BoolVar(&o.json, "json", false, "print the report as one JSON object on stdout")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress line on stderr (by default one a second: seconds,\nsessions begun, live, accepted, disconnected, refused, timed\nout, re-handshakes, datagrams received per second)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), usage, reservedFDs)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if server == "" {
		return o, errors.New("-server is required")
	}
	addr, err := resolve(server)
	if err != nil {
		return o, fmt.Errorf("-server: %w", err)
	}
	c.Server = addr
	// The library reads zero as its default: here zero is refused.
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"keepalive", c.Keepalive}, {"duration", c.Duration}, {"handshake-timeout", c.HandshakeTimeout}, {"reconnect-delay", c.ReconnectDelay}} {
		if f.d <= 0 {
			return o, fmt.Errorf("-%s %v must be positive", f.name, f.d)
		}
	}
	if c.Sessions < 1 {
		return o, fmt.Errorf("-sessions %d must be at least 1", c.Sessions)
	}
	if sources == "" {
		switch {
		case addr.Addr().Is4() && addr.Addr().IsLoopback():
			sources = defaultSources
		case addr.Addr() == netip.IPv6Loopback():
			sources = "::1"
		case sourceIPs > 1:
			return o, fmt.Errorf("-source-ips %d needs -sources for a server off loopback", sourceIPs)
		}
	}
	if sources != "" {
		if c.Sources, err = parseSources(sources, sourceIPs); err != nil {
			return o, err
		}
	}
	if err := c.WithDefaults().Validate(); err != nil {
		return o, err
	}
	return o, nil
}

// resolve parses host:port, looking the host up if it is not an address.
func resolve(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	ua, err := net.ResolveUDPAddr("udp", s)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap := ua.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}
