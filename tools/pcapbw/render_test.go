package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/tools/pcapbw/bw"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)

// sampleReport is a hand-built report of two clients of one server over
// ten seconds. Its numbers add up the way Analyze's do.
func sampleReport() *bw.Report {
	server := netip.MustParseAddrPort("10.0.0.1:7777")
	a := netip.MustParseAddrPort("10.0.0.2:50000")
	v6 := netip.MustParseAddrPort("[2001:db8::5]:40000")
	return &bw.Report{
		Capture: bw.Capture{Format: "pcapng", LinkTypes: []string{"Ethernet"}, Records: 1010,
			First: t0, Origin: t0, Last: t0.Add(10 * time.Second)},
		Ports:   []uint16{7777},
		Total:   bw.Counts{Packets: 1000, UDPPayloadBytes: 123456789012, FrameBytes: 123456831012},
		In:      bw.Counts{Packets: 400, UDPPayloadBytes: 20000, FrameBytes: 36800},
		Out:     bw.Counts{Packets: 600, UDPPayloadBytes: 123456769012, FrameBytes: 123456794212},
		SizeIn:  bw.Sizes{P50: 48, P99: 1200, Max: 1200},
		SizeOut: bw.Sizes{P50: 900, P99: 1190, Max: 1200},
		ByTypeIn: []bw.TypeCounts{
			{Type: "request", Counts: bw.Counts{Packets: 10, UDPPayloadBytes: 12000, FrameBytes: 12420}},
			{Type: "keepalive", Counts: bw.Counts{Packets: 390, UDPPayloadBytes: 8000, FrameBytes: 24380}},
		},
		ByTypeOut: []bw.TypeCounts{
			{Type: "unreliable", Counts: bw.Counts{Packets: 600, UDPPayloadBytes: 123456769012, FrameBytes: 123456794212}},
		},
		SeriesIn:  make([]bw.Counts, 10),
		SeriesOut: make([]bw.Counts, 10),
		Clients: []bw.Flow{
			{Server: server, Client: a, Direction: bw.In, Counts: bw.Counts{Packets: 300, UDPPayloadBytes: 15000, FrameBytes: 27600},
				Size: bw.Sizes{P50: 48, P99: 1200, Max: 1200}, First: t0, Last: t0.Add(5 * time.Second),
				ByType: []bw.TypeCounts{
					{Type: "request", Counts: bw.Counts{Packets: 5, UDPPayloadBytes: 6000, FrameBytes: 6210}},
					{Type: "keepalive", Counts: bw.Counts{Packets: 295, UDPPayloadBytes: 9000, FrameBytes: 21390}},
				},
				Series: []bw.Second{{T: 0, Counts: bw.Counts{Packets: 300, UDPPayloadBytes: 15000, FrameBytes: 27600}}}},
			{Server: server, Client: a, Direction: bw.Out, Counts: bw.Counts{Packets: 600, UDPPayloadBytes: 123456769012, FrameBytes: 123456794212},
				Size: bw.Sizes{P50: 900, P99: 1190, Max: 1200}, First: t0.Add(time.Second), Last: t0.Add(9 * time.Second),
				ByType: []bw.TypeCounts{{Type: "unreliable", Counts: bw.Counts{Packets: 600, UDPPayloadBytes: 123456769012, FrameBytes: 123456794212}}}},
			{Server: server, Client: v6, Direction: bw.In, Counts: bw.Counts{Packets: 100, UDPPayloadBytes: 5000, FrameBytes: 9200},
				Size: bw.Sizes{P50: 50, P99: 50, Max: 50}, First: t0.Add(2 * time.Second), Last: t0.Add(2 * time.Second),
				ByType: []bw.TypeCounts{
					{Type: bw.TypeCut, Counts: bw.Counts{Packets: 1, UDPPayloadBytes: 50, FrameBytes: 92}},
					{Type: bw.TypeNonFlotilla, Counts: bw.Counts{Packets: 99, UDPPayloadBytes: 4950, FrameBytes: 9108}},
				}},
		},
		Skipped:  bw.Skipped{NotUDP: 7, Fragment: 3},
		Overflow: 42,
	}
}

// row returns the whitespace-separated fields of the first line of s whose
// fields start with lead.
func row(t *testing.T, s string, lead ...string) []string {
	t.Helper()
	for l := range strings.Lines(s) {
		if f := strings.Fields(l); len(f) >= len(lead) && slices.Equal(f[:len(lead)], lead) {
			return f
		}
	}
	t.Fatalf("no line starting %q in\n%s", lead, s)
	return nil
}

