package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// TestRunEndsWhenThePasswordStopsWorking: a password that worked at start-up
// and is then changed on the broker (connections re-authenticate every second
// here) ends the run with the broker and the cause named, instead of franz-go
// retrying for ever.
func TestRunEndsWhenThePasswordStopsWorking(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "a", "b", "out"),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "admin", "admin-pw"), kfake.Superuser("SCRAM-SHA-256", "app", "app-pw"),
		kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "1000"}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, mergeProgram(), Config{Brokers: c.ListenAddrs(), AppID: "merge", StateDir: t.TempDir(), Logger: quietLogger(),
			CommitInterval: 200 * time.Millisecond,
			KafkaOptions:   []kgo.Opt{kgo.SASL(scram.Auth{User: "app", Pass: "app-pw"}.AsSha256Mechanism())}})
	}()
	select {
	case err := <-done:
		t.Fatalf("the run ended before the password changed: %v", err)
	case <-time.After(3 * time.Second):
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.SASL(scram.Auth{User: "admin", Pass: "admin-pw"}.AsSha256Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: "app", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "rotated"}}); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	select {
	case err := <-done:
		t.Logf("run ended %v after the change: %v", time.Since(changed).Round(time.Millisecond), err)
		if err == nil || !strings.Contains(err.Error(), "broker "+c.ListenAddrs()[0]+": SASL authentication failed") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "app-pw") {
			t.Errorf("the error shows the password")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the run still goes 60 s after the password changed")
	}
}
