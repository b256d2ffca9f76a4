package codec

import (
	"errors"
	"fmt"
)

// Errors returned by the bit stream and the snapshot codec. Errors on the read
// side mean the input is bad (truncated, out of range, inconsistent with the
// baseline); errors on the write side mean the caller passed something the
// format cannot carry or a buffer that is too small. Match them with errors.Is.
var (
	// ErrEOF: a read went past the end of the input.
	ErrEOF = errors.New("codec: read past end of input")
	// ErrOverflow: a write went past the capacity of the destination buffer.
	ErrOverflow = errors.New("codec: write past end of buffer")
	// ErrRange: a value read from the input lies outside its declared range.
	ErrRange = errors.New("codec: value out of declared range")
	// ErrWriteRange: the caller asked to write a value outside its declared range.
	ErrWriteRange = errors.New("codec: value to write is out of declared range")
	// ErrVarint: a variable-length integer is longer than its type allows.
	ErrVarint = errors.New("codec: malformed varint")
	// ErrPadding: alignment or trailing padding bits are not zero.
	ErrPadding = errors.New("codec: non-zero padding bits")
	// ErrTrailing: input continues after the end of the message.
	ErrTrailing = errors.New("codec: trailing bytes after message")
	// ErrSchema: a schema declaration or description is invalid.
	ErrSchema = errors.New("codec: invalid schema")
	// ErrView: a view handed to the encoder breaks the view rules
	// (ids not strictly increasing, unknown kind, too many entities).
	ErrView = errors.New("codec: invalid view")
	// ErrCorrupt: the input decodes but contradicts itself or its baseline
	// (unknown entity kind, update of an id the baseline does not hold,
	// ids out of order, too many entities).
	ErrCorrupt = errors.New("codec: corrupt snapshot")
	// ErrChecksum: the rebuilt view does not hash to the checksum the sender sent.
	ErrChecksum = errors.New("codec: checksum mismatch")
)

// Errors returned, wrapped with detail, by the quantizers' Validate methods.
// Match them with errors.Is.
var (
	// ErrQuantFracBits: FracBits is outside what the quantizer supports.
	ErrQuantFracBits = errors.New("codec: quantizer fraction bits out of range")
	// ErrQuantPrecision: Precision exceeds FracBits.
	ErrQuantPrecision = errors.New("codec: quantizer precision exceeds fraction bits")
	// ErrQuantRange: the value range is empty (Min > Max, or a negative Max).
	ErrQuantRange = errors.New("codec: quantizer range is empty")
	// ErrQuantWireRange: the wire values of the range do not fit in an int32.
	ErrQuantWireRange = errors.New("codec: quantizer wire range does not fit int32")
	// ErrQuantBits: Bits is outside what the quantizer supports.
	ErrQuantBits = errors.New("codec: quantizer bit width out of range")
)

var errNoBaseline = fmt.Errorf("%w: delta snapshot without a baseline", ErrCorrupt)

// corrupt wraps ErrCorrupt with detail. It allocates, but only on the error
// path of bad input.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
