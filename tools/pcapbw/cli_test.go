package main

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// A capture record the CLI tests write.
type record struct {
	at       time.Duration // after t0
	src, dst string        // ip:port
	payload  []byte
}

// flotilla is a datagram of n bytes that starts with a Flotilla header of
// packet type tp.
func flotilla(tp byte, n int) []byte {
	b := make([]byte, n)
	binary.LittleEndian.PutUint16(b, 0x4C46) // "FL"
	b[2] = 1                                 // version
	b[3] = tp
	binary.LittleEndian.PutUint32(b[4:], 0xC0FFEE)
	return b
}

// cliRecords is a short session of client 10.0.0.2 and a keepalive of
// client 10.0.0.3 with the server 10.0.0.1:7777, plus traffic that is not
// the server's.
var cliRecords = []record{
	{0, "10.0.0.2:50000", "10.0.0.1:7777", flotilla(1, 1200)},                    // request
	{100 * time.Millisecond, "10.0.0.1:7777", "10.0.0.2:50000", flotilla(2, 60)}, // challenge
	{1500 * time.Millisecond, "10.0.0.2:50000", "10.0.0.1:7777", flotilla(7, 100)},
	{2200 * time.Millisecond, "10.0.0.1:7777", "10.0.0.2:50000", flotilla(7, 300)},
	{2500 * time.Millisecond, "10.0.0.3:50001", "10.0.0.1:7777", flotilla(8, 14)},
	{2600 * time.Millisecond, "10.0.0.3:50001", "10.0.0.1:7777", []byte("hello")}, // non-flotilla
	{2700 * time.Millisecond, "10.0.0.9:53", "10.0.0.2:5353", []byte("dns?")},     // other port
}

