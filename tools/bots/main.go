// Command bots is Flotilla's load generator: many virtual players in one
// process, each its own UDP socket and goroutine, steering and firing from
// its own view of the world, and a report of what they saw:
//
//	go run ./tools/bots -server 127.0.0.1:7777 -clients 200 -duration 30s -json
//
// With -transport webrtc the bots speak the browser's wire instead (pion
// data channels through the server's browser bridge), signaling at -rtc:
//
//	go run ./tools/bots -transport webrtc -rtc http://127.0.0.1:8080/rtc -clients 50
//
// With -json it prints exactly one JSON object on stdout (botrun.Report
// documents every key); without, a readable summary. Every flag has an
// environment variable, FLOTILLA_BOTS_ and the flag's name in upper case
// with dashes as underscores (FLOTILLA_BOTS_CLIENTS=200); a flag on the
// command line wins over its variable.
//
// Exit status: 0 when the run met the bar, 1 when -strict (the default) and
// some bot did not connect, a desync was permanent or an action was lost
// (the report is printed first), 2 for bad flags.
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
	"strings"
	"syscall"
	"time"

	"github.com/flotilla/flotilla/netcode/udpio"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/tools/bots/botrun"
)

// envPrefix starts the environment variable of every flag.
const envPrefix = "FLOTILLA_BOTS_"

// options are the parsed flags.
type options struct {
	run    botrun.Config
	json   bool
	strict bool
	live   bool
}

