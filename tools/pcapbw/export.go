package main

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"

	"github.com/flotilla/flotilla/tools/pcapbw/bw"
)

// csvTypes are the packet types of the pkts_<type> columns of -csv, in
// column order: netcode's types in their numeric order, then bw.TypeCut and
// bw.TypeNonFlotilla.
var csvTypes = []string{
	"request", "challenge", "response", "accept", "disconnect", "reliable", "unreliable", "keepalive",
	bw.TypeCut, bw.TypeNonFlotilla,
}

// csvHeader is the first row of -csv.
func csvHeader() []string {
	h := []string{"server", "client", "direction", "packets", "udp_payload_bytes", "frame_bytes",
		"size_p50", "size_p99", "size_max", "first", "last"}
	for _, t := range csvTypes {
		h = append(h, "pkts_"+t)
	}
	return h
}

// writeCSV prints one row per flow of r (client and direction), under
// csvHeader. A type a flow did not send has 0 packets.
func writeCSV(w io.Writer, r *bw.Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader()); err != nil {
		return err
	}
	for _, f := range r.Clients {
		row := []string{f.Server.String(), f.Client.String(), f.Direction.String(), u64(f.Packets),
			u64(f.UDPPayloadBytes), u64(f.FrameBytes), strconv.Itoa(f.Size.P50), strconv.Itoa(f.Size.P99),
			strconv.Itoa(f.Size.Max), stamp(f.First), stamp(f.Last)}
		for _, t := range csvTypes {
			var n uint64
			for _, tc := range f.ByType {
				if tc.Type == t {
					n += tc.Packets
				}
			}
			row = append(row, u64(n))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeJSON prints r as one indented JSON object with the keys of its json
// tags. Nil slices are written as [], not null; r is not changed.
func writeJSON(w io.Writer, r *bw.Report) error {
	out := *r
	out.Capture.LinkTypes = nonNil(out.Capture.LinkTypes)
	out.Ports = nonNil(out.Ports)
	out.ByTypeIn = nonNil(out.ByTypeIn)
	out.ByTypeOut = nonNil(out.ByTypeOut)
	out.SeriesIn = nonNil(out.SeriesIn)
	out.SeriesOut = nonNil(out.SeriesOut)
	out.Clients = make([]bw.Flow, len(r.Clients))
	for i, f := range r.Clients {
		f.ByType = nonNil(f.ByType)
		f.Series = nonNil(f.Series)
		out.Clients[i] = f
	}
	out.Mesh = make([]bw.Flow, len(r.Mesh))
	for i, f := range r.Mesh {
		f.ByType = nonNil(f.ByType)
		f.Series = nonNil(f.Series)
		out.Mesh[i] = f
	}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(&out)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