func TestTextReport(t *testing.T) {
	var b bytes.Buffer
	if err := writeText(&b, sampleReport(), "run.pcapng"); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	sizes := s[strings.Index(s, "UDP payload size"):]
	for _, c := range []struct {
		lead, want []string
	}{
		{[]string{"capture"}, []string{"run.pcapng"}},
		{[]string{"format"}, []string{"pcapng,", "link", "types:", "Ethernet"}},
		{[]string{"records"}, []string{"1010"}},
		{[]string{"time"}, []string{"2025-03-04T05:06:07.123456789Z", "to", "2025-03-04T05:06:17.123456789Z"}},
		{[]string{"duration"}, []string{"10s"}},
		{[]string{"ports"}, []string{"7777"}},
		{[]string{"in", "(client", "to", "server)"}, []string{"400", "20000", "36800", "2000.0", "3680.0"}},
		{[]string{"out", "(server", "to", "client)"}, []string{"600", "123456769012", "123456794212", "12345676901.2", "12345679421.2"}},
		{[]string{"total"}, []string{"1000", "123456789012", "123456831012", "12345678901.2", "12345683101.2"}},
		{[]string{"request"}, []string{"10", "12000", "12420", "60.00%"}},
		{[]string{"keepalive"}, []string{"390", "8000", "24380", "40.00%"}},
		{[]string{"unreliable"}, []string{"600", "123456769012", "123456794212", "100.00%"}},
		{[]string{"10.0.0.1:7777", "10.0.0.2:50000", "in"}, []string{"300", "15000", "27600", "48", "1200", "5s", "3000.0"}},
		{[]string{"10.0.0.1:7777", "10.0.0.2:50000", "out"}, []string{"600", "123456769012", "123456794212", "900", "1190", "8s", "15432096126.5"}},
		{[]string{"10.0.0.1:7777", "[2001:db8::5]:40000", "in"}, []string{"100", "5000", "9200", "50", "50", "0s", "-"}},
		{[]string{"not_udp"}, []string{"7"}},
		{[]string{"fragment"}, []string{"3"}},
		{[]string{"Overflow:"}, []string{"42", "packets"}},
	} {
		if got := row(t, s, c.lead...)[len(c.lead):]; !slices.Equal(got[:min(len(got), len(c.want))], c.want) {
			t.Errorf("line %q: %q, want %q", c.lead, got, c.want)
		}
	}
	if in, out := row(t, sizes, "in"), row(t, sizes, "out"); !slices.Equal(in, []string{"in", "48", "1200", "1200"}) ||
		!slices.Equal(out, []string{"out", "900", "1190", "1200"}) {
		t.Errorf("sizes %q %q", in, out)
	}
	for _, unwanted := range []string{"other_port", "not_ip", "malformed", "unknown_link", "damaged"} {
		if strings.Contains(s, unwanted) {
			t.Errorf("report mentions %q:\n%s", unwanted, s)
		}
	}
	if !strings.Contains(s, "each flow's own span") || !strings.Contains(s, "over the capture's span (10s)") {
		t.Errorf("rate spans not named:\n%s", s)
	}
	// The columns line up: the header's "packets" ends where the counts end.
	var head, in string
	for l := range strings.Lines(s) {
		if head == "" && strings.Contains(l, "packets  UDP payload bytes") {
			head = l
		}
		if in == "" && strings.HasPrefix(l, "in (client") {
			in = l
		}
	}
	if end := strings.Index(head, "packets") + len("packets"); end != strings.Index(in, "400")+len("400") {
		t.Errorf("columns do not line up:\n%s%s", head, in)
	}
}

func TestTextReportEmptyAndDamaged(t *testing.T) {
	r := &bw.Report{Capture: bw.Capture{Format: "pcap", Error: "unexpected EOF in record 3"}, Ports: []uint16{7777, 7778}}
	var b bytes.Buffer
	if err := writeText(&b, r, "cut.pcap"); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{"none (no records)", "7777, 7778", "unexpected EOF in record 3", "link types: none"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
	if f := row(t, s, "total"); !slices.Equal(f[1:], []string{"0", "0", "0", "-", "-"}) {
		t.Errorf("rates over a zero span: %q", f)
	}
	if !strings.Contains(s, "\nSkipped records (not UDP traffic of a server port, in no count above)\nnone\n") {
		t.Errorf("skipped without reasons:\n%s", s)
	}
}

func TestJSONKeys(t *testing.T) {
	r := sampleReport()
	r.Capture.Error = "damaged block"
	var b bytes.Buffer
	if err := writeJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatalf("%v in %s", err, b.String())
	}
	total := m["total"].(map[string]any)
	if total["packets"] != 1000.0 || total["udp_payload_bytes"] != 123456789012.0 || total["frame_bytes"] != 123456831012.0 {
		t.Errorf("total %v", total)
	}
	clients := m["clients"].([]any)
	if len(clients) != 3 {
		t.Fatalf("%d clients", len(clients))
	}
	for i, c := range clients {
		f := c.(map[string]any)
		want := r.Clients[i]
		if f["packets"] != float64(want.Packets) || f["udp_payload_bytes"] != float64(want.UDPPayloadBytes) ||
			f["frame_bytes"] != float64(want.FrameBytes) || f["server"] != want.Server.String() ||
			f["client"] != want.Client.String() || f["direction"] != want.Direction.String() {
			t.Errorf("clients[%d] = %v", i, f)
		}
		// The library left Series nil for some flows: the output says [].
		if s, ok := f["series"].([]any); !ok || (i == 0) != (len(s) == 1) {
			t.Errorf("clients[%d].series = %#v", i, f["series"])
		}
	}
	if m["capture"].(map[string]any)["error"] != "damaged block" || m["overflow"] != 42.0 {
		t.Errorf("capture %v overflow %v", m["capture"], m["overflow"])
	}
	if !strings.HasPrefix(b.String(), "{\n  \"capture\"") || strings.Count(b.String(), "\n}\n") != 1 {
		t.Errorf("not one indented object:\n%.200s", b.String())
	}
}

