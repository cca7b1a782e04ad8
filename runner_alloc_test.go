package tfd

import (
	"context"
	"fmt"
	"testing"

	"github.com/tfdgo/tfd/internal/testmodels"
)

// TestRunnerSteadyRunsAllocateNothing checks the memory plan's promise for
// the README graph and the CNN: once a Runner has laid out the memory for
// a feed shape, its runs allocate nothing at all, the kernels included
// (they keep what they would allocate per call in the Runner's per-node
// ops.Slots). With two workers the runs share work, and a helper that
// takes its first batch slice late lays out its memory then: so each case
// gets a few windows of runs, one of which must allocate nothing; a
// kernel that allocates on every call never gives one.
//
// Under -race the race detector's runtime allocates on the way (its
// shadow state for goroutines and synchronization), so the test is
// skipped there.
func TestRunnerSteadyRunsAllocateNothing(t *testing.T) {
	if zallocRace {
		t.Skip("the race detector allocates in the runtime")
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	cases := []struct {
		file  string
		dims  []int
		rows  []int
		slice int // rows per batch slice, for the sliced runs
	}{
		{file: "testdata/mlp.pb", dims: []int{testmodels.MLPIn}, rows: []int{1, 100}, slice: 25},
		{file: "testdata/cnn.pb", dims: []int{testmodels.CNNSize, testmodels.CNNSize, 1}, rows: []int{1, 32}, slice: 8},
	}
	for _, c := range cases {
		for _, fused := range []bool{true, false} {
			var opts []Option
			if !fused {
				opts = append(opts, WithoutFusion())
			}
			m, err := Load(c.file, opts...)
			if err != nil {
				t.Fatal(err)
			}
			for _, rows := range c.rows {
				x := testmodels.Input(3, rows, c.dims...)
				for _, workers := range []int{1, 2} {
					for _, slice := range []int{0, c.slice} {
						if slice > 0 && (workers == 1 || rows <= slice) {
							continue
						}
						name := fmt.Sprintf("%s/fused=%v/rows=%d/workers=%d/slice=%d", c.file, fused, rows, workers, slice)
						t.Run(name, func(t *testing.T) {
							r, err := m.NewRunner([]string{"input"}, []string{"output"}, RunOptions{Workers: workers, SliceRows: slice})
							if err != nil {
								t.Fatal(err)
							}
							defer r.Close()
							run := func() {
								if _, err := r.Run(context.Background(), x); err != nil {
									t.Fatal(err)
								}
							}
							for range 4 { // the memory plan is laid out on the second run
								run()
							}
							allocs := -1.0
							for try := 0; try < 5 && allocs != 0; try++ {
								allocs = testing.AllocsPerRun(20, run)
							}
							if allocs != 0 {
								t.Errorf("%v allocations per run, want 0", allocs)
							}
						})
					}
				}
			}
		}
	}
}
