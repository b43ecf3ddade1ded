package state_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gofka/streams/state"
)

// TestSubscriptionStoreMatchesModel puts and deletes random subscriptions and
// compares every key's subscribers with a map, on both ordered backends and
// behind a Logged one; foreign keys that are prefixes of each other ("c1",
// "c12") must not see each other's subscribers.
func TestSubscriptionStoreMatchesModel(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		var logged int
		s := state.NewSubscriptionStore(&state.Logged{Backend: newBackend(), Log: func(_, _ []byte) { logged++ }})
		model := map[string]map[string]string{} // fk → left key → hash
		r := rand.New(rand.NewPCG(3, 213))
		fks := []string{"c1", "c12", "c2", "", "c1\x00"}
		for i := range 2000 {
			fk, lk := fks[r.IntN(len(fks))], fmt.Sprintf("o%d", r.IntN(40))
			if r.IntN(3) == 0 {
				if err := s.Delete([]byte(fk), []byte(lk)); err != nil {
					t.Fatal(err)
				}
				delete(model[fk], lk)
			} else {
				h := fmt.Sprintf("hash%d", i)
				if err := s.Put([]byte(fk), []byte(lk), []byte(h)); err != nil {
					t.Fatal(err)
				}
				if model[fk] == nil {
					model[fk] = map[string]string{}
				}
				model[fk][lk] = h
			}
			if i%97 != 0 {
				continue
			}
			for _, fk := range fks {
				subs, err := s.Subscribers([]byte(fk))
				if err != nil {
					t.Fatal(err)
				}
				var got, want []string
				for _, sub := range subs {
					got = append(got, string(sub.LeftKey)+"="+string(sub.Hash))
				}
				for _, lk := range slices.Sorted(maps.Keys(model[fk])) { // byte order of the left keys
					want = append(want, lk+"="+model[fk][lk])
				}
				if !slices.Equal(got, want) {
					t.Fatalf("step %d: subscribers of %q = %q, want %q (in left-key order)", i, fk, got, want)
				}
			}
		}
		if logged != 2000 {
			t.Errorf("%d changelog writes, want one per put or delete (2000)", logged)
		}
	})
}
