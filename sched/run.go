package sched

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/tfdgo/tfd/ops"
	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
	"github.com/tfdgo/tfd/tracing"
)

// RunOptions configures one Run.
type RunOptions struct {
	// Workers is the number of goroutines the run may use (≤ 1: one).
	Workers int
	// Recorder, when non-nil, receives one event per kernel call.
	Recorder *tracing.Recorder
	// SliceRows is the number of rows per batch slice when the plan is
	// sliceable; 0 picks a few slices per worker once runs of that batch
	// shape on one worker have shown the work long enough to share
	// (runner.go), negative disables slicing.
	SliceRows int
}

// minSliceRows is the smallest batch slice worth a goroutine of its own.
const minSliceRows = 8

// Feeds returns the plan's feeds in the order Run expects them.
func (p *Plan) Feeds() []Feed { return append([]Feed(nil), p.feeds...) }

// Fetches returns the fetched tensor names in output order.
func (p *Plan) Fetches() []string { return append([]string(nil), p.fetchNames...) }

// FetchInfo returns what is statically known of each fetched tensor.
func (p *Plan) FetchInfo() []ops.Value { return append([]ops.Value(nil), p.fetchInfo...) }

// Width returns the largest number of plan nodes on one topological level:
// how many could ever run at once.
func (p *Plan) Width() int { return p.width }

// Sliceable reports whether batches may run in row slices.
func (p *Plan) Sliceable() bool { return p.sliceable }

// NumNodes returns the number of nodes that run (after pruning and folding).
func (p *Plan) NumNodes() int { return len(p.nodes) }

// NumFolded returns the number of nodes folded into constants at compile time.
func (p *Plan) NumFolded() int { return p.folded }

// Nodes describes the compiled nodes in topological order.
func (p *Plan) Nodes() []NodeInfo {
	out := make([]NodeInfo, len(p.nodes))
	for i, n := range p.nodes {
		out[i] = NodeInfo{Name: n.name, Op: n.op, Impl: n.impl, Inputs: append([]string(nil), n.inNames...), Fused: append([]string(nil), n.fused...)}
	}
	return out
}

// PoolStats returns the counters of the pool the plan's runs draw from.
func (p *Plan) PoolStats() *pool.Stats { return p.pool.Stats() }

// Run evaluates the plan. feeds are given in the order of Feeds(); the
// outputs come in the order of the fetches and belong to the caller. Each
// call draws a Runner from the plan's idle ones (see NewRunner), so that
// repeated runs reuse their memory plan.
func (p *Plan) Run(ctx context.Context, feeds []*tensor.Tensor, opt RunOptions) ([]*tensor.Tensor, error) {
	if err := p.checkFeeds(feeds); err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	workers := max(opt.Workers, 1)
	if p.dyn != nil {
		return p.runDynamic(ctx, feeds, workers, opt.Recorder)
	}
	r := p.takeRunner(workers)
	r.sliceRows, r.rec = opt.SliceRows, opt.Recorder
	outs, err := r.top(ctx, feeds, memLeave, nil)
	p.giveRunner(r)
	return outs, err
}

// handOver detaches outputs from the pool and copies constants so that
// the caller may keep and modify them.
func (p *Plan) handOver(outs []*tensor.Tensor) []*tensor.Tensor {
	for i, t := range outs {
		if p.consts[p.fetches[i]] != nil {
			outs[i] = t.Clone()
		} else {
			outs[i] = t.Detach()
		}
	}
	return outs
}

func (p *Plan) checkFeeds(feeds []*tensor.Tensor) error {
	if len(feeds) != len(p.feeds) {
		return fmt.Errorf("sched: %d feeds given, the plan expects %d", len(feeds), len(p.feeds))
	}
	for i, t := range feeds {
		fd := p.feeds[i]
		if t == nil {
			return fmt.Errorf("sched: feed %q is nil", fd.Name)
		}
		if fd.DType != tensor.Invalid && t.DType() != fd.DType {
			return fmt.Errorf("sched: feed %q: dtype %s, expected %s", fd.Name, t.DType(), fd.DType)
		}
		if !fd.Shape.Matches(t.Shape()) {
			return fmt.Errorf("sched: feed %q: shape %v does not match the placeholder's shape %v", fd.Name, t.Shape(), fd.Shape)
		}
	}
	return nil
}

