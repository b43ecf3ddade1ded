package e2e

// The end-to-end tests run in one of two tiers, chosen by the environment:
//
//   - By default each test starts its own development broker (kfake, in
//     memory), a process of the click-count binary ("broker" command), which
//     ends with the test.
//   - With GOFKA_TEST_BROKERS=<host:port> (make test-kafka sets it; see
//     test/kafka/run-tier.sh) the tests run on that broker, a real Apache Kafka
//     started outside the tests and shared by every test of the run.
//
// startBroker hides the difference. A real broker keeps topics, records and
// committed offsets from one test to the next, so on it startBroker gives each
// test an empty broker, as a fresh development broker would be: it deletes every
// (non-internal) topic and every consumer group before the test and again after
// it. Hence tests on a shared broker run one at a time: no t.Parallel, and
// go test -p 1 when another package uses the same broker.
//
// Tests that must own their broker (stop or restart it, start it after the
// application) call startDevBroker and say why; they run on the development
// broker in both tiers.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
)

// brokersEnv names the variable that selects the real-Kafka tier.
const brokersEnv = "GOFKA_TEST_BROKERS"

// sharedBroker is the address of the real broker the tests share, or "" when
// each test starts its own development broker.
func sharedBroker() string {
	return strings.TrimSpace(os.Getenv(brokersEnv))
}

// useSharedBroker empties the shared broker at addr for the test, and again when
// the test ends, and returns a stand-in proc for it: the broker is not the
// test's to stop (stop and wait return an error).
func useSharedBroker(ctx context.Context, t *testing.T, addr string) *proc {
	t.Helper()
	if strings.Contains(addr, ",") {
		t.Fatalf("%s=%q: give one broker address (host:port)", brokersEnv, addr)
	}
	if err := emptyBroker(ctx, addr); err != nil {
		t.Fatalf("empty the shared Kafka broker at %s (%s) before the test: %v", addr, brokersEnv, err)
	}
	t.Cleanup(func() {
		// The test's context has ended by now: take a new one.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := emptyBroker(ctx, addr); err != nil {
			t.Errorf("empty the shared Kafka broker at %s after the test: %v", addr, err)
		}
	})
	return &proc{name: "shared Kafka broker at " + addr, out: &testkit.LogBuf{}, done: make(chan struct{})}
}

// emptyBroker deletes every consumer group and every topic but Kafka's internal
// ones from the broker at addr, and waits until its metadata lists no topic.
func emptyBroker(ctx context.Context, addr string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	// Groups: an application's committed offsets must not outlive its test. A
	// group with live members cannot be deleted; members of a finished test's
	// clients leave when their session times out, so try again until then.
	var busy []string
	err = poll(ctx, "every consumer group is deleted", func() (bool, error) {
		groups, err := adm.ListGroups(ctx)
		if err != nil {
			return false, fmt.Errorf("list groups: %w", err)
		}
		if len(groups) == 0 {
			return true, nil
		}
		busy = nil
		resp, err := adm.DeleteGroups(ctx, groups.Groups()...)
		if err != nil {
			return false, fmt.Errorf("delete groups %v: %w", groups.Groups(), err)
		}
		for _, r := range resp.Sorted() {
			switch {
			case r.Err == nil, errors.Is(r.Err, kerr.GroupIDNotFound):
			case errors.Is(r.Err, kerr.NonEmptyGroup):
				busy = append(busy, r.Group)
			default:
				return false, fmt.Errorf("delete group %s: %w", r.Group, r.Err)
			}
		}
		return false, nil // list again: deleted groups must be gone
	})
	if err != nil {
		return fmt.Errorf("%w (groups with members: %v)", err, busy)
	}

	topics, err := adm.ListTopics(ctx) // without Kafka's internal topics
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	if names := topics.Names(); len(names) > 0 {
		resp, err := adm.DeleteTopics(ctx, names...)
		if err != nil {
			return fmt.Errorf("delete topics %v: %w", names, err)
		}
		for _, r := range resp.Sorted() {
			if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
				return fmt.Errorf("delete topic %s: %w", r.Topic, r.Err)
			}
		}
	}
	// The controller has deleted them; the broker learns it from the metadata
	// log a moment later, and until then a topic of the same name cannot be made.
	var left []string
	err = poll(ctx, "the deleted topics are gone", func() (bool, error) {
		topics, err := adm.ListTopics(ctx)
		if err != nil {
			return false, fmt.Errorf("list topics: %w", err)
		}
		left = topics.Names()
		return len(left) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%w (still listed: %v)", err, left)
	}
	return nil
}

// startDevBroker runs a standalone development broker (4 partitions per topic)
// owned by the test, in both tiers, and returns its address once it accepts
// connections.
func startDevBroker(ctx context.Context, t *testing.T) (*proc, string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		addr := freeAddr(t)
		b := start(t, "broker", "broker", "--listen", addr, "--partitions", "4")
		err := b.waitLog(ctx, "listening on "+addr)
		if err == nil {
			return b, addr
		}
		if attempt == 2 || ctx.Err() != nil {
			t.Fatalf("broker: %v\n%s", err, b.out.String())
		}
		// Another process took the port between freeAddr and the broker: again.
	}
}
