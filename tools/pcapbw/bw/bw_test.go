package bw

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/flotilla/flotilla/netcode"
)

// session is a short Ethernet session between server and two clients with
// a record of every kind: its records and, for each, the frame length.
func session(t testing.TB) []rec {
	reliable := ethUDP(t, client1, server, fl(netcode.TypeReliable, 500), false)
	cutVersion := fl(netcode.TypeUnreliable, 20)
	cutVersion[2] = 2 // a version this tool does not know
	return []rec{
		{ts: at(100), data: ethUDP(t, client1, server, fl(netcode.TypeRequest, 1200), false)},    // 0: in, second 0
		{ts: at(200), data: ethUDP(t, server, client1, fl(netcode.TypeChallenge, 36), false)},    // 1: out, second 0
		{ts: at(300), data: ethUDP(t, client1, server, fl(netcode.TypeResponse, 36), false)},     // 2: in, second 0
		{ts: at(400), data: ethUDP(t, server, client1, fl(netcode.TypeAccept, 24), false)},       // 3: out, second 0
		{ts: at(1500), data: ethUDP(t, client1, server, fl(netcode.TypeUnreliable, 100), false)}, // 4: in, second 1
		{ts: at(1600), data: ethUDP(t, server, client1, fl(netcode.TypeUnreliable, 300), false)}, // 5: out, second 1
		{ts: at(2100), data: ethUDP(t, client2, server, fl(netcode.TypeKeepalive, 14), true)},    // 6: in, exactly second 2, VLAN
		{ts: at(2200), data: ethUDP(t, client2, server, []byte("hello"), false)},                 // 7: in, non-flotilla
		{ts: at(2300), data: ethTCP(t, client1, server, []byte("tcp"))},                          // 8: not UDP
		{ts: at(2400), data: ethUDP(t, dns, client1, []byte("dns"), false)},                      // 9: other port
		{ts: at(2500), data: ethARP(t)}, // 10: not IP
		{ts: at(2600), data: ethFragment(t, client1, server, fl(netcode.TypeReliable, 100))}, // 11: fragment
		{ts: at(3050), data: reliable[:14+20+8+2], orig: len(reliable)},                      // 12: cut before the type byte
		{ts: at(3200), data: reliable[:14+20+4], orig: len(reliable)},                        // 13: cut in the UDP header
		{ts: at(3300), data: ethUDP(t, server, client2, cutVersion, false)},                  // 14: out, non-flotilla, second 3
	}
}

