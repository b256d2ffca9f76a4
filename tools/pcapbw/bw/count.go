package bw

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
)

// flowKey names a flow. netip.AddrPort is comparable and built without
// allocating, so looking a flow up costs no allocation.
type flowKey struct {
	server, client netip.AddrPort
	dir            Direction
}

// flow is a Flow while it is being counted.
type flow struct {
	key         flowKey
	counts      Counts
	sizes       sizeHist
	first, last time.Time // zero until a packet with a timestamp
	byType      [numKinds]Counts
	series      []Second // sparse, T ascending unless unsorted > 0
	unsorted    int      // entries appended out of order since the last compact
	merged      int      // entries after the last compact
}

// direction is what one direction adds up to.
type direction struct {
	counts Counts
	sizes  sizeHist
	byType [numKinds]Counts
	series []Counts // dense; both directions have the same length
}

// analyzer counts records. It is owned by one goroutine. Once a record's
// flow, sizes and second exist, counting it allocates nothing.
type analyzer struct {
	dec        decoder
	ports      [1 << 16 / 64]uint64 // bit p: port p is a server port
	maxFlows   int
	maxSeconds int

	records  uint64
	links    linkSet
	timed    bool      // origin, first and last are set
	origin   time.Time // the first record's timestamp: second 0 starts here
	first    time.Time
	last     time.Time
	skipped  Skipped
	overflow uint64
	dirs     [2]direction
	flows    []flow
	index    map[flowKey]int
}

func newAnalyzer(ports []uint16, maxFlows, maxSeconds int) *analyzer {
	a := &analyzer{maxFlows: maxFlows, maxSeconds: maxSeconds, index: make(map[flowKey]int)}
	for _, p := range ports {
		a.ports[p/64] |= 1 << (p % 64)
	}
	return a
}

func (a *analyzer) isPort(p uint16) bool { return a.ports[p/64]&(1<<(p%64)) != 0 }

// record counts one capture record of link kind k. data is the captured
// part of the frame; it is only read during the call.
func (a *analyzer) record(k linkKind, data []byte, ci gopacket.CaptureInfo) {
	a.records++
	ts, stamped := ci.Timestamp, hasTime(ci.Timestamp)
	sec := a.second(ts, stamped)
	g, why := a.dec.decode(k, data, len(data) < ci.Length)
	if why != reasonNone {
		a.skip(why)
		return
	}
	dir, server, client := In, g.dst, g.src
	if !a.isPort(g.dst.Port()) {
		if !a.isPort(g.src.Port()) {
			a.skipped.OtherPort++
			return
		}
		dir, server, client = Out, g.src, g.dst
	}
	// A damaged record may claim to have been shorter on the wire than
	// what it holds: the frame was at least what was captured.
	frame := max(ci.Length, len(data))
	if !stamped {
		ts = time.Time{}
	}
	a.count(flowKey{server, client, dir}, kindOf(g.payload, g.size), g.size, frame, ts, sec)
}

