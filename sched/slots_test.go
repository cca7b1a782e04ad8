package sched

import (
	"context"
	"fmt"
	"testing"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/tensor"
)

// zallocShare makes runs of p on feeds of the given shapes split every
// kernel's Ctx.Parallel between the workers (and slice batches into
// `slices` pieces when at least two per worker), as if runs had measured
// it worth it.
func zallocShare(p *Plan, slices int, feeds ...*tensor.Tensor) {
	m := &memCost{key: memFeedKey(nil, feeds), split: make([]bool, len(p.nodes)), slices: slices, runs: memCostRuns}
	for i := range m.split {
		m.split[i] = true
	}
	p.runners.mu.Lock()
	p.runners.costs = append([]*memCost{m}, p.runners.costs...)
	p.runners.mu.Unlock()
}

// TestRunnerKernelsKeepTheirStatePerNode runs the README graph and the CNN
// with every kernel's work split between two workers (the helpers run the
// jobs kernels hand to ops.ParallelJob), and batch-sliced, through two
// Runners of one plan at once: every run must give the bits of a run on
// one worker, and, once the memory plan is laid out, allocate nothing.
// Each Runner, and each of its batch-slice Runners, keeps its own
// ops.Slots per node; sharing them would mix the runs' jobs and views.
func TestRunnerKernelsKeepTheirStatePerNode(t *testing.T) {
	mlp, _ := testmodels.MLP(1)
	cnn, _ := testmodels.CNN(2)
	cases := []struct {
		name string
		p    *Plan
		x    *tensor.Tensor
	}{
		{"mlp", zallocCompile(t, mlp), testmodels.Input(3, 64, testmodels.MLPIn)},
		{"cnn", zallocCompile(t, cnn), testmodels.Input(4, 32, testmodels.CNNSize, testmodels.CNNSize, 1)},
	}
	for _, c := range cases {
		want, err := c.p.Run(context.Background(), []*tensor.Tensor{c.x}, RunOptions{Workers: 1, SliceRows: -1})
		if err != nil {
			t.Fatal(err)
		}
		for _, slices := range []int{0, 4} {
			t.Run(fmt.Sprintf("%s/slices=%d", c.name, slices), func(t *testing.T) {
				p := c.p
				zallocShare(p, slices, c.x)
				defer func() {
					p.runners.mu.Lock()
					p.runners.costs = nil
					p.runners.mu.Unlock()
				}()
				r1 := p.NewRunner(RunnerOptions{Workers: 2})
				defer r1.Close()
				r2 := p.NewRunner(RunnerOptions{Workers: 2})
				defer r2.Close()
				feeds := []*tensor.Tensor{c.x}
				run := func(r *Runner, what string) {
					outs, err := r.Run(context.Background(), feeds)
					if err != nil {
						t.Fatal(err)
					}
					if !tensor.Equal(outs[0], want[0]) {
						t.Fatalf("%s: output differs from a run on one worker", what)
					}
				}
				done := make(chan struct{})
				go func() {
					defer close(done)
					for i := 0; i < 6; i++ {
						run(r2, fmt.Sprintf("runner 2, run %d", i))
					}
				}()
				for i := 0; i < 6; i++ {
					run(r1, fmt.Sprintf("runner 1, run %d", i))
				}
				<-done
				if zallocRace {
					return // the race detector's runtime allocates
				}
				allocs := -1.0
				for try := 0; try < 5 && allocs != 0; try++ {
					allocs = testing.AllocsPerRun(10, func() { run(r1, "runner 1") })
				}
				if allocs != 0 {
					t.Errorf("%v allocations per run, want 0", allocs)
				}
			})
		}
	}
}

// zallocCompile compiles g from "input" to "output".
func zallocCompile(t *testing.T, g *graph.Graph) *Plan {
	t.Helper()
	p, err := Compile(g, []string{"input"}, []string{"output"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