// sessionReport is what session adds up to, with the server on port 7777.
func sessionReport(recs []rec, format string) *Report {
	f := func(i int) int { return recs[i].ci().Length }
	in := c(6, 1200+36+100+14+5+500, f(0)+f(2)+f(4)+f(6)+f(7)+f(12))
	out := c(4, 36+24+300+20, f(1)+f(3)+f(5)+f(14))
	total := in
	total.Merge(out)
	return &Report{
		Capture: Capture{Format: format, LinkTypes: []string{"Ethernet"}, Records: 15, First: at(100), Origin: at(100), Last: at(3300)},
		Ports:   []uint16{7777},
		Total:   total,
		In:      in,
		Out:     out,
		SizeIn:  Sizes{P50: 36, P99: 1200, Max: 1200}, // 5 14 36 100 500 1200
		SizeOut: Sizes{P50: 24, P99: 300, Max: 300},   // 20 24 36 300
		ByTypeIn: []TypeCounts{
			tc("request", 1, 1200, f(0)), tc("response", 1, 36, f(2)), tc("unreliable", 1, 100, f(4)),
			tc("keepalive", 1, 14, f(6)), tc(TypeCut, 1, 500, f(12)), tc(TypeNonFlotilla, 1, 5, f(7)),
		},
		ByTypeOut: []TypeCounts{
			tc("challenge", 1, 36, f(1)), tc("accept", 1, 24, f(3)), tc("unreliable", 1, 300, f(5)),
			tc(TypeNonFlotilla, 1, 20, f(14)),
		},
		SeriesIn:  []Counts{c(2, 1236, f(0)+f(2)), c(1, 100, f(4)), c(3, 519, f(6)+f(7)+f(12)), {}},
		SeriesOut: []Counts{c(2, 60, f(1)+f(3)), c(1, 300, f(5)), {}, c(1, 20, f(14))},
		Mesh:      []Flow{},
		Clients: []Flow{
			{
				Server: server, Client: client1, Direction: In,
				Counts: c(4, 1836, f(0)+f(2)+f(4)+f(12)),
				Size:   Sizes{P50: 100, P99: 1200, Max: 1200},
				First:  at(100), Last: at(3050),
				ByType: []TypeCounts{tc("request", 1, 1200, f(0)), tc("response", 1, 36, f(2)), tc("unreliable", 1, 100, f(4)), tc(TypeCut, 1, 500, f(12))},
				Series: []Second{{0, c(2, 1236, f(0)+f(2))}, {1, c(1, 100, f(4))}, {2, c(1, 500, f(12))}},
			},
			{
				Server: server, Client: client1, Direction: Out,
				Counts: c(3, 360, f(1)+f(3)+f(5)),
				Size:   Sizes{P50: 36, P99: 300, Max: 300},
				First:  at(200), Last: at(1600),
				ByType: []TypeCounts{tc("challenge", 1, 36, f(1)), tc("accept", 1, 24, f(3)), tc("unreliable", 1, 300, f(5))},
				Series: []Second{{0, c(2, 60, f(1)+f(3))}, {1, c(1, 300, f(5))}},
			},
			{
				Server: server, Client: client2, Direction: In,
				Counts: c(2, 19, f(6)+f(7)),
				Size:   Sizes{P50: 5, P99: 14, Max: 14},
				First:  at(2100), Last: at(2200),
				ByType: []TypeCounts{tc("keepalive", 1, 14, f(6)), tc(TypeNonFlotilla, 1, 5, f(7))},
				Series: []Second{{2, c(2, 19, f(6)+f(7))}},
			},
			{
				Server: server, Client: client2, Direction: Out,
				Counts: c(1, 20, f(14)),
				Size:   Sizes{P50: 20, P99: 20, Max: 20},
				First:  at(3300), Last: at(3300),
				ByType: []TypeCounts{tc(TypeNonFlotilla, 1, 20, f(14))},
				Series: []Second{{3, c(1, 20, f(14))}},
			},
		},
		Skipped: Skipped{OtherPort: 1, NotUDP: 1, NotIP: 1, Fragment: 1, Truncated: 1},
	}
}

func TestSessionPcap(t *testing.T) {
	recs := session(t)
	if got := recs[7].ci().Length; got != 60 {
		t.Fatalf("a short Ethernet frame is %d bytes, want it padded to 60", got)
	}
	for _, nanos := range []bool{false, true} {
		rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, nanos, recs...), Options{Ports: []uint16{7777}})
		sameJSON(t, "pcap", rep, sessionReport(recs, "pcap"))
	}
}

func TestSessionPcapBigEndian(t *testing.T) {
	recs := session(t)
	for _, nanos := range []bool{false, true} {
		rep := analyze(t, swapPcap(pcapFile(t, layers.LinkTypeEthernet, nanos, recs...)), Options{Ports: []uint16{7777}})
		sameJSON(t, "big-endian pcap", rep, sessionReport(recs, "pcap"))
	}
}

func TestSessionPcapng(t *testing.T) {
	recs := session(t)
	rep := analyze(t, pcapngFile(t, []layers.LinkType{layers.LinkTypeEthernet}, recs...), Options{Ports: []uint16{7777}})
	sameJSON(t, "pcapng", rep, sessionReport(recs, "pcapng"))
}

