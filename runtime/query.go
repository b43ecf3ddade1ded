package runtime

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

// StoreQuery is what interactive queries (the status server's GET /stores/…)
// need of a key-value store: how a key written in a URL path becomes the
// store's key bytes, and how the stored bytes become JSON. Generated code
// makes one per key-value store with QueryOf; windowed stores and
// suppression buffers have none.
type StoreQuery struct {
	Key, Value reflect.Type
	// KeyFromText parses a key as a path writes it: the text itself for a
	// string key, decimal for an integer key, JSON for any other type; then
	// encodes it with the store's key serde.
	KeyFromText func(text string) ([]byte, error)
	// KeyJSON and ValueJSON decode stored bytes with the store's serdes and
	// write the result as encoding/json does (a generated JSON serde writes
	// exactly that, so a struct reads as its serde wrote it).
	KeyJSON   func(key []byte) (json.RawMessage, error)
	ValueJSON func(value []byte) (json.RawMessage, error)
}

// QueryOf is the StoreQuery of a store whose keys are K, encoded with
// encodeKey and decoded with decodeKey, and whose values are V, decoded with
// decodeValue.
func QueryOf[K, V any](encodeKey func([]byte, K) ([]byte, error), decodeKey func([]byte) (K, error),
	decodeValue func([]byte) (V, error)) *StoreQuery {
	return &StoreQuery{
		Key:   reflect.TypeFor[K](),
		Value: reflect.TypeFor[V](),
		KeyFromText: func(text string) ([]byte, error) {
			k, err := ParseKeyText[K](text)
			if err != nil {
				return nil, err
			}
			return encodeKey(nil, k)
		},
		KeyJSON:   func(b []byte) (json.RawMessage, error) { return decodeJSON(b, decodeKey) },
		ValueJSON: func(b []byte) (json.RawMessage, error) { return decodeJSON(b, decodeValue) },
	}
}

func decodeJSON[T any](b []byte, decode func([]byte) (T, error)) (json.RawMessage, error) {
	v, err := decode(b)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// ParseKeyText parses a key of type K from its text in a URL path: a string
// key is the text, an integer or float key its decimal form, a bool true or
// false, and any other key its JSON.
func ParseKeyText[K any](text string) (K, error) {
	var k K
	v := reflect.ValueOf(&k).Elem()
	var err error
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n int64
		if n, err = strconv.ParseInt(text, 10, v.Type().Bits()); err == nil {
			v.SetInt(n)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var n uint64
		if n, err = strconv.ParseUint(text, 10, v.Type().Bits()); err == nil {
			v.SetUint(n)
		}
	case reflect.Float32, reflect.Float64:
		var f float64
		if f, err = strconv.ParseFloat(text, v.Type().Bits()); err == nil {
			v.SetFloat(f)
		}
	case reflect.Bool:
		var b bool
		if b, err = strconv.ParseBool(text); err == nil {
			v.SetBool(b)
		}
	default:
		err = json.Unmarshal([]byte(text), &k)
	}
	if err != nil {
		return k, fmt.Errorf("key %q is not a %s: %w", text, v.Type(), err)
	}
	return k, nil
}
