package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/gofka/streams/runtime/kafkaconf"
)

// brokerFlags are the flags of the broker command.
type brokerFlags struct {
	listen     string
	partitions int32
	certFile   string
	keyFile    string
	clientCA   string
	users      saslUsers
}

// saslUsers collects --sasl-user MECHANISM:USER:PASSWORD values. Set never
// fails, since cobra would print the rejected value (a password) in its error:
// parse checks them and names only the mechanism and the user.
type saslUsers []string

func (u *saslUsers) String() string     { return "" }
func (u *saslUsers) Type() string       { return "MECHANISM:USER:PASSWORD" }
func (u *saslUsers) Set(v string) error { *u = append(*u, v); return nil }

// saslUser is one user of the development broker.
type saslUser struct{ mechanism, name, password string }

func (u *saslUsers) parse() ([]saslUser, error) {
	var out []saslUser
	for i, v := range *u {
		mech, rest, ok1 := strings.Cut(v, ":")
		name, pass, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || name == "" || pass == "" {
			return nil, fmt.Errorf("--sasl-user number %d is not MECHANISM:USER:PASSWORD", i+1)
		}
		m, err := kafkaconf.ParseMechanism(mech)
		if err != nil || (m != kafkaconf.Plain && m != kafkaconf.ScramSHA256 && m != kafkaconf.ScramSHA512) {
			return nil, fmt.Errorf("--sasl-user %s:%s: the development broker knows PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, not %q", mech, name, mech)
		}
		out = append(out, saslUser{m, name, pass})
	}
	return out, nil
}

func brokerCommand(ctx context.Context, stderr io.Writer) *cobra.Command {
	var bf brokerFlags
	broker := &cobra.Command{
		Use:   "broker",
		Short: "Run a standalone embedded development broker (data in memory only)",
		Long: `Run a standalone embedded development broker (data in memory only).

With --tls-cert and --tls-key it listens with TLS only; with --sasl-user it
requires SASL authentication (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; the users
are superusers). Both together rehearse a secured deployment on one machine:

  app broker --tls-cert broker.crt --tls-key broker.key --sasl-user SCRAM-SHA-256:alice:PASSWORD
  GOFKA_SASL_PASSWORD=PASSWORD app run --brokers 127.0.0.1:9092 --tls-ca ca.crt \
      --sasl-mechanism SCRAM-SHA-256 --sasl-username alice`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBroker(ctx, bf, stderr)
		},
	}
	f := broker.Flags()
	f.StringVar(&bf.listen, "listen", "127.0.0.1:9092", "address to listen on")
	f.Int32Var(&bf.partitions, "partitions", 4, "partitions of topics created automatically")
	f.StringVar(&bf.certFile, "tls-cert", "", "PEM certificate to listen with TLS (with --tls-key)")
	f.StringVar(&bf.keyFile, "tls-key", "", "PEM private key of --tls-cert")
	f.StringVar(&bf.clientCA, "tls-client-ca", "", "PEM CA certificates: require clients to present a certificate one of them signed (mutual TLS)")
	f.Var(&bf.users, "sasl-user", "require SASL and add this user, e.g. SCRAM-SHA-256:alice:PASSWORD (repeatable; mechanisms PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")
	return broker
}

// brokerSecurity is what the broker's security flags make.
type brokerSecurity struct {
	opts []kfake.Opt
	tls  *tls.Config // nil: plaintext
	sasl bool
	desc string // for the start-up line, without passwords
}

// security turns the broker's flags into kfake options.
func (bf brokerFlags) security() (brokerSecurity, error) {
	var bs brokerSecurity
	var desc []string
	if (bf.certFile == "") != (bf.keyFile == "") {
		return bs, fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if bf.clientCA != "" && bf.certFile == "" {
		return bs, fmt.Errorf("--tls-client-ca needs --tls-cert and --tls-key")
	}
	if bf.certFile != "" {
		cert, err := tls.LoadX509KeyPair(bf.certFile, bf.keyFile)
		if err != nil {
			return bs, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", bf.certFile, bf.keyFile, err)
		}
		bs.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		desc = append(desc, "TLS")
		if bf.clientCA != "" {
			pool, err := kafkaconf.LoadCAs(bf.clientCA)
			if err != nil {
				return bs, fmt.Errorf("--tls-client-ca: %w", err)
			}
			bs.tls.ClientCAs, bs.tls.ClientAuth = pool, tls.RequireAndVerifyClientCert
			desc = append(desc, "client certificates required")
		}
		bs.opts = append(bs.opts, kfake.TLS(bs.tls))
	}
	users, err := bf.users.parse()
	if err != nil {
		return bs, err
	}
	if len(users) > 0 {
		bs.sasl = true
		bs.opts = append(bs.opts, kfake.EnableSASL())
		var names []string
		for _, u := range users {
			bs.opts = append(bs.opts, kfake.Superuser(u.mechanism, u.name, u.password))
			names = append(names, u.name+" ("+u.mechanism+")")
		}
		desc = append(desc, "SASL users "+strings.Join(names, ", "))
	}
	bs.desc = "plaintext"
	if len(desc) > 0 {
		bs.desc = strings.Join(desc, ", ")
	}
	return bs, nil
}

// startBroker starts an embedded kfake broker listening on addr. Two protocol
// versions are held back so that Kafka's own Java clients (Kafka Streams, the
// console tools) work against it too:
//
//   - CreateTopics at most v4: from v5 kfake answers each created topic's configs
//     with config_source -1, which the Java admin client rejects ("id should be
//     positive, id: -1");
//   - no DescribeTopicPartitions (key 75): kfake answers it with a null
//     eligible_leader_replicas list, on which the Java admin client throws a
//     NullPointerException; without it the client falls back to Metadata, as
//     with brokers older than 3.8.
func startBroker(addr string, partitions int32, extra ...kfake.Opt) (*kfake.Cluster, error) {
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(19, 4)  // CreateTopics
	versions.SetMaxKeyVersion(75, -1) // DescribeTopicPartitions
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(int(partitions)),
		kfake.MaxVersions(versions),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, addr) }),
	}
	c, err := kfake.NewCluster(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("embedded broker on %s: %w", addr, err)
	}
	return c, nil
}

func runBroker(ctx context.Context, bf brokerFlags, stderr io.Writer) error {
	sec, err := bf.security()
	if err != nil {
		return err
	}
	c, err := startBroker(bf.listen, bf.partitions, sec.opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	if sec.sasl && (sec.tls == nil || sec.tls.ClientAuth != tls.RequireAndVerifyClientCert) { // see librdkafka.go
		if err := librdkafkaSASL(ctx, c, c.ListenAddrs()[0], sec.tls); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "embedded development broker listening on %s (%s; data in memory only); stop with Ctrl-C\n", c.ListenAddrs()[0], sec.desc)
	<-ctx.Done()
	return nil
}
