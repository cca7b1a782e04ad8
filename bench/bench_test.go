package bench

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/internal/testmodels"
)

// fusion=false compiles the models without fusing nodes
// (tfd.WithoutFusion), to compare with the default fused plans.
var fusion = flag.Bool("fusion", true, "fuse products with their epilogues and element-wise chains")

// loadOptions are the options every benchmark loads its models with.
func loadOptions() []tfd.Option {
	if *fusion {
		return nil
	}
	return []tfd.Option{tfd.WithoutFusion()}
}

// Shared benchmark shapes.
var (
	mlpBatches = []int{1, 100, 10000}
	cnnBatches = []int{1, 64}
	workerSet  = []int{1, 2}
)

type benchModel struct {
	name, file, feed string
	dims             []int
	batches          []int
}

var models = []benchModel{
	{"mlp", "mlp.pb", "input", []int{testmodels.MLPIn}, mlpBatches},
	{"cnn", "cnn.pb", "input", []int{testmodels.CNNSize, testmodels.CNNSize, 1}, cnnBatches},
}

// BenchmarkModel runs the generated models end to end through the public
// API: model=…/batch=…/workers=…, reporting rows/s besides ns/op and
// allocs/op.
func BenchmarkModel(b *testing.B) {
	for _, bm := range models {
		m, err := tfd.Load(filepath.Join("..", "testdata", bm.file), loadOptions()...)
		if err != nil {
			b.Fatal(err)
		}
		for _, batch := range bm.batches {
			x := testmodels.Input(7, batch, bm.dims...)
			feeds := map[string]*tfd.Tensor{bm.feed: x}
			for _, w := range workerSet {
				b.Run(fmt.Sprintf("model=%s/batch=%d/workers=%d", bm.name, batch, w), func(b *testing.B) {
					opt := tfd.RunOptions{Workers: w}
					if _, err := m.RunWith(context.Background(), opt, feeds, "output"); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if _, err := m.RunWith(context.Background(), opt, feeds, "output"); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				})
			}
		}
	}
}

// BenchmarkModelRunner is BenchmarkModel through a tfd.Runner, created
// once, whose outputs are views valid until its next run: what a caller
// scoring batch after batch in one goroutine uses.
func BenchmarkModelRunner(b *testing.B) {
	for _, bm := range models {
		m, err := tfd.Load(filepath.Join("..", "testdata", bm.file))
		if err != nil {
			b.Fatal(err)
		}
		for _, batch := range bm.batches {
			x := testmodels.Input(7, batch, bm.dims...)
			for _, w := range workerSet {
				b.Run(fmt.Sprintf("model=%s/batch=%d/workers=%d", bm.name, batch, w), func(b *testing.B) {
					r, err := m.NewRunner([]string{bm.feed}, []string{"output"}, tfd.RunOptions{Workers: w})
					if err != nil {
						b.Fatal(err)
					}
					defer r.Close()
					ctx := context.Background()
					for range 3 { // the memory plan is laid out on the second run
						if _, err := r.Run(ctx, x); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if _, err := r.Run(ctx, x); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				})
			}
		}
	}
}

// BenchmarkProfilerOverhead measures the cost of recording a profile
// against the same run without one.
func BenchmarkProfilerOverhead(b *testing.B) {
	m, err := tfd.Load(filepath.Join("..", "testdata", "cnn.pb"))
	if err != nil {
		b.Fatal(err)
	}
	x := testmodels.Input(7, 1, testmodels.CNNSize, testmodels.CNNSize, 1)
	feeds := map[string]*tfd.Tensor{"input": x}
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("profile=%v", on), func(b *testing.B) {
			opt := tfd.RunOptions{Workers: 1}
			if on {
				opt.Profile = tfd.NewProfiler()
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := m.RunWith(context.Background(), opt, feeds, "output"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
