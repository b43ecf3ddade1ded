package cli

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestK8sManifests renders the manifests of the click-count example and reads
// them back as Kubernetes objects: a headless service whose raft port gives the
// SRV records --peers-dns looks up, and a StatefulSet whose pods advertise their
// stable names and are probed on /healthz and /readyz.
func TestK8sManifests(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Run([]string{"k8s", "../../../../examples/clickcount", "--image", "registry.example/click-count:1.0", "--replicas", "5"}, &out, &errb); code != 0 {
		t.Fatalf("gofkagen k8s exited %d: %s", code, errb.String())
	}
	type obj struct {
		Kind     string
		Metadata struct{ Name string }
		Spec     map[string]any
	}
	var objs []obj
	dec := yaml.NewDecoder(&out)
	for {
		var o obj
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not YAML: %v", err)
		}
		objs = append(objs, o)
	}
	if len(objs) != 2 || objs[0].Kind != "Service" || objs[1].Kind != "StatefulSet" {
		t.Fatalf("want a Service and a StatefulSet, got %+v", objs)
	}
	svc, sts := objs[0], objs[1]
	if svc.Metadata.Name != "click-count" || svc.Spec["clusterIP"] != "None" {
		t.Errorf("service is not headless: %+v", svc)
	}
	if !strings.Contains(yamlString(t, svc.Spec["ports"]), "name: raft") {
		t.Errorf("service has no port named raft (the SRV records): %v", svc.Spec["ports"])
	}
	if sts.Spec["replicas"] != 5 || sts.Spec["serviceName"] != "click-count" {
		t.Errorf("statefulset replicas/serviceName: %v %v", sts.Spec["replicas"], sts.Spec["serviceName"])
	}
	pod := yamlString(t, sts.Spec["template"])
	for _, want := range []string{
		"image: registry.example/click-count:1.0",
		"--topology=ClickCount", "--app-id=click-count", "--peers-dns=click-count.$(POD_NAMESPACE).svc.cluster.local",
		"--raft-advertise=$(POD_NAME).click-count.$(POD_NAMESPACE).svc.cluster.local:7946", "--voters=3",
		"path: /healthz", "path: /readyz", "--status-addr=0.0.0.0:7070",
	} {
		if !strings.Contains(pod, want) {
			t.Errorf("pod template lacks %q:\n%s", want, pod)
		}
	}
}

// TestK8sRejectsEvenVoters: a Raft group of 2 or 4 voters tolerates no more
// failures than one of 1 or 3, so it is refused.
func TestK8sRejectsEvenVoters(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Run([]string{"k8s", "../../../../examples/clickcount", "--voters", "2"}, &out, &errb); code == 0 {
		t.Fatalf("--voters 2 accepted")
	}
	if !strings.Contains(errb.String(), "--voters must be 1, 3 or 5") {
		t.Errorf("stderr: %s", errb.String())
	}
}

func yamlString(t *testing.T, v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// k8sPod is the part of a StatefulSet the secured manifests change.
type k8sPod struct {
	Kind     string
	Metadata struct {
		Name        string
		Annotations map[string]string
	}
	Spec struct {
		SecretName string `yaml:"secretName"`
		Usages     []string
		IssuerRef  map[string]string `yaml:"issuerRef"`
		Template   struct {
			Metadata struct{ Annotations map[string]string }
			Spec     struct {
				Containers []struct {
					Args         []string
					VolumeMounts []struct {
						Name      string
						MountPath string `yaml:"mountPath"`
						ReadOnly  bool   `yaml:"readOnly"`
					} `yaml:"volumeMounts"`
					ReadinessProbe struct {
						HTTPGet map[string]any `yaml:"httpGet"`
					} `yaml:"readinessProbe"`
				}
				Volumes []struct {
					Name   string
					Secret struct {
						SecretName string `yaml:"secretName"`
						Items      []struct{ Key, Path string }
					}
				}
			}
		}
	}
}

func renderK8s(t *testing.T, args ...string) []k8sPod {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Run(append([]string{"k8s", "../../../../examples/clickcount"}, args...), &out, &errb); code != 0 {
		t.Fatalf("gofkagen k8s %v exited %d: %s", args, code, errb.String())
	}
	var objs []k8sPod
	dec := yaml.NewDecoder(&out)
	for {
		var o k8sPod
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("not YAML: %v\n%s", err, out.String())
		}
		objs = append(objs, o)
	}
}

