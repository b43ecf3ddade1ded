// Package jsonwire holds the small primitives that the JSON serdes gofkagen
// generates call (codegen/jsongen writes them): a Decoder that reads one JSON text
// from a byte slice and an Encoder that appends one to a buffer. Together they
// reproduce encoding/json exactly, byte for byte on output and value for value on
// input, for the types the generated code handles itself; for every other type
// they hand the value to encoding/json (ReadStd, WriteStd).
//
// Data flow of a decode: the generated Decode makes a Decoder over the record's
// bytes, and the generated per-type functions call Decoder methods to walk the
// text (OpenObject/NextMember for objects, OpenArray/NextElement for arrays) and
// the Read* functions to store scalars into the value. The decoder validates as
// it goes and keeps the first error (sticky, like bufio.Scanner): after an error
// every method does nothing, so generated code checks Err once at the end. Any
// text encoding/json rejects as syntax, or rejects for the type, sets an error:
// the record then goes to --on-bad-record.
//
// Strings without escapes and with valid UTF-8 alias the input bytes (no copy):
// the runtime never modifies a record's bytes after it hands them to a task.
// Strings with escapes are unescaped into a fresh string.
//
// Data flow of an encode: the generated Encode makes an Encoder over the caller's
// buffer, and the per-type functions append to it with Raw (precomputed keys and
// punctuation) and the Write* functions; an unsupported value (NaN, a failing
// MarshalJSON) sets the sticky error.
package jsonwire