func TestNanosecondTimestamps(t *testing.T) {
	ts := t0.Add(123456789 * time.Nanosecond)
	data := ethUDP(t, client1, server, fl(netcode.TypeKeepalive, 14), false)
	rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, true, rec{ts: ts, data: data}), Options{Ports: []uint16{7777}})
	if !rep.Capture.First.Equal(ts) || !rep.Clients[0].Last.Equal(ts) {
		t.Errorf("first %v, flow last %v, want %v", rep.Capture.First, rep.Clients[0].Last, ts)
	}
}

// TestTwoInterfacePcapng reads a pcapng whose interfaces have different
// link types, with a record stamped before the first record.
func TestTwoInterfacePcapng(t *testing.T) {
	sll := append(sllHead(layers.EthernetTypeIPv4), ipUDP(t, server, client1, fl(netcode.TypeUnreliable, 40))...)
	eth := ethUDP(t, client1, server, fl(netcode.TypeUnreliable, 50), false)
	recs := []rec{
		{ts: at(1000), data: eth, iface: 0},
		{ts: at(900), data: sll, iface: 1}, // earlier than the first record: second 0
		{ts: at(2500), data: sll, iface: 1},
		{ts: at(2600), data: eth, iface: 0},
	}
	rep := analyze(t, pcapngFile(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL}, recs...), Options{Ports: []uint16{7777}})
	if want := []string{"Ethernet", "Linux SLL"}; !slices.Equal(rep.Capture.LinkTypes, want) {
		t.Errorf("link types %q, want %q", rep.Capture.LinkTypes, want)
	}
	if !rep.Capture.First.Equal(at(900)) || !rep.Capture.Last.Equal(at(2600)) {
		t.Errorf("capture from %v to %v, want %v to %v", rep.Capture.First, rep.Capture.Last, at(900), at(2600))
	}
	sameJSON(t, "in", rep.In, c(2, 100, 2*len(eth)))
	sameJSON(t, "out", rep.Out, c(2, 80, 2*len(sll)))
	// Seconds count from the first record (1.0 s): 0.9 s is second 0, 2.5 s
	// and 2.6 s are second 1.
	sameJSON(t, "series in", rep.SeriesIn, []Counts{c(1, 50, len(eth)), c(1, 50, len(eth))})
	sameJSON(t, "series out", rep.SeriesOut, []Counts{c(1, 40, len(sll)), c(1, 40, len(sll))})
	if len(rep.Clients) != 2 || rep.Clients[1].Direction != Out || !rep.Clients[1].First.Equal(at(900)) {
		t.Fatalf("clients %+v", rep.Clients)
	}
	sameJSON(t, "out flow series", rep.Clients[1].Series, []Second{{0, c(1, 40, len(sll))}, {1, c(1, 40, len(sll))}})
}

// TestOutOfOrderSeconds feeds a flow's seconds out of order: the sparse
// series stays sorted.
func TestOutOfOrderSeconds(t *testing.T) {
	d := ethUDP(t, client1, server, fl(netcode.TypeKeepalive, 14), false)
	n := len(d)
	recs := []rec{{ts: at(0), data: d}, {ts: at(5000), data: d}, {ts: at(2000), data: d}, {ts: at(2100), data: d}, {ts: at(5000), data: d}}
	rep := analyze(t, pcapngFile(t, []layers.LinkType{layers.LinkTypeEthernet}, recs...), Options{Ports: []uint16{7777}})
	sameJSON(t, "series", rep.Clients[0].Series, []Second{{0, c(1, 14, n)}, {2, c(2, 28, 2*n)}, {5, c(2, 28, 2*n)}})
	if len(rep.SeriesIn) != 6 || rep.SeriesIn[2].Packets != 2 {
		t.Errorf("dense series %+v", rep.SeriesIn)
	}
}

