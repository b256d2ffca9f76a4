package sim

import "testing"

func TestQuatIntegrateStaysUnit(t *testing.T) {
	q := QuatYaw(12345)
	w := Vec3{One / 20, -One / 30, One / 7}
	for i := range 5000 {
		q = q.Integrate(w, One)
		if d := Abs(q.LenSq() - One); d > 16 {
			t.Fatalf("step %d: |q|² = %d (off by %d)", i, q.LenSq(), d)
		}
		for _, c := range []Fixed{q.X, q.Y, q.Z, q.W} {
			if c < -One || c > One {
				t.Fatalf("component %d out of range", c)
			}
		}
	}
}

func TestQuatMulAndYaw(t *testing.T) {
	if QuatIdentity.Mul(QuatYaw(1000)) != QuatYaw(1000) {
		t.Error("identity")
	}
	q := QuatYaw(QuarterTurn).Mul(QuatYaw(QuarterTurn))
	h := QuatYaw(HalfTurn)
	if Abs(q.Z-h.Z) > 2 || Abs(q.W-h.W) > 2 {
		t.Errorf("two quarter yaws %v, half yaw %v", q, h)
	}
	if (Quat{}).Normalize() != QuatIdentity {
		t.Error("zero normalizes to identity")
	}
	if QuatIdentity.Integrate(Vec3{}, One) != QuatIdentity {
		t.Error("no spin must not change the rotation")
	}
}
