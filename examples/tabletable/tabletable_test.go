package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gofka/streams/streamstest"
)

// change is one input record: a customer's or an account's new row, or a
// delete (row nil), at a timestamp.
type change struct {
	account bool
	key     string
	row     any // *Customer or *Account; nil: a delete
	ts      int64
}

// randomChanges makes customers and accounts arrive, change and leave, with
// deletes of keys the table does not hold among them, timestamps not in order.
func randomChanges(r *rand.Rand, n int) []change {
	var cs []change
	for i := range n {
		c := change{account: r.IntN(2) == 0, key: fmt.Sprintf("c%d", r.IntN(10)), ts: int64(1000 + r.IntN(500))}
		if r.IntN(4) > 0 {
			if c.account {
				c.row = &Account{BalanceCents: int64(i), Status: []string{"open", "frozen"}[r.IntN(2)]}
			} else {
				c.row = &Customer{Name: fmt.Sprintf("name-%d", i), Region: "north"}
			}
		}
		cs = append(cs, c)
	}
	return cs
}

// joined is a record a join writes: value nil is a delete.
type joined struct {
	key   string
	value *CustomerAccount
	ts    int64
}

func (j joined) String() string {
	if j.value == nil {
		return fmt.Sprintf("%s=<delete>@%d", j.key, j.ts)
	}
	return fmt.Sprintf("%s=%+v@%d", j.key, *j.value, j.ts)
}

type row struct {
	c  *Customer
	a  *Account
	ts [2]int64 // customer's, account's
}

// bruteForce is what the three joins write, change by change, as Kafka
// Streams' table-table joins do: a change is joined with the other side's row
// (the result's timestamp the later of the two), or, when the other side has
// none, writes the row the join keeps without it (left and outer) or nothing;
// a change that left and leaves its side empty writes nothing where the other
// side is empty too.
func bruteForce(cs []change) (inner, left, outer []joined) {
	rows := map[string]*row{}
	for _, c := range cs {
		r := rows[c.key]
		if r == nil {
			r = &row{}
			rows[c.key] = r
		}
		side, other := 0, 1
		hadSide := r.c != nil
		if c.account {
			side, other, hadSide = 1, 0, r.a != nil
			r.a, _ = c.row.(*Account)
		} else {
			r.c, _ = c.row.(*Customer)
		}
		r.ts[side] = c.ts
		hasSide := c.row != nil
		otherHas := (c.account && r.c != nil) || (!c.account && r.a != nil)
		ts := c.ts
		if otherHas {
			ts = max(ts, r.ts[other])
		}
		value := func(ok bool) *CustomerAccount {
			if !ok {
				return nil
			}
			v := either(r.c, r.a)
			return &v
		}
		if otherHas { // inner: both sides, or a delete
			inner = append(inner, joined{c.key, value(hasSide), ts})
		}
		if c.account { // left, the right side changed: only where a customer is
			if r.c != nil {
				left = append(left, joined{c.key, value(true), ts})
			}
		} else if otherHas || hasSide || hadSide {
			left = append(left, joined{c.key, value(hasSide), ts})
		}
		if otherHas || hasSide || hadSide {
			outer = append(outer, joined{c.key, value(otherHas || hasSide), ts})
		}
	}
	return inner, left, outer
}

// TestAgainstBruteForce pipes random changes of both tables through the
// in-process driver and compares each join's records, in order, with
// bruteForce's: values and timestamps.
func TestAgainstBruteForce(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			cs := randomChanges(rand.New(rand.NewPCG(seed, 77)), 300)
			d := streamstest.NewDriver(CompiledTableTable(), streamstest.WithPartitions(3))
			defer d.Close()
			for _, c := range cs {
				topic := "customers"
				if c.account {
					topic = "accounts"
				}
				var v []byte
				if c.row != nil {
					v, _ = json.Marshal(c.row)
				}
				if err := d.PipeRawAt(topic, []byte(c.key), v, c.ts); err != nil {
					t.Fatal(err)
				}
			}
			inner, left, outer := bruteForce(cs)
			for _, j := range []struct {
				topic string
				want  []joined
			}{{"customer-accounts", inner}, {"customers-with-accounts", left}, {"customers-or-accounts", outer}} {
				var got []joined
				for _, r := range d.ReadRaw(j.topic) {
					g := joined{key: string(r.Key), ts: r.Timestamp}
					if r.Value != nil {
						g.value = new(CustomerAccount)
						if err := json.Unmarshal(r.Value, g.value); err != nil {
							t.Fatal(err)
						}
					}
					got = append(got, g)
				}
				// Keys go to 3 partitions: compare each key's sequence.
				for k := range 10 {
					key := fmt.Sprintf("c%d", k)
					of := func(js []joined) []string {
						var s []string
						for _, x := range js {
							if x.key == key {
								s = append(s, x.String())
							}
						}
						return s
					}
					if g, w := of(got), of(j.want); !slices.Equal(g, w) {
						t.Errorf("%s, key %s:\n got %v\nwant %v", j.topic, key, g, w)
					}
				}
			}
		})
	}
}
