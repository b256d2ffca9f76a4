package codec

import "encoding/binary"

// BitWriter packs bits into a caller-owned byte slice.
//
// Bit order: the stream is least-significant-bit first. Bit i of the stream is
// bit (i mod 8) of byte i/8. A value of n bits is written least significant
// bit first. The writer collects bits in a 64-bit scratch word and stores them
// 32 bits at a time as little-endian words, which yields exactly that layout.
//
// A BitWriter never grows the buffer and never allocates: it writes into the
// spare capacity of the slice given to Reset, and a write past that capacity
// sets a sticky ErrOverflow. The zero value is ready after Reset. It is not safe
// for concurrent use.
type BitWriter struct {
	buf     []byte // destination, buf[:cap]
	start   int    // len of the slice given to Reset
	pos     int    // next byte to store a word at
	scratch uint64
	nbits   uint // valid bits in scratch (< 32 between calls)
	written int  // bits written since Reset
	limit   int  // capacity in bits
	err     error
}

// Reset prepares w to append bits after len(dst), within cap(dst).
func (w *BitWriter) Reset(dst []byte) {
	w.buf = dst[:cap(dst)]
	w.start = len(dst)
	w.pos = len(dst)
	w.scratch = 0
	w.nbits = 0
	w.written = 0
	w.limit = (cap(dst) - len(dst)) * 8
	w.err = nil
}

// WriteBits writes the low n bits of v, 0 <= n <= 32. Bits of v above n must be
// zero; the caller guarantees it (the ranged writers check their ranges).
func (w *BitWriter) WriteBits(v uint32, n uint) {
	if w.err != nil {
		return
	}
	if w.written+int(n) > w.limit {
		w.err = ErrOverflow
		return
	}
	w.scratch |= uint64(v) << w.nbits
	w.nbits += n
	w.written += int(n)
	if w.nbits >= 32 {
		binary.LittleEndian.PutUint32(w.buf[w.pos:], uint32(w.scratch))
		w.pos += 4
		w.scratch >>= 32
		w.nbits -= 32
	}
}

// WriteBool writes one bit.
func (w *BitWriter) WriteBool(b bool) {
	var v uint32
	if b {
		v = 1
	}
	w.WriteBits(v, 1)
}

// Align writes zero bits up to the next byte boundary.
func (w *BitWriter) Align() {
	if r := w.written % 8; r != 0 {
		w.WriteBits(0, uint(8-r))
	}
}

// WriteBytes aligns to a byte boundary and copies p.
func (w *BitWriter) WriteBytes(p []byte) {
	w.Align()
	if w.err != nil {
		return
	}
	if w.written+len(p)*8 > w.limit {
		w.err = ErrOverflow
		return
	}
	// Drain whole bytes from the scratch word, then copy directly.
	for w.nbits >= 8 {
		w.buf[w.pos] = byte(w.scratch)
		w.pos++
		w.scratch >>= 8
		w.nbits -= 8
	}
	w.pos += copy(w.buf[w.pos:], p)
	w.written += len(p) * 8
}

// BitsWritten reports the number of bits written since Reset.
func (w *BitWriter) BitsWritten() int { return w.written }

// Err reports the first error, if any.
func (w *BitWriter) Err() error { return w.err }

// Finish flushes the partial last byte (zero-padded) and returns the slice
// given to Reset extended by the written bytes. The returned slice aliases
// that slice's array. After an error it returns the original slice.
func (w *BitWriter) Finish() ([]byte, error) {
	if w.err != nil {
		return w.buf[:w.start], w.err
	}
	for w.nbits > 0 {
		w.buf[w.pos] = byte(w.scratch)
		w.pos++
		w.scratch >>= 8
		if w.nbits < 8 {
			w.nbits = 0
		} else {
			w.nbits -= 8
		}
	}
	return w.buf[:w.pos], nil
}
