package main

import (
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/flotilla/flotilla/tools/pcapbw/bw"
)

// Geometry of the chart, in SVG user units (pixels).
const (
	plotWidth  = 960
	plotHeight = 520
	marginL    = 90
	marginR    = 30
	marginT    = 96
	marginB    = 90
	// maxPoints bounds the points of each line. A longer series is cut into
	// buckets of k consecutive seconds, k the least that gives at most
	// maxPoints buckets; each bucket is one point at its middle, drawn twice:
	// a solid line through each bucket's busiest second (so peaks stay
	// visible) and a thin dashed line through each bucket's mean.
	maxPoints = 2000
	// markerPoints is the most points that also get a dot each, so that a
	// capture of a single second still shows its values.
	markerPoints = 60
)

// line is one direction's series as drawn.
type line struct {
	id, label, color string
	max, mean        []float64 // per point; mean only when bucketed
}

// plotSVG draws the UDP payload bytes per second of r, in and out, as an
// SVG document. name is the capture as the user gave it; it appears,
// escaped, in the title.
func plotSVG(r *bw.Report, name string) []byte {
	n := max(len(r.SeriesIn), len(r.SeriesOut)) // seconds
	k := max(1, (n+maxPoints-1)/maxPoints)      // seconds per point
	lines := []line{
		bucket("in", "in (client to server)", "#1f77b4", r.SeriesIn, n, k),
		bucket("out", "out (server to client)", "#d62728", r.SeriesOut, n, k),
	}
	peak := 0.0
	for _, l := range lines {
		for _, v := range l.max {
			peak = math.Max(peak, v)
		}
	}
	yStep, yMax := yTicks(peak)
	xMax := float64(max(n, 1))
	xStep := xTick(xMax)
	plotW, plotH := float64(plotWidth-marginL-marginR), float64(plotHeight-marginT-marginB)
	px := func(s float64) float64 { return marginL + s/xMax*plotW }
	py := func(v float64) float64 { return marginT + plotH - v/yMax*plotH }

	var b strings.Builder
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"+
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		plotWidth, plotHeight, plotWidth, plotHeight)
	fmt.Fprintf(&b, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", plotWidth, plotHeight)
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"22\" font-size=\"16\" font-weight=\"bold\">%s</text>\n", marginL,
		esc("UDP payload bytes per second, ports "+joinPorts(r.Ports)))
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"40\">%s</text>\n", marginL, esc("capture: "+name))
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"56\" fill=\"#444\">%s</text>\n", marginL,
		esc("y counts UDP payload bytes (what the application wrote to its socket), not link, IP or UDP headers"))

	// Grid and y axis.
	unit, unitName := rateUnit(yMax)
	for v := 0.0; v <= yMax*(1+1e-9); v += yStep {
		y := num(py(v))
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\" stroke=\"#ddd\"/>\n", marginL, y, plotWidth-marginR, y)
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%s\" text-anchor=\"end\" dominant-baseline=\"middle\">%s %s</text>\n",
			marginL-6, y, strconv.FormatFloat(v/unit, 'f', -1, 64), unitName)
	}
	// x axis.
	base := num(py(0))
	for s := 0.0; s <= xMax*(1+1e-9); s += xStep {
		x := num(px(s))
		fmt.Fprintf(&b, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#444\"/>\n", x, base, x, num(py(0)+5))
		fmt.Fprintf(&b, "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>\n", x, num(py(0)+20), seconds(int64(s)))
	}
	fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\" stroke=\"#444\"/>\n", marginL, base, plotWidth-marginR, base)
	fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%s\" stroke=\"#444\"/>\n", marginL, marginT, marginL, base)
	xLabel := "time since the capture's first record"
	if r.Capture.Records > 0 {
		xLabel += " (" + stamp(r.Capture.Origin) + ")"
	}
	if k > 1 {
		xLabel += fmt.Sprintf("; each point is %d s: solid = busiest second, dashed = mean", k)
	}
	fmt.Fprintf(&b, "<text x=\"%s\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", num(marginL+plotW/2), plotHeight-marginB+45, esc(xLabel))

	if n == 0 {
		fmt.Fprintf(&b, "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\" font-size=\"14\" fill=\"#444\">no packets to or from the server ports</text>\n",
			num(marginL+plotW/2), num(marginT+plotH/2))
	}
	for _, l := range lines {
		if len(l.mean) > 0 {
			fmt.Fprintf(&b, "<polyline id=\"%s-mean\" fill=\"none\" stroke=\"%s\" stroke-width=\"1\" stroke-dasharray=\"4 3\" stroke-opacity=\"0.7\" points=\"%s\"/>\n",
				l.id, l.color, points(l.mean, k, n, px, py))
		}
		if len(l.max) > 0 {
			fmt.Fprintf(&b, "<polyline id=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>\n",
				l.id, l.color, points(l.max, k, n, px, py))
		}
		if len(l.max) <= markerPoints {
			for i, v := range l.max {
				fmt.Fprintf(&b, "<circle cx=\"%s\" cy=\"%s\" r=\"2.5\" fill=\"%s\"/>\n", num(px(middle(i, k, n))), num(py(v)), l.color)
			}
		}
	}
	// Legend, one row under the title.
	for i, l := range lines {
		x, y := marginL+200*i, 76
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>\n", x, y-4, x+24, y-4, l.color)
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\">%s</text>\n", x+30, y, esc(l.label))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// bucket makes the line of one direction over n seconds, k seconds per
// point. Seconds beyond the end of s count as zero.
func bucket(id, label, color string, s []bw.Counts, n, k int) line {
	l := line{id: id, label: label, color: color}
	for start := 0; start < n; start += k {
		end := min(start+k, n)
		var peak, sum uint64
		for i := start; i < end; i++ {
			if i < len(s) {
				peak = max(peak, s[i].UDPPayloadBytes)
				sum += s[i].UDPPayloadBytes
			}
		}
		l.max = append(l.max, float64(peak))
		if k > 1 {
			l.mean = append(l.mean, float64(sum)/float64(end-start))
		}
	}
	return l
}

