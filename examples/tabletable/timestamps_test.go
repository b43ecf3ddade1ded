package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/streamstest"
)

// Kafka Streams' KTableKTableInnerJoinTest, KTableKTableLeftJoinTest and
// KTableKTableOuterJoinTest (doTestJoin, 3.9) pipe one sequence of changes,
// timestamps out of order on both sides, and check each joined record's
// timestamp: the later of the change's and the other side's row's, a delete
// included. Here is that sequence on this example's tables (customers the
// left one, named X…, accounts the right one, statuses Y…; keys 0 to 3), and
// the records each join must write, worked out by hand from that rule.

// step is one input record: value "" is a delete.
type step struct {
	account bool
	key     string
	value   string
	ts      int64
}

func kafkaJoinSteps() []step {
	var s []step
	left := func(v string, ts int64, keys ...int) {
		for _, k := range keys {
			s = append(s, step{false, fmt.Sprint(k), v + fmt.Sprint(k), ts})
		}
	}
	right := func(v string, ts func(k int) int64, keys ...int) {
		for _, k := range keys {
			s = append(s, step{true, fmt.Sprint(k), v + fmt.Sprint(k), ts(k)})
		}
	}
	s = append(s, step{false, "0", "X0", 5}, step{false, "1", "X1", 6}) // left: X0 (5), X1 (6)
	s = append(s, step{true, "0", "Y0", 0}, step{true, "1", "Y1", 10})  // right: Y0 (0), Y1 (10)
	left("XX", 7, 0, 1, 2, 3)                                           // left: XX0..XX3 (7)
	right("YY", func(k int) int64 { return int64(k) * 5 }, 0, 1, 2, 3)  // right: YY0 (0), YY1 (5), YY2 (10), YY3 (15)
	left("XXX", 6, 0, 1, 2, 3)                                          // left: XXX0..XXX3 (6)
	s = append(s, step{true, "0", "", 5}, step{true, "1", "", 7})       // right: YY2 (10), YY3 (15)
	left("XXXX", 13, 0, 1, 2, 3)                                        // left: XXXX0..XXXX3 (13)
	s = append(s, step{false, "0", "", 0}, step{false, "1", "", 42})    // left: XXXX2, XXXX3
	s = append(s, step{false, "2", "", 5}, step{false, "3", "", 20})    // left: empty
	return s
}

// Each join's records: key=customer name+account status@timestamp, or
// key=<delete>@timestamp.
var kafkaJoinWant = map[string][]string{
	"customer-accounts": { // inner
		"0=X0+Y0@5", "1=X1+Y1@10",
		"0=XX0+Y0@7", "1=XX1+Y1@10",
		"0=XX0+YY0@7", "1=XX1+YY1@7", "2=XX2+YY2@10", "3=XX3+YY3@15",
		"0=XXX0+YY0@6", "1=XXX1+YY1@6", "2=XXX2+YY2@10", "3=XXX3+YY3@15",
		"0=<delete>@6", "1=<delete>@7",
		"2=XXXX2+YY2@13", "3=XXXX3+YY3@15",
		"2=<delete>@10", "3=<delete>@20",
	},
	"customers-with-accounts": { // left
		"0=X0+@5", "1=X1+@6",
		"0=X0+Y0@5", "1=X1+Y1@10",
		"0=XX0+Y0@7", "1=XX1+Y1@10", "2=XX2+@7", "3=XX3+@7",
		"0=XX0+YY0@7", "1=XX1+YY1@7", "2=XX2+YY2@10", "3=XX3+YY3@15",
		"0=XXX0+YY0@6", "1=XXX1+YY1@6", "2=XXX2+YY2@10", "3=XXX3+YY3@15",
		"0=XXX0+@6", "1=XXX1+@7",
		"0=XXXX0+@13", "1=XXXX1+@13", "2=XXXX2+YY2@13", "3=XXXX3+YY3@15",
		"0=<delete>@0", "1=<delete>@42", "2=<delete>@10", "3=<delete>@20",
	},
	"customers-or-accounts": { // outer
		"0=X0+@5", "1=X1+@6",
		"0=X0+Y0@5", "1=X1+Y1@10",
		"0=XX0+Y0@7", "1=XX1+Y1@10", "2=XX2+@7", "3=XX3+@7",
		"0=XX0+YY0@7", "1=XX1+YY1@7", "2=XX2+YY2@10", "3=XX3+YY3@15",
		"0=XXX0+YY0@6", "1=XXX1+YY1@6", "2=XXX2+YY2@10", "3=XXX3+YY3@15",
		"0=XXX0+@6", "1=XXX1+@7",
		"0=XXXX0+@13", "1=XXXX1+@13", "2=XXXX2+YY2@13", "3=XXXX3+YY3@15",
		"0=<delete>@0", "1=<delete>@42", "2=+YY2@10", "3=+YY3@20",
	},
}

func TestTimestampsAsKafkaStreamsJoinTests(t *testing.T) {
	d := streamstest.NewDriver(CompiledTableTable())
	defer d.Close()
	pipe := func(topic string, key []byte, v any, ts int64) {
		t.Helper()
		var b []byte
		if v != nil {
			b, _ = json.Marshal(v)
		}
		if err := d.PipeRawAt(topic, key, b, ts); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range kafkaJoinSteps() {
		switch {
		case s.account && s.value != "":
			pipe("accounts", []byte(s.key), Account{Status: s.value}, s.ts)
		case s.account:
			pipe("accounts", []byte(s.key), nil, s.ts)
		case s.value != "":
			pipe("customers", []byte(s.key), Customer{Name: s.value}, s.ts)
		default:
			pipe("customers", []byte(s.key), nil, s.ts)
		}
		if i == 1 { // Kafka's tests also pipe a record without a key to each side: dropped
			pipe("customers", nil, Customer{Name: "SomeVal"}, 42)
		} else if i == 3 {
			pipe("accounts", nil, Account{Status: "AnotherVal"}, 73)
		}
	}
	for topic, want := range kafkaJoinWant {
		var got []string
		for _, r := range d.ReadRaw(topic) {
			v := "<delete>"
			if r.Value != nil {
				var ca CustomerAccount
				if err := json.Unmarshal(r.Value, &ca); err != nil {
					t.Fatal(err)
				}
				v = ca.Name + "+" + ca.Status
			}
			got = append(got, fmt.Sprintf("%s=%s@%d", r.Key, v, r.Timestamp))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", topic, got, want)
		}
	}
	// The stores read as plain rows, without the timestamps they keep.
	accounts, err := streamstest.Store(d, "accounts", streams.String(), streams.JSON[Account]()).All()
	if err != nil || len(accounts) != 2 || accounts[0].Value.Status != "YY2" || accounts[1].Value.Status != "YY3" {
		t.Errorf("store accounts: %+v, %v; want 2 and 3 with YY2 and YY3", accounts, err)
	}
	if n, err := streamstest.Store(d, "customers", streams.String(), streams.JSON[Customer]()).Len(); err != nil || n != 0 {
		t.Errorf("store customers: %d entries, %v; want none", n, err)
	}
}
