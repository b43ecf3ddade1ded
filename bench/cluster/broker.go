package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/bench/internal/benchkit"
)

// brokers hands a broker to each scenario.
type brokers interface {
	// acquire returns a broker for one scenario; its release removes what the
	// scenario left (topics with the given names or prefixes, groups).
	acquire(ctx context.Context, name string) (*lease, error)
	describe() string
	close()
}

// lease is one scenario's broker.
type lease struct {
	addr string
	pid  int // the broker's process, for its peak RSS; 0 when unknown
	// release deletes the topics named, those starting with a prefix + "-"
	// and the groups named (a shared broker), or stops the broker (embedded).
	release func(topics, prefixes []string)
}

// peakRSSMB is the broker process's peak resident set so far (0: unknown).
func (l *lease) peakRSSMB() float64 {
	if l.pid == 0 {
		return 0
	}
	return float64(benchkit.VmHWM(l.pid)) / 1024
}

// pickBroker provides the broker -broker asks for. auto means a real Apache
// Kafka broker when java, mvn and kcat are on the PATH (test/kafka/kafka.sh needs
// them), else embedded; the choice and its reason are logged.
func pickBroker(ctx context.Context, cfg config, root, bin, scratch string) (brokers, error) {
	script := filepath.Join(root, "test", "kafka", "kafka.sh")
	switch cfg.broker {
	case "auto":
		var missing []string
		for _, tool := range []string{"java", "mvn", "kcat"} {
			if _, err := exec.LookPath(tool); err != nil {
				missing = append(missing, tool)
			}
		}
		if len(missing) > 0 {
			cfg.logf("NOTE: no real Apache Kafka broker (%s not on the PATH): using an embedded kfake broker process per scenario\n", strings.Join(missing, ", "))
			return &embedded{bin: bin, partitions: cfg.partitions, scratch: scratch}, nil
		}
		return startReal(ctx, cfg, script, scratch)
	case "real":
		return startReal(ctx, cfg, script, scratch)
	case "embedded":
		return &embedded{bin: bin, partitions: cfg.partitions, scratch: scratch}, nil
	default:
		if _, _, err := net.SplitHostPort(cfg.broker); err != nil {
			return nil, fmt.Errorf("-broker must be auto, real, embedded or host:port, not %q", cfg.broker)
		}
		if err := benchkit.WaitForBroker(ctx, cfg.broker, time.Minute); err != nil {
			return nil, fmt.Errorf("broker %s: %w", cfg.broker, err)
		}
		return &shared{addr: cfg.broker, kind: "a running broker at " + cfg.broker}, nil
	}
}

// embedded starts a fresh kfake broker process (the binary's broker command) for
// every scenario, so no scenario sees another's data or memory.
type embedded struct {
	bin        string
	partitions int32
	scratch    string
}

func (e *embedded) describe() string {
	return "embedded kfake broker (`clickcount broker`, data in memory), a fresh process per scenario"
}

func (e *embedded) close() {}

func (e *embedded) acquire(ctx context.Context, name string) (*lease, error) {
	addr, err := benchkit.FreeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(e.scratch, "broker-"+name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(e.bin, "broker", "--listen", addr, "--partitions", strconv.Itoa(int(e.partitions)))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start the embedded broker: %w", err)
	}
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logFile.Close()
	}
	if err := benchkit.WaitForBroker(ctx, addr, 30*time.Second); err != nil {
		stop()
		return nil, fmt.Errorf("embedded broker on %s: %w\n%s", addr, err, tailFile(logPath, 20))
	}
	return &lease{addr: addr, pid: cmd.Process.Pid, release: func([]string, []string) { stop() }}, nil
}

// shared is one broker for the whole benchmark (a real one started here, or one
// given by address): scenarios use fresh application ids and recreate the
// topics whose names the topology fixes, and delete what they made afterwards.
type shared struct {
	addr string
	kind string
	pid  int
	stop func()
}

