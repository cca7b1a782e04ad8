package tfd_test

import (
	"context"
	"fmt"
	"log"
	"math"
	"sort"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/ops"
	"github.com/tfdgo/tfd/tensor"
)

// Load a frozen graph and evaluate a tensor, tfdeploy style.
func Example() {
	m, err := tfd.Load("testdata/mlp.pb")
	if err != nil {
		log.Fatal(err)
	}
	h := m.Get("input", "output")
	x, y := h[0], h[1]
	batch := tfd.FromSlice([]int{2, 784}, make([]float32, 2*784))
	out, err := y.Eval(x.Feed(batch))
	if err != nil {
		log.Fatal(err)
	}
	var sum float32
	for _, p := range out.Float64s()[:100] {
		sum += float32(p)
	}
	fmt.Println(out.DType(), out.Shape(), fmt.Sprintf("row sum %.3f", sum))
	// Output: float32 [2 100] row sum 1.000
}

// Fetch an intermediate tensor and the output in one run, on two workers.
func ExampleModel_RunWith() {
	m, err := tfd.Load("testdata/cnn.pb")
	if err != nil {
		log.Fatal(err)
	}
	x := tfd.FromSlice([]int{3, 28, 28, 1}, make([]float32, 3*28*28))
	outs, err := m.RunWith(context.Background(), tfd.RunOptions{Workers: 2},
		map[string]*tfd.Tensor{"input": x}, "pool1/MaxPool", "output")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(outs[0].Shape(), outs[1].Shape())
	// Output: [3 14 14 8] [3 10]
}

// Profile runs and list how often each op type ran.
func ExampleNewProfiler() {
	m, err := tfd.Load("testdata/towers.pbtxt")
	if err != nil {
		log.Fatal(err)
	}
	prof := tfd.NewProfiler()
	x := tfd.FromSlice([]int{4, 16}, make([]float32, 4*16))
	for i := 0; i < 2; i++ {
		if _, err := m.RunWith(context.Background(), tfd.RunOptions{Profile: prof}, map[string]*tfd.Tensor{"x": x}, "output"); err != nil {
			log.Fatal(err)
		}
	}
	calls := map[string]int64{}
	for _, o := range prof.Ops() {
		calls[o.Op] += o.Calls
	}
	var types []string
	for op := range calls {
		types = append(types, op)
	}
	sort.Strings(types)
	for _, op := range types {
		fmt.Println(op, calls[op])
	}
	// prof.WritePprof(file) writes it for `go tool pprof`.

	// Each tower's MatMul, AddV2 and activation run fused as one
	// _FusedMatMul, and the final Mul and Sub as one element-wise pass
	// (tfd.WithoutFusion() keeps every op separate).

	// Output:
	// ConcatV2 2
	// _FusedMatMul 4
	// _TfdFusedElementwise 2
}

// Combine models with the same inputs and outputs; members run side by side.
func ExampleNewEnsemble() {
	a, err := tfd.Load("testdata/mlp.pb", tfd.WithName("a"))
	if err != nil {
		log.Fatal(err)
	}
	b, err := tfd.Load("testdata/mlp.pb", tfd.WithName("b"), tfd.UseImpl("MatMul", "gonum"))
	if err != nil {
		log.Fatal(err)
	}
	e, err := tfd.NewEnsemble([]*tfd.Model{a, b}, tfd.Mean)
	if err != nil {
		log.Fatal(err)
	}
	x := tfd.FromSlice([]int{1, 784}, make([]float32, 784))
	y, err := e.Tensor("output").Eval(e.Tensor("input").Feed(x))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Name(), y.Shape())
	// Output: a+b [1 100]
}

// Register an op TensorFlow does not have (tfdeploy's InvertedSoftmax) in a
// registry of the model's own, so that other models are not affected.
func Example_customOp() {
	reg := ops.Default().Clone()
	err := reg.Add(ops.Spec{
		Name:  "InvertedSoftmax",
		Doc:   "exp(-a) / sum(exp(-a)) over the last axis",
		Infer: ops.InferSameAsInput(0),
		Build: func(n *ops.Node) (ops.Kernel, error) {
			return ops.KernelFunc(func(ctx *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				x := in[0]
				out, err := ctx.Alloc(x.DType(), x.Shape())
				if err != nil {
					return nil, err
				}
				xs, ys := tensor.As[float32](x), tensor.As[float32](out)
				last := x.Shape()[x.Rank()-1]
				for r := 0; r < len(xs); r += last {
					var sum float32
					for i := r; i < r+last; i++ {
						ys[i] = float32(math.Exp(float64(-xs[i])))
						sum += ys[i]
					}
					for i := r; i < r+last; i++ {
						ys[i] /= sum
					}
				}
				return []*tensor.Tensor{out}, nil
			}), nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	m, err := tfd.Load("testdata/custom.pbtxt", tfd.WithRegistry(reg))
	if err != nil {
		log.Fatal(err)
	}
	y, err := m.Tensor("output").Eval(m.Tensor("x").Feed(tfd.FromSlice([]int{1, 4}, []float32{0, 0, 0, 0})))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(y.Shape())
	// Output: [1 3]
}

// Choose among several implementations of an op, per op or globally.
func ExampleUseImpl() {
	m, err := tfd.Load("testdata/mlp.pb", tfd.UseImpl("MatMul", "gonum"))
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range m.Kernels() {
		if k.Op == "MatMul" {
			fmt.Println(k.Op, k.Impl, k.Available)
		}
	}
	// Output: MatMul gonum [generic gonum]
}

// Evaluate a signature: inputs and outputs by key. SavedModels carry their
// own signatures; a frozen graph gets "serving_default" with its
// placeholders as inputs and its outputs.
func ExampleModel_RunSignature() {
	m, err := tfd.Load("testdata/towers.pbtxt")
	if err != nil {
		log.Fatal(err)
	}
	sig, err := m.Signature("serving_default")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sig.InputKeys(), sig.OutputKeys())
	res, err := m.RunSignature(context.Background(), "serving_default", tfd.RunOptions{},
		map[string]*tfd.Tensor{"x": tfd.FromSlice([]int{2, 16}, make([]float32, 32))})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res["output"].Shape())
	// Output:
	// [x] [output]
	// [2 16]
}
