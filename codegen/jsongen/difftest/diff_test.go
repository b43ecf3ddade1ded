package difftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// serde is the shape of a generated serde.
type serde[T any] interface {
	Encode(dst []byte, v T) ([]byte, error)
	Decode(data []byte) (T, error)
}

// compare decodes data with s and with encoding/json and reports a difference:
// an error on one side only, or different values; then it encodes the value
// both ways and reports different bytes or errors.
func compare[T any](s serde[T], data []byte) error {
	orig := bytes.Clone(data)
	got, gotErr := s.Decode(data)
	if !bytes.Equal(data, orig) {
		return fmt.Errorf("decode %q into %T changed its input to %q", orig, got, data)
	}
	var want T
	wantErr := json.Unmarshal(data, &want)
	if (gotErr == nil) != (wantErr == nil) {
		return fmt.Errorf("decode %q into %T: error %v, encoding/json's %v", data, got, gotErr, wantErr)
	}
	if wantErr != nil {
		return nil
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("decode %q:\n got %#v\nwant %#v", data, got, want)
	}
	return compareEncode(s, want)
}

// compareEncode encodes v with s and with encoding/json.
func compareEncode[T any](s serde[T], v T) error {
	out, gotErr := s.Encode([]byte("prefix"), v)
	wantOut, wantErr := json.Marshal(v)
	if (gotErr == nil) != (wantErr == nil) {
		return fmt.Errorf("encode %#v: error %v, encoding/json's %v", v, gotErr, wantErr)
	}
	if wantErr != nil {
		if string(out) != "prefix" {
			return fmt.Errorf("encode %#v failed but changed dst to %q", v, out)
		}
		return nil
	}
	if !bytes.Equal(out, append([]byte("prefix"), wantOut...)) {
		return fmt.Errorf("encode %#v:\n got %s\nwant prefix%s", v, out, wantOut)
	}
	return nil
}

// compareAll runs compare for every test type.
func compareAll(data []byte) []error {
	var errs []error
	for _, err := range []error{
		compare[Flat](gofkaJSONFlat{}, data),
		compare[Nested](gofkaJSONNested{}, data),
		compare[Node](gofkaJSONNode{}, data),
		compare[*Flat](gofkaJSONPtrFlat{}, data),
	} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// FuzzDecode: for every input, each generated serde decodes what encoding/json
// decodes, to an equal value, fails where it fails, and encodes the value to
// the same bytes. The seeds are in testdata/fuzz/FuzzDecode and cases.
func FuzzDecode(f *testing.F) {
	for _, c := range cases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, err := range compareAll(data) {
			t.Error(err)
		}
	})
}

// TestCases runs the hand-written cases, each a rule of encoding/json.
func TestCases(t *testing.T) {
	for _, c := range cases {
		for _, err := range compareAll([]byte(c)) {
			t.Error(err)
		}
	}
}
