// Command gofkaq is the Nexmark queries of examples/nexmark/queries as one
// Gofka Streams application: the generated programs, run by runtime/app, so
// `gofkaq --topology Q5 --brokers …` runs q5 through a Kafka broker (topic
// nexmark-events → nexmark-q5), as any gofkagen application runs. The Nexmark
// driver (bench/nexmark) builds and runs it.
package main

import (
	"github.com/gofka/streams/examples/nexmark/queries"
	"github.com/gofka/streams/runtime/app"
)

func main() {
	app.Main(queries.CompiledQ0(), queries.CompiledQ1(), queries.CompiledQ2(), queries.CompiledQ3(),
		queries.CompiledQ4(), queries.CompiledQ5(), queries.CompiledQ7(), queries.CompiledQ8(), queries.CompiledQ11())
}
