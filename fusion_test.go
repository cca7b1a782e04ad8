package tfd

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/ops"
	"github.com/tfdgo/tfd/tensor"
)

// TestFusionMatchesUnfusedOnTestdata runs every model in testdata fused
// and unfused (WithoutFusion) on the same inputs, with one and two workers
// and batch slicing, and compares the outputs: bit for bit, except where a
// batch normalization was folded into a convolution's filter (which rounds
// differently; then within 1e-5 relative).
func TestFusionMatchesUnfusedOnTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.pb*"))
	if err != nil {
		t.Fatal(err)
	}
	reg := ops.Default().Clone()
	reg.Register(invertedSoftmax(1))
	for _, file := range files {
		if st, err := os.Stat(file); err != nil || st.IsDir() {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			fused, err := Load(file, WithRegistry(reg))
			if err != nil {
				t.Fatal(err)
			}
			unfused, err := Load(file, WithRegistry(reg), WithoutFusion())
			if err != nil {
				t.Fatal(err)
			}
			var feedNames []string
			for _, in := range fused.Inputs() {
				feedNames = append(feedNames, in.Name)
			}
			sort.Strings(feedNames)
			p, err := fused.Plan(feedNames, fused.Outputs())
			if err != nil {
				t.Fatal(err)
			}
			exact := true
			var fusedNodes []string
			for _, n := range p.Nodes() {
				if len(n.Fused) > 0 {
					fusedNodes = append(fusedNodes, n.Op+"["+strings.Join(n.Fused, ",")+"]")
				}
				for _, name := range n.Fused {
					if gn, ok := fused.graph.Node(name); ok && strings.HasPrefix(gn.Op, "FusedBatchNorm") {
						exact = false
					}
				}
			}
			t.Logf("%d plan nodes; fused: %s", p.NumNodes(), strings.Join(fusedNodes, " "))
			for _, rows := range []int{1, 3, 33} {
				feeds := map[string]*Tensor{}
				for i, in := range fused.Inputs() {
					dims := append([]int(nil), in.Shape.Dims...)
					for j, d := range dims {
						if d < 0 {
							dims[j] = rows
						}
					}
					feeds[in.Name] = testmodels.Input(uint64(7+i), dims[0], dims[1:]...)
				}
				want, err := unfused.RunWith(context.Background(), RunOptions{Workers: 1}, feeds, fused.Outputs()...)
				if err != nil {
					t.Fatal(err)
				}
				for _, ro := range []RunOptions{{Workers: 1}, {Workers: 2}, {Workers: 2, SliceRows: 8}} {
					got, err := fused.RunWith(context.Background(), ro, feeds, fused.Outputs()...)
					if err != nil {
						t.Fatal(err)
					}
					for i := range want {
						if exact {
							if !tensor.Equal(got[i], want[i]) {
								t.Fatalf("rows %d %+v: output %d differs:\n got %v\nwant %v", rows, ro, i, got[i], want[i])
							}
							continue
						}
						g, w := got[i].Float64s(), want[i].Float64s()
						if !got[i].Shape().Equal(want[i].Shape()) {
							t.Fatalf("output %d: shape %v, want %v", i, got[i].Shape(), want[i].Shape())
						}
						for j := range w {
							if math.Abs(g[j]-w[j]) > 1e-5*(1+math.Abs(w[j])) {
								t.Fatalf("rows %d %+v: output %d [%d]: %v, want %v", rows, ro, i, j, g[j], w[j])
							}
						}
					}
				}
			}
		})
	}
}
