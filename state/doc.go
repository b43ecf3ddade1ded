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
package state
