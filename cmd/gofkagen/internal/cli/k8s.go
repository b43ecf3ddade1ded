package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gofka/streams/templates"
)

// k8sOptions are the options of gofkagen k8s.
type k8sOptions struct {
	image    string
	replicas int
	voters   int

	// Secrets mounted as files, and the application flags set from them.
	kafkaSecret       string // ca.crt, and password / tls.crt, tls.key as needed
	kafkaClientCert   bool
	saslMechanism     string
	saslUsername      string
	peerTLSSecret     string // ca.crt, tls.crt, tls.key (cert-manager's layout)
	peerTLSIssuer     string // a cert-manager issuer to make peerTLSSecret with
	statusTokenSecret string // token
	statusTLSSecret   string // tls.crt, tls.key
	peerTLSIssuerKind string
}

func (k *k8sOptions) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&k.image, "image", "", "container image of the application (default <app-id>:latest)")
	f.IntVar(&k.replicas, "replicas", 3, "replicas of the StatefulSet")
	f.IntVar(&k.voters, "voters", 3, "replicas that vote in the Raft group: 1, 3 or 5")
	f.StringVar(&k.kafkaSecret, "kafka-secret", "", "Secret with the Kafka client credentials: ca.crt (--tls-ca), password (--sasl-password-file, with --sasl-mechanism), tls.crt and tls.key (with --kafka-client-cert)")
	f.BoolVar(&k.kafkaClientCert, "kafka-client-cert", false, "authenticate to Kafka with the client certificate tls.crt and tls.key of --kafka-secret")
	f.StringVar(&k.saslMechanism, "sasl-mechanism", "", "SASL mechanism to Kafka: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (the password from --kafka-secret), OAUTHBEARER or AWS_MSK_IAM (credentials set up by you)")
	f.StringVar(&k.saslUsername, "sasl-username", "", "SASL user name, for PLAIN and SCRAM")
	f.StringVar(&k.peerTLSSecret, "peer-tls-secret", "", "Secret with the replicas' certificate, in cert-manager's layout (ca.crt, tls.crt, tls.key): Raft and the control RPCs run over mutual TLS")
	f.StringVar(&k.peerTLSIssuer, "peer-tls-issuer", "", "also print a cert-manager Certificate that makes --peer-tls-secret, signed by this (CA) issuer")
	f.StringVar(&k.peerTLSIssuerKind, "peer-tls-issuer-kind", "Issuer", "kind of --peer-tls-issuer: Issuer or ClusterIssuer")
	f.StringVar(&k.statusTokenSecret, "status-token-secret", "", "Secret with a bearer token (key token) the status server requires for /status and /metrics")
	f.StringVar(&k.statusTLSSecret, "status-tls-secret", "", "Secret with a certificate and key (tls.crt, tls.key) for the status server to serve HTTPS")
}

func (k *k8sOptions) check() error {
	switch k.voters {
	case 1, 3, 5:
	default:
		return fmt.Errorf("--voters must be 1, 3 or 5, not %d", k.voters)
	}
	if k.replicas < 1 {
		return fmt.Errorf("--replicas must be at least 1")
	}
	k.saslMechanism = strings.ToUpper(k.saslMechanism)
	switch k.saslMechanism {
	case "", "OAUTHBEARER", "AWS_MSK_IAM":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if k.kafkaSecret == "" || k.saslUsername == "" {
			return fmt.Errorf("--sasl-mechanism %s needs --sasl-username and --kafka-secret (whose key password holds the password)", k.saslMechanism)
		}
	default:
		return fmt.Errorf("--sasl-mechanism must be PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER or AWS_MSK_IAM, not %q", k.saslMechanism)
	}
	if k.kafkaClientCert && k.kafkaSecret == "" {
		return fmt.Errorf("--kafka-client-cert needs --kafka-secret (whose keys tls.crt and tls.key hold the certificate)")
	}
	if k.peerTLSIssuer != "" && k.peerTLSSecret == "" {
		return fmt.Errorf("--peer-tls-issuer needs --peer-tls-secret (the Secret the Certificate makes)")
	}
	if k.peerTLSIssuerKind != "Issuer" && k.peerTLSIssuerKind != "ClusterIssuer" {
		return fmt.Errorf("--peer-tls-issuer-kind must be Issuer or ClusterIssuer")
	}
	return nil
}

// k8sData is what statefulset.yaml.tmpl renders.
type k8sData struct {
	Name, AppID, Topology, Image string
	Replicas, Voters             int

	KafkaSecret, SASLMechanism, SASLUsername string
	SASLPassword, KafkaClientCert            bool
	PeerTLSSecret, PeerTLSIssuer, IssuerKind string
	StatusTokenSecret, StatusTLSSecret       string
}

func k8sManifests(dir string, o k8sOptions, stdout, stderr io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	pkg, err := load(dir, stderr)
	if err != nil {
		return err
	}
	if pkg.Name != "main" {
		return fmt.Errorf("package %s is not a command (package main): there is no binary to deploy", pkg.Name)
	}
	for i, g := range pkg.Graphs {
		if i > 0 {
			fmt.Fprintln(stdout, "---")
		}
		image := o.image
		if image == "" {
			image = g.DefaultAppID + ":latest"
		}
		text, err := templates.Render("statefulset.yaml.tmpl", k8sData{
			Name: g.DefaultAppID, AppID: g.DefaultAppID, Topology: g.Name, Image: image,
			Replicas: o.replicas, Voters: min(o.voters, o.replicas),
			KafkaSecret: o.kafkaSecret, SASLMechanism: o.saslMechanism, SASLUsername: o.saslUsername,
			SASLPassword:    o.saslMechanism == "PLAIN" || strings.HasPrefix(o.saslMechanism, "SCRAM"),
			KafkaClientCert: o.kafkaClientCert,
			PeerTLSSecret:   o.peerTLSSecret, PeerTLSIssuer: o.peerTLSIssuer, IssuerKind: o.peerTLSIssuerKind,
			StatusTokenSecret: o.statusTokenSecret, StatusTLSSecret: o.statusTLSSecret,
		})
		if err != nil {
			return err
		}
		io.WriteString(stdout, text)
	}
	return nil
}
