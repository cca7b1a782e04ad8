package sched

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/ops"
	"github.com/tfdgo/tfd/tensor"
)

// The scheduler is tested against a private registry of tiny float32 ops,
// so that these tests do not depend on the real kernels.

type testReg struct {
	*ops.Registry
	mu        sync.Mutex
	seenRows  []int // leading dims seen by "Scale"
	maxActive atomic.Int32
	active    atomic.Int32
}

func f32Value(n *ops.Node) ([]ops.Value, error) {
	if len(n.Inputs) == 0 {
		return []ops.Value{{DType: tensor.Float32, Shape: tensor.UnknownShape()}}, nil
	}
	return []ops.Value{{DType: tensor.Float32, Shape: n.Inputs[0].Shape}}, nil
}

func newTestReg() *testReg {
	tr := &testReg{Registry: ops.NewRegistry()}
	r := tr.Registry
	r.Register(ops.Spec{Name: "Const", Doc: "constant",
		Infer: func(n *ops.Node) ([]ops.Value, error) {
			t, _, err := n.Attrs.Tensor("value")
			if err != nil {
				return nil, err
			}
			return []ops.Value{{DType: t.DType(), Shape: tensor.Known(t.Shape()), Const: t}}, nil
		},
		Build: func(n *ops.Node) (ops.Kernel, error) {
			t, _, _ := n.Attrs.Tensor("value")
			return ops.KernelFunc(func(ctx *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				v, err := t.View(t.Shape())
				return []*tensor.Tensor{v}, err
			}), nil
		}})
	r.Register(ops.Spec{Name: "Placeholder", Doc: "fed input",
		Infer: func(n *ops.Node) ([]ops.Value, error) {
			dt, _, _ := n.Attrs.Type("dtype")
			sh, ok, _ := n.Attrs.Shape("shape")
			if !ok {
				sh = tensor.UnknownShape()
			}
			return []ops.Value{{DType: dt, Shape: sh}}, nil
		},
		Build: func(n *ops.Node) (ops.Kernel, error) {
			return ops.KernelFunc(func(*ops.Ctx, []*tensor.Tensor) ([]*tensor.Tensor, error) {
				return nil, fmt.Errorf("placeholder must be fed")
			}), nil
		}})
	// Scale multiplies by a constant attr k and adds the row index times
	// 1000 of nothing: a row-independent op, batch-sliceable.
	r.Register(ops.Spec{Name: "Scale", Doc: "x*k", Infer: f32Value,
		Build: func(n *ops.Node) (ops.Kernel, error) {
			k, _, _ := n.Attrs.Float("k")
			return ops.KernelFunc(func(ctx *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				a := tr.active.Add(1)
				for {
					m := tr.maxActive.Load()
					if a <= m || tr.maxActive.CompareAndSwap(m, a) {
						break
					}
				}
				defer tr.active.Add(-1)
				if d, _, _ := n.Attrs.Int("sleep_us"); d > 0 {
					time.Sleep(time.Duration(d) * time.Microsecond)
				}
				if in[0].Rank() > 0 {
					tr.mu.Lock()
					tr.seenRows = append(tr.seenRows, in[0].Shape()[0])
					tr.mu.Unlock()
				}
				out, err := ctx.Alloc(tensor.Float32, in[0].Shape())
				if err != nil {
					return nil, err
				}
				o := tensor.As[float32](out)
				for i, v := range tensor.As[float32](in[0]) {
					o[i] = v * k
				}
				return []*tensor.Tensor{out}, nil
			}), nil
		},
		Batch: ops.BatchFirstOnly})
	r.Register(ops.Spec{Name: "Add", Doc: "a+b", Infer: f32Value,
		Build: func(n *ops.Node) (ops.Kernel, error) {
			return ops.KernelFunc(func(ctx *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				if !in[0].Shape().Equal(in[1].Shape()) {
					return nil, fmt.Errorf("%w: %v vs %v", ops.ErrShape, in[0].Shape(), in[1].Shape())
				}
				out, err := ctx.Alloc(tensor.Float32, in[0].Shape())
				if err != nil {
					return nil, err
				}
				a, b, o := tensor.As[float32](in[0]), tensor.As[float32](in[1]), tensor.As[float32](out)
				for i := range o {
					o[i] = a[i] + b[i]
				}
				return []*tensor.Tensor{out}, nil
			}), nil
		},
		Batch: ops.BatchElementwise})
	// SumAll reduces everything: it mixes rows, so it has no batch rule.
	r.Register(ops.Spec{Name: "SumAll", Doc: "sum of all elements",
		Infer: func(n *ops.Node) ([]ops.Value, error) {
			return []ops.Value{{DType: tensor.Float32, Shape: tensor.Known(tensor.Shape{})}}, nil
		},
		Build: func(n *ops.Node) (ops.Kernel, error) {
			return ops.KernelFunc(func(ctx *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				var s float32
				for _, v := range tensor.As[float32](in[0]) {
					s += v
				}
				return []*tensor.Tensor{tensor.Scalar(s)}, nil
			}), nil
		}})
	r.Register(ops.Spec{Name: "Panic", Doc: "panics", Infer: f32Value,
		Build: func(n *ops.Node) (ops.Kernel, error) {
			return ops.KernelFunc(func(ctx *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				var s []int
				_ = s[len(in)+3]
				return nil, nil
			}), nil
		}})
	r.Register(ops.Spec{Name: "Block", Doc: "waits for cancellation", Infer: f32Value,
		Build: func(n *ops.Node) (ops.Kernel, error) {
			return ops.KernelFunc(func(ctx *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				<-ctx.Context.Done()
				return nil, ctx.Context.Err()
			}), nil
		}})
	r.Register(ops.Spec{Name: "Echo", Doc: "returns its input pointer (a contract violation)", Infer: f32Value,
		Build: func(n *ops.Node) (ops.Kernel, error) {
			return ops.KernelFunc(func(ctx *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				return []*tensor.Tensor{in[0]}, nil
			}), nil
		}, Batch: ops.BatchPassThrough})
	return tr
}

