// Command gofkagen compiles Gofka Streams topologies into Go code.
//
// Mark each topology function with //gofka:topology and add to the package:
//
//	//go:generate go tool gofkagen
//
// after `go get -tool github.com/gofka/streams/cmd/gofkagen` in your module (the
// README's "Use it in your own module"); inside this repository the examples use
// `go run github.com/gofka/streams/cmd/gofkagen`, which needs no tool line.
//
// go generate then runs gofkagen in the package's directory, which writes
// gofka_gen.go there: one Compiled<Topology>() *runtime.Program per topology, its
// task types, and (in a package main without a main function) a main that runs
// them. Commands:
//
//	gofkagen [generate] [dir]      write dir/gofka_gen.go (dir defaults to .)
//	gofkagen check [dir]           exit 1 if regenerating would change gofka_gen.go (for CI)
//	gofkagen describe [--format F] [--topology T] [dir]
//	                               print the topologies and their sub-topologies, as text
//	                               and as Mermaid diagrams (F: both, text, mermaid; mermaid
//	                               prints one bare diagram, which a .mmd file holds)
//	gofkagen k8s [--image I] [--replicas N] [--voters V] [dir]
//	                               print Kubernetes manifests for the application
//
// Errors are printed as file:line:col: message, all at once, sorted, with file
// names relative to the module's root (Go's own type errors too); the exit status
// is then 1. describe and k8s only load the package: they never generate.
package main

import (
	"os"

	"github.com/gofka/streams/cmd/gofkagen/internal/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr)) }
