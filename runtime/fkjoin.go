package runtime

import (
	"bytes"
	"errors"
	"hash/fnv"
)

// The values of a foreign-key join's internal topics (ir/fkjoin.go says how
// the join uses them), written and read by generated code:
//
//	subscription (key: the foreign key, or nil for none)  instruction | hash length (0 or 16) | hash | left key bytes
//	response     (key: the left key)                       has right row (0 or 1) | hash length | hash | right value bytes
//
// The hash is of the left row's value bytes as its serde writes them, so the
// left task can tell whether a response answers the row it holds now; a
// deleted row has no hash (length 0).

// FKHashSize is the length of a left row's hash.
const FKHashSize = 16

// FKHash appends the hash of a left row's encoded value to dst: 128-bit
// FNV-1a, which every replica computes alike.
func FKHash(dst, value []byte) []byte {
	h := fnv.New128a()
	h.Write(value)
	return h.Sum(dst)
}

// AppendFKSubscription appends a subscription to dst; hash is empty for a
// deleted row.
func AppendFKSubscription(dst []byte, instruction byte, hash, leftKey []byte) []byte {
	dst = append(dst, instruction, byte(len(hash)))
	dst = append(dst, hash...)
	return append(dst, leftKey...)
}

var errFKFormat = errors.New("a foreign-key join record in an unknown format")

// ParseFKSubscription reads a subscription; the slices alias b.
func ParseFKSubscription(b []byte) (instruction byte, hash, leftKey []byte, err error) {
	if len(b) < 2 || len(b) < 2+int(b[1]) {
		return 0, nil, nil, errFKFormat
	}
	n := 2 + int(b[1])
	return b[0], b[2:n], b[n:], nil
}

// AppendFKResponse appends a response to dst: the hash of the subscription it
// answers and the right row's encoded value, if the right table holds one.
func AppendFKResponse(dst []byte, hash []byte, hasRight bool, right []byte) []byte {
	flag := byte(0)
	if hasRight {
		flag = 1
	}
	dst = append(dst, flag, byte(len(hash)))
	dst = append(dst, hash...)
	return append(dst, right...)
}

// ParseFKResponse reads a response; the slices alias b.
func ParseFKResponse(b []byte) (hash []byte, hasRight bool, right []byte, err error) {
	if len(b) < 2 || b[0] > 1 || len(b) < 2+int(b[1]) {
		return nil, false, nil, errFKFormat
	}
	n := 2 + int(b[1])
	return b[2:n], b[0] == 1, b[n:], nil
}

// FKInstructions decides what a left row's change sends, as Kafka Streams
// 3.9's SubscriptionSendProcessorSupplier (instruction values as ir's FK*
// constants; -1: nothing): oldI to the old row's foreign key oldFK, newI to
// the new row's newFK. hadOld and hasNew say whether each row exists, hadFK
// and hasFK whether it has a foreign key (a pointer key may be nil).
//
// A left join always asks for an answer, for a row without a foreign key or a
// deleted row too (fkNoForeignKey: the right task answers "no row", as Kafka
// Streams' null-keyed subscription), and unsubscribes an old key the row left.
// An inner join: a row that moved to another key unsubscribes from the old one
// without an answer and asks the new one for an answer even without a right
// row (its earlier result must go); a deleted row, or one whose foreign key
// became nil, unsubscribes and asks for the delete; a new row asks only if
// there is a right row, and so does a changed row that kept its key (Kafka
// Streams 3.9: without a right row it had no result, nothing to delete).
func FKInstructions(leftJoin, hadOld, hasNew, hadFK, hasFK bool, oldFK, newFK []byte) (oldI, newI int) {
	oldI, newI = -1, -1
	moved := hadFK && (!hasFK || !bytes.Equal(oldFK, newFK))
	if leftJoin {
		if !hadOld && !hasNew {
			return oldI, newI // deleting a row that was not there
		}
		if moved {
			oldI = int(fkDeleteNoPropagate)
		}
		if !hasFK {
			return oldI, int(fkNoForeignKey)
		}
		return oldI, int(fkPropagateNullIfNoValue)
	}
	switch {
	case hasFK && moved:
		oldI, newI = int(fkDeleteNoPropagate), int(fkPropagateNullIfNoValue)
	case hasFK:
		newI = int(fkPropagateOnlyIfValue)
	case hadFK:
		oldI = int(fkDeleteAndPropagate)
	}
	return oldI, newI
}

// The instructions, as ir.FKDeleteNoPropagate and the others.
const (
	fkDeleteNoPropagate      byte = 0
	fkDeleteAndPropagate     byte = 1
	fkPropagateNullIfNoValue byte = 2
	fkPropagateOnlyIfValue   byte = 3
	fkNoForeignKey           byte = 4
)

// FKAnswers reports whether the right task answers a subscription with that
// instruction, found saying whether the right table holds a row for its key.
func FKAnswers(instruction byte, found bool) bool {
	switch instruction {
	case fkDeleteAndPropagate, fkPropagateNullIfNoValue, fkNoForeignKey:
		return true
	case fkPropagateOnlyIfValue:
		return found
	}
	return false
}
