// Command tabletable joins two tables keyed alike, customers and their
// accounts (both keyed by customer id), three ways: an inner, a left and an
// outer table-table join, each written to a topic of its own.
//
//	customers (key: customer id, value: JSON Customer; a nil value deletes) ─ Table into store "customers" ─┐
//	accounts  (key: customer id, value: JSON Account;  a nil value deletes) ─ Table into store "accounts"  ─┤
//	  ├─ Join(accounts, both)          ─▶ customer-accounts        (key: customer id, value: JSON CustomerAccount; nil: a delete)
//	  ├─ LeftJoin(accounts, maybeAcct) ─▶ customers-with-accounts  (the same, for every customer)
//	  └─ OuterJoin(accounts, either)   ─▶ customers-or-accounts    (the same, for every customer or account)
//
// A change on either side updates the joined row of its key: each join looks
// the key up in the other side's store, so both tables are read from topics
// partitioned alike (co-partitioned) and nothing is repartitioned. When a
// change leaves a key with no joined row (a delete on a side the join needs),
// the join writes a delete, a tombstone.
//
// # Running it
//
//	go generate && go build && ./tabletable
//
// With no --brokers the binary starts an embedded broker on 127.0.0.1:9092:
//
//	printf '%s\n' 'c1|{"name":"Ann","region":"north"}' 'c2|{"name":"Bob","region":"south"}' |
//		kcat -P -b 127.0.0.1:9092 -t customers -K '|'
//	printf '%s\n' 'c1|{"balance_cents":1250,"status":"open"}' 'c3|{"balance_cents":7,"status":"frozen"}' |
//		kcat -P -b 127.0.0.1:9092 -t accounts -K '|'
//	kcat -C -b 127.0.0.1:9092 -t customers-or-accounts -e -f '%k %s\n'
//
// c1 is in all three outputs, c2 in the left and outer ones, c3 in the outer one.
package main

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import "github.com/gofka/streams"

// Customer is a row of the customers table.
type Customer struct {
	Name   string `json:"name"`
	Region string `json:"region"`
}

// Account is a row of the accounts table: one account per customer.
type Account struct {
	BalanceCents int64  `json:"balance_cents"`
	Status       string `json:"status"`
}

// CustomerAccount is a joined row; HasCustomer and HasAccount say which sides
// the row had (the others' fields are empty).
type CustomerAccount struct {
	Name         string `json:"name"`
	Region       string `json:"region"`
	BalanceCents int64  `json:"balance_cents"`
	Status       string `json:"status"`
	HasCustomer  bool   `json:"has_customer"`
	HasAccount   bool   `json:"has_account"`
}

// either is the outer join's joiner: c or a is nil when its table has no row.
func either(c *Customer, a *Account) CustomerAccount {
	var r CustomerAccount
	if c != nil {
		r.Name, r.Region, r.HasCustomer = c.Name, c.Region, true
	}
	if a != nil {
		r.BalanceCents, r.Status, r.HasAccount = a.BalanceCents, a.Status, true
	}
	return r
}

// both is the inner join's joiner.
func both(c Customer, a Account) CustomerAccount { return either(&c, &a) }

// maybeAcct is the left join's joiner: a is nil when the customer has no account.
func maybeAcct(c Customer, a *Account) CustomerAccount { return either(&c, a) }

// TableTable joins customers with their accounts: inner, left and outer.
//
//gofka:topology
func TableTable(b *streams.StreamsBuilder) {
	customers := b.Table(streams.With(streams.String(), streams.JSON[Customer]()), "customers", streams.RocksDBStore("customers"))
	accounts := b.Table(streams.With(streams.String(), streams.JSON[Account]()), "accounts", streams.RocksDBStore("accounts"))
	customers.Join(accounts, both).ToStream().To("customer-accounts")
	customers.LeftJoin(accounts, maybeAcct).ToStream().To("customers-with-accounts")
	customers.OuterJoin(accounts, either).ToStream().To("customers-or-accounts")
}
