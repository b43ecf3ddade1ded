// Package mergealerts merges two streams read from different topics inside one
// sub-topology, then both writes the merged stream to a topic and counts it per
// key; the count needs no repartition, since no step changed the key.
package mergealerts

import (
	"fmt"
	"strconv"

	"github.com/gofka/streams"
)

func cpuHigh(host string, percent int64) bool { return percent > 90 }

func memHigh(host string, percent int64) bool { return percent > 80 }

func cpuAlert(percent int64) string { return fmt.Sprintf("cpu at %d%%", percent) }

func memAlert(percent int64) string { return "memory at " + strconv.FormatInt(percent, 10) + "%" }

//gofka:topology
func Alerts(b *streams.StreamsBuilder) {
	cpu := b.Stream(streams.With(streams.String(), streams.Int64()), "cpu").Filter(cpuHigh).MapValues(cpuAlert)
	mem := b.Stream(streams.With(streams.String(), streams.Int64()), "mem").Filter(memHigh).MapValues(memAlert)
	alerts := cpu.Merge(mem)
	alerts.To("alerts")
	alerts.GroupByKey().Count(streams.InMemoryStore("alerts-per-host")).ToStream().To("alert-counts")
}
