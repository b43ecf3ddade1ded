// Package jsongen generates JSON serdes specialized to the user's types: for a
// record type T that the default serde encodes as JSON (streams.JSONSerde[T]),
// gofkagen emits a serde type gofkaJSON<T> into gofka_gen.go, with one encode
// and one decode function per type T reaches. The generated functions walk the
// value field by field and call the primitives of runtime/jsonwire, so no
// reflection runs per record and strings alias the input.
//
// The contract is encoding/json's behaviour, exactly: the same bytes out, the
// same value in, an error where it gives one. The rules that decide it are
// ported from encoding/json and named after it: structFields (typeFields: tags,
// promotion through embedded structs, dominance), encodeKind and decodeKind
// (which methods are called, in its order). What is not generated is handed to
// encoding/json, per value (interfaces, arrays, json.Number, maps with non-string
// keys) or for the whole type (Fallback says why; gofkagen describe prints it).
//
// Methods are called directly in the generated code (v.T.UnmarshalJSON(raw)),
// not through an interface, so that the value does not escape to the heap. One
// type is special-cased: time.Time is written with its AppendText, which gives
// the bytes of its MarshalJSON without MarshalJSON's buffer; it is still read
// with its UnmarshalJSON.
package jsongen
