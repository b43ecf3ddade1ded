package difftest

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// FuzzEncode: values that decoding never produces (invalid UTF-8, NaN and the
// infinities, extreme numbers, failing MarshalJSON and MarshalText) encode to
// encoding/json's bytes, or fail where it fails.
func FuzzEncode(f *testing.F) {
	f.Add("ann", int64(1), 1.5, float32(2.5), true, -3, "", int64(0))
	f.Add("\xff<&>\u2028\x01\"\\", int64(math.MinInt64), math.NaN(), float32(math.Inf(1)), false, 2, "\x00", int64(-1))
	f.Add("", int64(0), 1e21, float32(1e-7), false, 0, "{\"a\": 1}", int64(1e18))
	f.Add("é", int64(9), -0.0, float32(-1e21), true, 1, "[1, 2 ]", int64(5))
	f.Fuzz(func(t *testing.T, s string, i int64, fl float64, f32 float32, b bool, lvl int, raw string, sec int64) {
		flat := Flat{ID: i, Name: s, Score: fl, OK: b, Small: int8(i), U16: uint16(i), F32: f32, Dash: s, Odd: raw, Kelvin: s, U: uint(i)}
		if err := compareEncode[Flat](gofkaJSONFlat{}, flat); err != nil {
			t.Error(err)
		}
		if err := compareEncode[*Flat](gofkaJSONPtrFlat{}, &flat); err != nil {
			t.Error(err)
		}
		tm := time.Unix(sec, i).UTC()
		n := Nested{ID: int(i), F: fl, Named: Key(s), Strs: []string{s, raw}, B: []byte(s), T: tm, TP: &tm,
			Raw: json.RawMessage(raw), N: json.Number(raw), Any: map[string]any{s: fl}, Lvl: Level(lvl),
			Cust: Custom{X: lvl}, CP: &Custom{X: -lvl}, M: map[string]Inner{s: {A: lvl, B: raw}, raw: {}},
			MS: map[Key]int{Key(s): 1, "b": 2}, MI: map[int]string{lvl: s}, Arr: [2]int{lvl, int(i)}}
		n.Other.Tagged, n.embedded.Promoted, n.Base.ID = s, raw, s
		if err := compareEncode[Nested](gofkaJSONNested{}, n); err != nil {
			t.Error(err)
		}
	})
}
