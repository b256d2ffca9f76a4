package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/udpio"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/server"
	"github.com/flotilla/flotilla/server/mesh"
)

// envPrefix starts the environment variable of every flag.
const envPrefix = "FLOTILLA_"

// options are the binary's settings, from flags and environment variables.
type options struct {
	listen    netip.AddrPort
	admin     string
	http      string
	publicIPs ipListValue
	duration  time.Duration
	io        string
	summary   time.Duration
	bots      int
	logLevel  string
	logFormat string

	tickHz, snapshotHz, maxSnapshotHz int
	bytesPerSec, maxBytesPerSec       int
	inputDelay, maxClients            int
	maxPendingActions                 int
	maxUnproven, maxUnprovenPerAddr   int
	maxClientsPerAddr                 int
	workers, maxViewEntities          int
	proofTimeout, ackTimeout          time.Duration
	seed                              uint64
	keepalive, timeout                time.Duration
	interest                          demowire.Interest
	meshSelf                          int
	meshRedirectMargin                int
	meshMembers                       membersValue
	meshKey                           keyValue

	set  map[string]bool // flags given on the command line or in the environment
	docs []flagDoc       // the flags in the order --help lists them
}

// flagDoc names a flag and the kind of value it takes, for --help; def,
// when set, describes a default that is not a fixed value.
type flagDoc struct{ name, typ, def string }

// Defaults of the flags that are not the room's.
const (
	defaultListen    = "0.0.0.0:7777"
	defaultAdmin     = "127.0.0.1:7780"
	defaultKeepalive = 250 * time.Millisecond
	defaultTimeout   = 5 * time.Second
	// maxInterestRadius bounds an -interest radius, in tiles. The demo
	// world is 256 tiles across, so a larger radius sees nothing more.
	maxInterestRadius = 256
)

