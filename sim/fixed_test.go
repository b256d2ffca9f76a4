package sim

import (
	"math"
	"math/big"
	"testing"
)

func TestMulEdges(t *testing.T) {
	big31 := FromInt(1 << 31)
	cases := []struct{ a, b, want Fixed }{
		{One, One, One},
		{FromInt(3), Half, FromInt(3) / 2},
		{-One, Half, -Half},
		{-1, 1, -1}, // floor(-1/65536) = -1
		{1, 1, 0},   // floor(1/65536) = 0
		{-1, -1, 0}, // floor(1/65536) = 0
		{big31, FromInt(1 << 15), FromInt(1 << 46)},
		{-big31, FromInt(1 << 15), -FromInt(1 << 46)},
		{big31, Half, FromInt(1 << 30)},
	}
	for _, c := range cases {
		if got := Mul(c.a, c.b); got != c.want {
			t.Errorf("Mul(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestMulMatchesBigFloor(t *testing.T) {
	r := NewRand(1)
	for range 20000 {
		a := Fixed(r.Range(-1<<47, 1<<47))
		b := Fixed(r.Range(-1<<31, 1<<31))
		p := new(big.Int).Mul(big.NewInt(int64(a)), big.NewInt(int64(b)))
		want := new(big.Int).Div(p, big.NewInt(1<<16)) // Euclidean: floor for positive divisor
		if got := Mul(a, b); int64(got) != want.Int64() {
			t.Fatalf("Mul(%d, %d) = %d, want %d", a, b, got, want)
		}
	}
}

func TestDiv(t *testing.T) {
	cases := []struct{ a, b, want Fixed }{
		{One, FromInt(2), Half},
		{-One, FromInt(2), -Half},
		{FromInt(7), FromInt(-2), -FromInt(7) / 2},
		{-1, FromInt(2), -1}, // floor(-0.5 raw) = -1
		{1, FromInt(2), 0},
		{One, 0, MaxFixed},
		{-One, 0, MinFixed},
		{0, 0, 0},
		{MaxFixed, 1, MaxFixed},
		{MinFixed, 1, MinFixed},
	}
	for _, c := range cases {
		if got := Div(c.a, c.b); got != c.want {
			t.Errorf("Div(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	r := NewRand(2)
	for range 20000 {
		a := Fixed(r.Range(-1<<46, 1<<46))
		b := Fixed(r.Range(-1<<40, 1<<40))
		if b == 0 {
			continue
		}
		n := new(big.Int).Lsh(big.NewInt(int64(a)), 16)
		q, m := new(big.Int).DivMod(n, big.NewInt(int64(b)), new(big.Int))
		want := q.Int64()
		if b < 0 && m.Sign() != 0 { // Euclidean rounds up for negative divisors
			want--
		}
		if got := Div(a, b); int64(got) != want {
			t.Fatalf("Div(%d, %d) = %d, want %d", a, b, got, want)
		}
	}
}

func TestSqrtExactFloor(t *testing.T) {
	for _, f := range []Fixed{0, -One, 1, 2, One, FromInt(2), FromInt(4), FromInt(1 << 40), MaxFixed} {
		check := func() {
			got := Sqrt(f)
			if f <= 0 {
				if got != 0 {
					t.Errorf("Sqrt(%d) = %d, want 0", f, got)
				}
				return
			}
			n := new(big.Int).Lsh(big.NewInt(int64(f)), 16)
			if want := new(big.Int).Sqrt(n).Int64(); int64(got) != want {
				t.Errorf("Sqrt(%d) = %d, want %d", f, got, want)
			}
		}
		check()
	}
	if Sqrt(FromInt(4)) != FromInt(2) {
		t.Error("Sqrt(4) != 2")
	}
	r := NewRand(3)
	for range 5000 {
		f := Fixed(r.Uint64() >> (1 + r.Uint64()%62))
		n := new(big.Int).Lsh(big.NewInt(int64(f)), 16)
		if want := new(big.Int).Sqrt(n).Int64(); int64(Sqrt(f)) != want {
			t.Fatalf("Sqrt(%d) = %d, want %d", f, Sqrt(f), want)
		}
	}
}

func TestIntFloorsAndHelpers(t *testing.T) {
	if (-Half).Int() != -1 || Half.Int() != 0 || FromInt(-3).Int() != -3 {
		t.Error("Int does not floor")
	}
	if Abs(-One) != One || Abs(MinFixed) != MaxFixed {
		t.Error("Abs")
	}
	if Min(One, -One) != -One || Max(One, -One) != One || Clamp(FromInt(5), -One, One) != One || Clamp(-FromInt(5), -One, One) != -One {
		t.Error("Min/Max/Clamp")
	}
	if FloorDiv(-7, 2) != -4 || FloorDiv(7, -2) != -4 || FloorDiv(7, 2) != 3 || FloorDiv(-8, 2) != -4 {
		t.Error("FloorDiv")
	}
	if FromFrac(1, 3) != 21845 || FromFrac(-1, 3) != -21846 {
		t.Errorf("FromFrac(±1, 3) = %d, %d", FromFrac(1, 3), FromFrac(-1, 3))
	}
	v := Vec2{FromInt(3), FromInt(-4)}
	if v.Len() != FromInt(5) || v.LenSq() != FromInt(25) {
		t.Errorf("Vec2 Len %d", v.Len())
	}
	w := Vec3{One, 0, 0}.Cross(Vec3{0, One, 0})
	if w != (Vec3{0, 0, One}) {
		t.Errorf("Cross = %v", w)
	}
	if math.Abs(float64(Sqrt(FromInt(2)))/65536-math.Sqrt2) > 1.0/65536 {
		t.Error("Sqrt(2)")
	}
}
