package tfd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/tensor"
)

// TestCommittedModels checks that testdata/ holds exactly what the
// generator writes, so the files and the references cannot drift apart.
func TestCommittedModels(t *testing.T) {
	files, err := testmodels.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join("testdata", f.Name))
		if err != nil {
			t.Fatalf("%v (run: go run ./testdata/gen)", err)
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("testdata/%s differs from the generator's output (run: go run ./testdata/gen)", f.Name)
		}
	}
}

type refCase struct {
	model, input, feed string
	ref                func(x []float32, rows int) []float64
}

var refCases = []refCase{
	{"mlp.pb", "mlp_input.npy", "input", func(x []float32, rows int) []float64 {
		_, w := testmodels.MLP(testmodels.SeedMLP)
		return refMLP(x, rows, w)
	}},
	{"cnn.pb", "cnn_input.npy", "input", func(x []float32, rows int) []float64 {
		_, w := testmodels.CNN(testmodels.SeedCNN)
		return refCNN(x, rows, w)
	}},
	{"towers.pbtxt", "towers_input.npy", "x", func(x []float32, rows int) []float64 {
		_, w := testmodels.Towers(testmodels.SeedTowers)
		return refTowers(x, rows, w)
	}},
}

// TestModelsMatchReference runs the generated models and compares them with
// the float64 references, for several worker counts and batch slicings,
// and checks that every configuration gives bit-identical results.
func TestModelsMatchReference(t *testing.T) {
	for _, c := range refCases {
		t.Run(c.model, func(t *testing.T) {
			m, err := Load(filepath.Join("testdata", c.model))
			if err != nil {
				t.Fatal(err)
			}
			x, err := ReadNPY(filepath.Join("testdata", c.input))
			if err != nil {
				t.Fatal(err)
			}
			rows := x.Shape()[0]
			want := c.ref(tensor.As[float32](x), rows)
			var first *Tensor
			for _, cfg := range []RunOptions{{Workers: 1}, {Workers: 2}, {Workers: 4}, {Workers: 2, SliceRows: 10}, {Workers: 3, SliceRows: -1}} {
				outs, err := m.RunWith(context.Background(), cfg, map[string]*Tensor{c.feed: x}, "output")
				if err != nil {
					t.Fatal(err)
				}
				got := outs[0]
				if e := relL2(tensor.As[float32](got), want); e > 1e-5 {
					t.Errorf("%+v: relative L2 error %.3g > 1e-5", cfg, e)
				}
				if first == nil {
					first = got
				} else if !tensor.Equal(first, got) {
					t.Errorf("%+v: result differs bitwise from workers=1", cfg)
				}
			}
		})
	}
}

func TestHandlesAndIntermediates(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "mlp.pb"))
	if err != nil {
		t.Fatal(err)
	}
	hs := m.Get("input", "output", "add:0")
	x, y, logits := hs[0], hs[1], hs[2]
	batch := testmodels.Input(5, 3, testmodels.MLPIn)
	out, err := y.Eval(x.Feed(batch))
	if err != nil {
		t.Fatal(err)
	}
	_, w := testmodels.MLP(testmodels.SeedMLP)
	if e := relL2(tensor.As[float32](out), refMLP(tensor.As[float32](batch), 3, w)); e > 1e-5 {
		t.Errorf("output error %g", e)
	}
	// The intermediate logits, softmaxed by the reference, match too.
	lg, err := logits.Eval(x.Feed(batch))
	if err != nil {
		t.Fatal(err)
	}
	if !lg.Shape().Equal(tensor.Shape{3, testmodels.MLPOut}) {
		t.Fatalf("logits shape %v", lg.Shape())
	}
	sm := lg.Float64s()
	for r := 0; r < 3; r++ {
		softmax64(sm[r*100 : (r+1)*100])
	}
	if e := relL2(tensor.As[float32](out), sm); e > 1e-5 {
		t.Errorf("softmax of fetched logits differs: %g", e)
	}
	// Feeding an intermediate tensor skips everything before it.
	fed, err := y.Eval(Feed{Name: "add", Value: lg})
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.Equal(fed, out) {
		t.Error("feeding the logits gave a different output")
	}
	if got := m.Inputs(); len(got) != 1 || got[0].Name != "input" || got[0].DType != tensor.Float32 || got[0].Shape.String() != "[? 784]" {
		t.Errorf("inputs %+v", got)
	}
	if got := m.Outputs(); len(got) != 1 || got[0] != "output" {
		t.Errorf("outputs %v", got)
	}
}

