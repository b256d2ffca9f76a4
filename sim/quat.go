package sim

// Quat is a rotation quaternion with Fixed components. Unit quaternions keep
// every component within [-One, One]; Normalize restores that after integer
// rounding. The zero value is not a rotation; use QuatIdentity.
type Quat struct{ X, Y, Z, W Fixed }

// QuatIdentity is the rotation that does nothing.
var QuatIdentity = Quat{W: One}

// QuatYaw returns the rotation by angle a about the +Z axis.
func QuatYaw(a Angle) Quat {
	h := a / 2
	return Quat{Z: Sin(h), W: Cos(h)}
}

// Mul returns the Hamilton product q⊗p (apply p first, then q).
func (q Quat) Mul(p Quat) Quat {
	return Quat{
		X: Mul(q.W, p.X) + Mul(q.X, p.W) + Mul(q.Y, p.Z) - Mul(q.Z, p.Y),
		Y: Mul(q.W, p.Y) - Mul(q.X, p.Z) + Mul(q.Y, p.W) + Mul(q.Z, p.X),
		Z: Mul(q.W, p.Z) + Mul(q.X, p.Y) - Mul(q.Y, p.X) + Mul(q.Z, p.W),
		W: Mul(q.W, p.W) - Mul(q.X, p.X) - Mul(q.Y, p.Y) - Mul(q.Z, p.Z),
	}
}

// LenSq returns the squared norm of q.
func (q Quat) LenSq() Fixed {
	return Mul(q.X, q.X) + Mul(q.Y, q.Y) + Mul(q.Z, q.Z) + Mul(q.W, q.W)
}

// Normalize returns q scaled to unit length with every component clamped to
// [-One, One]. A zero quaternion normalizes to QuatIdentity.
func (q Quat) Normalize() Quat {
	n := Sqrt(q.LenSq())
	if n == 0 {
		return QuatIdentity
	}
	return Quat{
		X: Clamp(Div(q.X, n), -One, One),
		Y: Clamp(Div(q.Y, n), -One, One),
		Z: Clamp(Div(q.Z, n), -One, One),
		W: Clamp(Div(q.W, n), -One, One),
	}
}

// Integrate advances the rotation q by the angular velocity w (radians per
// unit of dt, in world axes) over dt: q + dt/2·(w⊗q), normalized.
func (q Quat) Integrate(w Vec3, dt Fixed) Quat {
	d := Quat{X: w.X, Y: w.Y, Z: w.Z}.Mul(q)
	h := dt / 2
	return Quat{
		X: q.X + Mul(d.X, h),
		Y: q.Y + Mul(d.Y, h),
		Z: q.Z + Mul(d.Z, h),
		W: q.W + Mul(d.W, h),
	}.Normalize()
}
