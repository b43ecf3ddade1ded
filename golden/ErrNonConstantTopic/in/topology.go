package errnonconstanttopic

import (
	"fmt"
	"os"

	"github.com/gofka/streams"
)

var region = os.Getenv("REGION")

//gofka:topology
func Orders(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "orders-"+region).
		To(fmt.Sprintf("%s-copy", region))
}
