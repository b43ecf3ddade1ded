package streams

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/gofka/streams/internal/testproto"
)

// TestProtoSchemaCompilesToTheSameDescriptor prints testproto's file back as
// .proto source, compiles it with protoc and checks that protoc's descriptor
// equals the one compiled into the Go program (options and source info aside).
// protoc is Debian's protobuf-compiler; without it the test cannot run.
func TestProtoSchemaCompilesToTheSameDescriptor(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Skip("protoc is not installed (apt-get install protobuf-compiler)")
	}
	md := (&testproto.Bid_Meta{}).ProtoReflect().Descriptor()
	text, indexes, err := protoSchema(md)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 0}; !reflect.DeepEqual(indexes, want) {
		t.Errorf("indexes of gofka.test.Bid.Meta: %v, want %v", indexes, want)
	}
	dir := t.TempDir()
	name := md.ParentFile().Path()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	set := filepath.Join(dir, "set.pb")
	cmd := exec.Command(protoc, "-I", dir, "-o", set, name)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc rejects our schema:\n%s\n%s", text, out)
	}
	b, err := os.ReadFile(set)
	if err != nil {
		t.Fatal(err)
	}
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &fds); err != nil {
		t.Fatal(err)
	}
	got := fds.File[0]
	want := protodesc.ToFileDescriptorProto(md.ParentFile())
	want.Options, want.SourceCodeInfo = nil, nil
	if !proto.Equal(got, want) {
		t.Fatalf("protoc's descriptor of our schema differs from the compiled-in one\nschema:\n%s\ngot  %v\nwant %v", text, got, want)
	}
}