func TestRunErrorsNameTheTensor(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "mlp.pb"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		feeds   map[string]*Tensor
		fetches []string
		want    string
	}{
		{map[string]*Tensor{"input": FromSlice([]int{2, 3}, make([]float32, 6))}, []string{"output"}, `feed "input": shape [2 3] does not match the placeholder's shape [? 784]`},
		{map[string]*Tensor{"input": FromSlice([]int{1, 784}, make([]float64, 784))}, []string{"output"}, `feed "input": dtype float64, expected float32`},
		{nil, []string{"output"}, `node "input" (Placeholder): placeholder must be fed`},
		{map[string]*Tensor{"input": FromSlice([]int{1, 784}, make([]float32, 784))}, []string{"nope"}, `fetch "nope": no node "nope"`},
		{map[string]*Tensor{"input": FromSlice([]int{1, 784}, make([]float32, 784))}, []string{"output:1"}, `node "output" has no output 1`},
	}
	for _, c := range cases {
		_, err := m.Run(context.Background(), c.feeds, c.fetches...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v\nwant it to contain %q", err, c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "tfd: "+filepath.Join("testdata", "mlp.pb")+": ") {
			t.Errorf("error does not name the model: %v", err)
		}
	}
}

func TestLoadRejectsUnknownOps(t *testing.T) {
	nodes := []*graph.Node{
		{Name: "x", Op: "Placeholder", Attrs: tensor.Attrs{"dtype": tensor.Float32}},
		{Name: "a", Op: "FrobnicateV7", Inputs: []graph.Input{{Node: "x"}}},
		{Name: "b", Op: "Quux", Inputs: []graph.Input{{Node: "a"}}},
		{Name: "c", Op: "FrobnicateV7", Inputs: []graph.Input{{Node: "b"}}},
	}
	g, err := graph.New(nodes)
	if err != nil {
		t.Fatal(err)
	}
	_, err = FromGraph(g, Options{Name: "weird"})
	if !errors.Is(err, ErrUnsupportedOp) {
		t.Fatalf("err = %v", err)
	}
	want := `tfd: model "weird": 2 unsupported op types: FrobnicateV7 (2 nodes, e.g. "a"), Quux (1 node, e.g. "b")`
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
}

func TestConcurrentUseOfOneModel(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "cnn.pb"))
	if err != nil {
		t.Fatal(err)
	}
	_, w := testmodels.CNN(testmodels.SeedCNN)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			x := testmodels.Input(uint64(100+g), 1+g%3, 28, 28, 1)
			outs, err := m.RunWith(context.Background(), RunOptions{Workers: 1 + g%2}, map[string]*Tensor{"input": x}, "output")
			if err != nil {
				errs <- err
				return
			}
			if e := relL2(tensor.As[float32](outs[0]), refCNN(tensor.As[float32](x), x.Shape()[0], w)); e > 1e-5 {
				errs <- fmt.Errorf("goroutine %d: error %g", g, e)
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestTwoModelsSideBySide(t *testing.T) {
	a, err := Load(filepath.Join("testdata", "mlp.pb"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(filepath.Join("testdata", "towers.pbtxt"), Options{Name: "towers"})
	if err != nil {
		t.Fatal(err)
	}
	// Both graphs have a node named "output"; each model resolves its own.
	ya, err := a.Tensor("output").Eval(Feed{"input", testmodels.Input(1, 2, 784)})
	if err != nil {
		t.Fatal(err)
	}
	yb, err := b.Tensor("output").Eval(Feed{"x", testmodels.Input(1, 2, 16)})
	if err != nil {
		t.Fatal(err)
	}
	if !ya.Shape().Equal(tensor.Shape{2, 100}) || !yb.Shape().Equal(tensor.Shape{2, 16}) {
		t.Errorf("shapes %v %v", ya.Shape(), yb.Shape())
	}
}

func TestProfileRecordsEveryOp(t *testing.T) {
	// Unfused, so that every op of the graph runs as its own kernel.
	m, err := Load(filepath.Join("testdata", "cnn.pb"), WithoutFusion())
	if err != nil {
		t.Fatal(err)
	}
	prof := NewProfiler()
	x := testmodels.Input(3, 4, 28, 28, 1)
	for i := 0; i < 3; i++ {
		if _, err := m.RunWith(context.Background(), RunOptions{Workers: 2, Profile: prof, SliceRows: -1}, map[string]*Tensor{"input": x}, "output"); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int64{}
	for _, n := range prof.Nodes() {
		seen[n.Op] += n.Calls
		if n.Model != "cnn" {
			t.Errorf("node %s has model %q", n.Node, n.Model)
		}
	}
	for _, op := range []string{"Conv2D", "BiasAdd", "Relu", "MaxPool", "FusedBatchNormV3", "Relu6", "DepthwiseConv2dNative", "AvgPool", "Reshape", "MatMul", "Softmax"} {
		if seen[op] == 0 {
			t.Errorf("no calls of %s recorded (have %v)", op, seen)
		}
	}
	if seen["Conv2D"] != 6 {
		t.Errorf("Conv2D calls = %d, want 6 (2 nodes × 3 runs)", seen["Conv2D"])
	}
	var buf bytes.Buffer
	if err := prof.WritePprof(&buf); err != nil || buf.Len() == 0 {
		t.Errorf("pprof: %v, %d bytes", err, buf.Len())
	}
}
