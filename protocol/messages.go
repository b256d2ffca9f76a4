package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("protocol: malformed message")

// MsgType is the first byte of every reliable message.
type MsgType uint8

// Reliable message types. Client to server below 64, server to client from 64.
const (
	MsgAction   MsgType = 1  // client: one action for the world
	MsgDesync   MsgType = 2  // client: a snapshot did not rebuild the view the server described
	MsgRate     MsgType = 3  // client: asks for a snapshot rate and a bandwidth budget
	MsgDetail   MsgType = 4  // client: asks for fewer levels of detail in its view
	MsgWelcome  MsgType = 64 // server: who you are and how the room runs
	MsgResult   MsgType = 65 // server: what became of one action
	MsgBye      MsgType = 66 // server: the session ends, and why (transports without disconnect reasons of their own)
	MsgRedirect MsgType = 67 // server: connect to this other server of the mesh instead
)

// Limits of the fields, so that every message has a bounded size.
const (
	// MaxMessage is the largest reliable message this protocol produces.
	MaxMessage = 96
	// MaxRateHz bounds a requested snapshot rate.
	MaxRateHz = 240
	// MaxDetail is the number of levels of detail (codec.NumLODs): a
	// Detail of MaxDetail asks for all of them.
	MaxDetail = 4
)

// Action is a client's command. Seq is the client's own numbering (it names
// the action in the Result); the server chooses the frame.
type Action struct {
	Seq  uint32
	Kind uint16
	Args [4]int32
}

// Result reports what became of one action: applied (Status 1) at Frame,
// or fizzled (Status 2) with Reason. Value is action-specific: for a join,
// the id of the new ship.
type Result struct {
	Seq    uint32
	Frame  uint32
	Status uint8
	Reason uint8
	Value  uint32
}

// Result statuses.
const (
	Applied uint8 = 1
	Fizzled uint8 = 2
)

// Desync is a client's report that a snapshot failed to rebuild the view its
// checksum describes (Permanent: the mismatch outlived the repair window).
type Desync struct {
	Seq       uint16 // the snapshot's unreliable sequence
	Frame     uint32
	Permanent bool
}

// Rate asks the server for at most Hz snapshots per second and at most
// BytesPerSec of snapshot payload. The server clamps both to its own limits;
// zero means the server's default.
type Rate struct {
	Hz          uint32
	BytesPerSec uint32
}

// Welcome tells a client who it is and how the room runs. SchemaHash is
// the hash of the game's wire schema (codec.Schema.Hash): a client built
// for another schema must not go on (its snapshots would fail their
// checksums). Game holds the few bytes of the game's settings a client
// needs to build the same schema (for the demo game, demowire.Params); at
// most MaxGameParams.
type Welcome struct {
	Client      uint32 // the client's id in the room (Action.Client)
	Frame       uint32 // the room's current frame
	TickHz      uint32
	SnapshotHz  uint32
	BytesPerSec uint32
	InputDelay  uint32 // frames between receipt and the frame an action applies to
	SchemaHash  uint64
	Game        []byte
}

// MaxGameParams bounds Welcome.Game.
const MaxGameParams = 32

// Type returns the type of a reliable message, or an error for an empty one.
func Type(msg []byte) (MsgType, error) {
	if len(msg) == 0 {
		return 0, fmt.Errorf("%w: empty", ErrMalformed)
	}
	return MsgType(msg[0]), nil
}

// AppendAction appends the encoding of a to b:
//
//	[type 1] [seq uvarint] [kind uvarint] [4 args, zigzag varint each]
func AppendAction(b []byte, a *Action) []byte {
	b = append(b, byte(MsgAction))
	b = binary.AppendUvarint(b, uint64(a.Seq))
	b = binary.AppendUvarint(b, uint64(a.Kind))
	for _, v := range a.Args {
		b = binary.AppendVarint(b, int64(v))
	}
	return b
}

// ParseAction decodes an Action message.
func ParseAction(msg []byte, a *Action) error {
	r := reader{b: msg}
	r.expect(MsgAction)
	a.Seq = r.u32()
	a.Kind = uint16(r.uvar(1<<16 - 1))
	for i := range a.Args {
		a.Args[i] = r.i32()
	}
	return r.done("action")
}

// AppendResult appends the encoding of res to b:
//
//	[type 65] [seq uvarint] [frame u32] [status u8] [reason u8] [value uvarint]
func AppendResult(b []byte, res *Result) []byte {
	b = append(b, byte(MsgResult))
	b = binary.AppendUvarint(b, uint64(res.Seq))
	b = binary.LittleEndian.AppendUint32(b, res.Frame)
	b = append(b, res.Status, res.Reason)
	return binary.AppendUvarint(b, uint64(res.Value))
}

