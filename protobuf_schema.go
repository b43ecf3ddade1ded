package streams

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// A schema registry stores a Protobuf schema as .proto source. A Go program has
// no .proto files, only the descriptors protoc-gen-go compiled in, so this file
// prints a message's file back as .proto source: syntax, package, imports,
// messages (nested, with oneofs, maps and proto3 optional fields), enums and
// reserved numbers and names. Types are written fully qualified (".pkg.Msg"), so
// the text needs no scope resolution to mean the same thing. Imports of the
// well-known types (google/protobuf/*.proto) are kept, since registries know
// them; other imports would have to be registered as schema references, which is
// not supported yet, and are refused. Options and proto2 defaults are not printed:
// they do not change the wire format.

// protoSchema returns the .proto source of md's file and the message indexes that
// locate md in it (the Confluent wire format's path from the top-level messages).
func protoSchema(md protoreflect.MessageDescriptor) (string, []int, error) {
	fd := md.ParentFile()
	if fd.Syntax() == protoreflect.Editions {
		return "", nil, fmt.Errorf("%s uses protobuf editions, which the schema printer does not support", fd.Path())
	}
	var indexes []int
	for d := protoreflect.Descriptor(md); d != fd; d = d.Parent() {
		indexes = append([]int{d.Index()}, indexes...)
	}
	p := &protoPrinter{}
	p.line(0, "syntax = %q;", fd.Syntax().String())
	if fd.Package() != "" {
		p.line(0, "package %s;", fd.Package())
	}
	imports := fd.Imports()
	for i := range imports.Len() {
		path := imports.Get(i).Path()
		if !strings.HasPrefix(path, "google/protobuf/") {
			return "", nil, fmt.Errorf("%s imports %s: schemas with references are not supported yet", fd.Path(), path)
		}
		p.line(0, "import %q;", path)
	}
	p.enums(0, fd.Enums())
	p.messages(0, fd.Messages())
	return p.b.String(), indexes, nil
}

type protoPrinter struct{ b strings.Builder }

func (p *protoPrinter) line(depth int, format string, args ...any) {
	p.b.WriteString(strings.Repeat("  ", depth))
	fmt.Fprintf(&p.b, format, args...)
	p.b.WriteByte('\n')
}

func (p *protoPrinter) messages(depth int, ms protoreflect.MessageDescriptors) {
	for i := range ms.Len() {
		m := ms.Get(i)
		if m.IsMapEntry() {
			continue // printed as the map<K, V> field that owns it
		}
		p.line(depth, "message %s {", m.Name())
		p.fields(depth+1, m)
		p.reserved(depth+1, m.ReservedRanges(), m.ReservedNames())
		p.enums(depth+1, m.Enums())
		p.messages(depth+1, m.Messages())
		p.line(depth, "}")
	}
}

func (p *protoPrinter) fields(depth int, m protoreflect.MessageDescriptor) {
	fs := m.Fields()
	printed := map[protoreflect.OneofDescriptor]bool{}
	for i := range fs.Len() {
		f := fs.Get(i)
		o := f.ContainingOneof()
		if o == nil || o.IsSynthetic() {
			p.line(depth, "%s;", protoField(f))
			continue
		}
		if printed[o] {
			continue
		}
		printed[o] = true
		p.line(depth, "oneof %s {", o.Name())
		ofs := o.Fields()
		for j := range ofs.Len() {
			p.line(depth+1, "%s;", protoField(ofs.Get(j)))
		}
		p.line(depth, "}")
	}
}

// protoField prints a field declaration without its semicolon.
func protoField(f protoreflect.FieldDescriptor) string {
	decl := fmt.Sprintf("%s %s = %d", protoType(f), f.Name(), f.Number())
	switch {
	case f.IsMap():
		return fmt.Sprintf("map<%s, %s> %s = %d", protoType(f.MapKey()), protoType(f.MapValue()), f.Name(), f.Number())
	case f.Cardinality() == protoreflect.Repeated:
		return "repeated " + decl
	case f.ContainingOneof() != nil && !f.ContainingOneof().IsSynthetic():
		return decl
	case f.HasOptionalKeyword() && f.ParentFile().Syntax() == protoreflect.Proto3:
		return "optional " + decl
	case f.ParentFile().Syntax() == protoreflect.Proto2:
		return f.Cardinality().String() + " " + decl
	}
	return decl
}

func protoType(f protoreflect.FieldDescriptor) string {
	switch f.Kind() {
	case protoreflect.MessageKind:
		return "." + string(f.Message().FullName())
	case protoreflect.GroupKind:
		return "." + string(f.Message().FullName())
	case protoreflect.EnumKind:
		return "." + string(f.Enum().FullName())
	}
	return f.Kind().String() // "int64", "sint32", "bytes", ...: the .proto spelling
}

func (p *protoPrinter) enums(depth int, es protoreflect.EnumDescriptors) {
	for i := range es.Len() {
		e := es.Get(i)
		p.line(depth, "enum %s {", e.Name())
		vs := e.Values()
		for j := range vs.Len() {
			p.line(depth+1, "%s = %d;", vs.Get(j).Name(), vs.Get(j).Number())
		}
		p.line(depth, "}")
	}
}

func (p *protoPrinter) reserved(depth int, ranges protoreflect.FieldRanges, names protoreflect.Names) {
	for i := range ranges.Len() {
		r := ranges.Get(i) // [start, end)
		if r[1]-r[0] == 1 {
			p.line(depth, "reserved %d;", r[0])
		} else {
			p.line(depth, "reserved %d to %d;", r[0], r[1]-1)
		}
	}
	for i := range names.Len() {
		p.line(depth, "reserved %q;", names.Get(i))
	}
}
