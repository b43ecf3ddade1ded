package state

import "slices"

// Sliding windows, as Kafka Streams' KStreamSlidingWindowAggregate (KIP-450). A
// sliding window [start, start+timeDifference] (both ends inclusive) exists only
// where records make it: the left window [t-d, t] of each record at time t,
// and the right window [t+1, t+1+d] of a record that has later records within
// d. A record at t therefore:
//
//   - updates every stored window of its key that holds t;
//   - creates the right window of the record before it, when that window holds t;
//   - creates its own left window (with the aggregate of the windows before it
//     when the record before it is within d);
//   - creates its own right window, a copy without the record of the aggregate
//     of the records after it within d, when there are some;
//   - records before d (whose left window would start before 0) share the
//     window [0, d].
//
// WindowStore.Slide works out these steps from a key's stored windows, in the
// order Kafka Streams forwards them (its RocksDB store iterates backwards), and
// the generated code runs the user's aggregator on each and stores the result
// with Put:
//
//	steps = store.Slide(key, t, d, closeTime, steps)   // fetch start in [max(0, t-2d), t+1]
//	for each step: agg = step.Agg (or the initializer); unless step.Copy, fold the record;
//	               store.Put(key, step.Start, agg, ts); forward Windowed{key, start, start+d}
//
// The store is a WindowStore of size d and retention 2d + grace (Kafka Streams'
// default), as a record within grace may need a window that starts 2d before it.

// SlidingStep is one window a record of a sliding-windowed aggregation updates or
// creates, from WindowStore.Slide.
type SlidingStep[V any] struct {
	Start int64 // the window is [Start, Start+timeDifference]
	Agg   V     // its aggregate before the record
	Found bool  // whether Agg holds an aggregate; false: begin with the initializer
	TS    int64 // the latest timestamp that contributed to Agg (the record's for a new window)
	// Copy marks the record's own right window: it is stored and forwarded with
	// Agg and TS as they are, without the record.
	Copy bool
}

// Slide returns the steps of a record of key at time ts over sliding windows of
// timeDifference, in steps (reused), in Kafka Streams' forwarding order. Windows
// with end < closeTime (stream time - grace) are closed: the record does not
// update them and they are left out. The caller has already dropped a record
// whose every window is closed (ts + 1 + timeDifference <= closeTime).
func (w *WindowStore[V]) Slide(key []byte, ts, timeDifference, closeTime int64, steps []SlidingStep[V]) ([]SlidingStep[V], error) {
	d := timeDifference
	steps = steps[:0]
	err := w.Fetch(key, max(0, ts-2*d), ts+1, func(start int64, v V, vts int64) error {
		steps = append(steps, SlidingStep[V]{Start: start, Agg: v, Found: true, TS: vts})
		return nil
	})
	if err != nil {
		return steps[:0], err
	}
	sl := slider[V]{d: d, ts: ts, closeTime: closeTime, found: len(steps), steps: steps}
	if ts < d {
		sl.early()
	} else {
		sl.reverse()
	}
	n := copy(sl.steps, sl.steps[sl.found:])
	return sl.steps[:n], nil
}

// Put stores v as key's window starting at start, with exactly timestamp ts.
func (w *WindowStore[V]) Put(key []byte, start int64, v V, ts int64) error {
	sl, err := w.s.slot(key, start, 0, false)
	if err != nil {
		return err
	}
	w.s.set(sl, timed[V]{v: v, ts: ts}, true)
	return nil
}

// slider works out the steps of one record: steps[:found] are the stored
// windows, by start; the steps are appended after them.
type slider[V any] struct {
	d, ts, closeTime int64
	found            int
	seen             int // steps[seen:found] are the windows looked at (windowStartTimes)
	steps            []SlidingStep[V]
}

// add appends a step, unless it updates a closed window.
func (s *slider[V]) add(st SlidingStep[V]) {
	if st.Copy || st.Start+s.d >= s.closeTime {
		s.steps = append(s.steps, st)
	}
}

// fresh is a new window begun with the initializer.
func (s *slider[V]) fresh(start int64) SlidingStep[V] {
	return SlidingStep[V]{Start: start, TS: s.ts}
}

// exists reports whether a window starting at start was among those looked at.
func (s *slider[V]) exists(start int64) bool {
	return slices.ContainsFunc(s.steps[s.seen:s.found], func(st SlidingStep[V]) bool { return st.Start == start })
}

// reverse is processReverse: the stored windows from the latest start back.
// left and right index steps (-1: none).
func (s *slider[V]) reverse() {
	ts, d := s.ts, s.d
	left, right := -1, -1
	leftCreated, rightCreated := false, false
	prev, hasPrev := int64(0), false
scan:
	for i := s.found - 1; i >= 0; i-- {
		f := s.steps[i]
		s.seen = i
		end := f.Start + d
		switch {
		case f.Start == ts+1:
			rightCreated = true
		case end > ts:
			if right < 0 {
				right = i
			}
			s.add(f)
		case end == ts:
			leftCreated = true
			s.add(f)
			if f.TS >= ts {
				return // a record at ts came before: every window exists
			}
			prev, hasPrev = f.TS, true
		default: // end < ts: the windows before the record
			left = i
			prev, hasPrev = f.TS, true
			break scan
		}
	}
	if hasPrev {
		if start := prev + 1; !s.exists(start) && start+d >= ts {
			s.add(s.fresh(start)) // the right window of the record before
		}
	}
	if !leftCreated {
		st := s.fresh(ts - d)
		if hasPrev && ts-d <= prev { // the record before is in the left window
			st.Agg, st.Found = s.steps[left].Agg, true
		}
		s.add(st)
	}
	s.rightWindow(right, rightCreated)
}

// rightWindow adds the record's own right window, a copy of the aggregate of
// steps[right] when it holds records after the record's time.
func (s *slider[V]) rightWindow(right int, created bool) {
	if created || right < 0 || s.steps[right].TS <= s.ts {
		return
	}
	r := s.steps[right]
	s.add(SlidingStep[V]{Start: s.ts + 1, Agg: r.Agg, Found: true, TS: r.TS, Copy: true})
}

// early is processEarly, for a record before the time difference: it goes in
// the window [0, d] that all such records share.
func (s *slider[V]) early() {
	ts := s.ts
	combined, right := -1, -1
	rightCreated := false
	prev, hasPrev := int64(0), false
	for i := range s.found {
		f := s.steps[i]
		switch {
		case f.Start == 0:
			combined = i
			if f.TS < ts {
				prev, hasPrev = f.TS, true
			}
		case f.Start <= ts:
			right = i
			s.add(f)
		case f.Start == ts+1:
			rightCreated = true
		}
	}
	if right < 0 && combined >= 0 && s.steps[combined].TS > ts {
		right = combined
	}
	s.rightWindow(right, rightCreated)
	if hasPrev && !s.exists(prev+1) {
		s.add(s.fresh(prev + 1))
	}
	if combined < 0 {
		s.add(s.fresh(0))
	} else {
		s.add(s.steps[combined])
	}
}