// ParseResult decodes a Result message.
func ParseResult(msg []byte, res *Result) error {
	r := reader{b: msg}
	r.expect(MsgResult)
	res.Seq = r.u32()
	res.Frame = r.fixed32()
	res.Status = r.byte()
	res.Reason = r.byte()
	res.Value = r.u32()
	if r.err == nil && res.Status != Applied && res.Status != Fizzled {
		r.fail("status %d", res.Status)
	}
	return r.done("result")
}

// AppendDesync appends the encoding of d to b:
//
//	[type 2] [seq u16] [frame u32] [permanent u8: 0 or 1]
func AppendDesync(b []byte, d *Desync) []byte {
	b = append(b, byte(MsgDesync))
	b = binary.LittleEndian.AppendUint16(b, d.Seq)
	b = binary.LittleEndian.AppendUint32(b, d.Frame)
	if d.Permanent {
		return append(b, 1)
	}
	return append(b, 0)
}

// ParseDesync decodes a Desync message.
func ParseDesync(msg []byte, d *Desync) error {
	r := reader{b: msg}
	r.expect(MsgDesync)
	d.Seq = uint16(r.fixed16())
	d.Frame = r.fixed32()
	p := r.byte()
	if r.err == nil && p > 1 {
		r.fail("permanent flag %d", p)
	}
	d.Permanent = p == 1
	return r.done("desync")
}

// AppendRate appends the encoding of q to b:
//
//	[type 3] [hz uvarint, 0..MaxRateHz] [bytes per second uvarint]
func AppendRate(b []byte, q *Rate) []byte {
	b = append(b, byte(MsgRate))
	b = binary.AppendUvarint(b, uint64(q.Hz))
	return binary.AppendUvarint(b, uint64(q.BytesPerSec))
}

// ParseRate decodes a Rate message.
func ParseRate(msg []byte, q *Rate) error {
	r := reader{b: msg}
	r.expect(MsgRate)
	q.Hz = uint32(r.uvar(MaxRateHz))
	q.BytesPerSec = r.u32()
	return r.done("rate")
}

// Detail asks the server to send only the entities of the Tiers finest
// levels of detail the game gives (1: the full-detail ring alone,
// MaxDetail: everything, the default): the client's interest, traded
// against its bandwidth.
type Detail struct {
	Tiers uint8
}

// AppendDetail appends the encoding of d to b:
//
//	[type 4] [tiers u8, 1..MaxDetail]
func AppendDetail(b []byte, d *Detail) []byte {
	return append(b, byte(MsgDetail), d.Tiers)
}

// ParseDetail decodes a Detail message.
func ParseDetail(msg []byte, d *Detail) error {
	r := reader{b: msg}
	r.expect(MsgDetail)
	d.Tiers = r.byte()
	if r.err == nil && (d.Tiers < 1 || d.Tiers > MaxDetail) {
		r.fail("detail: %d tiers outside 1..%d", d.Tiers, MaxDetail)
	}
	return r.done("detail")
}

// AppendWelcome appends the encoding of w to b:
//
//	[type 64] [client u32] [frame u32] [tick hz uvarint] [snapshot hz uvarint]
//	[bytes per second uvarint] [input delay uvarint] [schema hash u64]
//	[game params length uvarint, ≤ MaxGameParams] [game params]
//
// Game params beyond MaxGameParams bytes are cut (New callers keep them
// within it).
func AppendWelcome(b []byte, w *Welcome) []byte {
	b = append(b, byte(MsgWelcome))
	b = binary.LittleEndian.AppendUint32(b, w.Client)
	b = binary.LittleEndian.AppendUint32(b, w.Frame)
	b = binary.AppendUvarint(b, uint64(w.TickHz))
	b = binary.AppendUvarint(b, uint64(w.SnapshotHz))
	b = binary.AppendUvarint(b, uint64(w.BytesPerSec))
	b = binary.AppendUvarint(b, uint64(w.InputDelay))
	b = binary.LittleEndian.AppendUint64(b, w.SchemaHash)
	g := w.Game[:min(len(w.Game), MaxGameParams)]
	b = binary.AppendUvarint(b, uint64(len(g)))
	return append(b, g...)
}

// ParseWelcome decodes a Welcome message. Rates must be positive. The game
// params are copied into w.Game's array (reused when it has room), so w
// does not keep msg.
func ParseWelcome(msg []byte, w *Welcome) error {
	r := reader{b: msg}
	r.expect(MsgWelcome)
	w.Client = r.fixed32()
	w.Frame = r.fixed32()
	w.TickHz = uint32(r.uvar(MaxRateHz))
	w.SnapshotHz = uint32(r.uvar(MaxRateHz))
	w.BytesPerSec = r.u32()
	w.InputDelay = uint32(r.uvar(1 << 16))
	w.SchemaHash = r.fixed64()
	n := int(r.uvar(MaxGameParams))
	w.Game = append(w.Game[:0], r.bytes(n)...)
	if r.err == nil && (w.TickHz == 0 || w.SnapshotHz == 0) {
		r.fail("zero rate")
	}
	return r.done("welcome")
}

