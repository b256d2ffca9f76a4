// Package payload is the payload benchmark harness: it measures, side by
// side, what one client is sent per tick in Flotilla's bit-packed codec and
// in reference formats (FlatBuffers, protobuf, JSON+zstd, a naive float
// layout), and what encoding and decoding cost.
//
// For each seeded scenario (fleet.NewScenario) one observer, placed as in
// protocol/demowire's tests, gets its view built every tick by
// demowire.Wire.AppendView. Every format encodes that tick, decodes it back,
// and the result is checked against what was sent (the quantized view for
// the formats that carry it, the full-precision records for the naive
// format): a failed round trip stops the run. Sizes are deterministic for a
// seed; times and allocation counts come from timed batches repeated a few
// times, with the median kept.
//
// The formats and what each carries are described in perf/README.md and at
// each format's type. The command perf/cmd/payloads runs the harness and
// prints a Markdown table or JSON.
package payload
