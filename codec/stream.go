package codec

import "math/bits"

// Mode says what a Stream does with the values handed to it.
type Mode uint8

const (
	// Writing: values are packed into the destination buffer.
	Writing Mode = iota
	// Reading: values are unpacked from the source buffer into the pointers.
	Reading
	// Measuring: nothing is stored; the stream counts the bits a write would
	// take. The count is exact for every method, so it is a safe upper bound.
	Measuring
)

// Stream is the one serializer a message is written against: the same routine
// writes, reads or measures a message depending on the stream's mode, so the
// three can never disagree. Every method takes a pointer: in Writing and
// Measuring mode it reads the value, in Reading mode it stores the value.
//
// Errors are sticky: after the first error every call is a no-op and Err
// reports it. A Stream allocates nothing; it is not safe for concurrent use.
type Stream struct {
	mode     Mode
	w        BitWriter
	r        BitReader
	measured int
	err      error
}

// ResetWrite switches s to Writing into the spare capacity of dst.
func (s *Stream) ResetWrite(dst []byte) {
	s.mode = Writing
	s.w.Reset(dst)
	s.err = nil
}

// ResetRead switches s to Reading from src.
func (s *Stream) ResetRead(src []byte) {
	s.mode = Reading
	s.r.Reset(src)
	s.err = nil
}

// ResetMeasure switches s to Measuring with a count of zero.
func (s *Stream) ResetMeasure() {
	s.mode = Measuring
	s.measured = 0
	s.err = nil
}

// Mode reports the stream's mode.
func (s *Stream) Mode() Mode { return s.mode }

// IsReading reports whether values flow from the input into the pointers.
func (s *Stream) IsReading() bool { return s.mode == Reading }

// Err returns the first error of the stream.
func (s *Stream) Err() error {
	if s.err != nil {
		return s.err
	}
	switch s.mode {
	case Writing:
		return s.w.Err()
	case Reading:
		return s.r.Err()
	}
	return nil
}

// Fail records err as the stream's error unless it already has one. Message
// routines use it to report semantic errors (bad ids, unknown kinds).
func (s *Stream) Fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// Bits returns the bit count: written or read so far, or measured.
func (s *Stream) Bits() int {
	switch s.mode {
	case Writing:
		return s.w.BitsWritten()
	case Reading:
		return s.r.BitsRead()
	}
	return s.measured
}

// Finish ends the message. Writing: flushes and returns dst extended by the
// message. Reading: checks that only zero padding (under 8 bits) is left.
// Measuring: returns nil.
func (s *Stream) Finish() ([]byte, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	switch s.mode {
	case Writing:
		return s.w.Finish()
	case Reading:
		return nil, s.r.Finish()
	}
	return nil, nil
}

// Raw serializes the low n bits of *v, 0 <= n <= 32. On write, bits of *v
// above n must be zero or the write fails with ErrWriteRange.
func (s *Stream) Raw(v *uint32, n uint) {
	if s.err != nil {
		return
	}
	if s.mode != Reading && n < 32 && *v>>n != 0 {
		s.err = ErrWriteRange
		return
	}
	switch s.mode {
	case Writing:
		s.w.WriteBits(*v, n)
	case Reading:
		*v = s.r.ReadBits(n)
	default:
		s.measured += int(n)
	}
}

// Bool serializes one bit.
func (s *Stream) Bool(v *bool) {
	var u uint32
	if *v {
		u = 1
	}
	s.Raw(&u, 1)
	if s.mode == Reading {
		*v = u == 1
	}
}

// BitsFor returns the number of bits needed for values 0..span.
func BitsFor(span uint32) uint { return uint(bits.Len32(span)) }

// Int serializes *v in the inclusive range [min, max] with
// BitsFor(max-min) bits, as the offset v-min. Writing a value outside the
// range fails with ErrWriteRange (a caller bug); reading an offset larger than
// max-min fails with ErrRange (bad input).
func (s *Stream) Int(v *int32, min, max int32) {
	span := uint32(max - min)
	n := BitsFor(span)
	u := uint32(*v - min)
	if s.mode != Reading && (*v < min || *v > max) {
		s.Fail(ErrWriteRange)
		return
	}
	s.Raw(&u, n)
	if s.mode == Reading && s.err == nil {
		if u > span {
			s.err = ErrRange
			return
		}
		*v = int32(uint32(min) + u)
	}
}

// Uint serializes *v in [0, max].
func (s *Stream) Uint(v *uint32, max uint32) {
	n := BitsFor(max)
	if s.mode != Reading && *v > max {
		s.Fail(ErrWriteRange)
		return
	}
	s.Raw(v, n)
	if s.mode == Reading && s.err == nil && *v > max {
		s.err = ErrRange
	}
}

// Varint serializes *v in groups of 7 bits, least significant group first,
// each followed by a continuation bit. At most 5 groups; the fifth may carry
// only the 4 remaining bits of a uint32 and no continuation.
func (s *Stream) Varint(v *uint32) {
	if s.err != nil {
		return
	}
	if s.mode != Reading {
		x := *v
		for {
			group := x & 0x7f
			x >>= 7
			more := x != 0
			s.Raw(&group, 7)
			s.Bool(&more)
			if !more {
				return
			}
		}
	}
	var x uint32
	for i := uint(0); i < 5; i++ {
		var group uint32
		var more bool
		s.Raw(&group, 7)
		s.Bool(&more)
		if s.err != nil {
			return
		}
		if i == 4 && (group > 0xf || more) {
			s.err = ErrVarint
			return
		}
		x |= group << (7 * i)
		if !more {
			*v = x
			return
		}
	}
}

// Zigzag maps signed to unsigned so small magnitudes get small codes:
// 0, -1, 1, -2, 2 ... become 0, 1, 2, 3, 4 ...
func Zigzag(v int32) uint32 { return uint32(v<<1) ^ uint32(v>>31) }

// Unzigzag inverts Zigzag.
func Unzigzag(u uint32) int32 { return int32(u>>1) ^ -int32(u&1) }

// SVarint serializes a signed *v as the Varint of its Zigzag code.
func (s *Stream) SVarint(v *int32) {
	u := Zigzag(*v)
	s.Varint(&u)
	if s.mode == Reading && s.err == nil {
		*v = Unzigzag(u)
	}
}

// Align pads with zero bits up to a byte boundary; on read the padding must
// be zero.
func (s *Stream) Align() {
	if s.err != nil {
		return
	}
	switch s.mode {
	case Writing:
		s.w.Align()
	case Reading:
		s.r.Align()
	default:
		s.measured += (8 - s.measured%8) % 8
	}
}

// Bytes aligns to a byte boundary and serializes len(p) bytes.
func (s *Stream) Bytes(p []byte) {
	if s.err != nil {
		return
	}
	switch s.mode {
	case Writing:
		s.w.WriteBytes(p)
	case Reading:
		s.r.ReadBytes(p)
	default:
		s.Align()
		s.measured += len(p) * 8
	}
}
