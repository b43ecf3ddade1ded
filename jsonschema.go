package streams

import (
	"encoding/json"
	"fmt"
)

// JSONSchemaSerde encodes values as JSON (with encoding/json, as JSON[T] does)
// in the Confluent wire format of Confluent's KafkaJsonSchemaSerializer: the
// header with the id of a JSON Schema registered under the subject, then the
// JSON text. The schema is the user's (a JSON Schema document, e.g. the content
// of a .json file held by a //go:embed string); it is registered, not used to
// validate records.
type JSONSchemaSerde[T any] struct {
	wire *wireFormat
	err  error
}

// JSONSchema is the JSON serde for T with the JSON Schema schemaJSON, written in
// the Confluent wire format when opts include Registry (else plain JSON).
//
//	streams.JSONSchema[Click](clickSchema, streams.Registry(url, streams.ValueSubject("user-clicks")))
func JSONSchema[T any](schemaJSON string, opts ...SerdeOption) JSONSchemaSerde[T] {
	if !json.Valid([]byte(schemaJSON)) {
		return JSONSchemaSerde[T]{err: fmt.Errorf("json schema serde: the schema is not valid JSON")}
	}
	w, err := newWireFormat(SchemaJSONSchema, schemaJSON, opts)
	return JSONSchemaSerde[T]{wire: w, err: err}
}

// Err returns the error that made the serde unusable, or nil.
func (s JSONSchemaSerde[T]) Err() error { return s.err }

// Encode appends the header (with Registry) and the JSON encoding of v.
func (s JSONSchemaSerde[T]) Encode(dst []byte, v T) ([]byte, error) {
	if s.err != nil {
		return dst, s.err
	}
	if s.wire != nil {
		var err error
		if dst, err = s.wire.appendHeader(dst); err != nil {
			return dst, err
		}
	}
	return JSONSerde[T]{}.Encode(dst, v)
}

// Decode skips the header (with Registry) and parses the JSON into a new T.
func (s JSONSchemaSerde[T]) Decode(data []byte) (T, error) {
	if s.err != nil {
		var zero T
		return zero, s.err
	}
	if s.wire != nil {
		_, payload, err := s.wire.splitHeader(data)
		if err != nil {
			var zero T
			return zero, err
		}
		data = payload
	}
	return JSONSerde[T]{}.Decode(data)
}
