// Package sim is Flotilla's deterministic simulation core: Q47.16 fixed-point
// math, binary angles, quaternions, a seeded random generator, pointy-top hex
// tiles, client actions and the World that steps a Game frame by frame.
//
// Everything in sim is integer arithmetic. Same seed and same actions give the
// same bytes and the same hash on every machine: the package uses no floating
// point, no wall clock, no goroutines and no map iteration (a test enforces
// this by parsing the sources).
//
// Rounding convention: every operation that drops fractional bits rounds toward
// negative infinity (floor), the way Go's >> does on signed integers. Go's
// integer / truncates toward zero instead, so sim code never divides a signed
// value with / where the sign can matter; it uses Div, FloorDiv or a shift.
//
// Nothing in sim is safe for concurrent use; a World belongs to one goroutine.
package sim
