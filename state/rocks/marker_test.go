package rocks

import (
	"errors"
	"testing"
)

// TestMarker: a marker written on a closed instance is read once by
// TakeMarker, survives opening and closing the instance, goes with Remove, and
// cannot be touched while the instance is open.
func TestMarker(t *testing.T) {
	p, err := OpenPool(t.TempDir(), testMem)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	db, err := p.Open("0_1")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteMarker("0_1", []byte("x")); !errors.Is(err, ErrInstanceOpen) {
		t.Fatalf("WriteMarker on an open instance: %v, want ErrInstanceOpen", err)
	}
	db.Close()
	if err := p.WriteMarker("0_1", []byte("offsets")); err != nil {
		t.Fatal(err)
	}
	db, err = p.Open("0_1") // RocksDB opens a directory holding the marker
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if got, err := p.TakeMarker("0_1"); err != nil || string(got) != "offsets" {
		t.Fatalf("TakeMarker: %q, %v; want \"offsets\"", got, err)
	}
	if got, err := p.TakeMarker("0_1"); err != nil || got != nil {
		t.Fatalf("TakeMarker again: %q, %v; want nothing", got, err)
	}
	if err := p.WriteMarker("0_1", []byte("again")); err != nil {
		t.Fatal(err)
	}
	if err := p.Remove("0_1"); err != nil {
		t.Fatal(err)
	}
	if got, err := p.TakeMarker("0_1"); err != nil || got != nil {
		t.Fatalf("TakeMarker after Remove: %q, %v; want nothing", got, err)
	}
	if err := p.WriteMarker("1_0", []byte("x")); err == nil {
		t.Fatal("WriteMarker on an instance that does not exist succeeded")
	}
}
