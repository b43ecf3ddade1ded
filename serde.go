package streams

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"unsafe"
)

// Serde converts values of type T to and from bytes. Encode appends the encoding
// of v to dst (which it may grow) and returns the result, so a caller can reuse one
// buffer for every record.
//
// Decode may return a value that shares data's memory, but only through strings
// and byte slices: the runtime never modifies a record's bytes after it hands them
// to a task (runtime.Record), nor recycles them, so a string that aliases them
// stays valid as long as it is referenced (a store or a later record may keep
// it). StringSerde and BytesSerde return data itself; the JSON serdes gofkagen
// generates (codegen/jsongen) return strings without escapes as slices of data,
// and build strings with escapes in fresh memory. Anything else Decode keeps
// must be copied.
//
// The generated code calls a serde's methods on its concrete type, so a serde that
// is a plain struct value costs no interface dispatch.
type Serde[T any] interface {
	Encode(dst []byte, v T) ([]byte, error)
	Decode(data []byte) (T, error)
}

// BytesSerde passes bytes through unchanged.
type BytesSerde[T ~[]byte] struct{}

// Bytes is the serde for []byte.
func Bytes() BytesSerde[[]byte] { return BytesSerde[[]byte]{} }

// Encode appends v.
func (BytesSerde[T]) Encode(dst []byte, v T) ([]byte, error) { return append(dst, v...), nil }

// Decode returns data itself, without copying.
func (BytesSerde[T]) Decode(data []byte) (T, error) { return T(data), nil }

// StringSerde encodes strings as their UTF-8 bytes.
type StringSerde[T ~string] struct{}

// String is the serde for string.
func String() StringSerde[string] { return StringSerde[string]{} }

// Encode appends v.
func (StringSerde[T]) Encode(dst []byte, v T) ([]byte, error) { return append(dst, v...), nil }

// Decode returns a string that shares data's memory: no copy, no allocation.
func (StringSerde[T]) Decode(data []byte) (T, error) {
	if len(data) == 0 {
		return "", nil
	}
	return T(unsafe.String(&data[0], len(data))), nil
}

// Integer is the set of integer types IntSerde handles.
type Integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr
}

// IntSerde encodes integers big-endian in their own width (int and uint in 8 bytes),
// as Kafka's IntegerSerializer and LongSerializer do.
type IntSerde[T Integer] struct{}

// Int64 is the serde for int64 (Kafka's Long serde).
func Int64() IntSerde[int64] { return IntSerde[int64]{} }

// Int32 is the serde for int32 (Kafka's Integer serde).
func Int32() IntSerde[int32] { return IntSerde[int32]{} }

// Int is the serde for int, in 8 bytes.
func Int() IntSerde[int] { return IntSerde[int]{} }

// Uint64 is the serde for uint64.
func Uint64() IntSerde[uint64] { return IntSerde[uint64]{} }

func intWidth[T Integer]() int {
	var zero T
	if w := int(unsafe.Sizeof(zero)); w < 8 {
		return w
	}
	return 8
}

// Encode appends v big-endian.
func (IntSerde[T]) Encode(dst []byte, v T) ([]byte, error) {
	switch intWidth[T]() {
	case 1:
		return append(dst, byte(v)), nil
	case 2:
		return binary.BigEndian.AppendUint16(dst, uint16(v)), nil
	case 4:
		return binary.BigEndian.AppendUint32(dst, uint32(v)), nil
	default:
		return binary.BigEndian.AppendUint64(dst, uint64(v)), nil
	}
}

// Decode reads a big-endian integer of the type's width.
func (IntSerde[T]) Decode(data []byte) (T, error) {
	w := intWidth[T]()
	if len(data) != w {
		return 0, fmt.Errorf("integer serde: want %d bytes, got %d", w, len(data))
	}
	switch w {
	case 1:
		return T(data[0]), nil
	case 2:
		return T(binary.BigEndian.Uint16(data)), nil
	case 4:
		return T(binary.BigEndian.Uint32(data)), nil
	default:
		return T(binary.BigEndian.Uint64(data)), nil
	}
}

// Float is the set of floating-point types FloatSerde handles.
type Float interface{ ~float32 | ~float64 }

// FloatSerde encodes IEEE 754 floats big-endian, as Kafka's Float and Double serdes do.
type FloatSerde[T Float] struct{}

// Float64 is the serde for float64 (Kafka's Double serde).
func Float64() FloatSerde[float64] { return FloatSerde[float64]{} }

// Float32 is the serde for float32 (Kafka's Float serde).
func Float32() FloatSerde[float32] { return FloatSerde[float32]{} }

// Encode appends v big-endian.
func (FloatSerde[T]) Encode(dst []byte, v T) ([]byte, error) {
	var zero T
	if unsafe.Sizeof(zero) == 4 {
		return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(v))), nil
	}
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(float64(v))), nil
}

// Decode reads a big-endian float of the type's width.
func (FloatSerde[T]) Decode(data []byte) (T, error) {
	var zero T
	if unsafe.Sizeof(zero) == 4 {
		if len(data) != 4 {
			return 0, fmt.Errorf("float32 serde: want 4 bytes, got %d", len(data))
		}
		return T(math.Float32frombits(binary.BigEndian.Uint32(data))), nil
	}
	if len(data) != 8 {
		return 0, fmt.Errorf("float64 serde: want 8 bytes, got %d", len(data))
	}
	return T(math.Float64frombits(binary.BigEndian.Uint64(data))), nil
}

// BoolSerde encodes a bool as one byte, 0 or 1.
type BoolSerde[T ~bool] struct{}

// Bool is the serde for bool.
func Bool() BoolSerde[bool] { return BoolSerde[bool]{} }

// Encode appends 1 for true and 0 for false.
func (BoolSerde[T]) Encode(dst []byte, v T) ([]byte, error) {
	if v {
		return append(dst, 1), nil
	}
	return append(dst, 0), nil
}

// Decode reads one byte.
func (BoolSerde[T]) Decode(data []byte) (T, error) {
	if len(data) != 1 || data[0] > 1 {
		return false, fmt.Errorf("bool serde: want one byte 0 or 1, got %q", data)
	}
	return data[0] == 1, nil
}

// JSONSerde encodes values with encoding/json. It is the default serde of structs
// and pointers to structs; gofkagen replaces it in the generated code by a serde
// specialized to T that behaves exactly the same (see codegen/jsongen), unless
// T cannot be specialized (gofkagen describe says why).
type JSONSerde[T any] struct{}

// JSON is the serde for T as JSON; it is the default for structs and pointers to structs.
func JSON[T any]() JSONSerde[T] { return JSONSerde[T]{} }

// Encode appends the JSON encoding of v.
func (JSONSerde[T]) Encode(dst []byte, v T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// Decode parses JSON into a new T.
func (JSONSerde[T]) Decode(data []byte) (T, error) {
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}
