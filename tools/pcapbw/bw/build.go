package bw

import (
	"net/netip"
	"slices"
)

// report turns what a counted into a Report. Every list is empty rather
// than nil when it has nothing, so the JSON always has [] there.
func (a *analyzer) report(format string, ports []uint16, peers []netip.AddrPort) *Report {
	in, out := &a.dirs[In], &a.dirs[Out]
	r := &Report{
		Capture: Capture{
			Format:    format,
			LinkTypes: nonNil(a.links.names),
			Records:   a.records,
			First:     a.first,
			Origin:    a.origin,
			Last:      a.last,
		},
		Ports:     ports,
		In:        in.counts,
		Out:       out.counts,
		SizeIn:    in.sizes.summary(),
		SizeOut:   out.sizes.summary(),
		ByTypeIn:  typeList(&in.byType),
		ByTypeOut: typeList(&out.byType),
		SeriesIn:  nonNil(in.series),
		SeriesOut: nonNil(out.series),
		Clients:   make([]Flow, 0, len(a.flows)),
		Mesh:      []Flow{},
		Skipped:   a.skipped,
		Overflow:  a.overflow,
	}
	r.Total = r.In
	r.Total.Merge(r.Out)

	slices.SortFunc(a.flows, func(x, y flow) int {
		if c := x.key.server.Compare(y.key.server); c != 0 {
			return c
		}
		if c := x.key.client.Compare(y.key.client); c != 0 {
			return c
		}
		return int(x.key.dir) - int(y.key.dir)
	})
	for i := range a.flows {
		f := &a.flows[i]
		f.compact()
		fl := Flow{
			Server:    f.key.server,
			Client:    f.key.client,
			Direction: f.key.dir,
			Counts:    f.counts,
			Size:      f.sizes.summary(),
			First:     f.first,
			Last:      f.last,
			ByType:    typeList(&f.byType),
			Series:    nonNil(f.series),
		}
		if !slices.Contains(peers, f.key.client) {
			r.Clients = append(r.Clients, fl)
			continue
		}
		r.Mesh = append(r.Mesh, fl)
		if f.key.dir == In {
			r.MeshIn.Merge(f.counts)
		} else {
			r.MeshOut.Merge(f.counts)
		}
	}
	// The index now points at the wrong places; nothing reads it again.
	a.index = nil
	return r
}

func nonNil[E any](s []E) []E {
	if s == nil {
		return []E{}
	}
	return s
}
