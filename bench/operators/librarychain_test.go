package operators

import (
	"strings"
	"testing"
)

// TestLibraryChainAllocs pins down the library chain's allocations to the ones its
// any-typed API forces, once every user is in the store: per record, the source
// boxes the decoded value; per real click, the mapper's string key and boxed
// value, task 1's string key and boxed value, the store's boxed decoded count and
// the aggregator's boxed result, 6 in all. More would be waste the baseline should
// not carry; fewer would mean the comparison no longer measures such a library.
func TestLibraryChainAllocs(t *testing.T) {
	in := clicks()
	c, err := NewLibraryChain()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(in); err != nil {
		t.Fatal(err)
	}
	batch := in[len(in)/2 : len(in)/2+BatchSize]
	real := 0
	for _, r := range batch {
		if !strings.HasPrefix(string(r.Value), "bot:") {
			real++
		}
	}
	allocs := testing.AllocsPerRun(50, func() {
		if e := c.ProcessBatch(batch); e != nil {
			err = e
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(len(batch) + 6*real); allocs != want {
		t.Errorf("a batch of %d records (%d real clicks) allocates %v times, want %v (1 per record + 6 per real click)",
			len(batch), real, allocs, want)
	}
}

// TestLibraryAdaptersRejectWrongTypes checks that the adapters of the user
// functions fail, rather than panic, on values of the wrong type.
func TestLibraryAdaptersRejectWrongTypes(t *testing.T) {
	if _, err := libIsRealClick("", "a string"); err == nil || !strings.Contains(err.Error(), "value is string") {
		t.Errorf("libIsRealClick of a string: error %v", err)
	}
	if _, _, err := libExtractUserInfo("", 42); err == nil || !strings.Contains(err.Error(), "value is int") {
		t.Errorf("libExtractUserInfo of an int: error %v", err)
	}
	if _, err := libIncrementCounter("u", []byte("/p"), []byte{1}); err == nil || !strings.Contains(err.Error(), "of 1 bytes") {
		t.Errorf("libIncrementCounter of a 1-byte aggregate: error %v", err)
	}
	if _, err := libIncrementCounter("u", nil, []byte{0, 0, 0, 0, 0, 0, 0, 0}); err == nil || !strings.Contains(err.Error(), "value is <nil>") {
		t.Errorf("libIncrementCounter of a nil value: error %v", err)
	}
	if v, err := libIncrementCounter("u", []byte("/p"), []byte{0, 0, 0, 0, 0, 0, 0, 41}); err != nil || v.([]byte)[7] != 42 {
		t.Errorf("libIncrementCounter of 41: %v, %v; want 42", v, err)
	}
}
