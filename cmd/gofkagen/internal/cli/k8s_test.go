package cli

import (
	"bytes"
	"errors"
	"io"
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