// newFlagSet returns the flags, bound to o and holding their defaults.
func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("flotilla", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors and help itself
	fs.Usage = func() {}
	def := func(name, typ, usage string, v flag.Value) {
		fs.Var(v, name, usage)
		o.docs = append(o.docs, flagDoc{name: name, typ: typ})
	}
	o.listen = netip.MustParseAddrPort(defaultListen)
	o.admin = defaultAdmin
	o.io = udpio.DefaultKind
	o.logLevel, o.logFormat = "info", "text"
	o.tickHz, o.snapshotHz = server.DefaultTickHz, server.DefaultSnapshotHz
	o.meshRedirectMargin = server.DefaultRedirectMargin
	o.bytesPerSec, o.maxBytesPerSec = server.DefaultBytesPerSec, server.DefaultMaxBytesPerSec
	o.inputDelay, o.maxClients = server.DefaultInputDelay, server.DefaultMaxClients
	o.maxPendingActions = server.DefaultMaxPendingActions
	o.maxUnproven, o.maxUnprovenPerAddr = server.DefaultMaxUnproven, server.DefaultMaxUnprovenPerAddr
	o.maxClientsPerAddr = server.DefaultMaxClientsPerAddr
	o.workers = min(runtime.GOMAXPROCS(0), server.MaxWorkers)
	o.proofTimeout, o.ackTimeout = server.DefaultProofTimeout, server.DefaultAckTimeout
	o.keepalive, o.timeout = defaultKeepalive, defaultTimeout
	o.interest = demowire.DefaultInterest()

	def("listen", "ADDR", "UDP address clients connect to, ip:port (an empty ip is 0.0.0.0)", (*addrPortValue)(&o.listen))
	def("admin", "ADDR", "HTTP address of /metrics, /healthz and /budget, host:port; empty disables", (*hostPortValue)(&o.admin))
	def("http", "ADDR", "public HTTP address for browsers, host:port: / is the page, POST /rtc takes\na WebRTC offer, GET /schema is the schema (browsers then share the UDP port\nof -listen); empty disables", (*hostPortValue)(&o.http))
	def("public-ip", "IPS", "addresses, comma-separated, that browsers' WebRTC candidates advertise\ninstead of the server's own (behind NAT or in a container)", &o.publicIPs)
	def("io", "KIND", "UDP backend: "+strings.Join(udpio.Kinds(), ", "), &choiceValue{&o.io, udpio.Kinds()})
	def("duration", "D", "stop after this long; 0 runs until SIGINT or SIGTERM", &durationValue{&o.duration, false})
	def("summary", "D", "print a live summary line to stdout every D; 0 disables", &durationValue{&o.summary, false})
	def("bots", "N", "also run N in-process bots against this server, each its own loopback\nUDP client (for demos: make run uses 200); their report is printed at the end", &intValue{&o.bots, 0})
	def("log-level", "LEVEL", "log level: debug, info, warn or error", &choiceValue{&o.logLevel, levelNames})
	def("log-format", "FORMAT", "log format on stderr: text or json", &choiceValue{&o.logFormat, []string{"text", "json"}})

	def("tick-hz", "N", "simulation rate, frames per second", &intValue{&o.tickHz, 1})
	def("max-snapshot-hz", "N", "highest snapshot rate a client may ask for; at most -tick-hz", &intValue{&o.maxSnapshotHz, 1})
	o.docs[len(o.docs)-1].def = "the tick rate"
	def("snapshot-hz", "N", "snapshot rate of a client that asks for no other; at most -max-snapshot-hz,\nwhich it follows down when not given", &intValue{&o.snapshotHz, 1})
	def("max-bytes-per-sec", "N", "highest snapshot budget a client may ask for, UDP payload bytes per second", &intValue{&o.maxBytesPerSec, 1})
	def("bytes-per-sec", "N", "snapshot budget of a client that asks for no other, bytes per second; at\nmost -max-bytes-per-sec, which it follows down when not given", &intValue{&o.bytesPerSec, 1})
	def("input-delay", "N", "frames after the next one that an action received now is stamped for;\nat least 1", &intValue{&o.inputDelay, 1})
	def("max-clients", "N", "most clients in the world at once (sessions that acknowledged a snapshot);\nthe default is what the tick sustains on a 2-core machine", &intValue{&o.maxClients, 1})
	def("max-unproven", "N", "most sessions at once that have not yet acknowledged a snapshot; more\nare refused as throttled", &intValue{&o.maxUnproven, 1})
	def("max-unproven-per-addr", "N", "most such sessions from one IP address (an IPv6 /64); at most\n-max-unproven, which it follows down when not given", &intValue{&o.maxUnprovenPerAddr, 1})
	def("max-clients-per-addr", "N", "most clients in the world from one IP address (an IPv6 /64); at most\n-max-clients, which it follows down when not given", &intValue{&o.maxClientsPerAddr, 1})
	def("workers", "N", "goroutines that build the clients' snapshots each tick, the room's own\nincluded (the world steps on one); the bytes sent do not depend on it", &intValue{&o.workers, 1})
	o.docs[len(o.docs)-1].def = "GOMAXPROCS, the usable cores"
	def("max-view-entities", "N", "coarsen crowded views: past N entities the coarsest level of detail\nleaves a client's view, then the next, down to full detail alone (0: off)", &intValue{&o.maxViewEntities, 0})
	def("proof-timeout", "D", "send away a session that acknowledged no snapshot within D, keepalives\nor not", &durationValue{&o.proofTimeout, true})
	def("ack-timeout", "D", "send away a client that acknowledged none of the snapshots sent to it\nfor D", &durationValue{&o.ackTimeout, true})
	def("max-pending-actions", "N", "most actions of one client awaiting their frame; more fizzle as busy", &intValue{&o.maxPendingActions, 1})
	def("seed", "N", "seed of the demo game's world", (*uint64Value)(&o.seed))
	def("interest", "RADII", "what a client sees around its tile: the radii in tiles of the 4 detail\ntiers full,medium,low,blip (-1 turns a tier off), or \"tile\": its tile and\nthe 6 around it at full detail", (*interestValue)(&o.interest))
	def("keepalive", "D", "send a client a keepalive after this long without sending it anything;\nbelow -timeout", &durationValue{&o.keepalive, true})
	def("timeout", "D", "end a session after this long without hearing from the client; at most 1h", &durationValue{&o.timeout, true})
	def("mesh-self", "N", "this server's id in a mesh of servers that step one world (1 and up; 0: no\nmesh); needs -mesh-members and -mesh-key", &intValue{&o.meshSelf, 0})
	def("mesh-members", "LIST", "the mesh's members, the same list on every one: id=ip:port[/host:port],...\nwhere ip:port is the member's -listen address and host:port its -http address,\nif it serves browsers (a member sends browsers there when it sends native\nclients to it), e.g. 1=127.0.0.1:7001/127.0.0.1:8001,2=127.0.0.1:7002/127.0.0.1:8002", &o.meshMembers)
	def("mesh-redirect-margin", "N", "a member that serves at least N clients more than the mean of the members'\nloads sends connecting clients and browsers to its least loaded peer; -1 never", &intValue{&o.meshRedirectMargin, -1})
	def("mesh-key", "HEX", "the key the members share, 64 hex digits (32 bytes); peers prove it when\nthey connect (a client cannot)", &o.meshKey)
	return fs
}

