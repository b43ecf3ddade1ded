// Package templates holds the fixed scaffolding gofkagen adds around the generated
// operator code, as embedded text templates: the main function of a package main
// that has none (main.go.tmpl), and the Kubernetes manifests of `gofkagen k8s`
// (statefulset.yaml.tmpl: a StatefulSet, its headless service and probes, the Secrets it
// mounts for Kafka, peer and status credentials, and optionally a cert-manager Certificate).
// Codegen builds the specialized code with jennifer;
// only text that never varies in shape lives here.
package templates

import (
	"bytes"
	"embed"
	"text/template"
)

//go:embed *.tmpl
var files embed.FS

var all = template.Must(template.ParseFS(files, "*.tmpl"))

// Render executes the template file name (e.g. "main.go.tmpl") with data.
func Render(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := all.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return b.String(), nil
}
