package runtime

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/gofka/streams/state"
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
	// Windows, for a window store only, lists the windows of key whose
	// start is in [from, to] (ms) from the store's backend.
	Windows func(b state.Backend, key []byte, from, to int64) ([]WindowEntry, error)
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

// TimestampedQueryOf is QueryOf for a timestamped store (StoreSpec.Timestamped):
// a row reads as its value, without its timestamp.
func TimestampedQueryOf[K, V any](encodeKey func([]byte, K) ([]byte, error), decodeKey func([]byte) (K, error),
	decodeValue func([]byte) (V, error)) *StoreQuery {
	q := QueryOf[K, V](encodeKey, decodeKey, decodeValue)
	q.ValueJSON = func(b []byte) (json.RawMessage, error) {
		raw, _, err := state.TimestampedValue(b)
		if err != nil {
			return nil, err
		}
		return decodeJSON(raw, decodeValue)
	}
	return q
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

// WindowEntry is one window of a key in a windowed store.
type WindowEntry struct {
	Start int64           `json:"start"` // ms since the epoch
	End   int64           `json:"end"`   // exclusive
	Value json.RawMessage `json:"value"`
}

// WindowQueryOf is the StoreQuery of a window store (state.WindowStore) of
// keys K and values V with spec: a key's windows are read with Windows.
func WindowQueryOf[K, V any](encodeKey func([]byte, K) ([]byte, error), decodeKey func([]byte) (K, error),
	encodeValue func([]byte, V) ([]byte, error), decodeValue func([]byte) (V, error), spec state.WindowSpec) *StoreQuery {
	q := QueryOf[K, V](encodeKey, decodeKey, decodeValue)
	q.Windows = func(b state.Backend, key []byte, from, to int64) ([]WindowEntry, error) {
		// A store of its own over the flushed backend: it only reads.
		ws := state.NewWindowStore(b, encodeValue, decodeValue, spec, 16)
		out := []WindowEntry{}
		err := ws.Fetch(key, from, to, func(start int64, v V, _ int64) error {
			j, err := json.Marshal(v)
			out = append(out, WindowEntry{Start: start, End: start + spec.Size, Value: j})
			return err
		})
		return out, err
	}
	return q
}