// errHelp is returned by parseOptions when help was asked for.
var errHelp = errors.New("help requested")

// parseOptions reads the environment, then args: a flag given in args wins
// over its environment variable. lookupEnv is os.LookupEnv or a stand-in.
func parseOptions(args []string, lookupEnv func(string) (string, bool)) (*options, error) {
	o := &options{set: make(map[string]bool)}
	fs := newFlagSet(o)
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := lookupEnv(envName(f.Name))
		if !ok || err != nil {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("invalid value %q for %s (flag -%s): %v", v, envName(f.Name), f.Name, e)
			return
		}
		o.set[f.Name] = true
	})
	if err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: flotilla takes only flags", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	return o, nil
}

// envName is the environment variable of a flag: -tick-hz is
// FLOTILLA_TICK_HZ.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// printUsage writes the --help text: every flag with its default and its
// environment variable.
func printUsage(w io.Writer) {
	o := &options{}
	fs := newFlagSet(o)
	fmt.Fprint(w, `Usage: flotilla [flags]

flotilla runs one Flotilla room: the demo game's world, served to clients over
UDP, with its operator endpoints over HTTP (-admin):
  GET /metrics    Prometheus metrics
  GET /healthz    200 "ok" while the room runs, 503 after
  POST /budget    change snapshot rate and byte budget at run time: form or
                  query values client (session id; absent: every client and
                  the defaults), hz, bps
The endpoints have no authentication: keep -admin on a private address.

Every flag can also be set by an environment variable named FLOTILLA_ and the
flag's name in upper case with dashes as underscores (-tick-hz is
FLOTILLA_TICK_HZ). A flag on the command line wins over its variable.

SIGINT or SIGTERM (or the end of -duration) stops the room: every client is
told the server is shutting down, and flotilla exits with status 0. Bad flags
exit with status 2, failures to start or to run with status 1.

Flags:
`)
	for _, d := range o.docs {
		f := fs.Lookup(d.name)
		def := f.DefValue
		switch {
		case d.def != "":
			def = d.def
		case def == "":
			def = `""`
		}
		usage := strings.ReplaceAll(f.Usage, "\n", "\n    \t")
		fmt.Fprintf(w, "  -%s %s\n    \t%s\n    \t(default %s; env %s)\n", f.Name, d.typ, usage, def, envName(f.Name))
	}
}

// intValue is an int flag with a lower bound.
type intValue struct {
	p   *int
	min int
}

func (v *intValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.Itoa(*v.p)
}

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not a whole number")
	}
	if n < v.min {
		return fmt.Errorf("below %d", v.min)
	}
	*v.p = n
	return nil
}

type uint64Value uint64

func (v *uint64Value) String() string { return strconv.FormatUint(uint64(*v), 10) }

func (v *uint64Value) Set(s string) error {
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return errors.New("not an unsigned 64-bit number")
	}
	*v = uint64Value(n)
	return nil
}

// durationValue is a duration flag that is never negative and, when
// positive is set, never zero.
type durationValue struct {
	p        *time.Duration
	positive bool
}

func (v *durationValue) String() string {
	if v.p == nil {
		return ""
	}
	return v.p.String()
}

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return errors.New("not a duration (e.g. 1.5s, 250ms, 2m)")
	case d < 0:
		return errors.New("negative")
	case d == 0 && v.positive:
		return errors.New("must be above zero")
	}
	*v.p = d
	return nil
}

