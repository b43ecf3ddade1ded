package registry

import (
	"context"
	"fmt"
	"sync"
)

// Use is one schema that a serde of this process writes under a subject of a
// registry. Serde constructors that are given a registry record their Use
// (Track), so that a program can register or check all its schemas ahead of
// time (Confluent's auto.register.schemas=false way of working) without running
// its topology: see RegisterAll and CheckAll, and the application binary's
// `schemas` command.
type Use struct {
	URL     string
	Subject string
	Schema  Schema
}

var (
	usesMu sync.Mutex
	uses   []Use
)

// Track records u; a Use already recorded (same registry, subject and schema) is
// recorded once.
func Track(u Use) {
	usesMu.Lock()
	defer usesMu.Unlock()
	for _, x := range uses {
		if x.URL == u.URL && x.Subject == u.Subject && x.Schema.SchemaType == u.Schema.SchemaType && x.Schema.Schema == u.Schema.Schema {
			return
		}
	}
	uses = append(uses, u)
}

// Tracked returns the Uses recorded so far, in the order they were made.
func Tracked() []Use {
	usesMu.Lock()
	defer usesMu.Unlock()
	return append([]Use(nil), uses...)
}

// Result is what RegisterAll or CheckAll found for one Use.
type Result struct {
	Use
	ID            int           // RegisterAll: the schema's id
	Compatibility Compatibility // CheckAll: the registry's answer
}

// RegisterAll registers every tracked schema and returns the ids. It stops at
// the first failure.
func RegisterAll(ctx context.Context) ([]Result, error) {
	var out []Result
	for _, u := range Tracked() {
		id, err := Shared(u.URL).Register(ctx, u.Subject, u.Schema)
		if err != nil {
			return out, fmt.Errorf("subject %s at %s: %w", u.Subject, u.URL, err)
		}
		out = append(out, Result{Use: u, ID: id})
	}
	return out, nil
}

// CheckAll asks, for every tracked schema, whether its subject's latest version
// allows it under the subject's compatibility level (BACKWARD unless the
// registry is configured otherwise). A schema that is not compatible is a
// Result with Compatibility.Compatible false, not an error.
func CheckAll(ctx context.Context) ([]Result, error) {
	var out []Result
	for _, u := range Tracked() {
		c, err := Shared(u.URL).CheckCompatibility(ctx, u.Subject, u.Schema)
		if err != nil {
			return out, fmt.Errorf("subject %s at %s: %w", u.Subject, u.URL, err)
		}
		out = append(out, Result{Use: u, Compatibility: c})
	}
	return out, nil
}
