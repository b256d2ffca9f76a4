package bw

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// FuzzAnalyze feeds Analyze arbitrary bytes, seeded with valid captures of
// every format and link type, and checks what must hold of any report.
func FuzzAnalyze(f *testing.F) {
	recs := session(f)
	f.Add(pcapFile(f, layers.LinkTypeEthernet, false, recs...))
	f.Add(pcapFile(f, layers.LinkTypeEthernet, true, recs[:6]...))
	f.Add(swapPcap(pcapFile(f, layers.LinkTypeEthernet, false, recs[4:9]...)))
	f.Add(pcapngFile(f, []layers.LinkType{layers.LinkTypeEthernet}, recs...))
	var ng []rec
	links := []layers.LinkType{}
	for _, m := range mixed(f) {
		f.Add(pcapFile(f, m.lt, false, rec{ts: at(0), data: m.r.data, orig: m.r.orig}))
		i := slices.Index(links, m.lt)
		if i < 0 {
			i = len(links)
			links = append(links, m.lt)
		}
		ng = append(ng, rec{ts: at(len(ng) * 700), data: m.r.data, orig: m.r.orig, iface: i})
	}
	f.Add(pcapngFile(f, links, ng...))
	f.Add([]byte{})
	f.Add([]byte("\x0a\x0d\x0d\x0a"))

	small := Options{Ports: []uint16{7777, 53}, MaxFlows: 3, MaxSeconds: 4}
	roomy := Options{Ports: []uint16{7777}, MaxSeconds: 600}
	f.Fuzz(func(t *testing.T, capture []byte) {
		for _, o := range []Options{small, roomy} {
			rep, err := Analyze(bytes.NewReader(capture), o)
			if err != nil {
				if rep != nil || !errors.Is(err, ErrNotCapture) {
					t.Fatalf("report %v with error %v", rep != nil, err)
				}
				return
			}
			checkInvariants(t, rep, o)
		}
	})
}

// checkInvariants fails t unless rep is consistent with itself and o.
func checkInvariants(t *testing.T, rep *Report, o Options) {
	t.Helper()
	sum := func(cs ...Counts) Counts {
		var s Counts
		for _, c := range cs {
			s.Merge(c)
		}
		return s
	}
	types := func(list []TypeCounts) Counts {
		var s Counts
		for i, tc := range list {
			if tc.Packets == 0 || (i > 0 && slices.Index(kindNames[:], tc.Type) <= slices.Index(kindNames[:], list[i-1].Type)) {
				t.Fatalf("by-type list %+v", list)
			}
			s.Merge(tc.Counts)
		}
		return s
	}
	if rep.Total != sum(rep.In, rep.Out) {
		t.Fatalf("total %+v, in %+v, out %+v", rep.Total, rep.In, rep.Out)
	}
	if types(rep.ByTypeIn) != rep.In || types(rep.ByTypeOut) != rep.Out {
		t.Fatalf("by type does not add up to in/out")
	}
	s := rep.Skipped
	if skipped := s.OtherPort + s.NotUDP + s.NotIP + s.Fragment + s.Malformed + s.Truncated + s.UnknownLink; rep.Capture.Records != rep.Total.Packets+skipped {
		t.Fatalf("%d records, %d counted, %d skipped", rep.Capture.Records, rep.Total.Packets, skipped)
	}
	_, maxFlows, maxSeconds, err := o.check()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.SeriesIn) != len(rep.SeriesOut) || len(rep.SeriesIn) > maxSeconds || len(rep.Clients) > maxFlows {
		t.Fatalf("%d/%d seconds, %d clients", len(rep.SeriesIn), len(rep.SeriesOut), len(rep.Clients))
	}
	if rep.Total.Packets > 0 && rep.Capture.Last.Before(rep.Capture.First) {
		t.Fatalf("capture from %v to %v", rep.Capture.First, rep.Capture.Last)
	}
	var inFlows, inSeries Counts
	inSeries = sum(append(slices.Clone(rep.SeriesIn), rep.SeriesOut...)...)
	for i, fl := range rep.Clients {
		if i > 0 {
			p := rep.Clients[i-1]
			c := p.Server.Compare(fl.Server)
			if c == 0 {
				c = p.Client.Compare(fl.Client)
			}
			if c > 0 || c == 0 && p.Direction >= fl.Direction {
				t.Fatalf("clients out of order at %d", i)
			}
		}
		if types(fl.ByType) != fl.Counts || fl.Packets == 0 {
			t.Fatalf("flow %d by type does not add up", i)
		}
		if fl.Size.P50 > fl.Size.P99 || fl.Size.P99 > fl.Size.Max || fl.Size.Max > 65535-8 {
			t.Fatalf("flow %d sizes %+v", i, fl.Size)
		}
		var series Counts
		for j, sec := range fl.Series {
			if sec.Packets == 0 || sec.T < 0 || sec.T >= len(rep.SeriesIn) || (j > 0 && sec.T <= fl.Series[j-1].T) {
				t.Fatalf("flow %d series %+v", i, fl.Series)
			}
			series.Merge(sec.Counts)
		}
		if series.Packets > fl.Packets {
			t.Fatalf("flow %d: %d packets in its series, %d in all", i, series.Packets, fl.Packets)
		}
		inFlows.Merge(fl.Counts)
	}
	// Every counted packet is in a flow or beyond MaxFlows, in the series
	// or beyond MaxSeconds, and in Overflow once if either.
	noFlow, noSecond := rep.Total.Packets-inFlows.Packets, rep.Total.Packets-inSeries.Packets
	if inFlows.Packets > rep.Total.Packets || inSeries.Packets > rep.Total.Packets ||
		rep.Overflow < max(noFlow, noSecond) || rep.Overflow > noFlow+noSecond {
		t.Fatalf("total %d, %d in flows, %d in series, overflow %d", rep.Total.Packets, inFlows.Packets, inSeries.Packets, rep.Overflow)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
}

// TestInvariantsOfSeeds runs the fuzz checks on the captures the other
// tests build, with tight bounds.
func TestInvariantsOfSeeds(t *testing.T) {
	o := Options{Ports: []uint16{7777}, MaxFlows: 2, MaxSeconds: 3}
	checkInvariants(t, analyze(t, pcapFile(t, layers.LinkTypeEthernet, false, session(t)...), o), o)
}
