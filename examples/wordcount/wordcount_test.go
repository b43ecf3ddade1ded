package main

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/streamstest"
)

// text is the input: mixed case, punctuation, tabs, repeated and empty lines.
const text = `To be, or not to be, that is the question:
Whether 'tis nobler in the mind to suffer
The slings and arrows of outrageous fortune,
Or to take Arms against a Sea of troubles,

And by opposing end them: to die, to sleep
No more; and by a sleep, to say we end
	the heart-ache, and the thousand natural shocks
That Flesh is heir to? 'Tis a consummation
Devoutly to be wished. To die, to sleep,
To be   or not to be
TO BE OR NOT TO BE`

// countWords counts the words of text independently of the topology: bufio's
// word scanner over the whole text, lowercasing byte by byte (the text is ASCII).
func countWords(text string) (map[string]int64, int) {
	want := map[string]int64{}
	total := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Split(bufio.ScanWords)
	for sc.Scan() {
		w := []byte(sc.Text())
		for i, c := range w {
			if 'A' <= c && c <= 'Z' {
				w[i] = c + 'a' - 'A'
			}
		}
		want[string(w)]++
		total++
	}
	return want, total
}

// TestWordCount pipes the text line by line on 3 partitions and checks every count,
// in the output topic and in the store, against countWords.
func TestWordCount(t *testing.T) {
	d := streamstest.NewDriver(CompiledWordCount(), streamstest.WithPartitions(3))
	defer d.Close()
	lines := streamstest.Input(d, "text-lines", streams.String(), streams.String())
	counts := streamstest.Output(d, "word-counts", streams.String(), streams.Int64())

	for i, line := range strings.Split(text, "\n") {
		if err := lines.Pipe(fmt.Sprintf("line-%d", i), line); err != nil {
			t.Fatal(err)
		}
	}
	want, total := countWords(text)
	if want["to"] != 14 || want["be"] != 5 || want["be,"] != 2 { // counted by hand
		t.Fatalf("the reference count is off: to=%d be=%d", want["to"], want["be"])
	}

	// One update per word occurrence, each carrying the word's running count.
	updates, err := counts.ReadKeyValues()
	if err != nil {
		t.Fatal(err)
	}
	if len(updates) != total {
		t.Errorf("%d updates, want one per word: %d", len(updates), total)
	}
	running := map[string]int64{}
	for _, kv := range updates {
		running[kv.Key]++
		if kv.Value != running[kv.Key] {
			t.Errorf("update %d of %q carries count %d", running[kv.Key], kv.Key, kv.Value)
		}
	}
	if !mapsEqual(running, want) {
		t.Errorf("counts in word-counts:\n%v\nwant\n%v", running, want)
	}

	stored, err := streamstest.Store(d, "word-counts", streams.String(), streams.Int64()).All()
	if err != nil {
		t.Fatal(err)
	}
	inStore := map[string]int64{}
	for _, kv := range stored {
		inStore[kv.Key] = kv.Value
	}
	if !mapsEqual(inStore, want) {
		t.Errorf("store word-counts:\n%v\nwant\n%v", inStore, want)
	}
}

// TestLineWithoutKey: kcat produces lines with no key; they are counted all the same.
func TestLineWithoutKey(t *testing.T) {
	d := streamstest.NewDriver(CompiledWordCount(), streamstest.WithPartitions(3))
	defer d.Close()
	lines := streamstest.Input(d, "text-lines", streams.String(), streams.String())
	counts := streamstest.Output(d, "word-counts", streams.String(), streams.Int64())
	for _, line := range []string{"Hello world", "", "hello"} {
		if err := lines.PipeValue(line); err != nil {
			t.Fatal(err)
		}
	}
	got, err := counts.ReadKeyValues()
	if err != nil {
		t.Fatal(err)
	}
	want := []streams.KeyValue[string, int64]{{Key: "hello", Value: 1}, {Key: "world", Value: 1}, {Key: "hello", Value: 2}}
	if !slices.Equal(got, want) {
		t.Errorf("updates = %v, want %v", got, want)
	}
}

func TestSplitWords(t *testing.T) {
	for _, c := range []struct {
		line string
		want []string
	}{
		{"", nil},
		{"   \t ", nil},
		{"One", []string{"one"}},
		{"  Hello,\tWORLD  again ", []string{"hello,", "world", "again"}},
		{"Ünïcode ÉTÉ", []string{"ünïcode", "été"}},
	} {
		if got := splitWords(c.line); !slices.Equal(got, c.want) {
			t.Errorf("splitWords(%q) = %q, want %q", c.line, got, c.want)
		}
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
