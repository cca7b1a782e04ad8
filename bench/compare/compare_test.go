package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/tensor"
)

// refConvPool is an independent float64 reference of the Conv2D workload:
// for each image, out[c] = mean over pixels of max(0, b[c] + Σ x·k), where
// the sum runs over the 3×3 window centred on the pixel (SAME padding,
// stride 1: one zero pixel around the image) and the input channels; k is
// HWIO.
func refConvPool(x []float32, n, h, w, cin int, k, b []float32, cout int) []float64 {
	out := make([]float64, n*cout)
	for img := 0; img < n; img++ {
		for co := 0; co < cout; co++ {
			sum := 0.0
			for y := 0; y < h; y++ {
				for xx := 0; xx < w; xx++ {
					acc := float64(b[co])
					for dy := 0; dy < 3; dy++ {
						for dx := 0; dx < 3; dx++ {
							iy, ix := y+dy-1, xx+dx-1
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue
							}
							for ci := 0; ci < cin; ci++ {
								acc += float64(x[((img*h+iy)*w+ix)*cin+ci]) * float64(k[((dy*3+dx)*cin+ci)*cout+co])
							}
						}
					}
					sum += math.Max(acc, 0)
				}
			}
			out[img*cout+co] = sum / float64(h*w)
		}
	}
	return out
}

// TestConvModel runs the Conv2D generator's model, written as a GraphDef
// and loaded back, in tfd and checks it against refConvPool, at a small
// size with two images and at the benchmark's size.
func TestConvModel(t *testing.T) {
	tests := []struct {
		name               string
		n, h, w, cin, cout int
	}{
		{name: "small", n: 2, h: 5, w: 4, cin: 3, cout: 4},
		{name: "one-pixel", n: 1, h: 1, w: 1, cin: 2, cout: 3},
		{name: "benchmark", n: 1, h: convH, w: convW, cin: convCin, cout: convCout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, wt := convModel(convSeed, tc.h, tc.w, tc.cin, tc.cout)
			if len(wt.K) != 9*tc.cin*tc.cout || len(wt.B) != tc.cout {
				t.Fatalf("weights: %d and %d values, want %d and %d", len(wt.K), len(wt.B), 9*tc.cin*tc.cout, tc.cout)
			}
			pb, err := graph.Encode(g)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "conv.pb")
			if err := os.WriteFile(path, pb, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := tfd.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			x := testmodels.Input(convInputSeed, tc.n, tc.h, tc.w, tc.cin)
			want := refConvPool(tensor.As[float32](x), tc.n, tc.h, tc.w, tc.cin, wt.K, wt.B, tc.cout)
			for _, workers := range []int{1, 2} {
				out, err := m.RunWith(context.Background(), tfd.RunOptions{Workers: workers}, map[string]*tfd.Tensor{"input": x}, "output")
				if err != nil {
					t.Fatal(err)
				}
				if got := out[0].Shape(); !slices.Equal(got, tensor.Shape{tc.n, tc.cout}) {
					t.Fatalf("workers %d: output shape %v, want [%d %d]", workers, got, tc.n, tc.cout)
				}
				rel, err := relL2(out[0].Float64s(), want)
				if err != nil {
					t.Fatal(err)
				}
				if rel > 1e-5 {
					t.Errorf("workers %d: rel L2 %.2e from the float64 reference, want ≤ 1e-5\ngot  %v\nwant %v", workers, rel, out[0].Float64s(), want)
				}
			}
		})
	}
}

// TestConvModelWeights checks that the generator is seeded (same seed,
// same weights; other seed, other weights) and keeps the weights in their
// documented ranges.
func TestConvModelWeights(t *testing.T) {
	_, a := convModel(convSeed, 4, 4, 3, 8)
	_, b := convModel(convSeed, 4, 4, 3, 8)
	_, c := convModel(convSeed+1, 4, 4, 3, 8)
	if !slices.Equal(a.K, b.K) || !slices.Equal(a.B, b.B) {
		t.Error("same seed gave different weights")
	}
	if slices.Equal(a.K, c.K) {
		t.Error("different seeds gave the same kernel")
	}
	for _, v := range a.K {
		if v < -0.5 || v >= 0.5 {
			t.Fatalf("kernel value %v outside [-0.5, 0.5)", v)
		}
	}
	for _, v := range a.B {
		if v < -0.1 || v >= 0.1 {
			t.Fatalf("bias value %v outside [-0.1, 0.1)", v)
		}
	}
}

