package difftest

import "testing"

// TestFlatAllocatesNothing: decoding and encoding a flat struct of numbers,
// bools and short strings allocates nothing (strings alias the input, the
// encoder appends to the caller's buffer).
func TestFlatAllocatesNothing(t *testing.T) {
	data := []byte(`{"id":12,"name":"ann","score":1.5,"ok":true,"Small":-3,"u16":7,"f32":0.25,"-":"d","Odd":"o","x-y.z":"p","k":"k","U":9}`)
	var v Flat
	var err error
	if n := testing.AllocsPerRun(100, func() { v, err = gofkaJSONFlat{}.Decode(data) }); n != 0 || err != nil {
		t.Errorf("Decode: %v allocations per run, err %v", n, err)
	}
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { buf, err = gofkaJSONFlat{}.Encode(buf[:0], v) }); n != 0 || err != nil {
		t.Errorf("Encode: %v allocations per run, err %v", n, err)
	}
	if string(buf) != string(data) {
		t.Errorf("Encode = %s, want %s", buf, data)
	}
}
