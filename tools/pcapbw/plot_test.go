package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/flotilla/flotilla/tools/pcapbw/bw"
)

// svgDoc is what the tests read back from a plot.
type svgDoc struct {
	polylines map[string]int // id → number of points
	circles   int
	texts     []string
}

// parseSVG checks that b is well-formed XML with an svg root and collects
// its polylines, circles and texts.
func parseSVG(t *testing.T, b []byte) svgDoc {
	t.Helper()
	doc := svgDoc{polylines: map[string]int{}}
	d := xml.NewDecoder(bytes.NewReader(b))
	depth, root := 0, ""
	var text *strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%.500s", err, b)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				root = e.Name.Local
			}
			depth++
			switch e.Name.Local {
			case "polyline":
				var id, pts string
				for _, a := range e.Attr {
					switch a.Name.Local {
					case "id":
						id = a.Value
					case "points":
						pts = a.Value
					}
				}
				doc.polylines[id] = len(strings.Fields(pts))
			case "circle":
				doc.circles++
			case "text":
				text = &strings.Builder{}
			}
		case xml.CharData:
			if text != nil {
				text.Write(e)
			}
		case xml.EndElement:
			depth--
			if e.Name.Local == "text" {
				doc.texts = append(doc.texts, text.String())
				text = nil
			}
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q", root)
	}
	return doc
}

func (d svgDoc) hasText(sub string) bool {
	for _, s := range d.texts {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// seriesReport has n seconds of series, in growing linearly and out
// constant.
func seriesReport(n int) *bw.Report {
	r := &bw.Report{Capture: bw.Capture{Records: uint64(n), First: t0, Origin: t0, Last: t0}, Ports: []uint16{7777, 7778}}
	for i := range n {
		r.SeriesIn = append(r.SeriesIn, bw.Counts{Packets: 1, UDPPayloadBytes: uint64(100 * i)})
		r.SeriesOut = append(r.SeriesOut, bw.Counts{Packets: 1, UDPPayloadBytes: 5000})
	}
	return r
}

func TestPlotPoints(t *testing.T) {
	for _, c := range []struct {
		seconds, points int
		mean            bool
	}{
		{1, 1, false},
		{10, 10, false},
		{2000, 2000, false},
		{2001, 1001, true},  // two seconds per point
		{86400, 1964, true}, // a day: 44 seconds per point
	} {
		doc := parseSVG(t, plotSVG(seriesReport(c.seconds), "run.pcap"))
		if doc.polylines["in"] != c.points || doc.polylines["out"] != c.points {
			t.Errorf("%d s: %v, want %d points a line", c.seconds, doc.polylines, c.points)
		}
		if _, ok := doc.polylines["in-mean"]; ok != c.mean || (c.mean && doc.polylines["in-mean"] != c.points) {
			t.Errorf("%d s: mean lines %v", c.seconds, doc.polylines)
		}
		if wantDots := c.points <= markerPoints; (doc.circles == 2*c.points) != wantDots {
			t.Errorf("%d s: %d dots", c.seconds, doc.circles)
		}
		for _, want := range []string{"run.pcap", "7777, 7778", "in (client to server)", "out (server to client)", "UDP payload bytes"} {
			if !doc.hasText(want) {
				t.Errorf("%d s: no text %q in %q", c.seconds, want, doc.texts)
			}
		}
	}
}

func TestPlotKeepsPeaks(t *testing.T) {
	r := seriesReport(86400)
	r.SeriesOut[12345].UDPPayloadBytes = 7_000_000
	svg := string(plotSVG(r, "day.pcap"))
	// The y axis reaches the peak, and every tick is labelled in one unit.
	if !strings.Contains(svg, ">8 MB/s<") || !strings.Contains(svg, ">0 MB/s<") {
		t.Errorf("y labels do not reach the peak:\n%.3000s", svg)
	}
	doc := parseSVG(t, []byte(svg))
	if !doc.hasText("each point is 44 s") || !doc.hasText("1d") {
		t.Errorf("texts %q", doc.texts)
	}
}

func TestPlotEmptyAndSingle(t *testing.T) {
	doc := parseSVG(t, plotSVG(&bw.Report{Ports: []uint16{7777}}, "empty.pcap"))
	if len(doc.polylines) != 0 || doc.circles != 0 || !doc.hasText("no packets") {
		t.Errorf("empty: %+v", doc)
	}
	r := &bw.Report{Capture: bw.Capture{Records: 1, First: t0, Origin: t0, Last: t0}, Ports: []uint16{7777},
		SeriesIn: []bw.Counts{{Packets: 1, UDPPayloadBytes: 1200}}}
	doc = parseSVG(t, plotSVG(r, "one.pcap"))
	// SeriesOut is shorter: its missing second counts as zero.
	if doc.polylines["in"] != 1 || doc.polylines["out"] != 1 || doc.circles != 2 || doc.hasText("no packets") {
		t.Errorf("one second: %+v", doc)
	}
	if !doc.hasText("kB/s") || !doc.hasText("2025-03-04T05:06:07.123456789Z") {
		t.Errorf("one second texts %q", doc.texts)
	}
}

func TestPlotEscapesName(t *testing.T) {
	name := "a<b>&\"c'\x01\xff.pcap"
	doc := parseSVG(t, plotSVG(seriesReport(3), name))
	if !doc.hasText("a<b>&\"c'") {
		t.Errorf("name lost: %q", doc.texts)
	}
}

func TestTicks(t *testing.T) {
	for _, c := range []struct{ peak, step, top float64 }{
		{0, 1, 5}, {1, 1, 5}, {7, 2, 8}, {99, 20, 100}, {101, 50, 150}, {1200, 500, 1500}, {7e6, 2e6, 8e6},
	} {
		if step, top := yTicks(c.peak); step != c.step || top != c.top {
			t.Errorf("yTicks(%v) = %v, %v, want %v, %v", c.peak, step, top, c.step, c.top)
		}
	}
	for _, c := range []struct{ span, step float64 }{
		{1, 1}, {10, 1}, {11, 2}, {100, 10}, {3600, 600}, {86400, 10800}, {864001, 172800},
	} {
		if got := xTick(c.span); got != c.step {
			t.Errorf("xTick(%v) = %v, want %v", c.span, got, c.step)
		}
	}
	for s, want := range map[int64]string{0: "0", 45: "45s", 90: "1m30s", 3600: "1h", 5400: "1h30m", 86400: "1d", 97200: "1d3h"} {
		if got := seconds(s); got != want {
			t.Errorf("seconds(%d) = %q, want %q", s, got, want)
		}
	}
}