func startReal(ctx context.Context, cfg config, script, scratch string) (*shared, error) {
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("a real broker needs %s: %w", script, err)
	}
	dir := filepath.Join(scratch, "kafka")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfg.logf("starting a real Apache Kafka broker: %s start %s\n", script, dir)
	out, err := exec.CommandContext(ctx, script, "start", dir).CombinedOutput()
	stop := func() {
		if out, err := exec.Command(script, "stop", dir).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "cluster: stopping the Kafka broker in %s: %v\n%s", dir, err, out)
		}
	}
	if err != nil {
		stop()
		return nil, fmt.Errorf("%s start: %w\n%s", script, err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "bootstrap"))
	if err != nil {
		stop()
		return nil, fmt.Errorf("%s start wrote no bootstrap file: %w\n%s", script, err, out)
	}
	s := &shared{addr: strings.TrimSpace(string(b)), stop: stop}
	if p, err := os.ReadFile(filepath.Join(dir, "kafka.pid")); err == nil {
		s.pid, _ = strconv.Atoi(strings.TrimSpace(string(p)))
	}
	version := ""
	if cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr)); err == nil {
		if vs, err := kadm.NewClient(cl).ApiVersions(ctx); err == nil {
			vs.Each(func(v kadm.BrokerApiVersions) { version = v.VersionGuess() })
		}
		cl.Close()
	}
	s.kind = fmt.Sprintf("real Apache Kafka, single-node KRaft on 127.0.0.1 (test/kafka/kafka.sh, heap %s), one broker for the whole run at %s", kafkaHeap(), s.addr)
	if version != "" {
		s.kind += "; ApiVersions says " + version
	}
	return s, nil
}

// kafkaHeap is the broker JVM's heap setting as kafka.sh applies it.
func kafkaHeap() string {
	if h := os.Getenv("KAFKA_HEAP_OPTS"); h != "" {
		return h
	}
	return "-Xms256m -Xmx512m"
}

func (s *shared) describe() string { return s.kind }

func (s *shared) close() {
	if s.stop != nil {
		s.stop()
	}
}

func (s *shared) acquire(ctx context.Context, name string) (*lease, error) {
	return &lease{addr: s.addr, pid: s.pid, release: func(topics, prefixes []string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := benchkit.DeleteTopics(ctx, s.addr, topics, prefixes); err != nil {
			fmt.Fprintf(os.Stderr, "cluster: cleaning up on %s: %v\n", s.addr, err)
		}
		if err := deleteGroups(ctx, s.addr, prefixes); err != nil {
			fmt.Fprintf(os.Stderr, "cluster: cleaning up on %s: %v\n", s.addr, err)
		}
	}}, nil
}

// resetTopics makes topics exist, empty, with partitions partitions: any that
// exist already are deleted first.
func resetTopics(ctx context.Context, addr string, partitions int32, topics ...string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := benchkit.DeleteTopics(ctx, addr, topics, nil); err != nil {
		return err
	}
	for _, t := range topics {
		// Right after a deletion Kafka may still answer TOPIC_ALREADY_EXISTS.
		err := benchkit.Retry(ctx, time.Minute, func() error {
			resp, err := adm.CreateTopic(ctx, partitions, 1, nil, t)
			if err != nil {
				return err
			}
			return resp.Err
		})
		if err != nil {
			return fmt.Errorf("create topic %s: %w", t, err)
		}
	}
	return nil
}

// deleteGroups deletes the consumer groups named, when they exist (the
// applications' committed offsets).
func deleteGroups(ctx context.Context, addr string, groups []string) error {
	if len(groups) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	var names []string
	for _, g := range groups {
		if _, ok := listed[g]; ok {
			names = append(names, g)
		}
	}
	if len(names) == 0 {
		return nil
	}
	resp, err := adm.DeleteGroups(ctx, names...)
	if err != nil && len(resp) == 0 {
		return fmt.Errorf("delete groups %v: %w", names, err)
	}
	for _, r := range resp {
		if r.Err != nil && !errors.Is(r.Err, kerr.GroupIDNotFound) {
			return fmt.Errorf("delete group %s: %w", r.Group, r.Err)
		}
	}
	return nil
}

// endOffsetSum is the sum of the end offsets of topic's partitions: the records
// written to it so far (no transactions, no deletions here).
func endOffsetSum(ctx context.Context, adm *kadm.Client, topic string) (int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	var sum int64
	var lerr error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			lerr = fmt.Errorf("end offset of %s/%d: %w", topic, o.Partition, o.Err)
		}
		sum += o.Offset
	})
	return sum, lerr
}
