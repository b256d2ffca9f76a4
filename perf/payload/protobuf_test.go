package payload

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/flotilla/flotilla/codec"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// pbFrameFields are the fields of the Frame message, in number order.
var pbFrameFields = []struct {
	name, msg string
}{{"ships", "Ship"}, {"torpedoes", "Torpedo"}, {"bodies", "Body"}, {"events", "CombatEvent"}}

func pbTypeName(t pbType) string {
	return [...]string{pbUint32: "uint32", pbSint32: "sint32", pbFixed32: "fixed32"}[t]
}

// TestProtoFileMatchesTables: frame.proto declares exactly the messages and
// fields of the tables protobuf.go encodes with.
func TestProtoFileMatchesTables(t *testing.T) {
	src, err := os.ReadFile("frame.proto")
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, m := range []*pbMessage{pbShip, pbTorpedo, pbBody, pbEvent} {
		fmt.Fprintf(&want, "message %s\n", m.name)
		for _, f := range m.fields {
			fmt.Fprintf(&want, "%s %s = %d\n", pbTypeName(f.typ), f.name, f.num)
		}
	}
	fmt.Fprintf(&want, "message Frame\n")
	for i, f := range pbFrameFields {
		fmt.Fprintf(&want, "repeated %s %s = %d\n", f.msg, f.name, i+1)
	}
	msgRE := regexp.MustCompile(`^message (\w+) \{`)
	fieldRE := regexp.MustCompile(`^((?:repeated )?\w+) (\w+) = (\d+);`)
	var got strings.Builder
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if m := msgRE.FindStringSubmatch(line); m != nil {
			fmt.Fprintf(&got, "message %s\n", m[1])
		} else if m := fieldRE.FindStringSubmatch(line); m != nil {
			fmt.Fprintf(&got, "%s %s = %s\n", m[1], m[2], m[3])
		}
	}
	if got.String() != want.String() {
		t.Errorf("frame.proto declares\n%s\nthe tables say\n%s", got.String(), want.String())
	}
}

// pbDescriptor builds the descriptor of frame.proto from the tables.
func pbDescriptor(t *testing.T) protoreflect.MessageDescriptor {
	t.Helper()
	types := map[pbType]descriptorpb.FieldDescriptorProto_Type{
		pbUint32:  descriptorpb.FieldDescriptorProto_TYPE_UINT32,
		pbSint32:  descriptorpb.FieldDescriptorProto_TYPE_SINT32,
		pbFixed32: descriptorpb.FieldDescriptorProto_TYPE_FIXED32,
	}
	file := &descriptorpb.FileDescriptorProto{
		Name: proto.String("frame.proto"), Package: proto.String("flotilla.perf"), Syntax: proto.String("proto3"),
	}
	for _, m := range []*pbMessage{pbShip, pbTorpedo, pbBody, pbEvent} {
		d := &descriptorpb.DescriptorProto{Name: proto.String(m.name)}
		for _, f := range m.fields {
			d.Field = append(d.Field, &descriptorpb.FieldDescriptorProto{
				Name: proto.String(f.name), Number: proto.Int32(int32(f.num)),
				Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: types[f.typ].Enum(),
			})
		}
		file.MessageType = append(file.MessageType, d)
	}
	frame := &descriptorpb.DescriptorProto{Name: proto.String("Frame")}
	for i, f := range pbFrameFields {
		frame.Field = append(frame.Field, &descriptorpb.FieldDescriptorProto{
			Name: proto.String(f.name), Number: proto.Int32(int32(i + 1)),
			Label:    descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum(),
			Type:     descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(),
			TypeName: proto.String(".flotilla.perf." + f.msg),
		})
	}
	file.MessageType = append(file.MessageType, frame)
	fd, err := protodesc.NewFile(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fd.Messages().ByName("Frame")
}

// TestProtobufMatchesTheRuntime: the protowire encoding parses with the
// protobuf runtime into the values of the view, and the runtime marshals
// that message back to the same bytes.
func TestProtobufMatchesTheRuntime(t *testing.T) {
	frameDesc := pbDescriptor(t)
	for _, sc := range ScenarioNames() {
		src, err := newSource(sc, 7)
		if err != nil {
			t.Fatal(err)
		}
		p := newProtobuf(src.wire)
		w := &window{frames: make([]tick, 1)}
		checked := 0
		for range 6 {
			if err := src.next(&w.frames[0]); err != nil {
				t.Fatal(err)
			}
			enc, err := p.encode(nil, w, 0)
			if err != nil {
				t.Fatal(err)
			}
			msg := dynamicpb.NewMessage(frameDesc)
			if err := proto.Unmarshal(enc, msg); err != nil {
				t.Fatalf("%s: the runtime rejects the encoding: %v", sc, err)
			}
			again, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, enc) {
				t.Errorf("%s: the runtime marshals %d bytes, protowire wrote %d", sc, len(again), len(enc))
			}
			got := viewFromDynamic(t, msg)
			if !src.wire.Schema.Equal(&got, &w.frames[0].View) {
				t.Errorf("%s: the runtime reads another view", sc)
			}
			checked += len(got.Entities) + len(got.Events)
		}
		if checked == 0 {
			t.Errorf("%s: nothing checked", sc)
		}
	}
}

// viewFromDynamic reads a Frame parsed by the runtime into a view, by field
// name.
func viewFromDynamic(t *testing.T, msg protoreflect.Message) codec.View {
	t.Helper()
	read := func(m *pbMessage, sub protoreflect.Message, v *[codec.MaxFields]int32) (id, lod uint32) {
		for _, f := range m.fields {
			fd := sub.Descriptor().Fields().ByName(protoreflect.Name(f.name))
			val := sub.Get(fd)
			var x int32
			switch f.typ {
			case pbSint32:
				x = int32(val.Int())
			default:
				x = int32(uint32(val.Uint()))
			}
			switch f.slot {
			case slotID:
				id = uint32(x)
			case slotLOD:
				lod = uint32(x)
			default:
				v[f.slot] = x
			}
		}
		return id, lod
	}
	var lists kindLists
	var out codec.View
	fields := msg.Descriptor().Fields()
	for kind, m := range pbKinds {
		list := msg.Get(fields.ByName(protoreflect.Name(pbFrameFields[kind].name))).List()
		for i := range list.Len() {
			e := codec.Entity{Kind: uint8(kind)}
			id, lod := read(m, list.Get(i).Message(), &e.V)
			e.ID, e.LOD = id, uint8(lod)
			lists[kind] = append(lists[kind], e)
		}
	}
	if err := lists.merge(&out); err != nil {
		t.Fatal(err)
	}
	events := msg.Get(fields.ByName("events")).List()
	for i := range events.Len() {
		ev := codec.Event{Kind: kEv}
		read(pbEvent, events.Get(i).Message(), &ev.V)
		out.Events = append(out.Events, ev)
	}
	return out
}

// TestLongSubmessageLength: a message body of 128 bytes or more gets a
// two-byte length, moved into place after the body is written.
func TestLongSubmessageLength(t *testing.T) {
	b, at := beginSub([]byte{0xaa}, 1)
	body := bytes.Repeat([]byte{7}, 300)
	b = append(b, body...)
	b = endSub(b, at)
	want := append([]byte{0xaa, 0x0a, 0xac, 0x02}, body...)
	if !bytes.Equal(b, want) {
		t.Errorf("got % x..., want % x...", b[:6], want[:6])
	}
}
