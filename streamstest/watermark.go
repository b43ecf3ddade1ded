package streamstest

import (
	"github.com/gofka/streams/runtime"
)

// Watermarks in the driver (streams WithWatermark). A task whose windows close
// by a watermark (runtime.WatermarkTask) gets one after every record, as the
// engine hands it one after every batch:
//
//   - a task with a watermarked source: the smallest, over its source topics'
//     partition, of the largest timestamp piped there (after the source's
//     extractor) minus the source's out-of-orderness minus 1 ms;
//   - a task downstream of a repartition topic: the smallest such mark over
//     every watermarked source partition, as the engine's minimum over the
//     upstream tasks gives it.
//
// A partition no record was piped to holds nothing back here (the engine waits
// for it until its idle timeout): tests pipe what they need and stay
// deterministic.
type watermarks struct {
	largest map[string]map[int32]int64 // source topic → partition → largest timestamp
	given   map[runtime.Task]int64     // what each task was last handed
}

// watermarkSpec is the watermark of the source reading topic in sub-topology si, or nil.
func (d *Driver) watermarkSpec(si int, topic string) *runtime.WatermarkSpec {
	for _, src := range d.p.SubTopologies[si].Sources {
		for _, id := range src.Topics {
			if d.names[id] == topic {
				return src.Watermark
			}
		}
	}
	return nil
}

// observe records the timestamp a watermarked source gave a record of topic.
func (d *Driver) observe(si int, topic string, partition int32, ts int64) {
	spec := d.watermarkSpec(si, topic)
	if spec == nil {
		return
	}
	if d.wm.largest == nil {
		d.wm.largest = map[string]map[int32]int64{}
		d.wm.given = map[runtime.Task]int64{}
	}
	if d.wm.largest[topic] == nil {
		d.wm.largest[topic] = map[int32]int64{}
	}
	if old, ok := d.wm.largest[topic][partition]; !ok || ts > old {
		d.wm.largest[topic][partition] = ts
	}
}

// advanceWatermarks hands every watermark task its watermark when it moved.
func (d *Driver) advanceWatermarks() []error {
	if d.wm.largest == nil {
		return nil
	}
	var errs []error
	for si, tasks := range d.tasks {
		for part, task := range tasks {
			wt, ok := task.(runtime.WatermarkTask)
			if !ok {
				continue
			}
			wm, ok := d.watermarkFor(si, int32(part))
			if old, given := d.wm.given[task]; !ok || (given && wm <= old) {
				continue
			}
			d.wm.given[task] = wm
			err := wt.AdvanceWatermark(wm)
			d.logChangelog()
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// watermarkFor is the watermark of task (si, part), if any mark is known.
func (d *Driver) watermarkFor(si int, part int32) (int64, bool) {
	wm, found := int64(0), false
	take := func(topic string, p int32, ts int64) {
		spec := d.watermarkSpec(si, topic)
		if spec == nil {
			spec = d.anySpec(topic)
		}
		mark := ts - spec.MaxOutOfOrderness.Milliseconds() - 1
		if !found || mark < wm {
			wm, found = mark, true
		}
	}
	own := false
	for topic, parts := range d.wm.largest {
		if d.watermarkSpec(si, topic) == nil {
			continue
		}
		own = true
		if ts, ok := parts[part]; ok {
			take(topic, part, ts)
		}
	}
	if own {
		return wm, found
	}
	for topic, parts := range d.wm.largest { // downstream of a repartition: every source partition
		for p, ts := range parts {
			take(topic, p, ts)
		}
	}
	return wm, found
}

// anySpec is the watermark of any source reading topic.
func (d *Driver) anySpec(topic string) *runtime.WatermarkSpec {
	for si := range d.p.SubTopologies {
		if spec := d.watermarkSpec(si, topic); spec != nil {
			return spec
		}
	}
	return &runtime.WatermarkSpec{}
}
