package protocol

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

// Golden bytes of the mesh messages (STANDARD.md, section 6.3).
func TestMeshGolden(t *testing.T) {
	h := Hello{Version: MeshVersion, Member: 2, Members: 3, Membership: 0x0102030405060708, Schema: 0x1112131415161718,
		InputDelay: 2, Frame: 300, World: 0xa1a2a3a4a5a6a7a8}
	b := Batch{Frame: 0x01020304, Chunk: 0, Chunks: 2, HashFrame: 0x01020301, Hash: 0xfedcba9876543210,
		Actions:  []BatchAction{{Client: 7, Seq: 300, Kind: 2, Args: [4]int32{-1, 64, 0, 1 << 20}}},
		Commands: []Command{{Kind: CmdLeave}}}
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"hello", AppendHello(nil, &h), "80" + "01" + "0200" + "0300" + "0807060504030201" + "1817161514131211" + "02" + "2c010000" + "a8a7a6a5a4a3a2a1"},
		{"batch", AppendBatch(nil, &b), "81" + "04030201" + "00" + "02" + "01030201" + "1032547698badcfe" + "01" +
			"07" + "ac02" + "02" + "01" + "8001" + "00" + "80808001" + "01" + "01" + "0000" + "00000000"},
		{"empty batch", AppendBatch(nil, &Batch{Frame: 9, Chunks: 1}), "81" + "09000000" + "00" + "01" + "00000000" + "0000000000000000" + "00" + "00"},
	} {
		if got := hex.EncodeToString(tc.got); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	var h2 Hello
	if err := ParseHello(AppendHello(nil, &h), &h2); err != nil || h2 != h {
		t.Errorf("hello round trip: %+v, %v", h2, err)
	}
	var b2 Batch
	if err := ParseBatch(AppendBatch(nil, &b), &b2); err != nil || !reflect.DeepEqual(b2, b) {
		t.Errorf("batch round trip: %+v, %v", b2, err)
	}
	// A one-action chunk with one command: 19 bytes of head, a one-byte
	// count, the action, a one-byte command count and the 7-byte command.
	if n, enc := BatchActionSize(&b.Actions[0]), len(AppendBatch(nil, &b))-20-8; n != enc {
		t.Errorf("action size %d, encoded %d", n, enc)
	}
}

func TestMalformedMeshMessages(t *testing.T) {
	good := AppendBatch(nil, &Batch{Frame: 1, Chunks: 1, Actions: []BatchAction{{Client: 1, Seq: 1, Kind: 1}}})
	for _, tc := range []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"not a batch", []byte{byte(MsgAction), 1, 1, 0, 0, 0, 0}},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(append([]byte(nil), good...), 0)},
		{"chunk past chunks", AppendBatch(nil, &Batch{Frame: 1, Chunk: 1, Chunks: 1})},
		{"no chunks", AppendBatch(nil, &Batch{Frame: 1})},
		{"count over the bytes", append(AppendBatch(nil, &Batch{Frame: 1, Chunks: 1})[:19], 0xff, 0x1f, 0)},
		{"unknown command", AppendBatch(nil, &Batch{Frame: 1, Chunks: 1, Commands: []Command{{Kind: 9}}})},
		{"too many commands", AppendBatch(nil, &Batch{Frame: 1, Chunks: 1, Commands: make([]Command, MaxBatchCommands+1)})},
		{"kind over 16 bits", []byte{129, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0x80, 0x80, 4, 0, 0, 0, 0}},
	} {
		var b Batch
		if err := ParseBatch(tc.msg, &b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", tc.name, err)
		}
	}
	var h Hello
	if err := ParseHello(AppendHello(nil, &Hello{Version: 1, Members: 3}), &h); !errors.Is(err, ErrMalformed) {
		t.Errorf("a hello from member 0: %v", err)
	}
}

