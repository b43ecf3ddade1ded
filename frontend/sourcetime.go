package frontend

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"
	"time"

	"github.com/gofka/streams/ir"
)

// A source's time options: Stream and Table take their serdes as
// streams.With(k, v), optionally followed by .WithTimestamp(extractor) and
// .WithWatermark(maxOutOfOrderness, idleTimeout). They end up on the source node
// (ir.Node.Fns[0] and ir.Node.Watermark).

// sourceSerdes reads the serdes of a source (Stream or Table) written in place:
// streams.With(keySerde, valueSerde), optionally followed by
// .WithTimestamp(extractor) and .WithWatermark(maxOutOfOrderness, idleTimeout)
// in either order. It checks the extractor's signature against the serdes'
// types and the watermark's durations.
func (e *evaluator) sourceSerdes(opName string, x ast.Expr) (key, val *ir.Serde, src sourceTime, ok bool) {
	var extractorArg ast.Expr
	ok = true
	for {
		call, isCall := ast.Unparen(x).(*ast.CallExpr)
		if !isCall {
			break
		}
		name, _ := e.callee(call)
		if name != "Serdes.WithTimestamp" && name != "Serdes.WithWatermark" {
			break
		}
		x = call.Fun.(*ast.SelectorExpr).X
		if name == "Serdes.WithTimestamp" {
			extractorArg = call.Args[0]
			continue
		}
		src.watermark = e.watermark(opName, call)
		ok = ok && src.watermark != nil
	}
	key, val, sok := e.withSerdes(x)
	if !sok || extractorArg == nil {
		return key, val, src, ok && sok
	}
	what := opName + " WithTimestamp"
	f, sig := e.userFunc(what, extractorArg)
	if f == nil {
		return key, val, src, false
	}
	if !e.params(sig, key.Type, val.Type) || sig.Results().Len() != 1 || !isTimeTime(sig.Results().At(0).Type()) {
		e.wrongSig(what, f, fmt.Sprintf("func(%s, %s) time.Time", e.typeString(key.Type), e.typeString(val.Type)))
		return key, val, src, false
	}
	src.extractor = f
	return key, val, src, ok
}

// sourceTime is what a source says about its records' time.
type sourceTime struct {
	extractor *ir.Func      // WithTimestamp's, or nil: the Kafka record's timestamp
	watermark *ir.Watermark // WithWatermark's, or nil: windows close by stream time
}

// set puts the source's time options on n.
func (st sourceTime) set(n *ir.Node) {
	if st.extractor != nil {
		n.Fns = []*ir.Func{st.extractor}
	}
	n.Watermark = st.watermark
}

// watermark reads a WithWatermark(maxOutOfOrderness, idleTimeout) call: both
// constant durations, neither negative.
func (e *evaluator) watermark(opName string, call *ast.CallExpr) *ir.Watermark {
	var ds [2]time.Duration
	good := true
	for i, what := range []string{"maximum out-of-orderness", "idle timeout"} {
		d, ok := e.constDuration(call.Args[i])
		switch {
		case !ok:
			e.errorf(call.Args[i].Pos(), "%s WithWatermark: the %s must be a constant duration, such as 5*time.Second", opName, what)
			good = false
		case d < 0:
			e.errorf(call.Args[i].Pos(), "%s WithWatermark: the %s is %v; it must not be negative", opName, what, d)
			good = false
		}
		ds[i] = d
	}
	if !good {
		return nil
	}
	return &ir.Watermark{MaxOutOfOrderness: ds[0], IdleTimeout: ds[1]}
}

// constDuration reads a constant expression of type time.Duration (or an
// untyped constant), such as time.Minute or 5*time.Second.
func (e *evaluator) constDuration(x ast.Expr) (time.Duration, bool) {
	tv := e.Info.Types[x]
	if tv.Value == nil || tv.Value.Kind() != constant.Int {
		return 0, false
	}
	v, exact := constant.Int64Val(tv.Value)
	return time.Duration(v), exact
}

// isTimeTime reports whether t is time.Time.
func isTimeTime(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && n.Obj().Name() == "Time"
}
