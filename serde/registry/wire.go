package registry

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// magic is the first byte of every record in the Confluent wire format.
const magic = 0

// AppendHeader appends the wire-format header for schema id: the magic byte and
// the id, big-endian in 4 bytes.
func AppendHeader(dst []byte, id int) []byte {
	return binary.BigEndian.AppendUint32(append(dst, magic), uint32(id))
}

// SplitHeader reads the header of data and returns the schema id and the rest.
func SplitHeader(data []byte) (id int, rest []byte, err error) {
	if len(data) < 5 {
		return 0, nil, fmt.Errorf("schema registry wire format: %d bytes, shorter than the 5-byte header", len(data))
	}
	if data[0] != magic {
		return 0, nil, fmt.Errorf("schema registry wire format: first byte is %d, not the magic byte 0 (was this record written without a registry?)", data[0])
	}
	return int(binary.BigEndian.Uint32(data[1:5])), data[5:], nil
}

// AppendMessageIndexes appends the Protobuf message indexes that follow the
// header: the path from the .proto file's top-level messages to the record's
// message type, as a zigzag-varint count and zigzag-varint indexes. The common
// case, the file's first message ([0]), is written as the single byte 0.
func AppendMessageIndexes(dst []byte, indexes []int) []byte {
	if len(indexes) == 1 && indexes[0] == 0 {
		return append(dst, 0)
	}
	dst = binary.AppendVarint(dst, int64(len(indexes)))
	for _, i := range indexes {
		dst = binary.AppendVarint(dst, int64(i))
	}
	return dst
}

var errIndexes = errors.New("schema registry wire format: bad protobuf message indexes")

// SplitMessageIndexes reads the Protobuf message indexes at the start of data.
func SplitMessageIndexes(data []byte) (indexes []int, rest []byte, err error) {
	n, k := binary.Varint(data)
	if k <= 0 || n < 0 || n > 100 {
		return nil, nil, errIndexes
	}
	data = data[k:]
	if n == 0 {
		return []int{0}, data, nil
	}
	indexes = make([]int, n)
	for i := range indexes {
		v, k := binary.Varint(data)
		if k <= 0 || v < 0 {
			return nil, nil, errIndexes
		}
		indexes[i], data = int(v), data[k:]
	}
	return indexes, data, nil
}
