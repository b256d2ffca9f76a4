package bw

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// TestMaxFlows keeps one flow of session's four: the other flows' packets
// are in the totals and the series but in no flow, and in Overflow.
func TestMaxFlows(t *testing.T) {
	recs := session(t)
	full := sessionReport(recs, "pcap")
	rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false, recs...), Options{Ports: []uint16{7777}, MaxFlows: 1})
	if len(rep.Clients) != 1 {
		t.Fatalf("%d clients, want 1", len(rep.Clients))
	}
	sameJSON(t, "kept flow", rep.Clients[0], full.Clients[0]) // client1 in, the first seen
	if rep.Overflow != 6 {
		t.Errorf("overflow %d, want 6", rep.Overflow)
	}
	rep.Clients, rep.Overflow = full.Clients, 0
	sameJSON(t, "the rest", rep, full)
}

// TestMaxSeconds keeps two seconds of session's four.
func TestMaxSeconds(t *testing.T) {
	recs := session(t)
	full := sessionReport(recs, "pcap")
	rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false, recs...), Options{Ports: []uint16{7777}, MaxSeconds: 2})
	if rep.Overflow != 4 { // records 6, 7 and 12 (in) and 14 (out)
		t.Errorf("overflow %d, want 4", rep.Overflow)
	}
	sameJSON(t, "series in", rep.SeriesIn, full.SeriesIn[:2])
	sameJSON(t, "series out", rep.SeriesOut, full.SeriesOut[:2])
	for i := range full.Clients {
		f := &full.Clients[i]
		for len(f.Series) > 0 && f.Series[len(f.Series)-1].T >= 2 {
			f.Series = f.Series[:len(f.Series)-1]
		}
		if f.Series == nil {
			f.Series = []Second{}
		}
	}
	rep.SeriesIn, rep.SeriesOut, rep.Overflow = full.SeriesIn, full.SeriesOut, 0
	sameJSON(t, "the rest", rep, full)
}

// TestMaxFlowsAndSeconds counts a packet beyond both bounds once.
func TestMaxFlowsAndSeconds(t *testing.T) {
	recs := session(t)
	rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false, recs...), Options{Ports: []uint16{7777}, MaxFlows: 1, MaxSeconds: 2})
	// 6 packets have no flow, 4 are beyond second 1, and 3 of those (6, 7
	// and 14) are both.
	if rep.Overflow != 7 {
		t.Errorf("overflow %d, want 7", rep.Overflow)
	}
	if rep.Total.Packets != 10 || len(rep.Clients) != 1 || len(rep.SeriesIn) != 2 {
		t.Errorf("total %+v, %d clients, %d seconds", rep.Total, len(rep.Clients), len(rep.SeriesIn))
	}
}

// TestFarTimestamp puts a record a year after the first: beyond the
// default MaxSeconds, so the series stay short.
func TestFarTimestamp(t *testing.T) {
	d := ethUDP(t, client1, server, keepalive, false)
	rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false,
		rec{ts: at(0), data: d}, rec{ts: t0.Add(365 * 24 * time.Hour), data: d}),
		Options{Ports: []uint16{7777}})
	if len(rep.SeriesIn) != 1 || rep.Overflow != 1 || rep.Total.Packets != 2 || rep.Clients[0].Packets != 2 {
		t.Errorf("%d seconds, overflow %d, total %+v", len(rep.SeriesIn), rep.Overflow, rep.Total)
	}
}

// TestRecordsFarApart puts records 2.4·10⁹ s apart (more than 2³¹, and
// within pcap's 32-bit seconds): the second is computed in 64 bits and
// lands in overflow, also where int is 32 bits.
func TestRecordsFarApart(t *testing.T) {
	d := ethUDP(t, client1, server, keepalive, false)
	rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false,
		rec{ts: t0, data: d}, rec{ts: t0.Add(2_400_000_000 * time.Second), data: d}),
		Options{Ports: []uint16{7777}})
	if len(rep.SeriesIn) != 1 || rep.Overflow != 1 || rep.Total.Packets != 2 {
		t.Errorf("%d seconds, overflow %d, total %+v", len(rep.SeriesIn), rep.Overflow, rep.Total)
	}
}

// TestSeriesOutOfOrder gives one flow its seconds in reverse order, each
// second twice: the flow's series comes out ascending with one entry a
// second, the same as for the records in order.
func TestSeriesOutOfOrder(t *testing.T) {
	d := ethUDP(t, client1, server, keepalive, false)
	const seconds = 500
	var fwd, rev []rec
	for s := range seconds {
		for range 2 {
			fwd = append(fwd, rec{ts: at(s * 1000), data: d})
		}
	}
	// The first record fixes second 0; the rest come newest first.
	rev = append(rev, fwd[0])
	for i := len(fwd) - 1; i > 0; i-- {
		rev = append(rev, fwd[i])
	}
	o := Options{Ports: []uint16{7777}}
	want := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false, fwd...), o).Clients[0].Series
	got := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false, rev...), o).Clients[0].Series
	if len(want) != seconds || !slices.Equal(got, want) {
		t.Errorf("reversed: %d seconds, first %v; in order: %d seconds", len(got), got[:min(3, len(got))], len(want))
	}
}

// A peer's flows are the mesh's traffic: reported under Mesh with their
// totals, not among the clients; the totals of the capture do not change.
func TestPeersAreMeshTraffic(t *testing.T) {
	recs := session(t)
	full := sessionReport(recs, "pcap")
	peer := full.Clients[0].Client
	rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false, recs...), Options{Ports: []uint16{7777}, Peers: []netip.AddrPort{peer}})
	var mesh, clients []Flow
	var in, out Counts
	for _, f := range full.Clients {
		if f.Client != peer {
			clients = append(clients, f)
			continue
		}
		mesh = append(mesh, f)
		if f.Direction == In {
			in.Merge(f.Counts)
		} else {
			out.Merge(f.Counts)
		}
	}
	if len(mesh) == 0 || len(clients) == 0 {
		t.Fatal("the session has no flows to split")
	}
	sameJSON(t, "mesh flows", rep.Mesh, mesh)
	sameJSON(t, "client flows", rep.Clients, clients)
	if rep.MeshIn != in || rep.MeshOut != out {
		t.Errorf("mesh totals in %+v out %+v, want %+v %+v", rep.MeshIn, rep.MeshOut, in, out)
	}
	rep.Mesh, rep.Clients, rep.MeshIn, rep.MeshOut = full.Mesh, full.Clients, Counts{}, Counts{}
	sameJSON(t, "the rest", rep, full)
}
