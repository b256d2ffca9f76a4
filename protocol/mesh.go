package protocol

import (
	"encoding/binary"
	"fmt"
)

// Mesh messages go between servers of one mesh, on a peer session's
// reliable channel (STANDARD.md, section 6). Their types are from 128 up: a
// client session that sends one ends with reason protocol, and a peer
// session takes nothing else.
const (
	MsgHello MsgType = 128 // peer: who I am and what world I step
	MsgBatch MsgType = 129 // peer: my local clients' actions for one frame (one chunk)
)

// MeshVersion is the version of the mesh messages a Hello announces.
const MeshVersion = 1

// Limits of a batch.
const (
	// MaxBatchChunks bounds the chunks of one frame's batch.
	MaxBatchChunks = 255
	// MaxBatchActions bounds the actions of one chunk.
	MaxBatchActions = 4096
	// BatchHeadSize is the most bytes a chunk takes besides its actions
	// (its commands included).
	BatchHeadSize = 1 + 4 + 1 + 1 + 4 + 8 + binary.MaxVarintLen16 + 1 + MaxBatchCommands*batchCommandSize
	// MaxBatchActionSize is the most bytes one action of a batch takes.
	MaxBatchActionSize = 2*binary.MaxVarintLen32 + 3 + 4*binary.MaxVarintLen32
	// minBatchActionSize is the fewest bytes one action of a batch takes.
	minBatchActionSize = 7
	// MaxBatchCommands bounds the commands of one chunk.
	MaxBatchCommands = 16
	// batchCommandSize is the size of one command.
	batchCommandSize = 1 + 2 + 4
)

// Command kinds: changes to the mesh that travel in band, in a member's
// batch for frame F, and apply on every member at the same frame.
const (
	// CmdLeave: the sending member leaves the mesh after F: its batch for
	// F is its last, and no member waits for it from F+1 on. (Member and
	// Client are 0.)
	CmdLeave uint8 = 1
	// CmdLoad: the sender serves Client clients (Member is the sender's
	// id): its peers point connecting clients to the least loaded member
	// (Redirect). Sent four times a second.
	CmdLoad uint8 = 2
	// CmdPing: the sender (Member) asks every peer to echo Client, a stamp
	// of its own clock in milliseconds, in a CmdPong of its next batch: the
	// round-trip time as the mesh lives it (the network's, plus the wait
	// for the peer's next batch). Sent with CmdLoad.
	CmdPing uint8 = 3
	// CmdPong answers Member's CmdPing, echoing its Client.
	CmdPong uint8 = 4
)

// Command is one in-band change to the mesh. Kinds a member does not know
// end the peer session (the batch is malformed to it).
type Command struct {
	Kind   uint8
	Member uint16
	Client uint32
}

// Hello opens a peer session, both ways: the members check that they are
// configured alike and start from the same world before any batch.
type Hello struct {
	Version    uint8
	Member     uint16 // the sender's member id
	Members    uint16 // how many members the mesh has
	Membership uint64 // hash of the membership (ids and addresses)
	Schema     uint64 // hash of the game's wire schema
	InputDelay uint8
	Frame      uint32 // the frame the sender's world is at
	World      uint64 // the sender's world hash at Frame
}

// AppendHello appends the encoding of h to b:
//
//	[type 128] [version u8] [member u16] [members u16] [membership u64]
//	[schema u64] [input delay u8] [frame u32] [world u64]
func AppendHello(b []byte, h *Hello) []byte {
	le := binary.LittleEndian
	b = append(b, byte(MsgHello), h.Version)
	b = le.AppendUint16(b, h.Member)
	b = le.AppendUint16(b, h.Members)
	b = le.AppendUint64(b, h.Membership)
	b = le.AppendUint64(b, h.Schema)
	b = append(b, h.InputDelay)
	b = le.AppendUint32(b, h.Frame)
	return le.AppendUint64(b, h.World)
}

// ParseHello decodes a Hello message.
func ParseHello(msg []byte, h *Hello) error {
	r := reader{b: msg}
	r.expect(MsgHello)
	h.Version = r.byte()
	h.Member = r.fixed16()
	h.Members = r.fixed16()
	h.Membership = r.fixed64()
	h.Schema = r.fixed64()
	h.InputDelay = r.byte()
	h.Frame = r.fixed32()
	h.World = r.fixed64()
	if r.err == nil && (h.Member == 0 || h.Members == 0) {
		r.fail("member %d of %d", h.Member, h.Members)
	}
	return r.done("hello")
}

// BatchAction is one action of a batch: its origin is the sending member
// and its frame the batch's.
type BatchAction struct {
	Client uint32
	Seq    uint32
	Kind   uint16
	Args   [4]int32
}

// Batch is one chunk of a member's batch for one frame: the actions its
// local clients (and the member itself: joins, leaves) stamped for Frame,
// split into Chunks chunks in order, and the world hash of a frame the
// member has stepped (HashFrame 0: none carried).
type Batch struct {
	Frame     uint32
	Chunk     uint8 // 0 .. Chunks-1
	Chunks    uint8 // 1 .. MaxBatchChunks
	HashFrame uint32
	Hash      uint64
	Actions   []BatchAction
	Commands  []Command
}