// TestSimplePacketBlock reads a pcapng record without a timestamp: second
// 0, and no change to the capture's time span.
func TestSimplePacketBlock(t *testing.T) {
	d := ethUDP(t, client1, server, fl(netcode.TypeKeepalive, 14), false)
	capture := pcapngFile(t, []layers.LinkType{layers.LinkTypeEthernet}, rec{ts: at(5000), data: d})
	capture = append(capture, simplePacketBlock(d)...)
	rep := analyze(t, capture, Options{Ports: []uint16{7777}})
	if rep.Capture.Error != "" || rep.Capture.Records != 2 || rep.Total.Packets != 2 {
		t.Fatalf("capture %+v, total %+v", rep.Capture, rep.Total)
	}
	if !rep.Capture.First.Equal(at(5000)) || !rep.Capture.Last.Equal(at(5000)) {
		t.Errorf("capture from %v to %v, want both %v", rep.Capture.First, rep.Capture.Last, at(5000))
	}
	sameJSON(t, "series", rep.SeriesIn, []Counts{c(2, 28, 2*len(d))})
}

// TestTimestampOutOfRange reads a pcapng interface whose offset puts its
// records after the year 9999: they have no timestamp, and the report
// still marshals.
func TestTimestampOutOfRange(t *testing.T) {
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&b, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, TimestampOffset: 1 << 40}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	d := ethUDP(t, client1, server, keepalive, false)
	for _, ms := range []int{0, 3000} {
		if err := w.WritePacket(rec{ts: at(ms), data: d}.ci(), d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rep := analyze(t, b.Bytes(), Options{Ports: []uint16{7777}})
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Capture.First.IsZero() || !rep.Clients[0].Last.IsZero() || len(rep.SeriesIn) != 1 || rep.SeriesIn[0].Packets != 2 {
		t.Errorf("capture %+v, flow %+v, series %+v", rep.Capture, rep.Clients[0], rep.SeriesIn)
	}
}

func TestOptionsErrors(t *testing.T) {
	capture := pcapFile(t, layers.LinkTypeEthernet, false)
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{Options{}, "bw: invalid options: no server port"},
		{Options{Ports: []uint16{7777, 0}}, "bw: invalid options: port 0 cannot be a server port"},
		{Options{Ports: []uint16{7777, 40000, 7777}}, "bw: invalid options: port 7777 given twice"},
		{Options{Ports: []uint16{7777}, MaxFlows: -1}, "bw: invalid options: MaxFlows -1 is negative"},
		{Options{Ports: []uint16{7777}, MaxSeconds: -5}, "bw: invalid options: MaxSeconds -5 is negative"},
	} {
		rep, err := Analyze(bytes.NewReader(capture), tt.o)
		if rep != nil || !errors.Is(err, ErrOptions) || err.Error() != tt.want {
			t.Errorf("%+v: report %v, error %v, want %q", tt.o, rep != nil, err, tt.want)
		}
	}
}

func TestPortsSorted(t *testing.T) {
	rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false), Options{Ports: []uint16{9000, 7777, 8000}})
	if !slices.Equal(rep.Ports, []uint16{7777, 8000, 9000}) {
		t.Errorf("ports %v", rep.Ports)
	}
}

// TestEmptyCaptureJSON pins the JSON of a capture without records: lists
// are [], never null.
func TestEmptyCaptureJSON(t *testing.T) {
	rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false), Options{Ports: []uint16{7777}})
	got, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"capture":{"format":"pcap","link_types":[],"records":0,"first":"0001-01-01T00:00:00Z","origin":"0001-01-01T00:00:00Z","last":"0001-01-01T00:00:00Z"},` +
		`"ports":[7777],"total":{"packets":0,"udp_payload_bytes":0,"frame_bytes":0},` +
		`"in":{"packets":0,"udp_payload_bytes":0,"frame_bytes":0},"out":{"packets":0,"udp_payload_bytes":0,"frame_bytes":0},` +
		`"size_in":{"p50":0,"p99":0,"max":0},"size_out":{"p50":0,"p99":0,"max":0},` +
		`"by_type_in":[],"by_type_out":[],"series_in":[],"series_out":[],"clients":[],` +
		`"mesh":[],"mesh_in":{"packets":0,"udp_payload_bytes":0,"frame_bytes":0},"mesh_out":{"packets":0,"udp_payload_bytes":0,"frame_bytes":0},` +
		`"skipped":{"other_port":0,"not_udp":0,"not_ip":0,"fragment":0,"malformed":0,"truncated":0,"unknown_link":0},"overflow":0}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestFlowJSON pins one flow's JSON: addresses as text, direction as a word.