// TestK8sSecrets: the Kafka credentials, the peer certificates, the status
// token and certificate are mounted from Secrets, each flag names a mounted
// file, and the mounted files are the Secrets' keys.
func TestK8sSecrets(t *testing.T) {
	objs := renderK8s(t, "--kafka-secret", "cc-kafka", "--sasl-mechanism", "scram-sha-512", "--sasl-username", "clickcount",
		"--kafka-client-cert", "--peer-tls-secret", "cc-peer-tls", "--peer-tls-issuer", "gofka-ca",
		"--status-token-secret", "cc-status-token", "--status-tls-secret", "cc-status-tls")
	if len(objs) != 3 || objs[1].Kind != "StatefulSet" || objs[2].Kind != "Certificate" {
		t.Fatalf("want a Service, a StatefulSet and a Certificate: %+v", objs)
	}
	pod := objs[1].Spec.Template.Spec
	c := pod.Containers[0]
	mounts := map[string]string{} // volume → mount path
	for _, m := range c.VolumeMounts {
		if m.Name != "state" && !m.ReadOnly {
			t.Errorf("secret volume %s mounted writable", m.Name)
		}
		mounts[m.Name] = m.MountPath
	}
	files := map[string]string{} // mounted file → secret/key
	for _, v := range pod.Volumes {
		for _, it := range v.Secret.Items {
			files[mounts[v.Name]+"/"+it.Path] = v.Secret.SecretName + "/" + it.Key
		}
	}
	want := map[string]string{ // flag → secret/key
		"--tls-ca":             "cc-kafka/ca.crt",
		"--tls-cert":           "cc-kafka/tls.crt",
		"--tls-key":            "cc-kafka/tls.key",
		"--sasl-password-file": "cc-kafka/password",
		"--peer-tls-ca":        "cc-peer-tls/ca.crt",
		"--peer-tls-cert":      "cc-peer-tls/tls.crt",
		"--peer-tls-key":       "cc-peer-tls/tls.key",
		"--status-tls-cert":    "cc-status-tls/tls.crt",
		"--status-tls-key":     "cc-status-tls/tls.key",
		"--status-token-file":  "cc-status-token/token",
	}
	got := map[string]string{}
	for _, a := range c.Args {
		flag, val, ok := strings.Cut(a, "=")
		if !ok {
			continue
		}
		if _, isFile := want[flag]; isFile {
			src, mounted := files[val]
			if !mounted {
				t.Errorf("%s: %s is not a mounted file (mounted: %v)", flag, val, files)
			}
			got[flag] = src
		} else {
			got[flag] = val
		}
	}
	for flag, src := range want {
		if got[flag] != src {
			t.Errorf("%s comes from %q, want %q", flag, got[flag], src)
		}
	}
	if got["--sasl-mechanism"] != "SCRAM-SHA-512" || got["--sasl-username"] != "clickcount" {
		t.Errorf("SASL flags: %v", got)
	}
	if c.ReadinessProbe.HTTPGet["scheme"] != "HTTPS" || objs[1].Spec.Template.Metadata.Annotations["prometheus.io/scheme"] != "https" {
		t.Errorf("status over TLS, but probes or scraping are not: %v %v", c.ReadinessProbe.HTTPGet, objs[1].Spec.Template.Metadata.Annotations)
	}
	cert := objs[2].Spec
	if cert.SecretName != "cc-peer-tls" || cert.IssuerRef["name"] != "gofka-ca" ||
		!slices.Contains(cert.Usages, "server auth") || !slices.Contains(cert.Usages, "client auth") {
		t.Errorf("certificate: %+v", cert)
	}

	// Without the options, nothing is mounted but the state and no flag is set.
	plain := renderK8s(t)[1].Spec.Template.Spec
	if len(plain.Volumes) != 0 || len(plain.Containers[0].VolumeMounts) != 1 {
		t.Errorf("volumes without secrets: %+v", plain)
	}
	for _, a := range plain.Containers[0].Args {
		if strings.Contains(a, "tls") || strings.Contains(a, "sasl") || strings.Contains(a, "token") {
			t.Errorf("flag %s without secrets", a)
		}
	}
}

// TestK8sSecretOptionsChecked: a SASL password needs the Secret it comes
// from, and an unknown mechanism is refused.
func TestK8sSecretOptionsChecked(t *testing.T) {
	for _, args := range [][]string{
		{"--sasl-mechanism", "PLAIN", "--sasl-username", "u"},
		{"--sasl-mechanism", "KERBEROS", "--kafka-secret", "s"},
		{"--kafka-client-cert"},
		{"--peer-tls-issuer", "ca"},
	} {
		var out, errb bytes.Buffer
		if code := Run(append([]string{"k8s", "../../../../examples/clickcount"}, args...), &out, &errb); code == 0 {
			t.Errorf("%v accepted", args)
		}
	}
}
