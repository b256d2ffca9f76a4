package protocol

import (
	"errors"
	"reflect"
	"testing"
)

func TestMessagesRoundTrip(t *testing.T) {
	a := Action{Seq: 1 << 31, Kind: 4, Args: [4]int32{-1, 1 << 30, -1 << 31, 7}}
	var a2 Action
	if err := ParseAction(AppendAction(nil, &a), &a2); err != nil || a2 != a {
		t.Errorf("action: %+v, %v", a2, err)
	}
	res := Result{Seq: 9, Frame: 123456, Status: Fizzled, Reason: 33, Value: 1 << 31}
	var res2 Result
	if err := ParseResult(AppendResult(nil, &res), &res2); err != nil || res2 != res {
		t.Errorf("result: %+v, %v", res2, err)
	}
	d := Desync{Seq: 65534, Frame: 77, Permanent: true}
	var d2 Desync
	if err := ParseDesync(AppendDesync(nil, &d), &d2); err != nil || d2 != d {
		t.Errorf("desync: %+v, %v", d2, err)
	}
	q := Rate{Hz: 10, BytesPerSec: 8000}
	var q2 Rate
	if err := ParseRate(AppendRate(nil, &q), &q2); err != nil || q2 != q {
		t.Errorf("rate: %+v, %v", q2, err)
	}
	w := Welcome{Client: 5, Frame: 99, TickHz: 30, SnapshotHz: 20, BytesPerSec: 24000, InputDelay: 2, SchemaHash: 0xfedcba9876543210, Game: []byte{1, 2, 3}}
	var w2 Welcome
	if err := ParseWelcome(AppendWelcome(nil, &w), &w2); err != nil || !reflect.DeepEqual(w2, w) {
		t.Errorf("welcome: %+v, %v", w2, err)
	}
	for _, m := range [][]byte{AppendAction(nil, &a), AppendResult(nil, &res), AppendWelcome(nil, &w)} {
		if len(m) > MaxMessage {
			t.Errorf("message of %d bytes over MaxMessage", len(m))
		}
	}
}