func main() {
	// The first interrupt ends the play (the bots drain and report); the
	// second, with the handler gone, ends the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	o, err := parse(args, env, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bots:", err)
		return 2
	}
	r, err := botrun.Start(ctx, o.run)
	if err != nil {
		fmt.Fprintln(stderr, "bots:", err)
		return 2
	}
	if o.live {
		t := time.NewTicker(time.Second)
	loop:
		for {
			select {
			case <-t.C:
				fmt.Fprintln(stderr, r.Live())
			case <-r.Done():
				break loop
			}
		}
		t.Stop()
	}
	rep := r.Wait()
	if o.json {
		b, err := json.Marshal(&rep)
		if err != nil {
			fmt.Fprintln(stderr, "bots:", err)
			return 2
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else if err := rep.WriteText(stdout); err != nil {
		fmt.Fprintln(stderr, "bots:", err)
		return 2
	}
	if o.strict && !rep.OK() {
		fmt.Fprintf(stderr, "bots: failed: %d/%d connected, %d permanent desyncs, %d actions lost\n",
			rep.Connected, rep.Clients, rep.DesyncPermanent, rep.ActionsLost)
		return 1
	}
	return 0
}

// parse reads the flags, each defaulting to its environment variable.
func parse(args []string, env func(string) (string, bool), stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("bots", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := botrun.Config{}.WithDefaults()
	var (
		o                           options
		server, bind, kind          string
		transport, rtc              string
		clients                     int
		seed                        uint64
		rateHz, bytesPerSec, detail uint
		duration                    time.Duration
		durations                   = map[string]*time.Duration{}
		positives                   []string // the flags durations holds, in order
	)
	positive := func(name string, value time.Duration, usage string) {
		durations[name] = fs.Duration(name, value, usage)
		positives = append(positives, name)
	}
	fs.StringVar(&transport, "transport", botrun.TransportUDP, "how the bots reach the server: udp (netcode) or webrtc (the browser's wire:\npion data channels through the server's browser bridge; needs -rtc)")
	fs.StringVar(&rtc, "rtc", "", "with -transport webrtc: the server's signaling URL, where offers are POSTed\n(http://host:port/rtc on its HTTP listener)")
	fs.StringVar(&server, "server", "127.0.0.1:7777", "the server's UDP address, host:port (-transport udp)")
	fs.IntVar(&clients, "clients", 10, fmt.Sprintf("number of bots, 1..%d", botrun.MaxClients))
	fs.DurationVar(&duration, "duration", 10*time.Second, "how long the bots act before they drain (0: until interrupted)")
	fs.StringVar(&kind, "io", botrun.DefaultIO, "socket backend: "+strings.Join(udpio.Kinds(), ", "))
	fs.StringVar(&bind, "bind", "", "local address of the bots' sockets, each on its own port\n(default: 127.0.0.1 for a loopback server, else any)")
	fs.Uint64Var(&seed, "seed", 1, "seed of the bots' choices")
	fs.UintVar(&rateHz, "rate-hz", 0, fmt.Sprintf("snapshot rate each bot asks for, 0..%d (0: the server's default)", protocol.MaxRateHz))
	fs.UintVar(&bytesPerSec, "bytes-per-sec", 0, "snapshot byte budget each bot asks for (0: the server's default)")
	fs.UintVar(&detail, "detail", 0, fmt.Sprintf("levels of detail each bot asks for, 1..%d (1: full detail only; 0: the server's default, all)", protocol.MaxDetail))
	positive("action-interval", def.ActionInterval, "a bot decides (steers, fires) every interval to twice that, at random")
	positive("connect-timeout", def.ConnectTimeout, "bound on each bot's handshake, welcome and ship")
	positive("grace", def.Grace, "at the end, how long a bot waits for results once nothing is unacknowledged")
	positive("drain-limit", def.DrainLimit, "at the end, the longest a bot waits for its results")
	ramp := fs.Duration("ramp", 0, "spread the bots' starts evenly over this long")
	fs.BoolVar(&o.json, "json", false, "print one JSON object (see botrun.Report) instead of the summary")
	fs.BoolVar(&o.strict, "strict", true, "exit 1 unless every bot connected, no desync was permanent and no action was lost")
	fs.BoolVar(&o.live, "live", false, "print a one-line summary to stderr every second")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: bots [flags]\n\n"+
			"Runs many virtual players against a Flotilla server and reports snapshots,\n"+
			"bandwidth, desyncs and action latency. Every flag can also be set by the\n"+
			"environment variable %s<FLAG> (upper case, dashes as underscores);\n"+
			"the command line wins.\n\nExit status: 0 ok, 1 -strict check failed, 2 bad flags.\n\nflags:\n", envPrefix)
		fs.PrintDefaults()
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if envErr != nil {
			return
		}
		name := envName(f.Name)
		if v, ok := env(name); ok {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return o, envErr
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var addr netip.AddrPort
	var err error
	if transport != botrun.TransportWebRTC {
		if addr, err = resolve(server); err != nil {
			return o, fmt.Errorf("-server: %w", err)
		}
	}
	if rateHz > protocol.MaxRateHz {
		return o, fmt.Errorf("-rate-hz %d over %d", rateHz, protocol.MaxRateHz)
	}
	if detail > protocol.MaxDetail {
		return o, fmt.Errorf("-detail %d over %d", detail, protocol.MaxDetail)
	}
	if bytesPerSec > 1<<32-1 {
		return o, fmt.Errorf("-bytes-per-sec %d over 2^32-1", bytesPerSec)
	}
	// botrun reads a zero duration as its default: here zero is refused.
	for _, name := range positives {
		if d := *durations[name]; d <= 0 {
			return o, fmt.Errorf("-%s %v must be positive", name, d)
		}
	}
	o.run = botrun.Config{
		Transport: transport, RTC: rtc,
		Server: addr, Clients: clients, Duration: duration, IO: kind, Seed: seed,
		Rate: protocol.Rate{Hz: uint32(rateHz), BytesPerSec: uint32(bytesPerSec)}, Detail: uint8(detail),
		ActionInterval: *durations["action-interval"], ConnectTimeout: *durations["connect-timeout"],
		Grace: *durations["grace"], DrainLimit: *durations["drain-limit"], Ramp: *ramp,
	}
	if bind != "" {
		if o.run.Bind, err = netip.ParseAddr(bind); err != nil {
			return o, fmt.Errorf("-bind: %w", err)
		}
	}
	o.run = o.run.WithDefaults()
	if err := o.run.Validate(); err != nil {
		return o, err
	}
	return o, nil
}

// envName is the environment variable of a flag.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// resolve parses host:port, looking the host up if it is not an address.
func resolve(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	ua, err := net.ResolveUDPAddr("udp", s)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap := ua.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}
