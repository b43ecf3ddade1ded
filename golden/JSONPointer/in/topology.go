// Package jsonpointer reads and writes pointers to structs, whose default serde is
// JSON, as for structs: a nil pointer is written as null. A user function that
// panics fails its record, and the others go on.
package jsonpointer

import "github.com/gofka/streams"

type Order struct {
	ID    string   `json:"id"`
	Items []string `json:"items,omitempty"`
}

type Receipt struct {
	Order string `json:"order"`
	Lines int    `json:"lines"`
}

// receipt has no receipt for an empty order; it panics on a nil one.
func receipt(o *Order) *Receipt {
	if len(o.Items) == 0 {
		return nil
	}
	return &Receipt{Order: o.ID, Lines: len(o.Items)}
}

//gofka:topology
func Receipts(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[*Order]()), "orders").
		MapValues(receipt).
		To("receipts")
}