// gb builds graphs for tests.
type gb struct{ nodes []*graph.Node }

func (b *gb) node(name, op string, attrs tensor.Attrs, inputs ...string) *gb {
	n := &graph.Node{Name: name, Op: op, Attrs: attrs}
	for _, in := range inputs {
		node, idx, ctl, err := graph.ParseTensorName(in)
		if err != nil {
			panic(err)
		}
		if ctl {
			n.ControlInputs = append(n.ControlInputs, node)
		} else {
			n.Inputs = append(n.Inputs, graph.Input{Node: node, Index: idx})
		}
	}
	b.nodes = append(b.nodes, n)
	return b
}

func (b *gb) ph(name string, dims ...int) *gb {
	return b.node(name, "Placeholder", tensor.Attrs{"dtype": tensor.Float32, "shape": tensor.PartialShape{Dims: dims}})
}

func (b *gb) graph(t *testing.T) *graph.Graph {
	t.Helper()
	g, err := graph.New(b.nodes)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func scale(k float32) tensor.Attrs { return tensor.Attrs{"k": k} }

func seq(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i) + 0.25
	}
	return v
}

// wide is x → 8 independent Scale branches → a chain of Adds.
func wide(t *testing.T, sleepUS int64) *graph.Graph {
	b := &gb{}
	b.ph("x", -1, 3)
	prev := ""
	for i := 0; i < 8; i++ {
		a := tensor.Attrs{"k": float32(i + 1), "sleep_us": sleepUS}
		name := fmt.Sprintf("s%d", i)
		b.node(name, "Scale", a, "x")
		if prev == "" {
			prev = name
			continue
		}
		sum := fmt.Sprintf("sum%d", i)
		b.node(sum, "Add", nil, prev, name)
		prev = sum
	}
	b.node("out", "Scale", scale(0.5), prev)
	return b.graph(t)
}

func TestRunMatchesReference(t *testing.T) {
	tr := newTestReg()
	g := wide(t, 0)
	p, err := Compile(g, []string{"x"}, []string{"out"}, Options{Registry: tr.Registry})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.FromSlice(tensor.Shape{40, 3}, seq(120))
	for _, workers := range []int{1, 2, 4} {
		for _, slice := range []int{-1, 0, 8, 13} {
			outs, err := p.Run(context.Background(), []*tensor.Tensor{x}, RunOptions{Workers: workers, SliceRows: slice})
			if err != nil {
				t.Fatal(err)
			}
			got := tensor.As[float32](outs[0])
			for i, v := range tensor.As[float32](x) {
				// out = 0.5 * sum_{k=1..8} k*x = 18 x (exact in float32 for these values)
				if want := 18 * v; got[i] != want {
					t.Fatalf("workers=%d slice=%d: out[%d] = %v, want %v", workers, slice, i, got[i], want)
				}
			}
			if !outs[0].Shape().Equal(tensor.Shape{40, 3}) {
				t.Fatalf("shape %v", outs[0].Shape())
			}
		}
	}
}

