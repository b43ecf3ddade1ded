package streams

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"unsafe"

	"github.com/hamba/avro/v2"

	"github.com/gofka/streams/internal/avroschema"
)

// AvroSerde encodes values of type T in Avro's binary encoding, with the schema
// derived from T (package internal/avroschema documents the mapping) or given by
// the user. The
// encoding itself is github.com/hamba/avro/v2: it compiles a codec per (schema,
// type) once, and its encoder and decoder do not reflect per record.
//
// With the Registry option the serde writes and reads the Confluent wire format
// (see schemaregistry.go): a record written with another schema version is read
// through Avro schema resolution into T's schema.
//
// A serde whose schema cannot be made (a type with no Avro form, a malformed
// .avsc) returns that error from every Encode and Decode, and from Err; gofkagen
// refuses such a type at compile time, so the error only reaches programs built
// without it.
type AvroSerde[T any] struct{ c *avroCodec }

type avroCodec struct {
	api    avro.API
	schema avro.Schema
	err    error
	wire   *wireFormat // nil without Registry
	flat   *avroFlat   // for flat records with the derived schema, else nil (see avro_flat.go)

	writers sync.Pool // *avro.Writer, so that Encode appends to dst without a copy of its own
	readers sync.Pool // *avro.Reader

	mu       sync.Mutex
	resolved map[int]avro.Schema // writer schema id → resolved read schema
}

// Avro is the Avro serde for T, with the schema derived from T. Options: Registry.
//
//	streams.Avro[Click]()
//	streams.Avro[Click](streams.Registry("http://registry:8081", streams.ValueSubject("user-clicks")))
func Avro[T any](opts ...SerdeOption) AvroSerde[T] {
	t := reflectType{reflect.TypeFor[T]()}
	schema, err := avroschema.Derive(t)
	if err != nil {
		err = fmt.Errorf("cannot derive a schema: %w", err)
	}
	s := newAvro[T](schema, avroschema.TagKey(t), err, opts)
	if s.c.err == nil {
		s.c.flat = newAvroFlat(t.t, avroschema.TagKey(t))
	}
	return s
}

// AvroWithSchema is the Avro serde for T with a schema given as Avro JSON (the
// content of an .avsc file; with //go:embed, a string variable holding the
// file). Schema fields are matched to T's fields by name, the names T's fields
// get as in Avro[T]: from `avro` tags if T has any, else `json` tags, else the
// Go names. It always goes through hamba/avro (the field order is the schema's).
//
//	//go:embed click.avsc
//	var clickSchema string
//	... streams.AvroWithSchema[Click](clickSchema) ...
func AvroWithSchema[T any](schemaJSON string, opts ...SerdeOption) AvroSerde[T] {
	return newAvro[T](schemaJSON, avroschema.TagKey(reflectType{reflect.TypeFor[T]()}), nil, opts)
}

func newAvro[T any](schemaJSON, tagKey string, err error, opts []SerdeOption) AvroSerde[T] {
	c := &avroCodec{resolved: map[int]avro.Schema{}}
	c.api = avro.Config{TagKey: tagKey}.Freeze()
	c.writers.New = func() any { return avro.NewWriter(nil, 256, avro.WithWriterConfig(c.api)) }
	c.readers.New = func() any { return avro.NewReader(nil, 0, avro.WithReaderConfig(c.api)) }
	if err == nil {
		c.schema, err = avro.ParseWithCache(schemaJSON, "", &avro.SchemaCache{})
	}
	if err == nil {
		// Compile the codecs now, so that a type that does not fit the schema is
		// reported once, here, rather than on the first record.
		var v T
		_, err = c.api.Marshal(c.schema, v)
	}
	if err != nil {
		c.err = fmt.Errorf("avro serde for %s: %w", reflect.TypeFor[T](), err)
		return AvroSerde[T]{c}
	}
	c.wire, c.err = newWireFormat(SchemaAvro, c.schema.String(), opts)
	return AvroSerde[T]{c}
}