// Timestamps a report can hold: JSON (RFC 3339) has four-digit years.
var (
	minTime = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// hasTime reports whether ts is a timestamp: not the zero time (a pcapng
// Simple Packet Block has none) and within four-digit years (a damaged
// pcapng interface can scale its timestamps anywhere).
func hasTime(ts time.Time) bool {
	return !ts.IsZero() && !ts.Before(minTime) && ts.Before(maxTime)
}

// second notes ts in the capture's time span and returns its second from
// the origin: 0 for a timestamp before the origin or no timestamp.
func (a *analyzer) second(ts time.Time, stamped bool) int {
	if !stamped {
		return 0
	}
	if !a.timed {
		a.timed = true
		a.origin, a.first, a.last = ts, ts, ts
		return 0
	}
	if ts.Before(a.first) {
		a.first = ts
	}
	if ts.After(a.last) {
		a.last = ts
	}
	if ts.Before(a.origin) {
		return 0
	}
	// In 64 bits, clamped: records can be 2³² s apart, more than an int
	// holds on 32-bit platforms. Anything at or past maxSeconds is
	// overflow, whatever its exact second.
	return int(min(int64(ts.Sub(a.origin)/time.Second), int64(a.maxSeconds)))
}

func (a *analyzer) skip(why reason) {
	switch why {
	case reasonUnknownLink:
		a.skipped.UnknownLink++
	case reasonNotIP:
		a.skipped.NotIP++
	case reasonFragment:
		a.skipped.Fragment++
	case reasonNotUDP:
		a.skipped.NotUDP++
	case reasonTruncated:
		a.skipped.Truncated++
	default:
		a.skipped.Malformed++
	}
}

// count adds one datagram of the given kind and sizes to its direction, its
// flow and their series. A packet beyond MaxFlows or MaxSeconds is counted
// once in overflow.
func (a *analyzer) count(key flowKey, kind, size, frame int, ts time.Time, sec int) {
	d := &a.dirs[key.dir]
	d.counts.Add(size, frame)
	d.sizes.add(size)
	d.byType[kind].Add(size, frame)
	inSeries := sec < a.maxSeconds
	if inSeries {
		a.growSeries(sec + 1)
		d.series[sec].Add(size, frame)
	}
	f := a.flow(key)
	if f == nil || !inSeries {
		a.overflow++
	}
	if f == nil {
		return
	}
	f.counts.Add(size, frame)
	f.sizes.add(size)
	f.byType[kind].Add(size, frame)
	if !ts.IsZero() {
		if f.first.IsZero() || ts.Before(f.first) {
			f.first = ts
		}
		if ts.After(f.last) {
			f.last = ts
		}
	}
	if inSeries {
		f.addSecond(sec, size, frame)
	}
}

// flow returns key's flow, creating it while there are fewer than
// maxFlows; nil beyond that.
func (a *analyzer) flow(key flowKey) *flow {
	if i, ok := a.index[key]; ok {
		return &a.flows[i]
	}
	if len(a.flows) >= a.maxFlows {
		return nil
	}
	a.index[key] = len(a.flows)
	a.flows = append(a.flows, flow{key: key})
	return &a.flows[len(a.flows)-1]
}

// growSeries makes both directions' dense series at least n seconds long.
func (a *analyzer) growSeries(n int) {
	for i := range a.dirs {
		if s := a.dirs[i].series; len(s) < n {
			a.dirs[i].series = append(s, make([]Counts, n-len(s))...)
		}
	}
}

// addSecond adds a packet to second sec of the flow's sparse series.
// Records mostly come in time order, so the last entry is checked first. A
// record earlier than the last entry is appended out of order and merged
// later (compact), so that a capture in reverse order costs O(n log n),
// not O(n²).
func (f *flow) addSecond(sec, size, frame int) {
	n := len(f.series)
	if n > 0 && f.series[n-1].T == sec {
		f.series[n-1].Add(size, frame)
		return
	}
	if n > 0 && f.series[n-1].T > sec {
		f.unsorted++
	}
	f.series = append(f.series, Second{T: sec})
	f.series[n].Add(size, frame)
	// Merge once the entries appended out of order are as many as those
	// merged before them (plus slack): each merge at least halves the
	// entries, so memory stays within twice the distinct seconds.
	if f.unsorted > 0 && len(f.series) > 2*f.merged+64 {
		f.compact()
	}
}

// compact sorts the series by second and merges entries of one second.
func (f *flow) compact() {
	if f.unsorted == 0 {
		return
	}
	slices.SortStableFunc(f.series, func(a, b Second) int { return cmp.Compare(a.T, b.T) })
	out := f.series[:1]
	for _, s := range f.series[1:] {
		if last := &out[len(out)-1]; last.T == s.T {
			last.Merge(s.Counts)
		} else {
			out = append(out, s)
		}
	}
	f.series = out
	f.merged = len(out)
	f.unsorted = 0
}