func TestJSONNilSlices(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSON(&b, &bw.Report{Clients: []bw.Flow{{}}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "null") {
		t.Errorf("null in\n%s", b.String())
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ports", "by_type_in", "by_type_out", "series_in", "series_out", "clients"} {
		if _, ok := m[k].([]any); !ok {
			t.Errorf("%s = %#v", k, m[k])
		}
	}
	if b.Reset(); writeJSON(&b, &bw.Report{}) != nil || !strings.Contains(b.String(), `"clients": []`) {
		t.Errorf("no clients:\n%s", b.String())
	}
}

func TestCSV(t *testing.T) {
	r := sampleReport()
	var b bytes.Buffer
	if err := writeCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(r.Clients) {
		t.Fatalf("%d rows", len(rows))
	}
	head := strings.Join(rows[0], ",")
	want := "server,client,direction,packets,udp_payload_bytes,frame_bytes,size_p50,size_p99,size_max,first,last," +
		"pkts_request,pkts_challenge,pkts_response,pkts_accept,pkts_disconnect,pkts_reliable,pkts_unreliable,pkts_keepalive,pkts_cut,pkts_non-flotilla"
	if head != want {
		t.Errorf("header\n%s\nwant\n%s", head, want)
	}
	col := func(row []string, name string) string { return row[slices.Index(rows[0], name)] }
	in, out, v6 := rows[1], rows[2], rows[3]
	if col(in, "server") != "10.0.0.1:7777" || col(in, "client") != "10.0.0.2:50000" || col(in, "direction") != "in" ||
		col(in, "packets") != "300" || col(in, "udp_payload_bytes") != "15000" || col(in, "frame_bytes") != "27600" ||
		col(in, "size_p50") != "48" || col(in, "size_p99") != "1200" || col(in, "size_max") != "1200" ||
		col(in, "first") != "2025-03-04T05:06:07.123456789Z" || col(in, "last") != "2025-03-04T05:06:12.123456789Z" ||
		col(in, "pkts_request") != "5" || col(in, "pkts_keepalive") != "295" || col(in, "pkts_unreliable") != "0" {
		t.Errorf("in row %v", in)
	}
	if col(out, "direction") != "out" || col(out, "udp_payload_bytes") != "123456769012" || col(out, "pkts_unreliable") != "600" {
		t.Errorf("out row %v", out)
	}
	if col(v6, "client") != "[2001:db8::5]:40000" || col(v6, "pkts_cut") != "1" || col(v6, "pkts_non-flotilla") != "99" {
		t.Errorf("v6 row %v", v6)
	}
	// Times are written in UTC whatever the report's location.
	r.Clients = r.Clients[:1]
	r.Clients[0].First = r.Clients[0].First.In(time.FixedZone("X", 3600))
	b.Reset()
	if err := writeCSV(&b, r); err != nil || !strings.Contains(b.String(), ",2025-03-04T05:06:07.123456789Z,") {
		t.Errorf("zone: %v\n%s", err, b.String())
	}
}

// TestCSVTypesAreNetcodes keeps the pkts_ columns in step with netcode's
// packet types.
func TestCSVTypesAreNetcodes(t *testing.T) {
	var want []string
	for _, tp := range []netcode.Type{netcode.TypeRequest, netcode.TypeChallenge, netcode.TypeResponse, netcode.TypeAccept,
		netcode.TypeDisconnect, netcode.TypeReliable, netcode.TypeUnreliable, netcode.TypeKeepalive} {
		want = append(want, tp.String())
	}
	want = append(want, bw.TypeCut, bw.TypeNonFlotilla)
	if !slices.Equal(csvTypes, want) {
		t.Errorf("csvTypes %v, want %v", csvTypes, want)
	}
	if got := netcode.Type(netcode.TypeKeepalive + 1).String(); got != "invalid" {
		t.Errorf("netcode has a type after keepalive (%q): add a pkts_ column", got)
	}
}
