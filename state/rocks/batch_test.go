package rocks

import (
	"errors"
	"testing"
)

// TestBatch: a batch's writes are invisible until Write, then all there in
// order (a put then a delete of one key deletes it), and only in its own
// store partition; a batch of a dropped partition fails.
func TestBatch(t *testing.T) {
	db := open(t, t.TempDir(), testMem)
	s, other := store(t, db, "g", 0), store(t, db, "g", 1)
	mustPut(t, s, "old", "1")
	b := s.NewBatch()
	defer b.Close()
	b.Put([]byte("a"), []byte("A"))
	b.Put([]byte("b"), []byte("B"))
	b.Put([]byte("c"), []byte("C"))
	b.Delete([]byte("c"))
	b.Delete([]byte("old"))
	if b.Len() != 5 {
		t.Errorf("Len = %d, want 5", b.Len())
	}
	wantMissing(t, s, "a")
	wantGet(t, s, "old", "1")
	if err := b.Write(); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 0 {
		t.Errorf("Len after Write = %d, want 0", b.Len())
	}
	if got := all(t, s); !equal(got, []string{"a=A", "b=B"}) {
		t.Errorf("store after the batch: %v, want [a=A b=B]", got)
	}
	if got := all(t, other); len(got) != 0 {
		t.Errorf("the other partition: %v, want nothing", got)
	}
	if err := db.DropStore("g", 0); err != nil {
		t.Fatal(err)
	}
	b.Put([]byte("x"), []byte("X"))
	if err := b.Write(); !errors.Is(err, ErrDropped) {
		t.Errorf("Write after DropStore = %v, want ErrDropped", err)
	}
}
