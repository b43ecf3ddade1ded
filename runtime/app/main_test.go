package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gofka/streams/runtime"
)

func command(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	prog := &runtime.Program{Name: "Test", DefaultAppID: "test"}
	code := Command(context.Background(), []*runtime.Program{prog}, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestHelpOffersBothGuarantees: run --help lists at-least-once and exactly-once.
func TestHelpOffersBothGuarantees(t *testing.T) {
	code, out, _ := command(t, "run", "--help")
	if code != 0 || !strings.Contains(out, "--guarantee") {
		t.Fatalf("run --help: status %d\n%s", code, out)
	}
	if !strings.Contains(out, "at-least-once") || !strings.Contains(out, "exactly-once") {
		t.Errorf("run --help does not offer both guarantees:\n%s", out)
	}
	if !strings.Contains(out, "10 minutes") {
		t.Errorf("--keep-checkpoints' help does not mention the grace period:\n%s", out)
	}
}

// TestUnknownGuaranteeRefused: a value other than the two is refused, naming both.
func TestUnknownGuaranteeRefused(t *testing.T) {
	code, _, errOut := command(t, "run", "--guarantee", "at-most-once")
	if code == 0 || !strings.Contains(errOut, "at-least-once or exactly-once") {
		t.Errorf("status %d, stderr %q; want the two valid values", code, errOut)
	}
}

// TestMemoryBelowMinimumRefused: a budget too small for RocksDB's memtables
// is refused before anything starts, with the reason.
func TestMemoryBelowMinimumRefused(t *testing.T) {
	code, _, errOut := command(t, "run", "--memory", "16MiB")
	if code == 0 || !strings.Contains(errOut, "--memory 16MiB is below the minimum of 32MiB") || !strings.Contains(errOut, "memtables") {
		t.Errorf("status %d, stderr %q; want the minimum and why", code, errOut)
	}
}

// TestSecurityFlagsNeedBrokers: the embedded broker is plaintext, so security
// flags without --brokers are refused rather than ignored.
func TestSecurityFlagsNeedBrokers(t *testing.T) {
	code, _, errOut := command(t, "run", "--tls")
	if code == 0 || !strings.Contains(errOut, "the --tls and --sasl flags need --brokers") {
		t.Errorf("status %d, stderr %q", code, errOut)
	}
}

// TestSecurityFlagErrors: flag errors come before anything starts, and name
// the flag without showing the password.
func TestSecurityFlagErrors(t *testing.T) {
	for args, want := range map[string]string{
		"--sasl-mechanism kerberos":                                                                    `unknown SASL mechanism "kerberos": valid are PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, AWS_MSK_IAM`,
		"--sasl-mechanism plain --sasl-password sekrit-pw":                                             "--sasl-mechanism PLAIN needs --sasl-username",
		"--sasl-mechanism plain --sasl-username u":                                                     "needs a password",
		"--tls-cert only.pem --sasl-mechanism plain --sasl-username u":                                 "--tls-cert and --tls-key go together",
		"--tls-ca /nonexistent.pem --sasl-mechanism plain --sasl-username u --sasl-password sekrit-pw": "--tls-ca: open /nonexistent.pem",
	} {
		code, out, errOut := command(t, append([]string{"run", "--brokers", "127.0.0.1:1"}, strings.Fields(args)...)...)
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("%s: status %d, stderr %q, want %q", args, code, errOut, want)
		}
		if strings.Contains(out+errOut, "sekrit-pw") {
			t.Errorf("%s: the output shows the password: %s", args, out+errOut)
		}
	}
}

// TestBrokerSASLUsers: --sasl-user values are checked without showing the
// password, and the start-up line names users and mechanisms only.
func TestBrokerSASLUsers(t *testing.T) {
	for v, want := range map[string]string{
		"alice:sekrit-pw":             "--sasl-user number 1 is not MECHANISM:USER:PASSWORD",
		"GSSAPI:alice:sekrit-pw":      `not "GSSAPI"`,
		"OAUTHBEARER:alice:sekrit-pw": "knows PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512",
		"scram-sha-256:alice:":        "is not MECHANISM:USER:PASSWORD",
	} {
		code, out, errOut := command(t, "broker", "--listen", "127.0.0.1:0", "--sasl-user", v)
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("%s: status %d, stderr %q, want %q", v, code, errOut, want)
		}
		if strings.Contains(out+errOut, "sekrit-pw") {
			t.Errorf("%s: the output shows the password: %s", v, out+errOut)
		}
	}
	u := saslUsers{"scram-sha-512:bob:pa:ss:word", "PLAIN:carol:x"}
	got, err := u.parse()
	if err != nil || len(got) != 2 || got[0] != (saslUser{"SCRAM-SHA-512", "bob", "pa:ss:word"}) || got[1].mechanism != "PLAIN" {
		t.Errorf("parse: %+v, %v", got, err)
	}
	bs, err := brokerFlags{users: u}.security()
	if err != nil || bs.desc != "SASL users bob (SCRAM-SHA-512), carol (PLAIN)" || strings.Contains(bs.desc, "pa:ss") {
		t.Errorf("description %q, %v", bs.desc, err)
	}
}

// TestSecurityFlagsGoTogether: the peer TLS flags come three together, the
// status server's certificate with its key; a half-given set is refused
// before anything starts.
func TestSecurityFlagsGoTogether(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--peer-tls-ca", "ca.crt"},
		{"run", "--peer-tls-cert", "p.crt", "--peer-tls-key", "p.key"},
		{"run", "--status-tls-cert", "s.crt"},
	} {
		code, _, errOut := command(t, args...)
		if code == 0 || !strings.Contains(errOut, "go together") {
			t.Errorf("%v: status %d, stderr %q; want a 'go together' error", args, code, errOut)
		}
	}
	code, out, _ := command(t, "run", "--help")
	for _, f := range []string{"--peer-tls-ca", "--peer-tls-cert", "--peer-tls-key", "--status-tls-cert", "--status-tls-key", "--status-token-file"} {
		if code != 0 || !strings.Contains(out, f) {
			t.Errorf("run --help does not offer %s", f)
		}
	}
}

// TestMemoryHelpGivesTheSplit: --memory's help says the whole process and
// where each share goes, as the README's table does.
func TestMemoryHelpGivesTheSplit(t *testing.T) {
	_, out, errOut := command(t, "run", "--help")
	help := out + errOut
	for _, want := range []string{"memory budget of the whole process", "min(48MiB, half) is the process's fixed part", "3/16 RocksDB block cache", "1/8 RocksDB memtables",
		"1/8 typed state caches", "1/8 Kafka fetch and produce buffers", "9/16 the Go heap's soft limit (GOMEMLIMIT", "1/8 reserve"} {
		if !strings.Contains(help, want) {
			t.Errorf("--memory's help lacks %q", want)
		}
	}
}
