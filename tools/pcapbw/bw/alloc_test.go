package bw

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/flotilla/flotilla/netcode"
)

// mixed is a record of every link kind and outcome the decoder knows,
// except IPv6 hop-by-hop headers (gopacket allocates their options).
func mixed(t testing.TB) []struct {
	lt layers.LinkType
	r  rec
} {
	ip4 := ipUDP(t, client1, server, fl(netcode.TypeUnreliable, 200))
	ip6 := ipUDP(t, server6, client6, fl(netcode.TypeReliable, 300))
	routed := ipv6With(t, client6.Addr(), server6.Addr(), layers.IPProtocolIPv6Routing,
		slices.Concat([]byte{60, 0, 0, 0, 0, 0, 0, 0}, ext(layers.IPProtocolUDP), udpBytes(client6.Port(), server6.Port(), keepalive)))
	cut := ethUDP(t, client1, server, fl(netcode.TypeReliable, 500), false)
	withOptions := ipUDP(t, client2, server, keepalive)
	withOptions = slices.Concat([]byte{0x46}, withOptions[1:20], []byte{1, 1, 1, 0}, withOptions[20:])
	binary.BigEndian.PutUint16(withOptions[2:], uint16(len(withOptions)))
	return []struct {
		lt layers.LinkType
		r  rec
	}{
		{layers.LinkTypeEthernet, rec{data: ethUDP(t, client1, server, fl(netcode.TypeUnreliable, 100), false)}},
		{layers.LinkTypeEthernet, rec{data: ethUDP(t, server, client1, fl(netcode.TypeUnreliable, 120), true)}},
		{layers.LinkTypeEthernet, rec{data: ethUDP(t, client2, server, []byte("not flotilla"), false)}},
		{layers.LinkTypeEthernet, rec{data: cut[:45], orig: len(cut)}},
		{layers.LinkTypeEthernet, rec{data: cut[:30], orig: len(cut)}},
		{layers.LinkTypeEthernet, rec{data: ethTCP(t, client1, server, []byte("x"))}},
		{layers.LinkTypeEthernet, rec{data: ethARP(t)}},
		{layers.LinkTypeEthernet, rec{data: ethFragment(t, client1, server, keepalive)}},
		{layers.LinkTypeEthernet, rec{data: ethUDP(t, dns, client1, keepalive, false)}},
		{layers.LinkTypeLinuxSLL, rec{data: slices.Concat(sllHead(layers.EthernetTypeIPv4), ip4)}},
		{layers.LinkTypeLinuxSLL2, rec{data: slices.Concat(sll2Head(layers.EthernetTypeIPv6), ip6)}},
		{layers.LinkTypeNull, rec{data: slices.Concat(family(30, binary.LittleEndian), ip6)}},
		{layers.LinkTypeLoop, rec{data: slices.Concat(family(2, binary.BigEndian), ip4)}},
		{layers.LinkTypeRaw, rec{data: routed}},
		{layers.LinkTypeRaw, rec{data: withOptions}},
		{layers.LinkTypeIPv4, rec{data: ip4[:10], orig: len(ip4)}},
		{147, rec{data: ip4}},
	}
}

// TestRecordDoesNotAllocate counts records of flows, sizes and seconds that
// exist already: no allocation.
func TestRecordDoesNotAllocate(t *testing.T) {
	recs := mixed(t)
	a := newAnalyzer([]uint16{7777}, DefaultMaxFlows, DefaultMaxSeconds)
	pass := func() {
		for i, m := range recs {
			ci := m.r.ci()
			ci.Timestamp = at(i * 100) // seconds 0 and 1
			a.links.add(m.lt)
			a.record(linkKindOf(m.lt), m.r.data, ci)
		}
	}
	pass()
	if got := testing.AllocsPerRun(50, pass); got != 0 {
		t.Errorf("%.1f allocations per pass of %d records, want 0", got, len(recs))
	}
	if a.skipped.Malformed != 0 {
		t.Errorf("a mixed record is malformed: %+v", a.skipped)
	}
	if a.dirs[In].counts.Packets == 0 || a.dirs[Out].counts.Packets == 0 || len(a.flows) != 5 {
		t.Errorf("in %+v, out %+v, %d flows", a.dirs[In].counts, a.dirs[Out].counts, len(a.flows))
	}
}

// TestAnalyzeAllocationsDoNotGrow analyzes a capture and the same capture
// with every record twice: the allocations are the same, so the loop over
// records allocates nothing once flows exist.
func TestAnalyzeAllocationsDoNotGrow(t *testing.T) {
	var once, twice []rec
	for i, m := range mixed(t) {
		if m.lt != layers.LinkTypeEthernet {
			continue
		}
		m.r.ts = at(i * 300)
		once = append(once, m.r)
		twice = append(twice, m.r, m.r)
	}
	ng := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL}
	sll := rec{data: slices.Concat(sllHead(layers.EthernetTypeIPv4), ipUDP(t, client1, server, keepalive)), iface: 1, ts: at(50)}
	for _, tt := range []struct {
		name        string
		once, twice []byte
	}{
		{"pcap", pcapFile(t, layers.LinkTypeEthernet, false, once...), pcapFile(t, layers.LinkTypeEthernet, false, twice...)},
		{"pcapng", pcapngFile(t, ng, append(once, sll)...), pcapngFile(t, ng, append(twice, sll, sll)...)},
	} {
		allocs := func(capture []byte) float64 {
			return testing.AllocsPerRun(20, func() {
				if _, err := Analyze(bytes.NewReader(capture), Options{Ports: []uint16{7777}}); err != nil {
					t.Fatal(err)
				}
			})
		}
		a1, a2 := allocs(tt.once), allocs(tt.twice)
		if a2 != a1 {
			t.Errorf("%s: %.0f allocations for %d records, %.0f for twice as many", tt.name, a1, len(once), a2)
		}
		t.Logf("%s: %.0f allocations per Analyze, for %d or %d records", tt.name, a1, len(once), 2*len(once))
	}
}