func TestMalformedMessages(t *testing.T) {
	a := Action{Seq: 3, Kind: 2, Args: [4]int32{100}}
	good := AppendAction(nil, &a)
	cases := map[string][]byte{
		"empty":      {},
		"wrong type": {byte(MsgResult)},
		"truncated":  good[:len(good)-1],
		"trailing":   append(append([]byte(nil), good...), 0),
		"kind over":  {byte(MsgAction), 1, 0x80, 0x80, 0x04, 0, 0, 0, 0},
		"arg over":   {byte(MsgAction), 1, 1, 0x80, 0x80, 0x80, 0x80, 0x20, 0, 0, 0},
	}
	for name, m := range cases {
		var out Action
		if err := ParseAction(m, &out); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	bad := AppendResult(nil, &Result{Seq: 1, Status: 3})
	if err := ParseResult(bad, &Result{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("result status 3: %v", err)
	}
	if err := ParseWelcome(AppendWelcome(nil, &Welcome{TickHz: 30}), &Welcome{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("welcome with a zero rate: %v", err)
	}
	long := AppendWelcome(nil, &Welcome{TickHz: 30, SnapshotHz: 30})
	long = append(long[:len(long)-1], MaxGameParams+1)
	long = append(long, make([]byte, MaxGameParams+1)...)
	if err := ParseWelcome(long, &Welcome{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("welcome with game params over %d bytes: %v", MaxGameParams, err)
	}
	if err := ParseRate(AppendRate(nil, &Rate{Hz: MaxRateHz + 1}), &Rate{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("rate over MaxRateHz: %v", err)
	}
}

func TestSnapshotHead(t *testing.T) {
	for _, h := range []SnapshotHead{
		{Form: Full, Seq: 0xFFFF, Frame: 1<<32 - 1},
		{Form: Delta, Back: 1, Seq: 7, Frame: 2},
		{Form: Delta, Back: MaxBack, Frame: maxFrameAdvance},
		{Form: Heartbeat, Back: 3, Frame: 1},
	} {
		b, ok := AppendSnapshotHead(nil, h)
		if !ok {
			t.Fatalf("%+v refused", h)
		}
		if h.Form != Heartbeat {
			b = append(b, 0xAB)
		}
		got, rest, err := ParseSnapshotHead(b)
		if err != nil || got != h {
			t.Errorf("%+v: got %+v, %v", h, got, err)
		}
		if h.Form != Heartbeat && (len(rest) != 1 || rest[0] != 0xAB) {
			t.Errorf("%+v: body %x", h, rest)
		}
	}
	// The heartbeat's bound holds for the largest advance it may carry.
	if b, _ := AppendSnapshotHead(nil, SnapshotHead{Form: Heartbeat, Back: MaxBack, Frame: maxFrameAdvance}); len(b) > MaxHeartbeat {
		t.Errorf("heartbeat of %d bytes, bound %d", len(b), MaxHeartbeat)
	}
	for _, h := range []SnapshotHead{
		{Form: Delta, Back: 0},
		{Form: Delta, Back: MaxBack + 1},
		{Form: Heartbeat, Back: 1, Frame: maxFrameAdvance + 1},
		{Form: 3},
	} {
		if _, ok := AppendSnapshotHead(nil, h); ok {
			t.Errorf("%+v accepted", h)
		}
	}
	for name, p := range map[string][]byte{
		"empty":            {},
		"no seq":           {byte(Delta)<<5 | 1, 1},
		"full short":       {0, 0, 0, 1, 2},
		"full with back":   {3, 0, 0, 0, 0, 0, 0},
		"delta no back":    {byte(Delta) << 5, 0, 0, 1, 9},
		"delta no body":    {byte(Delta)<<5 | 1, 0, 0, 1},
		"heartbeat body":   {byte(Heartbeat)<<5 | 1, 0, 0, 1, 0},
		"form 3":           {3<<5 | 1, 0, 0, 1},
		"advance too long": {byte(Delta)<<5 | 1, 0, 0, 0x80, 0x80, 0x80, 0x01, 9},
	} {
		if _, _, err := ParseSnapshotHead(p); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func FuzzMessages(f *testing.F) {
	f.Add(AppendAction(nil, &Action{Seq: 1, Kind: 2, Args: [4]int32{3, -4}}))
	f.Add(AppendResult(nil, &Result{Seq: 1, Frame: 2, Status: Applied, Value: 9}))
	f.Add(AppendDesync(nil, &Desync{Seq: 1, Frame: 2}))
	f.Add(AppendRate(nil, &Rate{Hz: 20, BytesPerSec: 9000}))
	f.Add(AppendDetail(nil, &Detail{Tiers: 2}))
	f.Add(AppendWelcome(nil, &Welcome{Client: 1, TickHz: 30, SnapshotHz: 20, SchemaHash: 7, Game: []byte{1, 1}}))
	f.Add([]byte{byte(Delta)<<5 | 2, 9, 0, 5, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Every decoder either fails cleanly or decodes something that
		// encodes back to the same bytes.
		var a Action
		if ParseAction(b, &a) == nil && string(AppendAction(nil, &a)) != string(b) {
			// Varints have non-canonical forms; a re-encoding must at least parse to the same value.
			var a2 Action
			if err := ParseAction(AppendAction(nil, &a), &a2); err != nil || a2 != a {
				t.Fatalf("action does not round-trip: %+v", a)
			}
		}
		var res Result
		if ParseResult(b, &res) == nil {
			var r2 Result
			if err := ParseResult(AppendResult(nil, &res), &r2); err != nil || r2 != res {
				t.Fatalf("result does not round-trip: %+v", res)
			}
		}
		var d Desync
		if ParseDesync(b, &d) == nil && string(AppendDesync(nil, &d)) != string(b) {
			t.Fatalf("desync does not round-trip: %+v", d)
		}
		var q Rate
		_ = ParseRate(b, &q)
		var dt Detail
		if ParseDetail(b, &dt) == nil && string(AppendDetail(nil, &dt)) != string(b) {
			t.Fatalf("detail does not round-trip: %+v", dt)
		}
		var y Bye
		if ParseBye(b, &y) == nil && string(AppendBye(nil, &y)) != string(b) {
			t.Fatalf("bye does not round-trip: %+v", y)
		}
		var seqs []uint16
		if ParseAcks(b, func(s uint16) { seqs = append(seqs, s) }) == nil && string(AppendAcks(nil, seqs...)) != string(b) {
			t.Fatalf("acks do not round-trip: %v", seqs)
		}
		var w Welcome
		if ParseWelcome(b, &w) == nil {
			var w2 Welcome
			if err := ParseWelcome(AppendWelcome(nil, &w), &w2); err != nil || !reflect.DeepEqual(w2, w) {
				t.Fatalf("welcome does not round-trip: %+v", w)
			}
		}
		if h, rest, err := ParseSnapshotHead(b); err == nil {
			out, ok := AppendSnapshotHead(nil, h)
			if !ok {
				t.Fatalf("parsed head %+v cannot be written", h)
			}
			var h2 SnapshotHead
			if h2, _, err = ParseSnapshotHead(append(out, rest...)); err != nil || h2 != h {
				t.Fatalf("head does not round-trip: %+v", h)
			}
		}
	})
}

func TestByeAndAcks(t *testing.T) {
	var y Bye
	if err := ParseBye(AppendBye(nil, &Bye{Reason: 11}), &y); err != nil || y.Reason != 11 {
		t.Errorf("bye: %+v, %v", y, err)
	}
	if err := ParseBye([]byte{byte(MsgBye)}, &y); !errors.Is(err, ErrMalformed) {
		t.Errorf("short bye: %v", err)
	}
	var got []uint16
	if err := ParseAcks(AppendAcks(nil, 1, 65535, 7), func(s uint16) { got = append(got, s) }); err != nil || !reflect.DeepEqual(got, []uint16{1, 65535, 7}) {
		t.Errorf("acks: %v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {1}, {1, 2, 3}, make([]byte, 2*MaxAcks+2)} {
		n := 0
		if err := ParseAcks(bad, func(uint16) { n++ }); !errors.Is(err, ErrMalformed) || n != 0 {
			t.Errorf("acks %x: %v after %d sequences", bad, err, n)
		}
	}
}
