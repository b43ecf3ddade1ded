package runtime

import (
	"bytes"
	"testing"
)

func TestFKSubscriptionRoundTrip(t *testing.T) {
	hash := FKHash(nil, []byte("lhsValue1|rhs1"))
	if len(hash) != FKHashSize {
		t.Fatalf("hash of %d bytes, want %d", len(hash), FKHashSize)
	}
	for _, c := range []struct {
		instr byte
		hash  []byte
		key   []byte
	}{{2, hash, []byte("lhs1")}, {1, nil, []byte("lhs1")}, {3, hash, nil}} {
		b := AppendFKSubscription([]byte("junk"), c.instr, c.hash, c.key)[4:]
		instr, h, k, err := ParseFKSubscription(b)
		if err != nil || instr != c.instr || !bytes.Equal(h, c.hash) || !bytes.Equal(k, c.key) {
			t.Errorf("subscription %v: parsed %d %x %q %v", c, instr, h, k, err)
		}
	}
	for _, bad := range [][]byte{nil, {2}, {2, 16, 1, 2}} {
		if _, _, _, err := ParseFKSubscription(bad); err == nil {
			t.Errorf("ParseFKSubscription(%x) accepted it", bad)
		}
	}
}

func TestFKResponseRoundTrip(t *testing.T) {
	hash := FKHash(nil, []byte("v"))
	for _, c := range []struct {
		hash     []byte
		hasRight bool
		right    []byte
	}{{hash, true, []byte("rhsValue1")}, {hash, false, nil}, {nil, false, nil}, {hash, true, []byte{}}} {
		b := AppendFKResponse(nil, c.hash, c.hasRight, c.right)
		h, has, r, err := ParseFKResponse(b)
		if err != nil || !bytes.Equal(h, c.hash) || has != c.hasRight || !bytes.Equal(r, c.right) {
			t.Errorf("response %v: parsed %x %v %q %v", c, h, has, r, err)
		}
	}
	if _, _, _, err := ParseFKResponse([]byte{7, 0}); err == nil {
		t.Error("ParseFKResponse accepted a flag of 7")
	}
}

// TestFKHashIsFNV1a128 pins the hash to FNV-1a 128 (a known test vector), which
// every replica and every version must compute alike: a response is matched
// against the hash of the row a replica holds after a restart.
func TestFKHashIsFNV1a128(t *testing.T) {
	// FNV-1a 128 of "a", from the FNV reference (draft-eastlake-fnv).
	want := []byte{0xd2, 0x28, 0xcb, 0x69, 0x6f, 0x1a, 0x8c, 0xaf, 0x78, 0x91, 0x2b, 0x70, 0x4e, 0x4a, 0x89, 0x64}
	if got := FKHash(nil, []byte("a")); !bytes.Equal(got, want) {
		t.Errorf("FKHash(a) = %x, want %x", got, want)
	}
}

// TestFKInstructions checks the instructions of Kafka Streams 3.9's
// SubscriptionSendProcessorSupplier for every kind of left change; a nil
// foreign key here is a null one (a row's nil pointer key, or no row).
func TestFKInstructions(t *testing.T) {
	const none = -1
	a, b := []byte("rhs1"), []byte("rhs2")
	dnp, dap, pn, po, nofk := int(fkDeleteNoPropagate), int(fkDeleteAndPropagate), int(fkPropagateNullIfNoValue), int(fkPropagateOnlyIfValue), int(fkNoForeignKey)
	for _, c := range []struct {
		name           string
		left           bool
		hadOld, hasNew bool
		oldFK, newFK   []byte
		oldI, newI     int
	}{
		{"inner: new row", false, false, true, nil, a, none, po},
		{"left: new row", true, false, true, nil, a, none, pn},
		{"inner: same key", false, true, true, a, a, none, po}, // 3.9: no tombstone for a row that joined nothing
		{"left: same key", true, true, true, a, a, none, pn},
		{"inner: moved", false, true, true, a, b, dnp, pn},
		{"left: moved", true, true, true, a, b, dnp, pn},
		{"inner: deleted", false, true, false, a, nil, dap, none},
		{"left: deleted", true, true, false, a, nil, dnp, nofk}, // the null-keyed subscription answers with the delete
		{"delete of nothing", false, false, false, nil, nil, none, none},
		{"left: delete of nothing", true, false, false, nil, nil, none, none},
		// Null foreign keys (KIP-962: a left join keeps such rows).
		{"inner: new row, nil key", false, false, true, nil, nil, none, none},
		{"left: new row, nil key", true, false, true, nil, nil, none, nofk},
		{"inner: key became nil", false, true, true, a, nil, dap, none},
		{"left: key became nil", true, true, true, a, nil, dnp, nofk},
		{"inner: nil key became a key", false, true, true, nil, a, none, po},
		{"left: nil key became a key", true, true, true, nil, a, none, pn},
		{"inner: nil key stays nil", false, true, true, nil, nil, none, none},
		{"left: nil key stays nil", true, true, true, nil, nil, none, nofk},
		{"inner: deleted, nil key", false, true, false, nil, nil, none, none},
		{"left: deleted, nil key", true, true, false, nil, nil, none, nofk},
	} {
		hadFK, hasFK := c.oldFK != nil, c.newFK != nil
		oldI, newI := FKInstructions(c.left, c.hadOld, c.hasNew, hadFK, hasFK, c.oldFK, c.newFK)
		if oldI != c.oldI || newI != c.newI {
			t.Errorf("%s: (%d, %d), want (%d, %d)", c.name, oldI, newI, c.oldI, c.newI)
		}
	}
	for instr, want := range map[byte][2]bool{fkDeleteNoPropagate: {false, false}, fkDeleteAndPropagate: {true, true}, fkPropagateNullIfNoValue: {true, true}, fkPropagateOnlyIfValue: {false, true}, fkNoForeignKey: {true, true}} {
		if got := [2]bool{FKAnswers(instr, false), FKAnswers(instr, true)}; got != want {
			t.Errorf("FKAnswers(%d, without/with a row) = %v, want %v", instr, got, want)
		}
	}
}
