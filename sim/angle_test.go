package sim

import (
	"math"
	"testing"
)

func TestHalfPiConstant(t *testing.T) {
	if got := float64(halfPiQ60) / (1 << 60); math.Abs(got-math.Pi/2) > 1e-15 {
		t.Errorf("halfPiQ60 = %v", got)
	}
}

func TestSinCosAgainstMath(t *testing.T) {
	worst := 0.0
	for a := 0; a < 1<<16; a++ {
		rad := float64(a) * 2 * math.Pi / 65536
		es := math.Abs(float64(Sin(Angle(a)))/65536 - math.Sin(rad))
		ec := math.Abs(float64(Cos(Angle(a)))/65536 - math.Cos(rad))
		worst = max(worst, es, ec)
	}
	if worst > 2.0/65536 {
		t.Errorf("max error %v > 2/65536", worst)
	}
	if Sin(0) != 0 || Sin(QuarterTurn) != One || Sin(HalfTurn) != 0 || Cos(0) != One || Cos(HalfTurn) != -One {
		t.Error("exact quadrant values")
	}
}

func TestAtan2(t *testing.T) {
	r := NewRand(4)
	for range 20000 {
		x := Fixed(r.Range(-1<<40, 1<<40))
		y := Fixed(r.Range(-1<<40, 1<<40))
		got := Atan2(y, x)
		want := math.Atan2(float64(y), float64(x)) * 65536 / (2 * math.Pi)
		d := math.Mod(float64(got)-want+65536*1.5, 65536) - 65536/2
		if math.Abs(d) > 1.5 {
			t.Fatalf("Atan2(%d, %d) = %d, want %.2f", y, x, got, want)
		}
	}
	for _, c := range []struct {
		y, x Fixed
		want Angle
	}{{0, 0, 0}, {0, One, 0}, {One, 0, QuarterTurn}, {0, -One, HalfTurn}, {-One, 0, 3 * QuarterTurn}, {One, One, QuarterTurn / 2}} {
		if got := Atan2(c.y, c.x); got != c.want {
			t.Errorf("Atan2(%d, %d) = %d, want %d", c.y, c.x, got, c.want)
		}
	}
	for a := 0; a < 1<<16; a += 7 {
		v := Dir(Angle(a)).Scale(FromInt(1000))
		if d := int16(Atan2(v.Y, v.X) - Angle(a)); d > 2 || d < -2 {
			t.Fatalf("Atan2(Dir(%d)) off by %d", a, d)
		}
	}
}
