package halfopen

import "testing"

func TestPacerSpacesTurns(t *testing.T) {
	p := newPacer(100, t0, 3) // a turn every 10 ms; 0, 10 and 20 ms are the ramp's
	for i, want := range []int{0, 10, 20} {
		if got := p.rampTurn(i); !got.Equal(ms(want)) {
			t.Errorf("ramp turn %d at %v, want %d ms", i, got.Sub(t0), want)
		}
	}
	for _, c := range []struct {
		earliest, want int // ms after t0
	}{
		{5, 30},    // a restart during the ramp waits for its end
		{6, 40},    // and the next one for the turn after
		{100, 100}, // an idle pacer serves a restart when it is due
		{101, 110},
		{200, 200},
	} {
		if got := p.reserve(ms(c.earliest)); !got.Equal(ms(c.want)) {
			t.Errorf("reserve(%d ms) = %v, want %d ms", c.earliest, got.Sub(t0), c.want)
		}
	}
}

// Unpaced, the ramp begins at once and every turn is due when asked for,
// never before one handed out earlier.
func TestPacerUnpaced(t *testing.T) {
	p := newPacer(0, t0, 1000)
	if !p.rampTurn(999).Equal(t0) {
		t.Errorf("ramp turn 999 at %v", p.rampTurn(999).Sub(t0))
	}
	for _, c := range []struct{ earliest, want int }{{0, 0}, {0, 0}, {7, 7}, {3, 7}, {9, 9}} {
		if got := p.reserve(ms(c.earliest)); !got.Equal(ms(c.want)) {
			t.Errorf("reserve(%d ms) = %v, want %d ms", c.earliest, got.Sub(t0), c.want)
		}
	}
}