// middle is the time, in seconds, at the middle of point i's bucket.
func middle(i, k, n int) float64 {
	start := i * k
	return float64(start+min(start+k, n)) / 2
}

// points is the points attribute of a polyline through vs.
func points(vs []float64, k, n int, px, py func(float64) float64) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(px(middle(i, k, n))))
		b.WriteByte(',')
		b.WriteString(num(py(v)))
	}
	return b.String()
}

// yTicks returns the step of the y axis, 1, 2 or 5 times a power of ten and
// at least 1 byte/s, and the top of the axis, a multiple of the step at or
// above peak, with about five steps.
func yTicks(peak float64) (step, top float64) {
	peak = math.Max(peak, 5)
	step = niceStep(peak / 5)
	return step, math.Ceil(peak/step) * step
}

// niceStep is the least of 1, 2 or 5 times a power of ten at or above x
// (x ≥ 1).
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// xTick returns the step of the time axis for a span of xMax seconds: a
// readable number of seconds, minutes, hours or days giving at most ten
// steps.
func xTick(xMax float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400} {
		if xMax/s <= 10 {
			return s
		}
	}
	return 86400 * niceStep(xMax/86400/10)
}

// rateUnit is the decimal unit the labels of an axis up to top are written
// in.
func rateUnit(top float64) (float64, string) {
	switch {
	case top >= 1e9:
		return 1e9, "GB/s"
	case top >= 1e6:
		return 1e6, "MB/s"
	case top >= 1e3:
		return 1e3, "kB/s"
	}
	return 1, "B/s"
}

// seconds writes s seconds as a short label: 45s, 2m, 2m30s, 1h, 1h30m, 2d.
func seconds(s int64) string {
	if s == 0 {
		return "0"
	}
	var b strings.Builder
	for _, u := range []struct {
		n    int64
		name string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}} {
		if s >= u.n {
			fmt.Fprintf(&b, "%d%s", s/u.n, u.name)
			s %= u.n
		}
	}
	return b.String()
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// esc escapes s for XML text and attribute values.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
