package tfd

import (
	"context"
	"fmt"
	"sort"

	"github.com/tfdgo/tfd/sched"
)

// Runner evaluates fixed fetches from fixed feeds of a model, over and
// over, with everything a run needs kept between runs, in the manner of
// ONNX Runtime's IOBinding: feeds are passed by position rather than in a
// map, the memory for intermediate tensors is laid out once per feed shape
// (tensors whose lifetimes do not overlap share memory), and outputs are
// either returned as views valid until the next run or written into
// tensors the caller provides. Once a feed shape has been run twice, runs
// with that shape allocate nothing for kernels that keep their per-call
// state in ops.Slots (all those of the README graph and the CNN:
// TestRunnerSteadyRunsAllocateNothing); other kernels may still make small
// allocations of theirs.
//
// A Runner with more than one worker keeps that many goroutines minus one
// between runs: Close it when done. A Runner is not safe for concurrent
// use; make one per goroutine (Model.Run, which is, draws from an internal
// set of them).
type Runner struct {
	m       *Model
	r       *sched.Runner
	feeds   []string
	fetches []string
	perm    []int // plan feed i is the caller's feed perm[i]
	in      []*Tensor
}

// NewRunner returns a Runner fetching `fetches` from `feeds` (tensor names
// "node" or "node:k"; feeds are then passed to Run in this order). opt
// sets the workers (default: the model's), the batch slicing and a
// profiler for every run.
func (m *Model) NewRunner(feeds, fetches []string, opt RunOptions) (*Runner, error) {
	sorted := append([]string(nil), feeds...)
	sort.Strings(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return nil, fmt.Errorf("tfd: tensor %q fed twice", sorted[i])
		}
	}
	plan, err := m.Plan(sorted, fetches)
	if err != nil {
		return nil, err
	}
	perm := make([]int, len(sorted))
	for i, name := range sorted {
		for j, f := range feeds {
			if f == name {
				perm[i] = j
			}
		}
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = m.opt.Workers
	}
	r := plan.NewRunner(sched.RunnerOptions{Workers: workers, SliceRows: opt.SliceRows, Recorder: opt.Profile})
	return &Runner{m: m, r: r, feeds: append([]string(nil), feeds...), fetches: append([]string(nil), fetches...), perm: perm, in: make([]*Tensor, len(perm))}, nil
}

// Feeds returns the names of the feeds, in the order Run takes them.
func (r *Runner) Feeds() []string { return append([]string(nil), r.feeds...) }

// Fetches returns the names of the fetched tensors, in output order.
func (r *Runner) Fetches() []string { return append([]string(nil), r.fetches...) }

// Run evaluates the fetches given one tensor per feed, in the order of
// Feeds. The outputs belong to the Runner: they are valid until its next
// run or Close and must not be modified; Clone what must outlive them.
func (r *Runner) Run(ctx context.Context, feeds ...*Tensor) ([]*Tensor, error) {
	if err := r.bind(feeds); err != nil {
		return nil, err
	}
	outs, err := r.r.Run(ctx, r.in)
	clear(r.in)
	if err != nil {
		return nil, r.m.wrap(err)
	}
	return outs, nil
}

// RunInto evaluates the fetches into outs, tensors of the fetched dtypes
// and shapes that the caller allocates (and may reuse from run to run),
// which must not share memory with the feeds. Where the Runner's memory
// plan allows, kernels write the outputs there directly. Nothing of the
// run is held by the Runner afterwards.
func (r *Runner) RunInto(ctx context.Context, feeds, outs []*Tensor) error {
	if err := r.bind(feeds); err != nil {
		return err
	}
	err := r.r.RunInto(ctx, r.in, outs)
	clear(r.in)
	if err != nil {
		return r.m.wrap(err)
	}
	return nil
}

// PeakBytes returns the most bytes the last run's tensors held at once:
// what Limits.MaxRunBytes bounds.
func (r *Runner) PeakBytes() int64 { return r.r.PeakBytes() }

// Close stops the Runner's goroutines and releases its last outputs.
func (r *Runner) Close() error { return r.r.Close() }

// bind puts the caller's feeds in the plan's order.
func (r *Runner) bind(feeds []*Tensor) error {
	if len(feeds) != len(r.perm) {
		return fmt.Errorf("tfd: model %q: %d feeds given, the runner takes %d (%v)", r.m.name, len(feeds), len(r.perm), r.feeds)
	}
	for i, j := range r.perm {
		r.in[i] = feeds[j]
	}
	return nil
}
