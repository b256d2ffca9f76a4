package sim

// Vec2 is a 2D vector of Fixed components.
type Vec2 struct{ X, Y Fixed }

// Add returns v+u.
func (v Vec2) Add(u Vec2) Vec2 { return Vec2{v.X + u.X, v.Y + u.Y} }

// Sub returns v-u.
func (v Vec2) Sub(u Vec2) Vec2 { return Vec2{v.X - u.X, v.Y - u.Y} }

// Scale returns v*s (each component rounded toward negative infinity).
func (v Vec2) Scale(s Fixed) Vec2 { return Vec2{Mul(v.X, s), Mul(v.Y, s)} }

// Dot returns the dot product v·u.
func (v Vec2) Dot(u Vec2) Fixed { return Mul(v.X, u.X) + Mul(v.Y, u.Y) }

// LenSq returns |v|².
func (v Vec2) LenSq() Fixed { return v.Dot(v) }

// Len returns |v|, rounded down.
func (v Vec2) Len() Fixed { return Sqrt(v.LenSq()) }

// IsZero reports whether both components are exactly zero.
func (v Vec2) IsZero() bool { return v.X == 0 && v.Y == 0 }

// Vec3 is a 3D vector of Fixed components.
type Vec3 struct{ X, Y, Z Fixed }

// Add returns v+u.
func (v Vec3) Add(u Vec3) Vec3 { return Vec3{v.X + u.X, v.Y + u.Y, v.Z + u.Z} }

// Sub returns v-u.
func (v Vec3) Sub(u Vec3) Vec3 { return Vec3{v.X - u.X, v.Y - u.Y, v.Z - u.Z} }

// Scale returns v*s (each component rounded toward negative infinity).
func (v Vec3) Scale(s Fixed) Vec3 { return Vec3{Mul(v.X, s), Mul(v.Y, s), Mul(v.Z, s)} }

// Dot returns the dot product v·u.
func (v Vec3) Dot(u Vec3) Fixed { return Mul(v.X, u.X) + Mul(v.Y, u.Y) + Mul(v.Z, u.Z) }

// Cross returns the cross product v×u.
func (v Vec3) Cross(u Vec3) Vec3 {
	return Vec3{
		Mul(v.Y, u.Z) - Mul(v.Z, u.Y),
		Mul(v.Z, u.X) - Mul(v.X, u.Z),
		Mul(v.X, u.Y) - Mul(v.Y, u.X),
	}
}

// LenSq returns |v|².
func (v Vec3) LenSq() Fixed { return v.Dot(v) }

// Len returns |v|, rounded down.
func (v Vec3) Len() Fixed { return Sqrt(v.LenSq()) }

// IsZero reports whether all components are exactly zero.
func (v Vec3) IsZero() bool { return v.X == 0 && v.Y == 0 && v.Z == 0 }
