// Command gofkavet runs gofkagen's checks as a go vet tool, so that a wrong
// function in a topology shows up in go vet and in editors before go generate:
//
//	go install github.com/gofka/streams/cmd/gofkavet
//	go vet -vettool=$(which gofkavet) ./...
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/gofka/streams/frontend"
)

func main() { singlechecker.Main(frontend.Analyzer) }
