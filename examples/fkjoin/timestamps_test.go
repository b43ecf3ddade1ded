package main

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/streamstest"
)

// TestFKJoinTimestamps writes both tables out of time order and checks each
// joined record's timestamp against Kafka Streams 3.9's rule, worked out by
// hand: a left change's subscription is answered at the later of its time and
// the customer row's (SubscriptionJoinProcessorSupplier), a customer change
// answers at its own time (ForeignTableJoinProcessorSupplier), and the result
// takes the answer's (ResponseJoinProcessorSupplier).
func TestFKJoinTimestamps(t *testing.T) {
	d := streamstest.NewDriver(CompiledFKJoin())
	defer d.Close()
	orders := streamstest.Input(d, "orders", streams.String(), streams.JSON[Order]())
	customers := streamstest.Input(d, "customers", streams.String(), streams.JSON[Customer]())
	steps := []func() error{
		func() error { return customers.PipeAt("c1", Customer{Name: "Ann"}, 10) },
		func() error { return orders.PipeAt("o1", Order{Customer: "c1", AmountCents: 5}, 5) },  // answered at max(5, 10)
		func() error { return customers.PipeAt("c1", Customer{Name: "Bob"}, 3) },               // answers at 3
		func() error { return orders.PipeAt("o1", Order{Customer: "c1", AmountCents: 7}, 1) },  // max(1, 3)
		func() error { return orders.PipeAt("o2", Order{Customer: "c2", AmountCents: 9}, 20) }, // no customer: 20
		func() error { return customers.PipeAt("c2", Customer{Name: "Cy"}, 15) },               // answers at 15
		func() error { return d.PipeRawAt("orders", []byte("o1"), nil, 2) },                    // the delete: see below
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
	}
	for _, c := range []struct {
		topic string
		want  []string
	}{
		// The left join sends a deleted row's subscription without a foreign key
		// (Kafka Streams 3.7+, leftJoinInstructions), answered at its own time: 2;
		// the inner join sends it to the old key, answered at max(2, 3).
		{"order-details", []string{"o1=Ann/5@10", "o1=Bob/5@3", "o1=Bob/7@3", "o2=/9@20", "o2=Cy/9@15", "o1=<delete>@2"}},
		{"placed-orders", []string{"o1=Ann/5@10", "o1=Bob/5@3", "o1=Bob/7@3", "o2=Cy/9@15", "o1=<delete>@3"}},
	} {
		recs, err := streamstest.Output(d, c.topic, streams.String(), streams.JSON[OrderDetails]()).ReadRecords()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			v := "<delete>"
			if !r.NilValue {
				v = fmt.Sprintf("%s/%d", r.Value.Name, r.Value.AmountCents)
			}
			got = append(got, fmt.Sprintf("%s=%s@%d", r.Key, v, r.Timestamp))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.topic, got, c.want)
		}
	}
}
