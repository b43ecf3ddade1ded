// Package difftest holds record types that exercise every rule of encoding/json
// the generated JSON serdes reproduce, a topology that makes gofkagen generate
// serdes for them (gofka_gen.go, checked in), and the differential tests and
// fuzz targets that compare those serdes with encoding/json.
package difftest

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Flat is a record of scalars: the case that must not allocate.
type Flat struct {
	ID     int64   `json:"id"`
	Name   string  `json:"name"`
	Score  float64 `json:"score,omitempty"`
	OK     bool    `json:"ok"`
	Small  int8
	U16    uint16  `json:"u16,omitempty"`
	F32    float32 `json:"f32"`
	Skip   string  `json:"-"`
	Dash   string  `json:"-,"`
	Odd    string  `json:"a\"b"` // an invalid tag name: the Go name is used
	Punct  string  `json:"x-y.z"`
	hidden int
	Kelvin string `json:"k"` // K, k and the Kelvin sign fold together
	U      uint
}

// Inner is nested in Nested.
type Inner struct {
	A int
	B string `json:"b,omitempty"`
}

// Base and Other are embedded in Nested: their fields are promoted.
type Base struct {
	ID    string
	Dup   int
	OnlyB bool
}

// Other conflicts with Base on Dup (both untagged at the same depth: dropped).
type Other struct {
	Dup    int
	O      int
	Tagged string `json:"OnlyB"` // tagged beats Base's untagged OnlyB at the same depth
}

type embedded struct{ Promoted string }

// Key is a named string map key.
type Key string

// Level encodes itself as text.
type Level int

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) {
	switch l {
	case 0:
		return []byte("low"), nil
	case 1:
		return []byte("high<&>"), nil
	}
	return nil, fmt.Errorf("level %d has no name", int(l))
}

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low":
		*l = 0
	case "high<&>":
		*l = 1
	default:
		return errors.New("unknown level " + strconv.Quote(string(b)))
	}
	return nil
}

// Custom encodes itself as JSON with spaces and HTML characters, which
// encoding/json compacts and escapes.
type Custom struct{ X int }

// MarshalJSON writes {"x": X, "s": "<&>"} with spaces.
func (c Custom) MarshalJSON() ([]byte, error) {
	if c.X < 0 {
		return nil, errors.New("negative")
	}
	return []byte(fmt.Sprintf(`{ "x" : %d , "s" : "<&>\u2028" }`, c.X)), nil
}

// UnmarshalJSON accepts any JSON value; numbers set X, null leaves it.
func (c *Custom) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		c.X = n
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if x, ok := m["x"].(float64); ok {
		c.X = int(x)
	}
	return nil
}

// Nested covers embedding, nesting, pointers, slices, maps and the types
// encoding/json treats specially.
type Nested struct {
	Base
	Other
	embedded
	ID    int // shadows Base.ID
	In    Inner
	P     *Inner `json:"p"`
	PP    **int
	S     []Inner
	Ints  []int `json:",omitempty"`
	M     map[string]Inner
	MS    map[Key]int
	MI    map[int]string
	Arr   [2]int
	B     []byte
	T     time.Time
	TP    *time.Time `json:"tp,omitempty"`
	Raw   json.RawMessage
	N     json.Number
	Any   any
	Lvl   Level
	LP    *Level
	Cust  Custom
	CP    *Custom
	Named Key `json:"named,omitempty"`
	F     float64
	Strs  []string
	Tags  Tags
	Dict  Dict
	Meta  struct {
		A    int      `json:"a"`
		List []string `json:",omitempty"`
	}
	Pair Pair[string]
	PI   *Pair[int] `json:"pi"`
}

// Tags is a named slice.
type Tags []string

// Dict is a named map.
type Dict map[string]float64

// Pair is generic.
type Pair[T any] struct {
	First  T `json:"first"`
	Second T `json:"second,omitempty"`
}

// Node is recursive.
type Node struct {
	V    int
	Next *Node `json:"next,omitempty"`
	Kids []Node
}

// Quoted uses the ",string" option, which is left to encoding/json.
type Quoted struct {
	N int `json:",string"`
}
