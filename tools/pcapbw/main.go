// Command pcapbw reads a packet capture (pcap or pcapng) of a Flotilla
// server's traffic and says where every byte went: per direction, per packet
// type, per client and per second.
//
//	tcpdump -i lo -n --immediate-mode -U -Z root -B 8192 -s 2048 -w run.pcap udp port 7777
//	go run ./tools/pcapbw -r run.pcap -port 7777 -plot run.svg
//
// It prints a plain-text report on stdout, or with -json the bw.Report as one
// JSON object, or with -csv one row per client and direction; -plot also
// writes an SVG chart of UDP payload bytes per second in and out. README.md
// in this folder documents every flag, key and column.
//
// Exit status: 0 ok, 1 the capture cannot be read or was damaged part-way
// (the report of what was read is printed first), 2 bad flags.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/flotilla/flotilla/tools/pcapbw/bw"
)

// Defaults of -max-flows and -max-seconds: the bounds bw.Options documents.
const (
	defaultMaxFlows   = 65536
	defaultMaxSeconds = 86400
)

// options are the parsed flags.
type options struct {
	file       string           // -r: a path, or "-" for stdin
	ports      []uint16         // -port, in the order given, without repeats
	peers      []netip.AddrPort // -peers
	maxFlows   int
	maxSeconds int
	json       bool
	csv        bool
	plot       string // -plot: the SVG file to write, or ""
}

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run is the command: it returns the exit status. stdin is read when -r is
// "-".
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parse(args)
	if errors.Is(err, flag.ErrHelp) {
		writeUsage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "pcapbw: %v\nrun 'pcapbw -h' for usage\n", err)
		return 2
	}
	in := stdin
	if o.file != "-" {
		f, err := os.Open(o.file)
		if err != nil {
			fmt.Fprintln(stderr, "pcapbw: cannot read the capture:", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	rep, err := bw.Analyze(bufio.NewReaderSize(in, 1<<16), bw.Options{Ports: o.ports, MaxFlows: o.maxFlows, MaxSeconds: o.maxSeconds, Peers: o.peers})
	if err != nil {
		fmt.Fprintf(stderr, "pcapbw: %s: %v\n", o.name(), err)
		return 1
	}
	switch {
	case o.json:
		err = writeJSON(stdout, rep)
	case o.csv:
		err = writeCSV(stdout, rep)
	default:
		err = writeText(stdout, rep, o.name())
	}
	if err != nil {
		fmt.Fprintln(stderr, "pcapbw: writing the report:", err)
		return 1
	}
	code := 0
	if o.plot != "" {
		if err := os.WriteFile(o.plot, plotSVG(rep, o.name()), 0o644); err != nil {
			fmt.Fprintln(stderr, "pcapbw: writing the plot:", err)
			code = 1
		}
	}
	if rep.Capture.Error != "" {
		fmt.Fprintf(stderr, "pcapbw: warning: %s is damaged, reading stopped early: %s; the report covers only the %d records read before it\n",
			o.name(), rep.Capture.Error, rep.Capture.Records)
		code = 1
	}
	return code
}

// name is how the report and the plot name the capture.
func (o options) name() string {
	if o.file == "-" {
		return "stdin"
	}
	return o.file
}

// parse reads the flags. It returns flag.ErrHelp for -h and --help; any other
// error is a usage error. It writes nothing.
func parse(args []string) (options, error) {
	fs := flag.NewFlagSet("pcapbw", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	o := options{}
	var ports portList
	var peers string
	fs.StringVar(&peers, "peers", "", "")
	fs.StringVar(&o.file, "r", "", "")
	fs.Var(&ports, "port", "")
	fs.IntVar(&o.maxFlows, "max-flows", defaultMaxFlows, "")
	fs.IntVar(&o.maxSeconds, "max-seconds", defaultMaxSeconds, "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.BoolVar(&o.csv, "csv", false, "")
	fs.StringVar(&o.plot, "plot", "", "")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.ports = ports
	for _, p := range strings.Split(peers, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		a, err := netip.ParseAddrPort(p)
		if err != nil {
			return o, fmt.Errorf("-peers: %q is not ip:port", p)
		}
		o.peers = append(o.peers, a)
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q (the capture is given with -r)", fs.Args())
	case o.file == "":
		return o, errors.New("no capture: give one with -r FILE (- for stdin)")
	case len(o.ports) == 0:
		return o, errors.New("no server port: give at least one with -port P")
	case o.json && o.csv:
		return o, errors.New("-json and -csv exclude each other: choose one")
	case o.maxFlows < 1:
		return o, fmt.Errorf("-max-flows %d: must be at least 1", o.maxFlows)
	case o.maxSeconds < 1:
		return o, fmt.Errorf("-max-seconds %d: must be at least 1", o.maxSeconds)
	case o.plot != "" && !strings.EqualFold(filepath.Ext(o.plot), ".svg"):
		return o, fmt.Errorf("-plot %q: only SVG is written: the file name must end in .svg", o.plot)
	}
	return o, nil
}

// portList is the repeatable -port flag: each use adds one port or a comma
// list of ports; a port given twice counts once.
type portList []uint16

func (p *portList) String() string {
	if p == nil {
		return ""
	}
	s := make([]string, len(*p))
	for i, v := range *p {
		s[i] = strconv.Itoa(int(v))
	}
	return strings.Join(s, ",")
}

func (p *portList) Set(v string) error {
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil || n < 1 || n > 65535 {
			if f == v {
				return errors.New("not a port: want a number 1..65535")
			}
			return fmt.Errorf("%q is not a port: want a number 1..65535", f)
		}
		if !slices.Contains(*p, uint16(n)) {
			*p = append(*p, uint16(n))
		}
	}
	return nil
}

// writeUsage prints the help text.
func writeUsage(w io.Writer) {
	fmt.Fprintf(w, `usage: pcapbw -r FILE -port P [-port P2 ...] [-json | -csv] [-plot FILE.svg]

Reads a packet capture (pcap or pcapng) of a Flotilla server's UDP traffic
and reports where every byte went: totals and rates per direction, payload
sizes, bytes per packet type, per-client flows, per-second series, and the
records it skipped and why.
"in" is client to server (destination port is a server port), "out" is
server to client (source port is a server port).

Two byte measures are counted and never mixed:
  UDP payload bytes  what the application wrote to its socket (the UDP
                     length minus its 8-byte header): the figure Flotilla's
                     own counters use (netcode.Stats.TxBytes).
  frame bytes        the record's original length in the capture: the frame
                     with the capture's own link header (Ethernet, Linux
                     cooked, loopback), IP and UDP headers.

flags:
  -r FILE            the capture to read; - reads stdin (required)
  -port P            a server UDP port, 1..65535 (required); repeat it or
                     give a comma list: -port 7777,7778
  -peers LIST        ip:port of the server's mesh peers, comma-separated:
                     their flows are the mesh's own traffic, reported apart
                     (per peer, direction and packet type), not as clients
  -max-flows N       keep at most N client flows (default %d); packets of
                     further flows count in the totals and in "overflow"
  -max-seconds N     keep at most N seconds of series (default %d, a day);
                     later packets count in the totals and in "overflow"
  -json              print the report as one indented JSON object
  -csv               print one CSV row per client and direction (header:
                     server,client,direction,packets,udp_payload_bytes,
                     frame_bytes,size_p50,size_p99,size_max,first,last, then
                     pkts_<type> for request, challenge, response, accept,
                     disconnect, reliable, unreliable, keepalive, cut,
                     non-flotilla); times are RFC 3339 UTC
  -plot FILE.svg     also write an SVG chart of UDP payload bytes per second,
                     in and out, over the capture (only SVG is written);
                     works with any output mode
  -h, --help         print this text

Without -json or -csv the report is plain text. Mean rates are over the
capture's span (first to last record), per client over the flow's own span
(its first to last packet).

Exit status: 0 ok; 1 the capture cannot be read or is not a capture, or it
was damaged part-way (the report of what was read is still printed, and a
warning on stderr names the damage); 2 bad flags.

examples:
  tcpdump -i lo -n --immediate-mode -U -Z root -B 8192 -s 2048 -w run.pcap udp port 7777
      (nothing waits in the kernel at the end, and the kernel's ring of
      2,048-byte slots holds a tick's burst; -U writes each packet at once;
      -Z root keeps Debian's tcpdump from switching to its unprivileged
      user; check "0 packets dropped by kernel" when it stops)
  pcapbw -r run.pcap -port 7777
  pcapbw -r run.pcap -port 7777,7778 -json > run.json
  pcapbw -r run.pcap -port 7777 -csv -plot run.svg > clients.csv
  pcapbw -r - -port 7777 < run.pcap
`, defaultMaxFlows, defaultMaxSeconds)
}
