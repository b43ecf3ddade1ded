// Package state holds the stores behind stateful steps.
//
// Two layers, as in Kafka Streams' caching stores, but typed:
//
//	generated code ─Get/Put(key bytes, V)─▶ Cache[V] ─Flush: encode dirty V─▶ Backend (bytes)
//
// Cache[V] is a write-back cache of decoded values keyed by the encoded key. In
// steady state (keys already cached) Get and Put allocate nothing and never encode
// or decode: the value stays a Go value between records. Flush, called at every
// commit, encodes the changed entries and writes them to the Backend. A Backend is a
// byte-level key-value store: MemoryBackend here, RocksDB in the broker runtime; the
// runtime wraps a backend to send every write to the store's changelog topic.
//
// Each Cache holds at most its bound times the process's cache share, which the
// runtime lowers under memory pressure; a cache takes up a new share at its next
// Flush, after writing its dirty entries (cache_share.go).
//
// TimestampedCache (timestamped.go) is a Cache whose rows carry a timestamp,
// as Kafka Streams' timestamped key-value stores: the tables a table-table or
// foreign-key join reads, whose results take the later of two rows' times. In
// its backend a row is the timestamp (8 bytes) then the value's bytes.
//
// # Windows, sessions and emit-final
//
// Windowed aggregations keep one value per key and window, which must be found
// by time range and dropped when the window expires. They use an
// OrderedBackend (ordered.go: a Backend with Scan and DeleteRange; both
// backends implement it, Logged forwards it) laid out by time segment:
//
//	segment (8 bytes) | len(key) | key | window start        WindowStore (window.go)
//	segment (8 bytes) | len(key) | key | session end | start SessionStore (session.go)
//	segment (8 bytes) | len(key) | key | time | sequence     JoinStore (joinstore.go)
//
// so one key's windows over a time range are one ordered scan per segment, and
// expiry removes whole segments with one DeleteRange (segments.go). The typed
// Cache sits in front as for key-value stores; an index of its dirty entries
// by key lets a query see unflushed writes. Expiry by range removal was
// measured against point deletes and against a key-first layout with a range
// delete per key (state/rocks BenchmarkWindowExpiry) and is the cheapest.
//
// The changelog carries the backend's keys, so a replay rebuilds the same
// layout; range removals are not logged (the changelog topic is
// compact,delete with the store's retention plus a day, as in Kafka Streams),
// and the first Expire after a restore removes what the replay brought back
// from expired segments.
//
// SuppressBuffer (suppress.go) holds emit-final results until their window
// closes: in memory, ordered by close time, with the backend (and so the
// changelog) as its durable copy, read back when it is made.
//
// # Joins
//
// A windowed stream-stream join buffers each side in a JoinStore, every record
// kept (the sequence tells apart records of one key and time) for before +
// after + grace; a left or outer join keeps the records that joined nothing in
// an OuterJoinStore, ordered by time across keys, until stream time closes
// their window (joinstore.go).
package state
