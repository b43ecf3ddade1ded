package streams

// Tables: the latest value per key, with deletes.
//
// A table passes changes downstream, as Kafka Streams' Change<V>: the key, the new
// value (absent for a delete) and, where a later step needs it, the old value. A
// record with a nil value in a table's topic deletes its key; a table Filter turns
// an update that stops passing into a delete. ToStream forwards deletes as records
// without a value, which To writes as tombstones (see the README, "Tables and
// joins").

// ToTable turns the stream into a table holding the latest value per key in store;
// a record without a value (a delete forwarded by ToStream) deletes its key.
func (s *KStream) ToTable(store StateStoreConfig, opts ...Option) *KTable { return &KTable{} }

// Filter keeps the rows for which pred holds; an update of a row that does not
// pass becomes a delete of its key. pred: func(K, V) bool.
func (t *KTable) Filter(pred any) *KTable { return t }

// FilterNot keeps the rows for which pred does not hold. pred: func(K, V) bool.
func (t *KTable) FilterNot(pred any) *KTable { return t }

// MapValues replaces each row's value; deletes stay deletes.
// f: func(V) V2 or func(K, V) V2.
func (t *KTable) MapValues(f any) *KTable { return t }

// GroupBy re-keys the table for an aggregation. Every change is sent through a
// repartition topic as a subtraction of the old row from its old group and an
// addition of the new row to its new group. f: func(K, V) (K2, V2).
func (t *KTable) GroupBy(f any, opts ...Option) *KGroupedTable { return &KGroupedTable{} }

// Join joins two tables on their key: the result holds joiner(left, right) for the
// keys both hold, and is updated (or deleted) when either side changes.
// joiner: func(V1, V2) VR or func(K, V1, V2) VR.
func (t *KTable) Join(other *KTable, joiner any, opts ...Option) *KTable { return t }

// LeftJoin is Join keeping every key of this table; joiner gets nil when other
// holds no value. joiner: func(V1, *V2) VR or func(K, V1, *V2) VR.
func (t *KTable) LeftJoin(other *KTable, joiner any, opts ...Option) *KTable { return t }

// OuterJoin is Join keeping every key of either table; joiner gets nil for the
// side that holds no value. joiner: func(*V1, *V2) VR or func(K, *V1, *V2) VR.
func (t *KTable) OuterJoin(other *KTable, joiner any, opts ...Option) *KTable { return t }

// ForeignKeyJoin joins this table (the left one) with other on a foreign key
// (Kafka Streams' KTable.join(other, foreignKeyExtractor, joiner), KIP-213):
// each left row is joined with other's row whose key is
// foreignKeyExtractor(value). The result is keyed by this table's key and holds
// joiner(value, otherValue) for the left rows whose foreign key other holds; it
// is updated when a left row changes (a row whose foreign key changed leaves
// its old partner), when other's row changes (every left row referencing it is
// joined again), and deleted when either row is deleted.
//
// The two tables need not be keyed alike or co-partitioned: the left task
// sends each row's subscription (its key and a hash of its value) to the task
// owning the foreign key through the topic "<name>-subscription-repartition",
// which keeps it in the store "<name>-subscription-store" and answers through
// "<name>-response-repartition"; an answer that arrives after its row changed
// again is dropped, as the row's newer subscription is answered too. Both
// tables must be materialized. foreignKeyExtractor: func(V) KO or
// func(K, V) KO, KO the key type of other; joiner: func(V, VO) VR or
// func(K, V, VO) VR. Option: Named, which sets <name> (default "fkjoin-N", N
// counting the topology's foreign-key joins from 0). The result carries no old
// values: to group it, ToStream().ToTable(store) first.
func (t *KTable) ForeignKeyJoin(other *KTable, foreignKeyExtractor, joiner any, opts ...Option) *KTable {
	return t
}

// ForeignKeyLeftJoin is ForeignKeyJoin keeping every row of this table: joiner
// gets nil when other holds no row for the foreign key (Kafka Streams'
// KTable.leftJoin(other, foreignKeyExtractor, joiner)). joiner:
// func(V, *VO) VR or func(K, V, *VO) VR; the pointer is valid only during the call.
func (t *KTable) ForeignKeyLeftJoin(other *KTable, foreignKeyExtractor, joiner any, opts ...Option) *KTable {
	return t
}

// KGroupedTable is a table re-keyed by GroupBy, ready for an aggregation that
// subtracts a row's old value from its old group and adds its new value to its new
// group.
type KGroupedTable struct{ _ [0]func() }

// Count counts the rows per group into store.
func (g *KGroupedTable) Count(store StateStoreConfig, opts ...Option) *KTable { return &KTable{} }

// Reduce combines the values per group into store. adder and subtractor:
// func(agg, value V) V.
func (g *KGroupedTable) Reduce(adder, subtractor any, store StateStoreConfig, opts ...Option) *KTable {
	return &KTable{}
}

// Aggregate folds the rows per group into an aggregate of type A kept in store.
// initializer: func() A; adder and subtractor: func(key K, value V, agg A) A.
func (g *KGroupedTable) Aggregate(initializer, adder, subtractor any, store StateStoreConfig, opts ...Option) *KTable {
	return &KTable{}
}
