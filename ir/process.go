package ir

import (
	"fmt"
	"strings"
	"time"
)

// Processor is what an OpProcess node runs besides its processor function
// (Fns[0]): the functions, stores and schedules of a KStream.Process step.
type Processor struct {
	// OnTimer, if set, is called for each timer that fires; it is also in Fns.
	OnTimer *Func
	// Punctuators are called on schedule; their functions are also in Fns.
	Punctuators []Punctuator
	// Stores are the processor's own stores, in the order of its functions' store
	// parameters.
	Stores []*Store
	// Timers is the store of its timers and punctuation schedules, if it has any.
	Timers *Store
	// KeySerde encodes the input key that timers are registered for.
	KeySerde *Serde
}

// Punctuator is one scheduled function of a processor.
type Punctuator struct {
	Fn         *Func
	IntervalMs int64
	WallClock  bool // wall-clock time rather than stream time
}

// AllStores are the stores of a node: its Store, or a processor's stores and
// then its timer store.
func (n *Node) AllStores() []*Store {
	if n.Join != nil {
		return n.Join.Stores()
	}
	if n.Proc == nil {
		if n.Store == nil {
			return nil
		}
		return []*Store{n.Store}
	}
	if n.Proc.Timers == nil {
		return n.Proc.Stores
	}
	return append(n.Proc.Stores[:len(n.Proc.Stores):len(n.Proc.Stores)], n.Proc.Timers)
}

// describe lists a processor's functions as describe shows them:
// "track, timers sessionEnded, punctuate reportOpen every 10s of wall-clock time".
func (p *Processor) describe(process *Func) string {
	parts := []string{process.Display}
	if p.OnTimer != nil {
		parts = append(parts, "timers "+p.OnTimer.Display)
	}
	for _, pu := range p.Punctuators {
		clock := "stream time"
		if pu.WallClock {
			clock = "wall-clock time"
		}
		parts = append(parts, fmt.Sprintf("punctuate %s every %s of %s", pu.Fn.Display, time.Duration(pu.IntervalMs)*time.Millisecond, clock))
	}
	return strings.Join(parts, ", ")
}
