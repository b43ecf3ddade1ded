package runtime

import (
	"fmt"
	"unsafe"
)

// Record is one record of a topic partition. A runner never modifies Key or Value
// after handing a record to a task, so decoded values may alias them. A source
// with a timestamp extractor replaces Timestamp with the extracted time, so that
// the records derived from this one carry it.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp int64 // milliseconds since the Unix epoch
	Key       []byte
	Value     []byte
}

// Fail wraps err with the record's coordinates and the processing stage.
func (r *Record) Fail(stage string, err error) error {
	return &RecordError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Stage: stage, Err: err}
}

// RecordError is a failure to process one record, naming where it is.
type RecordError struct {
	Topic     string
	Partition int32
	Offset    int64
	Stage     string // what failed, e.g. "decode value" or "isRealClick panicked"
	Err       error
	Stack     []byte // the goroutine's stack, for panics
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("topic %s partition %d offset %d: %s: %v", e.Topic, e.Partition, e.Offset, e.Stage, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// ProcessSafely calls task.Process and turns a panic in user code into a
// *RecordError naming the record being processed, with the panic value and stack.
func ProcessSafely(task Task, source int, batch []Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			i := task.Current()
			rec := Record{Topic: "?", Partition: -1, Offset: -1}
			if i >= 0 && i < len(batch) {
				rec = batch[i]
			}
			err = &RecordError{
				Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset,
				Stage: "panic in user function", Err: fmt.Errorf("%v", p), Stack: stack(),
			}
		}
	}()
	return task.Process(source, batch)
}

// NegativeTimestamp is the error for a record whose timestamp (the Kafka
// record's, or the one a timestamp extractor gave it) is before the Unix
// epoch: the generated code fails it at stage "decode timestamp", so it goes to
// the bad-record policy like a record that cannot be decoded.
func NegativeTimestamp(ms int64) error {
	return fmt.Errorf("negative timestamp %d: a record's time must not be before the Unix epoch", ms)
}

// UnknownSource is the error a generated task returns for a source number it does not have.
func UnknownSource(task string, source int) error {
	return fmt.Errorf("%s: no source %d", task, source)
}

// StringBytes lends the bytes of s without copying. Generated code uses it to emit
// or look up a string key encoded by streams.StringSerde, which is the identity; the
// result must only be read.
func StringBytes[T ~string](s T) []byte {
	if len(s) == 0 {
		return emptyBytes // not nil: an empty string is not a null key or a tombstone
	}
	return unsafe.Slice(unsafe.StringData(string(s)), len(s))
}

var emptyBytes = []byte{}