// Bye tells a client why its session ends, on a transport that has no
// disconnect reasons of its own (a browser's data channels). Reason is one
// of netcode's disconnect reasons (STANDARD.md 3.6).
type Bye struct{ Reason uint8 }

// AppendBye appends the encoding of y to b: [type 66] [reason u8].
func AppendBye(b []byte, y *Bye) []byte { return append(b, byte(MsgBye), y.Reason) }

// ParseBye decodes a Bye message.
func ParseBye(msg []byte, y *Bye) error {
	r := reader{b: msg}
	r.expect(MsgBye)
	y.Reason = r.byte()
	return r.done("bye")
}

// MaxRedirectAddr bounds the address text of a Redirect.
const MaxRedirectAddr = 47

// Redirect tells a client, instead of a Welcome, to connect to another
// member of the server's mesh (a less loaded one): Addr is its UDP
// address.
type Redirect struct {
	Addr netip.AddrPort
}

// AppendRedirect appends the encoding of d to b:
//
//	[type 67] [address length u8, ≤ 47] [address, text: ip:port or [ip6]:port]
func AppendRedirect(b []byte, d *Redirect) []byte {
	s := d.Addr.String()
	b = append(b, byte(MsgRedirect), byte(len(s)))
	return append(b, s...)
}

// ParseRedirect decodes a Redirect message.
func ParseRedirect(msg []byte, d *Redirect) error {
	r := reader{b: msg}
	r.expect(MsgRedirect)
	n := int(r.byte())
	if r.err == nil && n > MaxRedirectAddr {
		r.fail("address of %d bytes", n)
	}
	text := r.bytes(n)
	if r.err == nil {
		a, err := netip.ParseAddrPort(string(text))
		if err != nil || a.Port() == 0 {
			r.fail("address %q", text)
		}
		d.Addr = a
	}
	return r.done("redirect")
}

// AppendAcks appends the acknowledgement a client sends on an unreliable
// channel that does not acknowledge by itself (a browser's): the snapshot
// sequences it accepted, [seq u16]..., at most MaxAcks.
func AppendAcks(b []byte, seqs ...uint16) []byte {
	for _, s := range seqs[:min(len(seqs), MaxAcks)] {
		b = binary.LittleEndian.AppendUint16(b, s)
	}
	return b
}

// MaxAcks bounds the sequences of one acknowledgement message.
const MaxAcks = 32

// ParseAcks calls f with each sequence of an acknowledgement message. It
// fails, calling f for none, unless msg is 1..MaxAcks whole sequences.
func ParseAcks(msg []byte, f func(seq uint16)) error {
	if len(msg) == 0 || len(msg)%2 != 0 || len(msg) > 2*MaxAcks {
		return fmt.Errorf("acks: %w: %d bytes", ErrMalformed, len(msg))
	}
	for i := 0; i < len(msg); i += 2 {
		f(binary.LittleEndian.Uint16(msg[i:]))
	}
	return nil
}

// reader decodes with a sticky error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (r *reader) expect(t MsgType) {
	if len(r.b) == 0 || MsgType(r.b[0]) != t {
		r.fail("not a type %d message", t)
		return
	}
	r.b = r.b[1:]
}

func (r *reader) byte() uint8 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 1 {
		r.fail("truncated")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) fixed16() uint16 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 2 {
		r.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) fixed32() uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 4 {
		r.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) fixed64() uint64 {
	lo := r.fixed32()
	return uint64(lo) | uint64(r.fixed32())<<32
}

// bytes returns the next n bytes (aliasing the message).
func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.fail("truncated")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// uvar reads an unsigned varint no larger than max.
func (r *reader) uvar(max uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	if v > max {
		r.fail("value %d over %d", v, max)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) u32() uint32 { return uint32(r.uvar(1<<32 - 1)) }

func (r *reader) i64() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) i32() int32 {
	v := r.i64()
	if v < -1<<31 || v > 1<<31-1 {
		r.fail("value %d outside int32", v)
		return 0
	}
	return int32(v)
}

func (r *reader) done(what string) error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return fmt.Errorf("%s: %w", what, r.err)
	}
	return nil
}

// Fizzle reasons the server gives itself; games use values below 240.
const (
	// ReasonBusy: the client already has the most actions awaiting their
	// frame that the server allows, the frame's quota is spent, or the
	// client is not yet proven (it has acknowledged no snapshot).
	ReasonBusy uint8 = 240
	// ReasonGone is reserved: a server that drops frames it cannot catch
	// up with answers their actions with it. Flotilla's room steps late
	// frames with their actions instead, and never sends it.
	ReasonGone uint8 = 241
	// ReasonReserved: the action's kind is the server's own (a game's join
	// and leave): clients may not send it.
	ReasonReserved uint8 = 242
)