// Err returns the error that made the serde unusable, or nil.
func (s AvroSerde[T]) Err() error { return s.c.err }

// Schema returns the Avro schema in canonical form, or "" if there is none.
func (s AvroSerde[T]) Schema() string {
	if s.c.schema == nil {
		return ""
	}
	return s.c.schema.String()
}

// Encode appends the Avro encoding of v (after the wire-format header, with
// Registry).
func (s AvroSerde[T]) Encode(dst []byte, v T) ([]byte, error) {
	c := s.c
	if c.err != nil {
		return dst, c.err
	}
	if c.wire != nil {
		var err error
		if dst, err = c.wire.appendHeader(dst); err != nil {
			return dst, err
		}
	}
	if c.flat != nil {
		return c.flat.encode(dst, unsafe.Pointer(&v)), nil
	}
	return hambaEncode(c, dst, v)
}

// hambaEncode is apart from Encode so that only its copy of v escapes (into
// hamba's interface): the flat path's v stays on the stack.
func hambaEncode[T any](c *avroCodec, dst []byte, v T) ([]byte, error) {
	w := c.writers.Get().(*avro.Writer)
	defer c.writers.Put(w)
	w.Reset(nil)
	w.WriteVal(c.schema, &v)
	if w.Error != nil {
		return dst, w.Error
	}
	return append(dst, w.Buffer()...), nil
}

// Decode reads one Avro-encoded T; with Registry, the header first, and the
// payload with the writer's schema resolved into T's.
func (s AvroSerde[T]) Decode(data []byte) (T, error) {
	var v T
	c := s.c
	if c.err != nil {
		return v, c.err
	}
	schema := c.schema
	if c.wire != nil {
		id, payload, err := c.wire.splitHeader(data)
		if err != nil {
			return v, err
		}
		if schema, err = c.readSchema(id); err != nil {
			return v, err
		}
		data = payload
	}
	if c.flat != nil && schema == c.schema {
		err := c.flat.decode(data, unsafe.Pointer(&v))
		return v, err
	}
	return hambaDecode[T](c, schema, data)
}

// hambaDecode is apart from Decode for the reason hambaEncode is.
func hambaDecode[T any](c *avroCodec, schema avro.Schema, data []byte) (T, error) {
	var v T
	err := c.unmarshal(schema, data, &v)
	return v, err
}

// unmarshal reads exactly one value from data. (hamba's own Unmarshal takes
// running out of input for success, which would turn a truncated record into a
// value with zeroed fields.)
func (c *avroCodec) unmarshal(schema avro.Schema, data []byte, v any) error {
	r := c.readers.Get().(*avro.Reader)
	defer c.readers.Put(r)
	r.Reset(data)
	r.Error = nil
	r.ReadVal(schema, v)
	if r.Error != nil {
		if errors.Is(r.Error, io.EOF) || errors.Is(r.Error, io.ErrUnexpectedEOF) {
			return fmt.Errorf("avro: the record ends early (%d bytes)", len(data))
		}
		return r.Error
	}
	if r.Peek(); r.Error == nil {
		return fmt.Errorf("avro: bytes left over after the record (%d bytes)", len(data))
	}
	return nil
}

// readSchema returns the schema to decode a payload written with schema id: the
// writer's schema resolved against ours, fetched and resolved once per id.
func (c *avroCodec) readSchema(id int) (avro.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.resolved[id]; ok {
		return s, nil
	}
	text, err := c.wire.schemaByID(id)
	if err != nil {
		return nil, err
	}
	writer, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("avro: writer schema %d: %w", id, err)
	}
	if writer.String() == c.schema.String() {
		c.resolved[id] = c.schema // our own schema: no resolution, and the flat decoder applies
		return c.schema, nil
	}
	resolved, err := avro.NewSchemaCompatibility().Resolve(c.schema, writer)
	if err != nil {
		return nil, fmt.Errorf("avro: writer schema %d cannot be read with the serde's schema: %w", id, err)
	}
	c.resolved[id] = resolved
	return resolved, nil
}
