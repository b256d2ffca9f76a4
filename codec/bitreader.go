package codec

import "encoding/binary"

// BitReader reads bits written by a BitWriter from a caller-owned slice.
//
// Reading past the end of the input sets a sticky ErrEOF and returns zeros; it
// never panics. The reader never allocates and never keeps the slice beyond
// the next Reset. It is not safe for concurrent use.
type BitReader struct {
	buf     []byte
	pos     int // next byte to load into scratch
	scratch uint64
	nbits   uint // valid bits in scratch
	read    int  // bits consumed since Reset
	err     error
}

// Reset prepares r to read src from its first bit.
func (r *BitReader) Reset(src []byte) {
	r.buf = src
	r.pos = 0
	r.scratch = 0
	r.nbits = 0
	r.read = 0
	r.err = nil
}

// refill loads input into scratch until it holds at least 32 bits or the
// input is exhausted.
func (r *BitReader) refill() {
	if r.pos+4 <= len(r.buf) {
		r.scratch |= uint64(binary.LittleEndian.Uint32(r.buf[r.pos:])) << r.nbits
		r.pos += 4
		r.nbits += 32
		return
	}
	for r.nbits <= 56 && r.pos < len(r.buf) {
		r.scratch |= uint64(r.buf[r.pos]) << r.nbits
		r.pos++
		r.nbits += 8
	}
}

// ReadBits reads n bits, 0 <= n <= 32.
func (r *BitReader) ReadBits(n uint) uint32 {
	if r.err != nil {
		return 0
	}
	if r.nbits < n {
		r.refill()
		if r.nbits < n {
			r.err = ErrEOF
			return 0
		}
	}
	v := uint32(r.scratch & (1<<n - 1))
	r.scratch >>= n
	r.nbits -= n
	r.read += int(n)
	return v
}

// ReadBool reads one bit.
func (r *BitReader) ReadBool() bool { return r.ReadBits(1) == 1 }

// Align skips to the next byte boundary; the skipped bits must be zero.
func (r *BitReader) Align() {
	if rem := r.read % 8; rem != 0 {
		if r.ReadBits(uint(8-rem)) != 0 && r.err == nil {
			r.err = ErrPadding
		}
	}
}

// ReadBytes aligns to a byte boundary and copies len(p) bytes into p.
func (r *BitReader) ReadBytes(p []byte) {
	r.Align()
	if r.err != nil {
		return
	}
	if r.read/8+len(p) > len(r.buf) {
		r.err = ErrEOF
		return
	}
	// Whole bytes still in scratch come first, then the rest of the buffer.
	i := 0
	for r.nbits >= 8 && i < len(p) {
		p[i] = byte(r.scratch)
		r.scratch >>= 8
		r.nbits -= 8
		i++
	}
	if i < len(p) {
		n := copy(p[i:], r.buf[r.pos:])
		r.pos += n
	}
	r.read += len(p) * 8
}

// BitsRead reports the number of bits consumed since Reset.
func (r *BitReader) BitsRead() int { return r.read }

// Err reports the first error, if any.
func (r *BitReader) Err() error { return r.err }

// Finish checks that the message ended where the input does: fewer than 8
// bits remain and they are all zero. It returns the first error seen.
func (r *BitReader) Finish() error {
	if r.err != nil {
		return r.err
	}
	rem := len(r.buf)*8 - r.read
	if rem >= 8 {
		return ErrTrailing
	}
	if rem > 0 && r.ReadBits(uint(rem)) != 0 {
		return ErrPadding
	}
	return r.err
}
