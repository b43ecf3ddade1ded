package e2e

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// proxy forwards connections accepted on l to target until the test ends.
func proxy(t *testing.T, l net.Listener, target string) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(out, in); out.Close() }()
			go func() { defer wg.Done(); io.Copy(in, out); in.Close() }()
		}
	}()
}

// TestAppStartsBeforeBroker starts the application while nothing listens at
// its --brokers address; 3 seconds later the broker becomes reachable there.
// The application must wait for it (logging warnings) rather than exit, then
// process input.
//
// The development broker keeps its data in memory, so a broker restart cannot
// be tested; and the application requires its source topic, which can only be
// created on a running broker. So the broker runs from the start, with its
// topics, at another address, and the test opens a TCP forwarder on the
// application's address after 3 seconds. (The broker advertises its own
// address, so after bootstrapping the application talks to it directly.)
func TestAppStartsBeforeBroker(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	_, brokerAddr := startBroker(ctx, t)
	cl := client(t, brokerAddr)
	createTopics(ctx, t, kadm.NewClient(cl))

	appAddr := freeAddr(t)
	app := startApp(t, "app", appAddr, t.TempDir())
	started := time.Now()
	// The application has tried and failed to connect ...
	if err := app.waitLog(ctx, "level=WARN"); err != nil {
		t.Fatal(err)
	}
	// ... and is still waiting 3 seconds later.
	select {
	case <-app.done:
		t.Fatalf("the application exited %v after start while its broker was unreachable (%v), instead of retrying", time.Since(started).Round(time.Millisecond), app.err)
	case <-time.After(time.Until(started.Add(3 * time.Second))):
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	l, err := net.Listen("tcp", appAddr)
	if err != nil {
		t.Fatalf("listen on the application's broker address: %v", err)
	}
	proxy(t, l, brokerAddr)

	clicks := makeClicks(0, 1000)
	want := expectedCounts(clicks)
	produce(ctx, t, cl, clicks)
	out := newTail(t, brokerAddr, outputTopic)
	if err := out.until(ctx, "every user's count is reached", equalCounts(want)); err != nil {
		if app.exited() {
			err = errors.Join(err, errors.New("the application exited: "+app.err.Error()))
		}
		t.Fatalf("%v: %s", err, diffCounts(out.c.latest, want))
	}
	if !strings.Contains(app.out.String(), appAddr) {
		t.Errorf("no warning names the unreachable broker address %s", appAddr)
	}
	stopClean(ctx, t, app)
	if got := readCounts(context.Background(), t, brokerAddr); got.records != realClicks(clicks) {
		t.Errorf("%d output records, want %d", got.records, realClicks(clicks))
	}
}