// frame is an Ethernet/IPv4/UDP frame carrying r.
func frame(t *testing.T, r record) []byte {
	t.Helper()
	src, dst := mustUDPAddr(t, r.src), mustUDPAddr(t, r.dst)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.IP.To4(), DstIP: dst.IP.To4()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port), DstPort: layers.UDPPort(dst.Port)}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, udp, gopacket.Payload(r.payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustUDPAddr(t *testing.T, s string) *net.UDPAddr {
	t.Helper()
	a, err := net.ResolveUDPAddr("udp4", s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// writeCapture writes recs as a pcap file with nanosecond timestamps, plus
// one ARP frame after the first record, and returns its path.
func writeCapture(t *testing.T, name string, recs []record) string {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	put := func(at time.Duration, data []byte) {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(at), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range recs {
		put(r.at, frame(t, r))
		if i == 0 {
			put(r.at+time.Millisecond, arpFrame(t))
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func arpFrame(t *testing.T) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeARP}
	arp := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: []byte{2, 0, 0, 0, 0, 1}, SourceProtAddress: []byte{10, 0, 0, 1},
		DstHwAddress: []byte{0, 0, 0, 0, 0, 0}, DstProtAddress: []byte{10, 0, 0, 2}}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, eth, arp); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// runCLI runs the command and returns its exit status, stdout and stderr.
func runCLI(t *testing.T, stdin []byte, args ...string) (int, string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := run(args, bytes.NewReader(stdin), &out, &errs)
	return code, out.String(), errs.String()
}

// Frame bytes of a record: Ethernet 14 + IPv4 20 + UDP 8 + payload, with
// the frame padded to Ethernet's minimum of 60 bytes (without its FCS).
const overhead = 14 + 20 + 8

// The records' payload and frame bytes, by direction.
const (
	inPayload  = 1200 + 100 + 14 + 5
	inFrames   = inPayload + 4*overhead + (60 - 56) + (60 - 47) // the keepalive's and "hello"'s padding
	outPayload = 60 + 300
	outFrames  = outPayload + 2*overhead
)

func TestCLIText(t *testing.T) {
	path := writeCapture(t, "run.pcap", cliRecords)
	code, out, errs := runCLI(t, nil, "-r", path, "-port", "7777")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, errs, out)
	}
	for _, c := range []struct {
		lead, want []string
	}{
		{[]string{"format"}, []string{"pcap,", "link", "types:", "Ethernet"}},
		{[]string{"records"}, []string{"8"}},
		{[]string{"duration"}, []string{"2.7s"}},
		{[]string{"in", "(client", "to", "server)"}, []string{"4", u64(inPayload), u64(inFrames), "488.5", "557.0"}},
		{[]string{"out", "(server", "to", "client)"}, []string{"2", u64(outPayload), u64(outFrames)}},
		{[]string{"total"}, []string{"6", u64(inPayload + outPayload), u64(inFrames + outFrames)}},
		{[]string{"request"}, []string{"1", "1200", u64(1200 + overhead)}},
		{[]string{"non-flotilla"}, []string{"1", "5"}},
		{[]string{"10.0.0.1:7777", "10.0.0.2:50000", "in"}, []string{"2", "1300", u64(1300 + 2*overhead), "100", "1200", "1.5s"}},
		{[]string{"10.0.0.1:7777", "10.0.0.2:50000", "out"}, []string{"2", "360", u64(360 + 2*overhead), "60", "300", "2.1s"}},
		{[]string{"10.0.0.1:7777", "10.0.0.3:50001", "in"}, []string{"2", "19", "120", "5", "14", "100ms", "190.0"}},
		{[]string{"other_port"}, []string{"1"}},
		{[]string{"not_ip"}, []string{"1"}},
	} {
		if got := row(t, out, c.lead...)[len(c.lead):]; !slices.Equal(got[:min(len(got), len(c.want))], c.want) {
			t.Errorf("line %q: %q, want %q", c.lead, got, c.want)
		}
	}

	// The same capture on stdin, with a plot.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	svgPath := filepath.Join(t.TempDir(), "run & co.svg")
	code, out2, errs := runCLI(t, data, "-r", "-", "-port", "7777,9999", "-plot", svgPath)
	if code != 0 || errs != "" || !strings.Contains(out2, "capture   stdin") || !strings.Contains(out2, "7777, 9999") {
		t.Fatalf("stdin: exit %d, stderr %q\n%s", code, errs, out2)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, svg)
	if doc.polylines["in"] != 3 || doc.polylines["out"] != 3 || !doc.hasText("capture: stdin") {
		t.Errorf("plot: %+v", doc)
	}
}

func TestCLIJSONAndCSV(t *testing.T) {
	path := writeCapture(t, "run.pcap", cliRecords)
	code, out, errs := runCLI(t, nil, "-r", path, "-port", "7777", "-json")
	if code != 0 || errs != "" {
		t.Fatalf("json: exit %d, stderr %q", code, errs)
	}
	var m struct {
		Total   map[string]uint64
		Clients []map[string]any
		Ports   []uint16
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v in\n%s", err, out)
	}
	if m.Total["packets"] != 6 || m.Total["udp_payload_bytes"] != inPayload+outPayload || m.Total["frame_bytes"] != inFrames+outFrames ||
		!slices.Equal(m.Ports, []uint16{7777}) || len(m.Clients) != 3 {
		t.Errorf("json: total %v ports %v clients %d", m.Total, m.Ports, len(m.Clients))
	}
	for i, c := range m.Clients {
		for _, k := range []string{"server", "client", "direction", "packets", "udp_payload_bytes", "frame_bytes", "size", "first", "last", "by_type", "series"} {
			if _, ok := c[k]; !ok {
				t.Errorf("clients[%d] lacks %q", i, k)
			}
		}
	}

	code, out, errs = runCLI(t, nil, "-r", path, "-port", "7777", "-csv")
	if code != 0 || errs != "" {
		t.Fatalf("csv: exit %d, stderr %q", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], csvHeader()) {
		t.Fatalf("csv rows %q", rows)
	}
	col := func(r []string, name string) string { return r[slices.Index(rows[0], name)] }
	if b := rows[3]; col(b, "client") != "10.0.0.3:50001" || col(b, "pkts_keepalive") != "1" || col(b, "pkts_non-flotilla") != "1" ||
		col(b, "first") != "2025-03-04T05:06:09.623456789Z" || col(b, "size_max") != "14" {
		t.Errorf("csv row %q", b)
	}
}

func TestCLIDamagedCapture(t *testing.T) {
	path := writeCapture(t, "cut.pcap", cliRecords)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Cut the last record (the other-port datagram) in the middle.
	if err := os.WriteFile(path, data[:len(data)-20], 0o644); err != nil {
		t.Fatal(err)
	}
	svgPath := filepath.Join(t.TempDir(), "cut.svg")
	code, out, errs := runCLI(t, nil, "-r", path, "-port", "7777", "-plot", svgPath)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(errs, "warning") || !strings.Contains(errs, "damaged") || !strings.Contains(errs, "the 7 records read") {
		t.Errorf("stderr %q", errs)
	}
	if f := row(t, out, "total"); f[1] != "6" || !strings.Contains(out, "damaged") {
		t.Errorf("report of what was read:\n%s", out)
	}
	if _, err := os.Stat(svgPath); err != nil {
		t.Errorf("no plot of what was read: %v", err)
	}
	// The JSON names the damage too.
	code, out, _ = runCLI(t, nil, "-r", path, "-port", "7777", "-json")
	var m struct{ Capture struct{ Error string } }
	if code != 1 || json.Unmarshal([]byte(out), &m) != nil || m.Capture.Error == "" {
		t.Errorf("json: exit %d, capture error %q", code, m.Capture.Error)
	}
}

// TestCLIEveryPrefix feeds every prefix of a capture: one that ends where a
// record ends is a whole capture (exit 0), one shorter than the file header
// is not a capture (exit 1, nothing on stdout), any other is damaged (exit
// 1, the report and a warning). None panics.
func TestCLIEveryPrefix(t *testing.T) {
	data, err := os.ReadFile(writeCapture(t, "run.pcap", cliRecords))
	if err != nil {
		t.Fatal(err)
	}
	whole := map[int]bool{24: true} // the pcap file header, then each record: 16-byte header and data
	for at := 24; at+16 <= len(data); {
		at += 16 + int(binary.LittleEndian.Uint32(data[at+8:]))
		whole[at] = true
	}
	svgPath := filepath.Join(t.TempDir(), "p.svg")
	for n := range len(data) + 1 {
		code, out, errs := runCLI(t, data[:n], "-r", "-", "-port", "7777", "-plot", svgPath)
		var ok bool
		switch {
		case whole[n]:
			ok = code == 0 && errs == "" && out != ""
		case n < 24:
			ok = code == 1 && out == "" && strings.Contains(errs, "not a capture")
		default:
			ok = code == 1 && out != "" && strings.Contains(errs, "warning: stdin is damaged")
		}
		if !ok {
			t.Errorf("%d of %d bytes: exit %d, stdout %d bytes, stderr %q", n, len(data), code, len(out), errs)
		}
	}
	if !whole[len(data)] {
		t.Errorf("the records do not end at the end of the file")
	}
}

func TestCLIPlotUnwritable(t *testing.T) {
	path := writeCapture(t, "run.pcap", cliRecords)
	code, out, errs := runCLI(t, nil, "-r", path, "-port", "7777", "-plot", filepath.Join(t.TempDir(), "no", "such", "dir.svg"))
	if code != 1 || !strings.Contains(errs, "writing the plot") || !strings.Contains(out, "Overflow") {
		t.Errorf("exit %d, stderr %q, stdout %d bytes", code, errs, len(out))
	}
}