// BatchActionSize is how many bytes a takes in a batch.
func BatchActionSize(a *BatchAction) int {
	n := uvarLen(uint64(a.Client)) + uvarLen(uint64(a.Seq)) + uvarLen(uint64(a.Kind))
	for _, v := range a.Args {
		n += varLen(int64(v))
	}
	return n
}

func uvarLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func varLen(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarLen(u)
}

// AppendBatch appends the encoding of chunk b (its Actions included) to
// dst:
//
//	[type 129] [frame u32] [chunk u8] [chunks u8] [hash frame u32] [hash u64]
//	[count uvarint, ≤ 4096] count × ([client uvarint] [seq uvarint]
//	[kind uvarint, ≤ 65535] [4 args, zigzag varint each])
//	[commands uvarint, ≤ 16] commands × ([kind u8] [member u16] [client u32])
func AppendBatch(dst []byte, b *Batch) []byte {
	le := binary.LittleEndian
	dst = append(dst, byte(MsgBatch))
	dst = le.AppendUint32(dst, b.Frame)
	dst = append(dst, b.Chunk, b.Chunks)
	dst = le.AppendUint32(dst, b.HashFrame)
	dst = le.AppendUint64(dst, b.Hash)
	dst = binary.AppendUvarint(dst, uint64(len(b.Actions)))
	for i := range b.Actions {
		a := &b.Actions[i]
		dst = binary.AppendUvarint(dst, uint64(a.Client))
		dst = binary.AppendUvarint(dst, uint64(a.Seq))
		dst = binary.AppendUvarint(dst, uint64(a.Kind))
		for _, v := range a.Args {
			dst = binary.AppendVarint(dst, int64(v))
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Commands)))
	for _, c := range b.Commands {
		dst = append(dst, c.Kind)
		dst = le.AppendUint16(dst, c.Member)
		dst = le.AppendUint32(dst, c.Client)
	}
	return dst
}

// ParseBatch decodes a Batch message into b, reusing b.Actions' array: in
// steady state it allocates nothing.
func ParseBatch(msg []byte, b *Batch) error {
	r := reader{b: msg}
	r.expect(MsgBatch)
	b.Frame = r.fixed32()
	b.Chunk = r.byte()
	b.Chunks = r.byte()
	b.HashFrame = r.fixed32()
	b.Hash = r.fixed64()
	n := int(r.uvar(MaxBatchActions))
	if r.err == nil && n > len(r.b)/minBatchActionSize {
		r.fail("%d actions in %d bytes", n, len(r.b))
	}
	if r.err == nil && (b.Chunks == 0 || b.Chunk >= b.Chunks) {
		r.fail("chunk %d of %d", b.Chunk, b.Chunks)
	}
	b.Actions = b.Actions[:0]
	for i := 0; i < n && r.err == nil; i++ {
		var a BatchAction
		a.Client = r.u32()
		a.Seq = r.u32()
		a.Kind = uint16(r.uvar(1<<16 - 1))
		for k := range a.Args {
			a.Args[k] = r.i32()
		}
		b.Actions = append(b.Actions, a)
	}
	b.Commands = b.Commands[:0]
	nc := int(r.uvar(MaxBatchCommands))
	for i := 0; i < nc && r.err == nil; i++ {
		c := Command{Kind: r.byte(), Member: r.fixed16(), Client: r.fixed32()}
		if r.err == nil && (c.Kind < CmdLeave || c.Kind > CmdPong) {
			r.fail("command kind %d", c.Kind)
		}
		b.Commands = append(b.Commands, c)
	}
	return r.done("batch")
}

// ChunkBatch splits actions into the chunks of one frame's batch, none
// larger than maxMsg bytes: it returns the end index of each chunk in
// actions (appended to ends). It fails when maxMsg cannot hold a head and
// one action, or the batch needs more than MaxBatchChunks chunks.
func ChunkBatch(ends []int, actions []BatchAction, maxMsg int) ([]int, error) {
	if maxMsg < BatchHeadSize+MaxBatchActionSize {
		return ends, fmt.Errorf("protocol: a batch chunk of %d bytes holds no action", maxMsg)
	}
	size, count := BatchHeadSize, 0
	for i := range actions {
		n := BatchActionSize(&actions[i])
		if size+n > maxMsg || count == MaxBatchActions {
			ends = append(ends, i)
			size, count = BatchHeadSize, 0
		}
		size += n
		count++
	}
	ends = append(ends, len(actions))
	if len(ends) > MaxBatchChunks {
		return ends, fmt.Errorf("protocol: a batch of %d actions needs %d chunks of %d bytes, more than %d", len(actions), len(ends), maxMsg, MaxBatchChunks)
	}
	return ends, nil
}
