package streams

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gofka/streams/serde/registry"
)

// This file is the schema-registry side of the Avro, Protobuf and JSON Schema
// serdes: the Registry option and the Confluent wire format it switches on.
//
// Without Registry a serde writes bare payloads. With it, the serde registers its
// schema under the subject on the first Encode (Confluent's auto.register.schemas)
// and writes every record as
//
//	0x00 | schema id, 4 bytes big-endian | [Protobuf: message indexes] | payload
//
// which is what Confluent's KafkaAvroSerializer, KafkaProtobufSerializer and
// KafkaJsonSchemaSerializer write and read. Decode accepts any id: Avro resolves
// the writer's schema into the serde's, Protobuf and JSON read the payload as is.
// The registry client (package serde/registry) is shared by every serde naming the
// same URL, and caches ids and schemas, so the registry is asked once per schema.

// Schema types.
const (
	SchemaAvro       = registry.Avro
	SchemaProtobuf   = registry.Protobuf
	SchemaJSONSchema = registry.JSONSchema
)

// SerdeOption configures a schema serde (Avro, Protobuf, JSONSchema).
type SerdeOption func(*serdeOptions)

type serdeOptions struct {
	registryURL string
	subject     string
}

// Registry makes the serde write and read the Confluent wire format, with the
// schema registered under subject in the registry at url (Confluent's
// schema.registry.url; for Apicurio, its ccompat API, ".../apis/ccompat/v7").
// With Kafka's default TopicNameStrategy the subject is ValueSubject(topic) or
// KeySubject(topic).
func Registry(url, subject string) SerdeOption {
	return func(o *serdeOptions) { o.registryURL, o.subject = url, subject }
}

// ValueSubject is the subject of a topic's value schema under TopicNameStrategy:
// "<topic>-value".
func ValueSubject(topic string) string { return topic + "-value" }

// KeySubject is the subject of a topic's key schema under TopicNameStrategy:
// "<topic>-key".
func KeySubject(topic string) string { return topic + "-key" }

// wireFormat is a serde's link to its registry: the schema it registers, the id
// the registry gave it, and the header it writes.
type wireFormat struct {
	client  *registry.Client
	subject string
	schema  registry.Schema
	indexes []int // Protobuf message indexes written after the id

	once sync.Once
	id   int
	err  error
}

// newWireFormat returns nil (bare payloads) when opts name no registry.
func newWireFormat(schemaType, schema string, opts []SerdeOption) (*wireFormat, error) {
	var o serdeOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.registryURL == "" {
		return nil, nil
	}
	if o.subject == "" {
		return nil, errors.New("schema registry: the subject is empty")
	}
	w := &wireFormat{
		client:  registry.Shared(o.registryURL),
		subject: o.subject,
		schema:  registry.Schema{Schema: schema, SchemaType: schemaType},
	}
	registry.Track(registry.Use{URL: o.registryURL, Subject: o.subject, Schema: w.schema})
	return w, nil
}

// register registers the schema, once; a failure is kept and returned from then
// on, since a serde that cannot write ids must not write records.
func (w *wireFormat) register() (int, error) {
	w.once.Do(func() {
		w.id, w.err = w.client.Register(context.Background(), w.subject, w.schema)
		if w.err != nil {
			w.err = fmt.Errorf("registering the schema of subject %s: %w", w.subject, w.err)
		}
	})
	return w.id, w.err
}

func (w *wireFormat) appendHeader(dst []byte) ([]byte, error) {
	id, err := w.register()
	if err != nil {
		return dst, err
	}
	dst = registry.AppendHeader(dst, id)
	if w.schema.SchemaType == SchemaProtobuf {
		dst = registry.AppendMessageIndexes(dst, w.indexes)
	}
	return dst, nil
}

// splitHeader returns the schema id and the payload of a record.
func (w *wireFormat) splitHeader(data []byte) (int, []byte, error) {
	id, rest, err := registry.SplitHeader(data)
	if err != nil || w.schema.SchemaType != SchemaProtobuf {
		return id, rest, err
	}
	_, rest, err = registry.SplitMessageIndexes(rest)
	return id, rest, err
}

func (w *wireFormat) schemaByID(id int) (string, error) {
	s, err := w.client.SchemaByID(context.Background(), id)
	return s.Schema, err
}
