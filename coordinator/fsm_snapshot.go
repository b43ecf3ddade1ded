package coordinator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/hashicorp/raft"
)

// Raft snapshots of the replicated state: a header and named JSON sections.

// A snapshot is a header and named sections, each a length-prefixed JSON
// document, written one after the other to Raft's snapshot sink:
//
//	"GOFKACO" version(1 byte)
//	{ nameLen(1 byte) name payloadLen(8 bytes, big endian) payload }...
//	0 (a zero name length ends the snapshot)
//
// Restore skips sections it does not know, so a newer writer can add some.
const (
	snapshotMagic   = "GOFKACO"
	snapshotVersion = 1
	maxSectionBytes = 1 << 30
)

type fsmSnapshot struct {
	members []member
	asg     assignment
	ckpt    checkpointLog
}

// Snapshot copies the state; Persist encodes it while Apply goes on.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s := &fsmSnapshot{
		asg: assignment{Epoch: f.asg.Epoch, Owner: maps.Clone(f.asg.Owner), LastOwner: maps.Clone(f.asg.LastOwner),
			ReleasedAt: maps.Clone(f.asg.ReleasedAt), Standby: cloneStandby(f.asg.Standby),
			Warmup: maps.Clone(f.asg.Warmup), History: slices.Clone(f.asg.History)},
		ckpt: checkpointLog{NextID: f.ckpt.NextID, Log: make([]Checkpoint, len(f.ckpt.Log))},
	}
	for _, m := range f.members {
		s.members = append(s.members, *m)
	}
	slices.SortFunc(s.members, func(a, b member) int {
		switch {
		case a.Addr < b.Addr:
			return -1
		case a.Addr > b.Addr:
			return 1
		}
		return 0
	})
	for i, cp := range f.ckpt.Log {
		s.ckpt.Log[i] = cp.clone()
	}
	return s, nil
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	err := s.write(sink)
	if err != nil {
		sink.Cancel()
		return fmt.Errorf("write coordinator snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) write(w io.Writer) error {
	if _, err := w.Write(append([]byte(snapshotMagic), snapshotVersion)); err != nil {
		return err
	}
	for _, sec := range []struct {
		name string
		v    any
	}{{"members", s.members}, {"assignment", s.asg}, {"checkpoints", s.ckpt}} {
		if err := writeSection(w, sec.name, sec.v); err != nil {
			return fmt.Errorf("section %s: %w", sec.name, err)
		}
	}
	_, err := w.Write([]byte{0})
	return err
}

func writeSection(w io.Writer, name string, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return err
	}
	hdr := make([]byte, 0, 1+len(name)+8)
	hdr = append(hdr, byte(len(name)))
	hdr = append(hdr, name...)
	n := uint64(len(payload))
	hdr = append(hdr, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err = w.Write(payload)
	return err
}

func (s *fsmSnapshot) Release() {}

// Restore replaces the state with a snapshot's.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	s, err := readSnapshot(rc)
	if err != nil {
		return fmt.Errorf("restore coordinator snapshot: %w", err)
	}
	f.mu.Lock()
	f.reset()
	for _, m := range s.members {
		m := m
		f.members[m.Addr] = &m
	}
	f.asg.Epoch = s.asg.Epoch
	f.asg.History = s.asg.History
	maps.Copy(f.asg.Owner, s.asg.Owner)
	maps.Copy(f.asg.LastOwner, s.asg.LastOwner)
	maps.Copy(f.asg.ReleasedAt, s.asg.ReleasedAt)
	maps.Copy(f.asg.Standby, s.asg.Standby)
	maps.Copy(f.asg.Warmup, s.asg.Warmup)
	if s.ckpt.NextID > 0 {
		f.ckpt = s.ckpt
	}
	for i := range f.ckpt.Log {
		if f.ckpt.Log[i].Acks == nil {
			f.ckpt.Log[i].Acks = map[string]CheckpointAck{}
		}
	}
	f.mu.Unlock()
	if f.notify != nil {
		f.notify(effects{assignment: true, members: true})
	}
	return nil
}

func readSnapshot(r io.Reader) (*fsmSnapshot, error) {
	hdr := make([]byte, len(snapshotMagic)+1)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if string(hdr[:len(snapshotMagic)]) != snapshotMagic {
		return nil, errors.New("not a coordinator snapshot (bad magic)")
	}
	if v := hdr[len(snapshotMagic)]; v != snapshotVersion {
		return nil, fmt.Errorf("snapshot version %d; this build reads version %d", v, snapshotVersion)
	}
	s := &fsmSnapshot{}
	for {
		var nl [1]byte
		if _, err := io.ReadFull(r, nl[:]); err != nil {
			return nil, fmt.Errorf("read section name: %w (snapshot truncated?)", err)
		}
		if nl[0] == 0 {
			return s, nil
		}
		name := make([]byte, nl[0])
		var ln [8]byte
		if _, err := io.ReadFull(r, name); err != nil {
			return nil, fmt.Errorf("read section name: %w", err)
		}
		if _, err := io.ReadFull(r, ln[:]); err != nil {
			return nil, fmt.Errorf("section %s: read length: %w", name, err)
		}
		n := uint64(ln[0])<<56 | uint64(ln[1])<<48 | uint64(ln[2])<<40 | uint64(ln[3])<<32 |
			uint64(ln[4])<<24 | uint64(ln[5])<<16 | uint64(ln[6])<<8 | uint64(ln[7])
		if n > maxSectionBytes {
			return nil, fmt.Errorf("section %s: length %d is implausible", name, n)
		}
		body := io.LimitReader(r, int64(n))
		var dst any
		switch string(name) {
		case "members":
			dst = &s.members
		case "assignment":
			dst = &s.asg
		case "checkpoints":
			dst = &s.ckpt
		default:
			if _, err := io.Copy(io.Discard, body); err != nil {
				return nil, fmt.Errorf("section %s: skip: %w", name, err)
			}
			continue
		}
		if err := json.NewDecoder(body).Decode(dst); err != nil {
			return nil, fmt.Errorf("section %s: %w", name, err)
		}
		// The decoder may stop before the section's end (trailing space).
		if _, err := io.Copy(io.Discard, body); err != nil {
			return nil, fmt.Errorf("section %s: %w", name, err)
		}
	}
}