// TestPrepare writes the workloads (without human-models) and checks the
// README graph's extracted weights against the generator of
// testdata/mlp.pb, and the Conv2D model file against the generator.
func TestPrepare(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", "..", "testdata", "mlp.pb")); err != nil {
		t.Skip("testdata/mlp.pb not found")
	}
	work := t.TempDir()
	if err := prepare(prepareOptions{repo: filepath.Join("..", ".."), work: work}); err != nil {
		t.Fatal(err)
	}
	var idx index
	if err := readJSON(filepath.Join(work, "index.json"), &idx); err != nil {
		t.Fatal(err)
	}
	if want := []string{"mlp-b1", "mlp-b100", "mlp-b10000", "conv"}; !slices.Equal(idx.Workloads, want) {
		t.Fatalf("workloads %v, want %v", idx.Workloads, want)
	}
	_, mw := testmodels.MLP(testmodels.SeedMLP)
	for name, want := range map[string][]float32{"W": mw.W, "b": mw.B} {
		got, err := tfd.ReadNPY(filepath.Join(work, "mlp", name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tensor.As[float32](got), want) {
			t.Errorf("mlp %s.npy differs from testmodels.MLP's weights", name)
		}
	}
	var s spec
	if err := readJSON(filepath.Join(work, "mlp-b100", "spec.json"), &s); err != nil {
		t.Fatal(err)
	}
	if s.FLOPs != 2*100*784*100 || s.Inputs[0].Shape[0] != 100 {
		t.Errorf("mlp-b100 spec: flops %v, input shape %v", s.FLOPs, s.Inputs[0].Shape)
	}
	var gj struct{ Nodes []tfdeployNode }
	if err := readJSON(s.Graph, &gj); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, n := range gj.Nodes {
		ops = append(ops, n.Op)
	}
	if want := []string{"Placeholder", "Const", "Const", "MatMul", "Add", "Softmax"}; !slices.Equal(ops, want) {
		t.Errorf("tfdeploy graph ops %v, want %v", ops, want)
	}
	pb, err := os.ReadFile(filepath.Join(work, "conv", "conv.pb"))
	if err != nil {
		t.Fatal(err)
	}
	g, _ := convModel(convSeed, convH, convW, convCin, convCout)
	want, err := graph.Encode(g)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pb, want) {
		t.Error("conv.pb differs from the generator's encoding")
	}
}

func TestWriteTFDeployGraphUnknownOp(t *testing.T) {
	g, _ := convModel(1, 2, 2, 1, 1)
	err := writeTFDeployGraph(g, nil, filepath.Join(t.TempDir(), "g.json"))
	if err == nil {
		t.Fatal("no error for Conv2D, which the evaluator lacks")
	}
}

func TestRelL2(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name      string
		got, want []float64
		rel       float64
	}{
		// ‖(0, 0.3, 0.4)‖ / ‖(1, 0, 0)‖ = 0.5.
		{name: "plain", got: []float64{1, 0.3, 0.4}, want: []float64{1, 0, 0}, rel: 0.5},
		{name: "equal", got: []float64{1, 2}, want: []float64{1, 2}, rel: 0},
		// want all zero: the absolute norm, ‖(3, 4)‖ = 5.
		{name: "zero want", got: []float64{3, 4}, want: []float64{0, 0}, rel: 5},
		{name: "empty", got: nil, want: nil, rel: 0},
		{name: "nan both", got: []float64{nan, 1}, want: []float64{nan, 1}, rel: 0},
		{name: "inf both", got: []float64{inf, 1}, want: []float64{inf, 1}, rel: 0},
		{name: "nan one", got: []float64{nan, 1}, want: []float64{0, 1}, rel: inf},
		{name: "inf sign", got: []float64{-inf}, want: []float64{inf}, rel: inf},
	}
	for _, tc := range tests {
		rel, err := relL2(tc.got, tc.want)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if math.Abs(rel-tc.rel) > 1e-12 && !(math.IsInf(rel, 1) && math.IsInf(tc.rel, 1)) {
			t.Errorf("%s: rel %v, want %v", tc.name, rel, tc.rel)
		}
	}
	if _, err := relL2([]float64{1}, []float64{1, 2}); err == nil {
		t.Error("no error for different lengths")
	}
}

func TestMedianAndFormat(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v, want 2", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %v, want 2.5", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
	for _, tc := range []struct {
		ms   float64
		want string
	}{
		{0.0123, "12.3 µs"}, {0.5, "500 µs"}, {1.234, "1.23 ms"}, {21.91, "21.9 ms"}, {1500, "1.50 s"}, {math.NaN(), "—"},
	} {
		if got := fmtMS(tc.ms); got != tc.want {
			t.Errorf("fmtMS(%v) = %q, want %q", tc.ms, got, tc.want)
		}
	}
}

func TestRoundPeers(t *testing.T) {
	peers := []string{peerTFD, peerNumPy, peerORT, peerWasm, peerCPU}
	pr := probe{WasmThreads: 1}
	tests := []struct {
		name string
		th   int
		skip map[string]bool
		rot  int
		want []string
	}{
		{name: "one thread", th: 1, want: peers},
		{name: "rotated", th: 1, rot: 2, want: []string{peerORT, peerWasm, peerCPU, peerTFD, peerNumPy}},
		// Single-threaded peers run at the first thread count only.
		{name: "two threads", th: 2, want: []string{peerTFD, peerNumPy, peerORT}},
		{name: "skip", th: 1, skip: map[string]bool{peerORT: true, peerCPU: true}, want: []string{peerTFD, peerNumPy, peerWasm}},
	}
	for _, tc := range tests {
		if got := roundPeers(peers, tc.th, 1, tc.skip, pr, tc.rot); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := roundPeers(peers, 2, 1, nil, probe{WasmThreads: 2}, 0); !slices.Contains(got, peerWasm) {
		t.Errorf("multi-threaded wasm not run at 2 threads: %v", got)
	}
}
