package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofka/streams/internal/testkit"
)

// cluster hands out a broker for each measurement.
type cluster interface {
	// acquire returns the address of a broker for one measurement and a
	// release that removes what the measurement left behind.
	acquire(ctx context.Context) (addr string, release func(topics, groups []string), err error)
	// describe names the broker for the report; label is its short name.
	describe() string
	label() string
	close()
}

// pickCluster starts the broker the -broker flag asks for. auto means real when
// java and mvn are on the PATH and test/kafka/kafka.sh exists, else embedded; the
// choice and its reason are logged.
func pickCluster(ctx context.Context, cfg config, root string, bins *binaries, scratch string) (cluster, error) {
	script := filepath.Join(root, "test", "kafka", "kafka.sh")
	switch cfg.broker {
	case "auto":
		var missing []string
		for _, tool := range []string{"java", "mvn"} {
			if _, err := exec.LookPath(tool); err != nil {
				missing = append(missing, tool)
			}
		}
		if _, err := os.Stat(script); err != nil {
			missing = append(missing, "test/kafka/kafka.sh")
		}
		if len(missing) > 0 {
			cfg.logTo("NOTE: no real Apache Kafka broker (missing %s): using a fresh embedded kfake broker per measurement instead\n", strings.Join(missing, ", "))
			return &embedded{bin: bins.gofka, partitions: cfg.partitions, scratch: scratch}, nil
		}
		return startReal(ctx, cfg, script, scratch)
	case "real":
		if _, err := os.Stat(script); err != nil {
			return nil, fmt.Errorf("-broker real needs %s: %w", script, err)
		}
		return startReal(ctx, cfg, script, scratch)
	case "embedded":
		return &embedded{bin: bins.gofka, partitions: cfg.partitions, scratch: scratch}, nil
	default:
		if _, _, err := net.SplitHostPort(cfg.broker); err != nil {
			return nil, fmt.Errorf("-broker must be auto, real, embedded or host:port, not %q", cfg.broker)
		}
		s := &shared{addr: cfg.broker}
		if err := s.identify(ctx, "a running broker"); err != nil {
			return nil, err
		}
		return s, nil
	}
}

// embedded starts a fresh kfake broker process (the gofka binary's broker
// command, which Java clients can use too) for every
// measurement, so no measurement sees another's data, and kills it afterwards.
type embedded struct {
	bin        string
	partitions int32
	scratch    string
}

func (e *embedded) describe() string {
	return "embedded kfake broker (the gofka binary's broker command, in memory), a fresh process per measurement"
}

func (e *embedded) label() string { return "embedded kfake broker" }

func (e *embedded) close() {}

func (e *embedded) acquire(ctx context.Context) (string, func([]string, []string), error) {
	addr, err := testkit.FreeAddr()
	if err != nil {
		return "", nil, err
	}
	logPath := filepath.Join(e.scratch, "broker-"+strings.ReplaceAll(addr, ":", "_")+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(e.bin, "broker", "--listen", addr, "--partitions", fmt.Sprint(e.partitions))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return "", nil, fmt.Errorf("start embedded broker: %w", err)
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
	}
	if err := testkit.WaitForBroker(ctx, addr, 30*time.Second); err != nil {
		stop()
		return "", nil, fmt.Errorf("embedded broker on %s: %w\n%s", addr, err, tail(logPath, 20))
	}
	return addr, func([]string, []string) { stop() }, nil
}

// shared is one broker for the whole benchmark; every measurement uses fresh
// topic names (or, for gofka's fixed names, deletes and recreates them) and
// deletes its topics afterwards. Consumer groups are deleted at the end, and only
// on a broker the benchmark did not start (one it started goes away with its
// data): Kafka Streams does not leave its group on close, so its groups stay
// non-empty until their session times out.
type shared struct {
	addr    string
	kind    string
	version string
	stop    func()
	groups  []string
}

func startReal(ctx context.Context, cfg config, script, scratch string) (*shared, error) {
	dir := filepath.Join(scratch, "kafka")
	cfg.logTo("starting a real Apache Kafka broker with %s start %s\n", script, dir)
	k, err := testkit.StartKafka(ctx, script, dir)
	if err != nil {
		return nil, err
	}
	s := &shared{addr: k.Addr, stop: k.Stop}
	if err := s.identify(ctx, "real Apache Kafka, single-node KRaft on 127.0.0.1 (test/kafka/kafka.sh), one broker for the whole run"); err != nil {
		k.Stop()
		return nil, err
	}
	return s, nil
}

// identify checks the broker answers and learns its version from ApiVersions.
func (s *shared) identify(ctx context.Context, kind string) error {
	if err := testkit.WaitForBroker(ctx, s.addr, 2*time.Minute); err != nil {
		return fmt.Errorf("broker %s: %w", s.addr, err)
	}
	s.kind, s.version = kind, testkit.BrokerVersion(ctx, s.addr)
	return nil
}

func (s *shared) describe() string {
	if s.version != "" {
		return fmt.Sprintf("%s at %s; ApiVersions says %s", s.kind, s.addr, s.version)
	}
	return fmt.Sprintf("%s at %s", s.kind, s.addr)
}

func (s *shared) label() string {
	name := "Kafka broker"
	if s.stop != nil {
		name = "real Apache Kafka"
	}
	if s.version != "" {
		name += " " + s.version
	}
	return name
}

func (s *shared) close() {
	if s.stop != nil {
		s.stop()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := testkit.DeleteGroups(ctx, s.addr, s.groups); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: cleaning up on %s: %v\n", s.addr, err)
	}
}

func (s *shared) acquire(ctx context.Context) (string, func([]string, []string), error) {
	return s.addr, func(topics, groups []string) {
		s.groups = append(s.groups, groups...)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := testkit.DeleteTopics(ctx, s.addr, topics, groups); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: cleaning up on %s: %v\n", s.addr, err)
		}
	}, nil
}
