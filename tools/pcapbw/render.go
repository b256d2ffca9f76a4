package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flotilla/flotilla/tools/pcapbw/bw"
)

// writeText prints r as the plain-text report. name is the capture as the
// user gave it. Counts are exact; rates and shares are rounded.
func writeText(w io.Writer, r *bw.Report, name string) error {
	b := bufio.NewWriter(w)
	c := r.Capture
	span := c.Last.Sub(c.First)

	head := &table{align: "ll"}
	head.add("capture", name)
	head.add("format", fmt.Sprintf("%s, link types: %s", orNone(c.Format), orNone(strings.Join(c.LinkTypes, ", "))))
	head.add("records", strconv.FormatUint(c.Records, 10))
	if c.Records == 0 {
		head.add("time", "none (no records)")
	} else {
		head.add("time", fmt.Sprintf("%s to %s", stamp(c.First), stamp(c.Last)))
		head.add("duration", span.String())
	}
	head.add("ports", joinPorts(r.Ports))
	if c.Error != "" {
		head.add("damaged", c.Error+"; the report covers what was read before it")
	}
	head.write(b)

	fmt.Fprintf(b, "\nUDP payload bytes: what the application wrote to its socket (Flotilla's own counters).\n"+
		"Frame bytes: the whole link-layer frame as captured, incl. link, IP and UDP headers.\n"+
		"Mean rates are over the capture's span (%s).\n\n", spanText(span))
	tot := &table{align: "lrrrrr"}
	tot.add("", "packets", "UDP payload bytes", "frame bytes", "payload B/s", "frame B/s")
	for _, row := range []struct {
		name string
		c    bw.Counts
	}{{"in (client to server)", r.In}, {"out (server to client)", r.Out}, {"total", r.Total}} {
		tot.add(row.name, u64(row.c.Packets), u64(row.c.UDPPayloadBytes), u64(row.c.FrameBytes),
			rate(row.c.UDPPayloadBytes, span), rate(row.c.FrameBytes, span))
	}
	tot.write(b)

	fmt.Fprintln(b)
	sizes := &table{align: "lrrr"}
	sizes.add("UDP payload size, bytes", "p50", "p99", "max")
	sizes.add("in", strconv.Itoa(r.SizeIn.P50), strconv.Itoa(r.SizeIn.P99), strconv.Itoa(r.SizeIn.Max))
	sizes.add("out", strconv.Itoa(r.SizeOut.P50), strconv.Itoa(r.SizeOut.P99), strconv.Itoa(r.SizeOut.Max))
	sizes.write(b)

	writeByType(b, "in", r.ByTypeIn, r.In)
	writeByType(b, "out", r.ByTypeOut, r.Out)

	fmt.Fprintf(b, "\nClients: %d flows (server, client, direction); mean payload B/s over each flow's own span,\n"+
		"its first to last packet (\"-\" when that span is zero)\n", len(r.Clients))
	if len(r.Clients) > 0 {
		cl := &table{align: "lllrrrrrrr"}
		cl.add("server", "client", "dir", "packets", "payload bytes", "frame bytes", "p50", "p99", "span", "payload B/s")
		for _, f := range r.Clients {
			d := f.Last.Sub(f.First)
			cl.add(f.Server.String(), f.Client.String(), f.Direction.String(), u64(f.Packets), u64(f.UDPPayloadBytes),
				u64(f.FrameBytes), strconv.Itoa(f.Size.P50), strconv.Itoa(f.Size.P99), d.String(), rate(f.UDPPayloadBytes, d))
		}
		cl.write(b)
	}

	if len(r.Mesh) > 0 {
		fmt.Fprintf(b, "\nMesh: %d flows with peers (server, peer, direction): in %s packets, %s payload bytes; out %s packets, %s payload bytes\n",
			len(r.Mesh), u64(r.MeshIn.Packets), u64(r.MeshIn.UDPPayloadBytes), u64(r.MeshOut.Packets), u64(r.MeshOut.UDPPayloadBytes))
		mt := &table{align: "lllrrrl"}
		mt.add("server", "peer", "dir", "packets", "payload bytes", "frame bytes", "by type (packets)")
		for _, f := range r.Mesh {
			var types []string
			for _, t := range f.ByType {
				if t.Packets > 0 {
					types = append(types, fmt.Sprintf("%s %d", t.Type, t.Packets))
				}
			}
			mt.add(f.Server.String(), f.Client.String(), f.Direction.String(), u64(f.Packets), u64(f.UDPPayloadBytes), u64(f.FrameBytes), strings.Join(types, ", "))
		}
		mt.write(b)
	}

	fmt.Fprintln(b, "\nSkipped records (not UDP traffic of a server port, in no count above)")
	sk := &table{align: "lr"}
	for _, s := range skippedReasons(r.Skipped) {
		if s.n > 0 {
			sk.add(s.name, u64(s.n))
		}
	}
	if len(sk.rows) == 0 {
		sk.add("none", "")
	}
	sk.write(b)

	fmt.Fprintf(b, "\nOverflow: %d packets in the totals but in no client flow (beyond -max-flows) or no series (beyond -max-seconds)\n", r.Overflow)
	return b.Flush()
}

// writeByType prints the by-type table of one direction; all is that
// direction's total, of which each type's share of payload bytes is shown.
func writeByType(w io.Writer, dir string, types []bw.TypeCounts, all bw.Counts) {
	fmt.Fprintf(w, "\nBy type, %s\n", dir)
	t := &table{align: "lrrrr"}
	t.add("type", "packets", "payload bytes", "frame bytes", "share of payload bytes")
	for _, tc := range types {
		t.add(tc.Type, u64(tc.Packets), u64(tc.UDPPayloadBytes), u64(tc.FrameBytes), share(tc.UDPPayloadBytes, all.UDPPayloadBytes))
	}
	if len(types) == 0 {
		t.add("none", "", "", "", "")
	}
	t.write(w)
}

// skipReason is one counter of bw.Skipped under its JSON name.
type skipReason struct {
	name string
	n    uint64
}

// skippedReasons lists the counters of s in their declared order.
func skippedReasons(s bw.Skipped) []skipReason {
	return []skipReason{
		{"other_port", s.OtherPort}, {"not_udp", s.NotUDP}, {"not_ip", s.NotIP}, {"fragment", s.Fragment},
		{"malformed", s.Malformed}, {"truncated", s.Truncated}, {"unknown_link", s.UnknownLink},
	}
}

// stamp formats a timestamp as RFC 3339 with nanoseconds, in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func u64(n uint64) string { return strconv.FormatUint(n, 10) }

// rate is n per second over d, with one decimal, or "-" when d is not
// positive.
func rate(n uint64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(n)/d.Seconds(), 'f', 1, 64)
}

// share is part of all in percent, or "-" when all is zero.
func share(part, all uint64) string {
	if all == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(part)/float64(all), 'f', 2, 64) + "%"
}

func spanText(d time.Duration) string {
	if d <= 0 {
		return "zero: no rates"
	}
	return d.String()
}

func joinPorts(ports []uint16) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	return orNone(strings.Join(s, ", "))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// table lays out rows of cells in columns two spaces apart. align has one
// letter per column: 'l' pads on the right, 'r' on the left. Trailing
// spaces are trimmed.
type table struct {
	align string
	rows  [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	var width []int
	for _, row := range t.rows {
		for i, c := range row {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var line strings.Builder
	for _, row := range t.rows {
		line.Reset()
		for i, c := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i < len(t.align) && t.align[i] == 'r' {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(line.String(), " "))
	}
}
