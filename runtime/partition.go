package runtime

// Partition is the partition Kafka's default partitioner picks for a record with a
// non-nil key among partitions partitions: the positive part of the key's murmur2
// hash modulo partitions, exactly as the Java client's
// Utils.toPositive(Utils.murmur2(key)) % numPartitions. Records keyed alike
// therefore land on the same partition whether a Java producer, Kafka Streams or
// this runtime wrote them. partitions must be positive.
func Partition(key []byte, partitions int32) int32 {
	return (Murmur2(key) & 0x7fffffff) % partitions
}

// Murmur2 is the 32-bit murmur2 hash as the Kafka Java client computes it
// (org.apache.kafka.common.utils.Utils.murmur2, seed 0x9747b28c), returned as the
// Java int it yields.
func Murmur2(data []byte) int32 {
	const (
		seed = 0x9747b28c
		m    = 0x5bd1e995
		r    = 24
	)
	n := len(data)
	h := uint32(seed) ^ uint32(n)
	i := 0
	for ; i+4 <= n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch n - i {
	case 3:
		h ^= uint32(data[i+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[i+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[i])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}