func TestFlowJSON(t *testing.T) {
	d := ethUDP(t, server6, client6, fl(netcode.TypeKeepalive, 14), false)
	rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false, rec{ts: at(0), data: d}), Options{Ports: []uint16{7777}})
	got, err := json.Marshal(rep.Clients)
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"server":"[2001:db8::1]:7777","client":"[2001:db8::2]:6000","direction":"out",` +
		`"packets":1,"udp_payload_bytes":14,"frame_bytes":76,"size":{"p50":14,"p99":14,"max":14},` +
		`"first":"2025-03-01T12:00:00Z","last":"2025-03-01T12:00:00Z",` +
		`"by_type":[{"type":"keepalive","packets":1,"udp_payload_bytes":14,"frame_bytes":76}],` +
		`"series":[{"t":0,"packets":1,"udp_payload_bytes":14,"frame_bytes":76}]}]`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestNetcodeTypes checks that netcode's types are still 1..8: a ninth
// would need its own entry in the by-type counts.
func TestNetcodeTypes(t *testing.T) {
	if got := netcode.Type(netcode.TypeKeepalive + 1).String(); got != "invalid" {
		t.Errorf("netcode has a type after keepalive (%q): count it", got)
	}
	for k := range numNetcodeTypes {
		if kindNames[k] == "invalid" {
			t.Errorf("kind %d has no name", k)
		}
	}
}

func TestKindOf(t *testing.T) {
	wrongProtocol := fl(netcode.TypeKeepalive, 14)
	wrongProtocol[0] = 0
	for _, tt := range []struct {
		name    string
		payload []byte
		size    int
		want    string
	}{
		{"keepalive", fl(netcode.TypeKeepalive, 14), 14, "keepalive"},
		{"header only", fl(netcode.TypeReliable, 8), 8, "reliable"},
		{"cut after the type byte", fl(netcode.TypeAccept, 24)[:4], 24, "accept"},
		{"cut before the type byte", fl(netcode.TypeAccept, 24)[:3], 24, TypeCut},
		{"cut to nothing", nil, 24, TypeCut},
		{"shorter than a header", fl(netcode.TypeAccept, 24)[:7], 7, TypeNonFlotilla},
		{"short and cut", nil, 7, TypeNonFlotilla},
		{"protocol id", wrongProtocol, 14, TypeNonFlotilla},
		{"type 0", fl(0, 14), 14, TypeNonFlotilla},
		{"type 9", fl(9, 14), 14, TypeNonFlotilla},
		{"version 0", func() []byte { b := fl(netcode.TypeKeepalive, 14); b[2] = 0; return b }(), 14, TypeNonFlotilla},
	} {
		if got := kindNames[kindOf(tt.payload, tt.size)]; got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSizeQuantiles(t *testing.T) {
	for _, tt := range []struct {
		sizes []int
		want  Sizes
	}{
		{nil, Sizes{}},
		{[]int{42}, Sizes{42, 42, 42}},
		{[]int{10, 20}, Sizes{10, 20, 20}},
		{[]int{30, 10, 20}, Sizes{20, 30, 30}},
		{seq(1, 100), Sizes{50, 99, 100}},
		{seq(1, 101), Sizes{51, 100, 101}},
		{seq(1, 200), Sizes{100, 198, 200}},
		{append(seq(1, 99), 65527), Sizes{50, 99, 65527}},
		{[]int{0, 0, 0, 7}, Sizes{0, 7, 7}},
	} {
		var h sizeHist
		for _, s := range tt.sizes {
			h.add(s)
		}
		if got := h.summary(); got != tt.want {
			t.Errorf("%d sizes: %+v, want %+v", len(tt.sizes), got, tt.want)
		}
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}
