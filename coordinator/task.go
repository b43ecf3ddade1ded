package coordinator

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// TaskID names one task: a sub-topology working on one partition of its
// input topics. Its text form is "<subtopology>_<partition>", e.g. "0_3".
type TaskID struct {
	SubTopology int
	Partition   int32
}

// String returns the text form, e.g. "0_3".
func (t TaskID) String() string {
	return strconv.Itoa(t.SubTopology) + "_" + strconv.FormatInt(int64(t.Partition), 10)
}

// ParseTaskID parses the text form written by TaskID.String.
func ParseTaskID(s string) (TaskID, error) {
	a, b, ok := strings.Cut(s, "_")
	if !ok {
		return TaskID{}, fmt.Errorf("task id %q: want <subtopology>_<partition>", s)
	}
	st, err := strconv.Atoi(a)
	if err != nil || st < 0 {
		return TaskID{}, fmt.Errorf("task id %q: sub-topology %q is not a non-negative integer", s, a)
	}
	p, err := strconv.ParseInt(b, 10, 32)
	if err != nil || p < 0 {
		return TaskID{}, fmt.Errorf("task id %q: partition %q is not a non-negative 32-bit integer", s, b)
	}
	return TaskID{SubTopology: st, Partition: int32(p)}, nil
}

// MarshalText writes the text form, so a TaskID can be a JSON map key.
func (t TaskID) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses the text form.
func (t *TaskID) UnmarshalText(b []byte) error {
	v, err := ParseTaskID(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// compareTasks orders tasks by sub-topology, then partition.
func compareTasks(a, b TaskID) int {
	if c := cmp.Compare(a.SubTopology, b.SubTopology); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}
