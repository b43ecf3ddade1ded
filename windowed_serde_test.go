package streams

import (
	"bytes"
	"testing"
	"time"
)

// The byte vectors below are written out by hand from Kafka Streams' format:
// TimeWindowedSerializer calls WindowKeySchema.toBinary (key bytes, then the start
// as a big-endian long); SessionWindowedSerializer calls SessionKeySchema.toBinary
// (key bytes, the end long, the start long).

func TestTimeWindowedSerdeKafkaBytes(t *testing.T) {
	s := TimeWindowedSerde[string, StringSerde[string]]{Size: time.Minute}
	// "ab" at start 1_000 ms (0x3e8).
	want := []byte{'a', 'b', 0, 0, 0, 0, 0, 0, 0x03, 0xe8}
	w := Windowed[string]{Key: "ab", Start: time.UnixMilli(1000).UTC(), End: time.UnixMilli(61000).UTC()}
	got, err := s.Encode(nil, w)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Encode = %x, %v; want %x", got, err, want)
	}
	if got, err := s.EncodeStart([]byte("x"), "ab", 1000); err != nil || !bytes.Equal(got, append([]byte("x"), want...)) {
		t.Fatalf("EncodeStart = %x, %v; want %x after x", got, err, want)
	}
	back, err := s.Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	if back.Key != "ab" || !back.Start.Equal(w.Start) || !back.End.Equal(w.End) {
		t.Fatalf("Decode = %+v, want %+v (End rebuilt from Size)", back, w)
	}
}

func TestTimeWindowedSerdeLongKey(t *testing.T) {
	s := TimeWindowedSerde[int64, IntSerde[int64]]{Size: 5 * time.Second}
	// key 7 as Kafka's LongSerializer, start 1_700_000_000_000 ms = 0x18BCFE56800.
	want := []byte{0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00}
	got, err := s.Encode(nil, Windowed[int64]{Key: 7, Start: time.UnixMilli(1_700_000_000_000)})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Encode = %x, %v; want %x", got, err, want)
	}
	if got, err := s.EncodeStart(nil, 7, 1_700_000_000_000); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("EncodeStart = %x, %v; want %x", got, err, want)
	}
	back, err := s.Decode(want)
	if err != nil || back.Key != 7 || back.End.UnixMilli() != 1_700_000_005_000 {
		t.Fatalf("Decode = %+v, %v", back, err)
	}
}

func TestSessionWindowedSerdeKafkaBytes(t *testing.T) {
	s := SessionWindowedSerde[string, StringSerde[string]]{}
	// "k", session [10 ms, 300 ms]: key, then end 300 (0x12c), then start 10 (0x0a).
	want := []byte{'k', 0, 0, 0, 0, 0, 0, 0x01, 0x2c, 0, 0, 0, 0, 0, 0, 0, 0x0a}
	w := Windowed[string]{Key: "k", Start: time.UnixMilli(10).UTC(), End: time.UnixMilli(300).UTC()}
	got, err := s.Encode(nil, w)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Encode = %x, %v; want %x", got, err, want)
	}
	back, err := s.Decode(want)
	if err != nil || back.Key != "k" || !back.Start.Equal(w.Start) || !back.End.Equal(w.End) {
		t.Fatalf("Decode = %+v, %v; want %+v", back, err, w)
	}
}

func TestWindowedSerdeShortInput(t *testing.T) {
	if _, err := (TimeWindowedSerde[string, StringSerde[string]]{}).Decode([]byte{1, 2, 3}); err == nil {
		t.Error("time-windowed Decode of 3 bytes: want an error")
	}
	if _, err := (SessionWindowedSerde[string, StringSerde[string]]{}).Decode(make([]byte, 15)); err == nil {
		t.Error("session-windowed Decode of 15 bytes: want an error")
	}
}

func TestCountWindowedSerdeRoundTrip(t *testing.T) {
	s := CountWindowedSerde[int64, IntSerde[int64]]{}
	c := CountWindowed[int64]{Seen: 5, Start: 1000, End: 1200, Agg: 42}
	b, err := s.Encode(nil, c)
	want := []byte{0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0, 0, 0x04, 0xb0, 0, 0, 0, 0, 0, 0, 0, 42}
	if err != nil || !bytes.Equal(b, want) {
		t.Fatalf("Encode = %x, %v; want %x", b, err, want)
	}
	back, err := s.Decode(b)
	if err != nil || back != c {
		t.Fatalf("Decode = %+v, %v; want %+v", back, err, c)
	}
	if _, err := s.Decode(b[:20]); err == nil {
		t.Error("Decode of 20 bytes: want an error")
	}
}
