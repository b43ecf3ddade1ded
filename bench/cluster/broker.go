package main

import (
	"cmp"
	"context"
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
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
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
	return float64(testkit.VmHWM(l.pid)) / 1024
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
		if err := testkit.WaitForBroker(ctx, cfg.broker, time.Minute); err != nil {
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
	addr, err := testkit.FreeAddr()
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
	if err := testkit.WaitForBroker(ctx, addr, 30*time.Second); err != nil {
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
	dir := filepath.Join(scratch, "kafka")
	cfg.logf("starting a real Apache Kafka broker: %s start %s\n", script, dir)
	k, err := testkit.StartKafka(ctx, script, dir)
	if err != nil {
		return nil, err
	}
	s := &shared{addr: k.Addr, pid: k.PID, stop: k.Stop}
	s.kind = fmt.Sprintf("real Apache Kafka, single-node KRaft on 127.0.0.1 (test/kafka/kafka.sh, heap %s), one broker for the whole run at %s", kafkaHeap(), s.addr)
	if version := testkit.BrokerVersion(ctx, s.addr); version != "" {
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
		if err := testkit.DeleteTopics(ctx, s.addr, topics, prefixes); err != nil {
			fmt.Fprintf(os.Stderr, "cluster: cleaning up on %s: %v\n", s.addr, err)
		}
		if err := testkit.DeleteGroups(ctx, s.addr, prefixes); err != nil {
			fmt.Fprintf(os.Stderr, "cluster: cleaning up on %s: %v\n", s.addr, err)
		}
	}}, nil
}

// resetTopics makes topics exist, empty, with partitions partitions.
func resetTopics(ctx context.Context, addr string, partitions int32, topics ...string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	return testkit.ResetTopics(ctx, kadm.NewClient(cl), partitions, topics...)
}

// appendTimeTopics makes the topics the failover scenario measures, the
// output and appID's repartition topic, stamp their records with the broker's
// append time (message.timestamp.type=LogAppendTime). Records carry their
// input's timestamp (the click's creation time), so only the broker's time
// says when a task wrote a record; a new owner working through a backlog
// writes records stamped before the kill. The repartition topic is created
// here, as the application would, before it starts.
func appendTimeTopics(ctx context.Context, addr, appID string, partitions int32) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	appendTime := map[string]*string{"message.timestamp.type": kadm.StringPtr("LogAppendTime")}
	rep := appID + "-" + repartitionTopic
	created, err := adm.CreateTopic(ctx, partitions, 1, appendTime, rep)
	if err == nil {
		err = created.Err
	}
	if err != nil {
		return fmt.Errorf("create %s with LogAppendTime: %w", rep, err)
	}
	alter := []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "message.timestamp.type", Value: appendTime["message.timestamp.type"]}}
	altered, err := adm.AlterTopicConfigs(ctx, alter, outputTopic)
	for _, a := range altered {
		err = cmp.Or(err, a.Err)
	}
	if err != nil {
		return fmt.Errorf("set LogAppendTime on %s: %w", outputTopic, err)
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