func TestParallelRunsIndependentNodesConcurrently(t *testing.T) {
	tr := newTestReg()
	g := wide(t, 2000)
	p, err := Compile(g, []string{"x"}, []string{"out"}, Options{Registry: tr.Registry})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.FromSlice(tensor.Shape{2, 3}, seq(6))
	// The first runs measure the nodes on one worker, the next two are
	// the first of concurrent runs' memory plan (they run in order); the
	// runs after them share the branches.
	for range memCostRuns + 3 {
		tr.maxActive.Store(0)
		if _, err := p.Run(context.Background(), []*tensor.Tensor{x}, RunOptions{Workers: 4, SliceRows: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if m := tr.maxActive.Load(); m < 2 {
		t.Errorf("at most %d kernels ran at once with 4 workers and 8 independent branches", m)
	}
	tr.maxActive.Store(0)
	if _, err := p.Run(context.Background(), []*tensor.Tensor{x}, RunOptions{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	if m := tr.maxActive.Load(); m != 1 {
		t.Errorf("%d kernels ran at once with 1 worker", m)
	}
}

func TestBatchSlicing(t *testing.T) {
	tr := newTestReg()
	b := &gb{}
	b.ph("x", -1, 2).node("a", "Scale", scale(2), "x").node("y", "Scale", scale(3), "a")
	p, err := Compile(b.graph(t), []string{"x"}, []string{"y"}, Options{Registry: tr.Registry})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Sliceable() {
		t.Fatal("a chain of row-wise ops should be sliceable")
	}
	x := tensor.FromSlice(tensor.Shape{100, 2}, seq(200))
	outs, err := p.Run(context.Background(), []*tensor.Tensor{x}, RunOptions{Workers: 2, SliceRows: 30})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]int{30: 6, 10: 2} // rows seen → count (two ops per slice)
	got := map[int]int{}
	for _, r := range tr.seenRows {
		got[r]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("slices seen %v, want %v", got, want)
	}
	for i, v := range tensor.As[float32](outs[0]) {
		if w := 6 * tensor.As[float32](x)[i]; v != w {
			t.Fatalf("y[%d] = %v, want %v", i, v, w)
		}
	}

	// A row-mixing op on the path makes the plan unsliceable.
	b2 := &gb{}
	b2.ph("x", -1, 2).node("a", "Scale", scale(2), "x").node("s", "SumAll", nil, "a")
	p2, err := Compile(b2.graph(t), []string{"x"}, []string{"s"}, Options{Registry: tr.Registry})
	if err != nil {
		t.Fatal(err)
	}
	if p2.Sliceable() {
		t.Fatal("SumAll mixes rows: plan must not be sliceable")
	}
	outs, err = p2.Run(context.Background(), []*tensor.Tensor{x}, RunOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var want2 float32
	for _, v := range tensor.As[float32](x) {
		want2 += 2 * v
	}
	if got := tensor.As[float32](outs[0])[0]; got != want2 {
		t.Errorf("sum = %v, want %v", got, want2)
	}

	// A placeholder with a fixed leading dimension is not a batch.
	b3 := &gb{}
	b3.ph("x", 100, 2).node("y", "Scale", scale(2), "x")
	p3, _ := Compile(b3.graph(t), []string{"x"}, []string{"y"}, Options{Registry: tr.Registry})
	if p3.Sliceable() {
		t.Error("fixed leading dimension must not be sliced")
	}
}

func TestPruneIgnoresUnreachableUnknownOps(t *testing.T) {
	tr := newTestReg()
	b := &gb{}
	b.ph("x", -1).node("y", "Scale", scale(2), "x").node("junk", "FancyTrainingOp", nil, "x")
	if _, err := Compile(b.graph(t), []string{"x"}, []string{"y"}, Options{Registry: tr.Registry}); err != nil {
		t.Fatalf("unreachable unknown op broke compile: %v", err)
	}
}

func TestUnsupportedListsEveryType(t *testing.T) {
	tr := newTestReg()
	b := &gb{}
	b.ph("x", -1).node("a", "Zeta", nil, "x").node("b", "Alpha", nil, "a").node("c", "Zeta", nil, "b")
	_, err := Compile(b.graph(t), []string{"x"}, []string{"c"}, Options{Registry: tr.Registry, Model: "m"})
	if !errors.Is(err, ops.ErrUnsupportedOp) {
		t.Fatalf("err = %v, want ErrUnsupportedOp", err)
	}
	want := `model "m": 2 unsupported op types: Alpha (1 node, e.g. "b"), Zeta (2 nodes, e.g. "a")`
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
}

func TestCompileErrors(t *testing.T) {
	tr := newTestReg()
	cases := []struct {
		name    string
		build   func(b *gb)
		feeds   []string
		fetches []string
		want    string
	}{
		{"cycle", func(b *gb) {
			b.ph("x", -1).node("a", "Add", nil, "x", "c").node("c", "Scale", scale(1), "a")
		}, []string{"x"}, []string{"c"}, "graph has a cycle: c -> a -> c"},
		{"missing input", func(b *gb) { b.node("a", "Scale", scale(1), "nope") }, nil, []string{"a"}, `input "nope": no such node`},
		{"bad output index", func(b *gb) { b.ph("x", -1).node("s", "Scale", scale(1), "x").node("a", "Scale", scale(1), "s:3") }, []string{"x"}, []string{"a"}, `node "s" has no output 3`},
		{"unfed placeholder", func(b *gb) { b.ph("x", -1).node("a", "Scale", scale(1), "x") }, nil, []string{"a"}, `placeholder must be fed`},
		{"unknown fetch", func(b *gb) { b.ph("x", -1) }, []string{"x"}, []string{"y"}, `fetch "y": no node "y"`},
		{"unknown feed", func(b *gb) { b.ph("x", -1) }, []string{"z"}, []string{"x"}, `feed "z": no node "z"`},
		{"control input", func(b *gb) { b.ph("x", -1) }, []string{"x"}, []string{"^x"}, `names a control input`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := &gb{}
			c.build(b)
			_, err := Compile(b.graph(t), c.feeds, c.fetches, Options{Registry: tr.Registry})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestFeedChecks(t *testing.T) {
	tr := newTestReg()
	b := &gb{}
	b.ph("x", -1, 3).node("y", "Scale", scale(1), "x")
	p, err := Compile(b.graph(t), []string{"x"}, []string{"y"}, Options{Registry: tr.Registry})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		feed *tensor.Tensor
		want string
	}{
		{tensor.FromSlice(tensor.Shape{2, 4}, make([]float32, 8)), `feed "x": shape [2 4] does not match the placeholder's shape [? 3]`},
		{tensor.FromSlice(tensor.Shape{2, 3}, make([]float64, 6)), `feed "x": dtype float64, expected float32`},
		{tensor.FromSlice(tensor.Shape{3}, make([]float32, 3)), `shape [3] does not match`},
	}
	for _, c := range cases {
		_, err := p.Run(context.Background(), []*tensor.Tensor{c.feed}, RunOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
	if _, err := p.Run(context.Background(), nil, RunOptions{}); err == nil {
		t.Error("missing feed accepted")
	}
}

func TestKernelPanicBecomesError(t *testing.T) {
	tr := newTestReg()
	b := &gb{}
	b.ph("x", -1).node("boom", "Panic", nil, "x")
	p, err := Compile(b.graph(t), []string{"x"}, []string{"boom"}, Options{Registry: tr.Registry, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{1, 3} {
		_, err = p.Run(context.Background(), []*tensor.Tensor{tensor.FromSlice(tensor.Shape{1}, []float32{1})}, RunOptions{Workers: w})
		var ne *NodeError
		if !errors.As(err, &ne) || ne.Node != "boom" || !strings.Contains(err.Error(), "kernel panic: runtime error: index out of range") {
			t.Fatalf("workers=%d: err = %v", w, err)
		}
		if !strings.HasPrefix(err.Error(), `model "m": node "boom" (Panic): kernel panic`) {
			t.Errorf("message %q", err)
		}
	}
}

func TestCancel(t *testing.T) {
	tr := newTestReg()
	b := &gb{}
	b.ph("x", -1).node("a", "Block", nil, "x").node("b", "Scale", scale(1), "x").node("c", "Add", nil, "a", "b")
	p, err := Compile(b.graph(t), []string{"x"}, []string{"c"}, Options{Registry: tr.Registry})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{1, 2} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := p.Run(ctx, []*tensor.Tensor{tensor.FromSlice(tensor.Shape{1}, []float32{1})}, RunOptions{Workers: w})
		cancel()
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("workers=%d: err = %v, want deadline exceeded", w, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Run(ctx, []*tensor.Tensor{tensor.FromSlice(tensor.Shape{1}, []float32{1})}, RunOptions{})
	if !errors.Is(err, ErrCanceled) || !strings.Contains(err.Error(), "canceled while evaluating") {
		t.Fatalf("err = %v, want ErrCanceled naming the node", err)
	}
}

func TestConstantFolding(t *testing.T) {
	tr := newTestReg()
	c := tensor.FromSlice(tensor.Shape{2}, []float32{1, 2})
	b := &gb{}
	b.ph("x", 2).
		node("c", "Const", tensor.Attrs{"value": c}).
		node("c2", "Scale", scale(10), "c").
		node("y", "Add", nil, "x", "c2")
	p, err := Compile(b.graph(t), []string{"x"}, []string{"y", "c2"}, Options{Registry: tr.Registry})
	if err != nil {
		t.Fatal(err)
	}
	if p.NumNodes() != 1 || p.NumFolded() != 2 {
		t.Errorf("nodes %d folded %d, want 1 and 2", p.NumNodes(), p.NumFolded())
	}
	outs, err := p.Run(context.Background(), []*tensor.Tensor{tensor.FromSlice(tensor.Shape{2}, []float32{5, 6})}, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := tensor.As[float32](outs[0]); got[0] != 15 || got[1] != 26 {
		t.Errorf("y = %v", got)
	}
	// Fetched constants are copies: changing them must not change the plan.
	tensor.As[float32](outs[1])[0] = 99
	outs, _ = p.Run(context.Background(), []*tensor.Tensor{tensor.FromSlice(tensor.Shape{2}, []float32{5, 6})}, RunOptions{})
	if got := tensor.As[float32](outs[1]); got[0] != 10 {
		t.Errorf("constant changed through a fetched copy: %v", got)
	}
}

func TestEchoKernelDoesNotDoubleRelease(t *testing.T) {
	tr := newTestReg()
	b := &gb{}
	b.ph("x", -1).node("a", "Scale", scale(2), "x").node("e", "Echo", nil, "a").node("y", "Scale", scale(1), "e")
	p, err := Compile(b.graph(t), []string{"x"}, []string{"y"}, Options{Registry: tr.Registry})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.FromSlice(tensor.Shape{100}, seq(100))
	for i := 0; i < 3; i++ {
		if _, err := p.Run(context.Background(), []*tensor.Tensor{x}, RunOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSteadyStateReusesBuffers(t *testing.T) {
	tr := newTestReg()
	g := wide(t, 0)
	p, err := Compile(g, []string{"x"}, []string{"out"}, Options{Registry: tr.Registry})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.FromSlice(tensor.Shape{64, 3}, seq(192))
	run := func() {
		if _, err := p.Run(context.Background(), []*tensor.Tensor{x}, RunOptions{Workers: 1}); err != nil {
			t.Fatal(err)
		}
	}
	run()
	st := p.PoolStats()
	misses := st.Misses.Load()
	for i := 0; i < 20; i++ {
		run()
	}
	// Each run hands one fetched buffer to the caller, which the pool must
	// replace; every other buffer is recycled.
	if grown := st.Misses.Load() - misses; grown > 20+2 {
		t.Errorf("pool missed %d times in 20 steady-state runs", grown)
	}
}

func TestConcurrentRuns(t *testing.T) {
	tr := newTestReg()
	g := wide(t, 0)
	p, err := Compile(g, []string{"x"}, []string{"out"}, Options{Registry: tr.Registry})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rows := 10 + i
			x := tensor.FromSlice(tensor.Shape{rows, 3}, seq(rows*3))
			outs, err := p.Run(context.Background(), []*tensor.Tensor{x}, RunOptions{Workers: 1 + i%3})
			if err != nil {
				errs <- err
				return
			}
			for j, v := range tensor.As[float32](outs[0]) {
				if v != 18*tensor.As[float32](x)[j] {
					errs <- fmt.Errorf("run %d: wrong value at %d", i, j)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestControlEdgeFromFedPlaceholder(t *testing.T) {
	tr := newTestReg()
	b := &gb{}
	b.ph("x", -1).node("y", "Scale", scale(2), "x", "^x")
	p, err := Compile(b.graph(t), []string{"x"}, []string{"y"}, Options{Registry: tr.Registry})
	if err != nil {
		t.Fatalf("a control edge from a fed placeholder must be satisfied by the feed: %v", err)
	}
	outs, err := p.Run(context.Background(), []*tensor.Tensor{tensor.FromSlice(tensor.Shape{1}, []float32{3})}, RunOptions{})
	if err != nil || tensor.As[float32](outs[0])[0] != 6 {
		t.Fatalf("got %v, %v", outs, err)
	}
}
