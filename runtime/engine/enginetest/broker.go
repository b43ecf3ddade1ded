package enginetest

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The broker runs in a child process (this test binary run again, with
// brokerEnv set), so that neither the broker's allocations nor those of the
// producer writing the input count as the engine's. The parent talks to it
// over the child's stdin and stdout, a line per command:
//
//	parent: produce <topic> <file>   ─▶ child: produces the file's records, answers "ok" or "error: ..."
//	parent: closes stdin             ─▶ child: stops the broker and exits
//
// A file holds records as uvarint-length-prefixed key and value, one after
// the other.

// brokerEnv, set in the environment of the child, holds the partitions of
// automatically created topics and makes MaybeBroker run the broker.
const brokerEnv = "GOFKA_ENGINETEST_BROKER"

// MaybeBroker runs the embedded broker and exits when this process is the
// child StartBroker started; otherwise it returns at once. Call it first in
// TestMain of a package that uses StartBroker.
func MaybeBroker() {
	if os.Getenv(brokerEnv) == "" {
		return
	}
	var partitions int
	fmt.Sscan(os.Getenv(brokerEnv), &partitions)
	if err := runBroker(max(partitions, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "enginetest broker:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runBroker(partitions int) error {
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(partitions),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, "127.0.0.1:0") }),
	)
	if err != nil {
		return err
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		return err
	}
	defer cl.Close()
	fmt.Println(c.ListenAddrs()[0])
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() { // until the parent closes stdin or dies
		topic, file, ok := strings.Cut(strings.TrimPrefix(in.Text(), "produce "), " ")
		if !ok {
			return fmt.Errorf("unknown command %q", in.Text())
		}
		if err := produceFile(cl, topic, file); err != nil {
			fmt.Println("error:", err)
		} else {
			fmt.Println("ok")
		}
	}
	return in.Err()
}

// produceFile produces the records of file to topic and waits for the acks.
func produceFile(cl *kgo.Client, topic, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var first error
	failed := func(_ *kgo.Record, err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for len(data) > 0 {
		var kv [2][]byte
		for i := range kv {
			n, used := binary.Uvarint(data)
			if used <= 0 || uint64(len(data)-used) < n {
				return errors.New("truncated record file")
			}
			kv[i], data = data[used:used+int(n)], data[used+int(n):]
		}
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: kv[0], Value: kv[1]}, failed)
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	return first
}

// Broker is an embedded broker in a child process, with a producer beside it.
type Broker struct {
	Addr  string
	dir   string
	stdin io.WriteCloser
	out   *bufio.Reader
	files int
}

// StartBroker starts the embedded kfake broker in a child process (see
// MaybeBroker); topics created automatically get partitions partitions. The
// broker stops with the test.
func StartBroker(tb testing.TB, partitions int) *Broker {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", brokerEnv, partitions))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	b := &Broker{dir: tb.TempDir(), stdin: stdin, out: bufio.NewReader(stdout)}
	if b.Addr, err = b.line(); err != nil {
		tb.Fatalf("broker process: %v (did TestMain call enginetest.MaybeBroker?)", err)
	}
	return b
}

func (b *Broker) line() (string, error) {
	s, err := b.out.ReadString('\n')
	return strings.TrimSpace(s), err
}

// Stage writes records (keys and values only) to a file for Produce.
func (b *Broker) Stage(records []*kgo.Record) (string, error) {
	var buf []byte
	for _, r := range records {
		buf = binary.AppendUvarint(buf, uint64(len(r.Key)))
		buf = append(buf, r.Key...)
		buf = binary.AppendUvarint(buf, uint64(len(r.Value)))
		buf = append(buf, r.Value...)
	}
	b.files++
	file := filepath.Join(b.dir, fmt.Sprintf("records-%d", b.files))
	return file, os.WriteFile(file, buf, 0o600)
}

// Produce has the child process produce the records of a file Stage wrote to
// topic. It returns at once; Produced waits for the acks.
func (b *Broker) Produce(topic, file string) error {
	_, err := fmt.Fprintf(b.stdin, "produce %s %s\n", topic, file)
	return err
}

// Produced waits until the records of the oldest Produce not waited for are
// acknowledged.
func (b *Broker) Produced() error {
	s, err := b.line()
	if err != nil {
		return fmt.Errorf("broker process: %w", err)
	}
	if s != "ok" {
		return fmt.Errorf("broker process: %s", s)
	}
	return nil
}