// ChunkBatch cuts a frame's actions into chunks that fit the message
// limit, in order, each as full as it can be.
func TestChunkBatch(t *testing.T) {
	acts := make([]BatchAction, 1000)
	for i := range acts {
		acts[i] = BatchAction{Client: uint32(i), Seq: uint32(i * 1000), Kind: 3, Args: [4]int32{int32(-i), 1 << 30, 0, int32(i)}}
	}
	const limit = 2048
	ends, err := ChunkBatch(nil, acts, limit)
	if err != nil {
		t.Fatal(err)
	}
	start := 0
	for c, end := range ends {
		b := Batch{Frame: 5, Chunk: uint8(c), Chunks: uint8(len(ends)), Actions: acts[start:end]}
		msg := AppendBatch(nil, &b)
		if len(msg) > limit {
			t.Errorf("chunk %d: %d bytes", c, len(msg))
		}
		sum := BatchHeadSize
		for i := range b.Actions {
			sum += BatchActionSize(&b.Actions[i])
		}
		if end < len(acts) && sum+BatchActionSize(&acts[end]) <= limit {
			t.Errorf("chunk %d ends early: %d bytes at most, the next action takes %d", c, sum, BatchActionSize(&acts[end]))
		}
		start = end
	}
	if start != len(acts) {
		t.Errorf("chunks end at %d of %d", start, len(acts))
	}
	if ends, _ := ChunkBatch(nil, nil, limit); len(ends) != 1 || ends[0] != 0 {
		t.Errorf("no actions: chunks %v, want one empty", ends)
	}
	if _, err := ChunkBatch(nil, acts, 40); err == nil {
		t.Error("a limit that holds no action was taken")
	}
	if _, err := ChunkBatch(nil, make([]BatchAction, 300*40), BatchHeadSize+MaxBatchActionSize); err == nil {
		t.Error("more than 255 chunks were taken")
	}
}

func FuzzMeshMessages(f *testing.F) {
	f.Add(AppendHello(nil, &Hello{Version: 1, Member: 1, Members: 2, Frame: 9}))
	f.Add(AppendBatch(nil, &Batch{Frame: 3, Chunks: 2, Chunk: 1, HashFrame: 2, Hash: 5, Actions: []BatchAction{{Client: 1, Seq: 2, Kind: 3, Args: [4]int32{-4}}}, Commands: []Command{{Kind: CmdLeave}}}))
	f.Fuzz(func(t *testing.T, msg []byte) {
		// Every decoder fails cleanly or decodes what encodes to a message
		// that decodes to the same value.
		var h Hello
		if ParseHello(msg, &h) == nil {
			var h2 Hello
			if err := ParseHello(AppendHello(nil, &h), &h2); err != nil || h2 != h {
				t.Fatalf("hello does not round-trip: %+v", h)
			}
		}
		var d Redirect
		if ParseRedirect(msg, &d) == nil {
			var d2 Redirect
			if err := ParseRedirect(AppendRedirect(nil, &d), &d2); err != nil || d2 != d {
				t.Fatalf("redirect does not round-trip: %+v", d)
			}
		}
		var b Batch
		if ParseBatch(msg, &b) == nil {
			var b2 Batch
			if err := ParseBatch(AppendBatch(nil, &b), &b2); err != nil || !reflect.DeepEqual(b2, b) {
				t.Fatalf("batch does not round-trip: %+v", b)
			}
			for i := range b.Actions {
				if BatchActionSize(&b.Actions[i]) > MaxBatchActionSize {
					t.Fatalf("action %d over the size bound", i)
				}
			}
		}
	})
}

func TestRedirect(t *testing.T) {
	for _, a := range []string{"127.0.0.1:7001", "[::1]:7002", "[2001:db8::1234:5678:9abc:def0]:65535"} {
		d := Redirect{Addr: netip.MustParseAddrPort(a)}
		msg := AppendRedirect(nil, &d)
		if len(msg) > MaxMessage {
			t.Errorf("%s: %d bytes", a, len(msg))
		}
		var got Redirect
		if err := ParseRedirect(msg, &got); err != nil || got != d {
			t.Errorf("%s: %v, %v", a, got, err)
		}
	}
	if got := hex.EncodeToString(AppendRedirect(nil, &Redirect{Addr: netip.MustParseAddrPort("127.0.0.1:7001")})); got != "430e3132372e302e302e313a37303031" {
		t.Errorf("golden: %s", got)
	}
	for _, bad := range [][]byte{{67}, {67, 3, '1', ':', '2'}, {67, 14, '1', '2', '7', '.', '0', '.', '0', '.', '1', ':', '7', '0', '0', '1', 0}, append([]byte{67, 48}, make([]byte, 48)...), {67, 9, '1', '.', '2', '.', '3', '.', '4', ':', '0'}} {
		var d Redirect
		if err := ParseRedirect(bad, &d); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