// sliceRows returns the common batch size of the batched feeds.
func (p *Plan) sliceRows(feeds []*tensor.Tensor) (int, bool) {
	if !p.sliceable {
		return 0, false
	}
	rows := -1
	for i, fd := range p.feeds {
		if !fd.Batched {
			continue
		}
		r := feeds[i].Shape()[0]
		if rows >= 0 && r != rows {
			return 0, false
		}
		rows = r
	}
	return rows, rows >= 2*minSliceRows
}

// resourcesFor returns the resource store of a run: the enclosing run's
// when this run evaluates a function body for it (so that TensorLists and
// TensorArrays flow into loop bodies), else a fresh one for a plan whose
// ops may need one (any stateful op), linked to the model's state
// (Options.State), else nil.
func (p *Plan) resourcesFor(ctx context.Context) *ops.Resources {
	if n := nestOf(ctx); n != nil && n.res != nil {
		return n.res
	}
	if !p.stateful {
		return nil
	}
	res := ops.NewResources()
	res.SetModel(p.copt.State)
	return res
}

func isFeed(p *Plan, v int32) bool {
	for _, f := range p.feedVals {
		if f == v {
			return true
		}
	}
	return false
}

func (p *Plan) canceled(i int, err error) error {
	n := &p.nodes[i]
	return &NodeError{Model: p.model, Node: n.name, Op: n.op, Err: fmt.Errorf("%w while evaluating: %w", ErrCanceled, err)}
}

// checkOutputs verifies the kernel's contract: the right number of outputs
// of the inferred dtypes, none of them an input tensor itself.
func (p *Plan) checkOutputs(n *pnode, in, outs []*tensor.Tensor) error {
	if len(outs) != len(n.out) {
		return &NodeError{Model: p.model, Node: n.name, Op: n.op, Err: fmt.Errorf("kernel returned %d outputs, expected %d", len(outs), len(n.out))}
	}
	for j, t := range outs {
		if t == nil {
			return &NodeError{Model: p.model, Node: n.name, Op: n.op, Err: fmt.Errorf("kernel returned no tensor for output %d", j)}
		}
		if want := n.outTypes[j]; want != tensor.Invalid && t.DType() != want {
			return &NodeError{Model: p.model, Node: n.name, Op: n.op, Err: fmt.Errorf("kernel returned %s for output %d, expected %s", t.DType(), j, want)}
		}
		for _, x := range in {
			if x == t {
				// Aliasing the input pointer would break release counting.
				v, err := t.View(t.Shape())
				if err != nil {
					return err
				}
				outs[j] = v
			}
		}
	}
	return nil
}

// safeRun calls a kernel, turning a panic into an error carrying the stack.
func safeRun(k ops.Kernel, ctx *ops.Ctx, in []*tensor.Tensor) (outs []*tensor.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			outs = nil
			err = fmt.Errorf("kernel panic: %v\n%s", r, debug.Stack())
		}
	}()
	return k.Run(ctx, in)
}

// parallelFor splits [0, n) into at most `workers` chunks of at least grain
// items, running each on a goroutine when a token is free and inline
// otherwise.
func parallelFor(tokens chan struct{}, workers, n, grain int, fn func(lo, hi int)) {
	chunks := min(workers, (n+grain-1)/grain)
	if chunks <= 1 {
		fn(0, n)
		return
	}
	size := (n + chunks - 1) / chunks
	var wg sync.WaitGroup
	var panicked atomic.Value
	for lo := size; lo < n; lo += size {
		hi := min(lo+size, n)
		select {
		case tokens <- struct{}{}:
			wg.Add(1)
			go func(lo, hi int) {
				defer func() {
					if r := recover(); r != nil {
						panicked.Store(fmt.Sprintf("%v\n%s", r, debug.Stack()))
					}
					<-tokens
					wg.Done()
				}()
				fn(lo, hi)
			}(lo, hi)
		default:
			fn(lo, hi)
		}
	}
	fn(0, min(size, n))
	wg.Wait()
	if r := panicked.Load(); r != nil {
		// Re-raised on the kernel's goroutine, where safeRun recovers it.
		panic(r)
	}
}