// choiceValue is a string flag with a fixed set of values.
type choiceValue struct {
	p      *string
	values []string
}

func (v *choiceValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v *choiceValue) Set(s string) error {
	for _, c := range v.values {
		if s == c {
			*v.p = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(v.values, ", "))
}

// addrPortValue is a UDP listening address: an IP and a port.
type addrPortValue netip.AddrPort

func (v *addrPortValue) String() string { return netip.AddrPort(*v).String() }

func (v *addrPortValue) Set(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("want ip:port, e.g. 0.0.0.0:7777")
	}
	ip := netip.IPv4Unspecified()
	if host != "" {
		if ip, err = netip.ParseAddr(host); err != nil {
			return fmt.Errorf("%q is not an IP address", host)
		}
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return fmt.Errorf("%q is not a port", port)
	}
	*v = addrPortValue(netip.AddrPortFrom(ip, uint16(p)))
	return nil
}

// hostPortValue is a TCP listening address, host:port, or empty.
type hostPortValue string

func (v *hostPortValue) String() string { return string(*v) }

func (v *hostPortValue) Set(s string) error {
	if s != "" {
		_, port, err := net.SplitHostPort(s)
		if err != nil {
			return errors.New("want host:port, e.g. 127.0.0.1:7780, or empty")
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return fmt.Errorf("%q is not a port", port)
		}
	}
	*v = hostPortValue(s)
	return nil
}

// membersValue is a mesh membership (mesh.ParseMembers).
type membersValue []mesh.Member

func (v *membersValue) String() string { return mesh.FormatMembers(*v) }

func (v *membersValue) Set(s string) error {
	ms, err := mesh.ParseMembers(s)
	if err != nil {
		return err
	}
	*v = ms
	return nil
}

// keyValue is a 32-byte key in hex.
type keyValue []byte

func (v *keyValue) String() string {
	if len(*v) == 0 {
		return ""
	}
	return "(set)" // never echo a key
}

func (v *keyValue) Set(s string) error {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != netcode.PeerKeySize {
		return fmt.Errorf("want %d hex digits", 2*netcode.PeerKeySize)
	}
	*v = b
	return nil
}

// ipListValue is a comma-separated list of IP addresses, or empty.
type ipListValue string

func (v *ipListValue) String() string { return string(*v) }

func (v *ipListValue) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		if s == "" {
			break
		}
		if _, err := netip.ParseAddr(strings.TrimSpace(f)); err != nil {
			return fmt.Errorf("%q is not an IP address", f)
		}
	}
	*v = ipListValue(s)
	return nil
}

// ips is the list's addresses.
func (v ipListValue) ips() []string {
	var out []string
	for _, f := range strings.Split(string(v), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// interestValue reads "tile", or one radius per detail tier.
type interestValue demowire.Interest

func (v *interestValue) String() string {
	r := make([]string, len(v.Radius))
	for i, x := range v.Radius {
		r[i] = strconv.Itoa(int(x))
	}
	return strings.Join(r, ",")
}

func (v *interestValue) Set(s string) error {
	if s == "tile" {
		*v = interestValue(demowire.TileInterest())
		return nil
	}
	parts := strings.Split(s, ",")
	var in demowire.Interest
	if len(parts) != len(in.Radius) {
		return fmt.Errorf(`want "tile" or %d comma-separated radii, e.g. 1,2,3,5`, len(in.Radius))
	}
	on := false
	for i, p := range parts {
		r, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || r < -1 || r > maxInterestRadius {
			return fmt.Errorf("radius %q: want -1 (tier off) or 0..%d tiles", p, maxInterestRadius)
		}
		in.Radius[i] = int32(r)
		on = on || r >= 0
	}
	if !on {
		return errors.New("every tier is off: clients would see nothing")
	}
	*v = interestValue(in)
	return nil
}

// levelNames are the -log-level values, as slog names them.
var levelNames = []string{"debug", "info", "warn", "error"}

var levels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

// logger returns the logger the options ask for, writing to w.
func (o *options) logger(w io.Writer) *slog.Logger {
	hopts := &slog.HandlerOptions{Level: levels[o.logLevel]}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}
