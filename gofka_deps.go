//go:build gofka_deps

// This file is never compiled (no build sets the gofka_deps tag). It is here for
// `go mod tidy`, which reads files under every build tag: a module that imports the
// DSL then records in its go.mod and go.sum everything the code gofkagen generates
// imports (the runtime and its dependencies: franz-go, grocksdb, raft, the AWS SDK),
// so `go build` works right after `go generate` with no second `go mod tidy`. The
// runtime must never import this package (go list -deps -tags gofka_deps . checks
// that there is no cycle).

package streams

import _ "github.com/gofka/streams/runtime/app"
