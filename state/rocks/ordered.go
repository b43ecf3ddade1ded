package rocks

import (
	"bytes"

	"github.com/linxGnu/grocksdb"

	"github.com/gofka/streams/state"
)

// This file makes Store a state.OrderedBackend: bounded scans and range removal,
// which the window, session and suppression stores of package state build on.

var _ state.OrderedBackend = (*Store)(nil)

// Scan implements state.OrderedBackend with an iterator bounded above by to, so
// RocksDB stops at the bound instead of reading past it (and past the range
// tombstones of expired segments beyond it). key and value are copies owned by
// the Store, valid until fn returns; fn may call the Store's other methods.
func (s *Store) Scan(from, to []byte, fn func(key, value []byte) error) error {
	if err := s.f.acquire(); err != nil {
		return s.errorf("scan", err)
	}
	defer s.f.release()
	ro := s.db.ro
	if to != nil {
		ro = grocksdb.NewDefaultReadOptions()
		defer ro.Destroy()
		s.upper = append(s.upper[:0], to...) // RocksDB keeps a pointer to it while the iterator lives
		ro.SetIterateUpperBound(s.upper)
	}
	it := s.db.rdb.NewIteratorCF(ro, s.f.handle)
	defer it.Close()
	// kbuf and vbuf are Range's buffers too; fn may not call Range or Scan
	// while it runs (the contract lends them for the duration of fn only).
	for it.Seek(from); it.Valid(); it.Next() {
		s.kbuf = append(s.kbuf[:0], it.Key().Data()...)
		s.vbuf = append(s.vbuf[:0], it.Value().Data()...)
		if err := fn(s.kbuf, s.vbuf); err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return s.errorf("scan", err)
	}
	return nil
}

// DeleteRange implements state.OrderedBackend with one RocksDB range tombstone
// (DeleteRange), which costs one write whatever the range holds; compaction
// drops the covered entries later. BenchmarkWindowExpiry measured it against
// point deletes and against dropping whole SST files first (doc.go).
func (s *Store) DeleteRange(from, to []byte) error {
	if err := s.f.acquire(); err != nil {
		return s.errorf("delete range", err)
	}
	defer s.f.release()
	to, err := s.upperBound(to)
	if err != nil || to == nil {
		return err
	}
	if err := s.db.rdb.DeleteRangeCF(s.db.wo, s.f.handle, from, to); err != nil {
		return s.errorf("delete range", err)
	}
	return nil
}

// upperBound returns to, or for nil a key just past the last one (nil when the
// store is empty): RocksDB's DeleteRange needs an end.
func (s *Store) upperBound(to []byte) ([]byte, error) {
	if to != nil {
		return to, nil
	}
	it := s.db.rdb.NewIteratorCF(s.db.ro, s.f.handle)
	defer it.Close()
	it.SeekToLast()
	if !it.Valid() {
		if err := it.Err(); err != nil {
			return nil, s.errorf("delete range", err)
		}
		return nil, nil
	}
	return append(bytes.Clone(it.Key().Data()), 0), nil
}
