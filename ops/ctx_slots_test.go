package ops

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
)

// Tests of what a kernel keeps from call to call in Ctx.Slots (ctx.go):
// Out, Keep, ParallelJob and View, and of the kernels that use them.

// zallocCall is one kernel call as a scheduler makes it: Begin, then the
// kernel on a Ctx holding the node's Slots.
func zallocCall(t *testing.T, k Kernel, ctx *Ctx, in []*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	if ctx.Slots != nil {
		ctx.Slots.Begin()
	}
	out, err := k.Run(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// zallocSyncPar splits [0, n) into two chunks run one after the other: a
// Par that starts no goroutine, for allocation counts.
func zallocSyncPar(n, grain int, fn func(lo, hi int)) {
	fn(0, n/2)
	fn(n/2, n)
}

func TestCtxOutHandsTheNodeSliceOutOncePerCall(t *testing.T) {
	x, y, z := tensor.Scalar[float32](1), tensor.Scalar[float32](2), tensor.Scalar[float32](3)
	s := &Slots{}
	ctx := &Ctx{Slots: s}
	s.Begin()
	a := ctx.Out(x)
	b := ctx.Out(y, z) // a second Out of the same call (a fused kernel's own)
	if a[0] != x || len(a) != 1 || b[0] != y || b[1] != z {
		t.Fatalf("Out gave %v and %v", a, b)
	}
	if &a[0] == &b[0] {
		t.Fatal("two Outs of one call share their slice")
	}
	s.Begin()
	c := ctx.Out(z)
	if &c[0] != &a[0] || c[0] != z {
		t.Error("the next call's first Out does not reuse the node's slice")
	}
	if cap(c) != len(c) {
		t.Errorf("Out's slice has spare capacity %d: an append would write into the node's", cap(c)-len(c))
	}
	plain := &Ctx{}
	if p, q := plain.Out(x), plain.Out(x); &p[0] == &q[0] {
		t.Error("Out without Slots reuses a slice")
	}
	if allocs := testing.AllocsPerRun(100, func() { s.Begin(); ctx.Out(x) }); allocs != 0 {
		t.Errorf("Out with Slots: %v allocations per call, want 0", allocs)
	}
}

// zallocPair and zallocOther are types of variables kept with Keep.
type zallocPair struct{ a, b int }

type zallocOther struct{ s []int }

func TestKeepGivesEachUseItsOwnVariableAndKeepsThem(t *testing.T) {
	s := &Slots{}
	ctx := &Ctx{Slots: s}
	s.Begin()
	p1, p2 := Keep[zallocPair](ctx), Keep[zallocPair](ctx)
	o1 := Keep[zallocOther](ctx)
	if p1 == p2 {
		t.Fatal("two Keeps of one call returned the same variable")
	}
	p1.a, p2.a, o1.s = 1, 2, []int{7}
	s.Begin()
	o2 := Keep[zallocOther](ctx) // another order of types
	q1, q2 := Keep[zallocPair](ctx), Keep[zallocPair](ctx)
	if o2 != o1 || len(o2.s) != 1 {
		t.Error("Keep of the next call did not return the kept variable as left")
	}
	if !(q1 == p1 && q2 == p2 || q1 == p2 && q2 == p1) {
		t.Error("Keep of the next call did not return the kept variables")
	}
	if q3 := Keep[zallocPair](ctx); q3 == p1 || q3 == p2 {
		t.Error("a third Keep returned a variable in use")
	}
	if a, b := Keep[zallocPair](&Ctx{}), Keep[zallocPair](&Ctx{}); a == b || *a != (zallocPair{}) {
		t.Error("Keep without Slots does not return a new zero variable")
	}
	if allocs := testing.AllocsPerRun(100, func() { s.Begin(); Keep[zallocPair](ctx); Keep[zallocOther](ctx) }); allocs != 0 {
		t.Errorf("Keep with Slots: %v allocations per call, want 0", allocs)
	}
}

// zallocSumJob adds j.add to dst[lo:hi] and counts the elements it saw.
type zallocSumJob struct {
	dst  []int
	add  int
	seen *atomic.Int64
}

func (j *zallocSumJob) Chunk(lo, hi int) {
	for i := lo; i < hi; i++ {
		j.dst[i] += j.add
	}
	j.seen.Add(int64(hi - lo))
}

func TestParallelJobCoversTheRangeOnceAndAllocatesNothing(t *testing.T) {
	var seen atomic.Int64
	for _, tc := range []struct {
		name  string
		par   func(n, grain int, fn func(lo, hi int))
		slots bool
	}{
		{name: "inline", slots: true},
		{name: "goroutines", par: nnTestPar, slots: true},
		{name: "goroutines/no slots", par: nnTestPar},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := &Ctx{Par: tc.par}
			if tc.slots {
				ctx.Slots = &Slots{}
			}
			dst := make([]int, 1000)
			for call := 1; call <= 3; call++ {
				seen.Store(0)
				if ctx.Slots != nil {
					ctx.Slots.Begin()
				}
				ParallelJob(ctx, len(dst), 64, zallocSumJob{dst: dst, add: call, seen: &seen})
				if seen.Load() != int64(len(dst)) {
					t.Fatalf("call %d: chunks covered %d elements, want %d", call, seen.Load(), len(dst))
				}
			}
			for i, v := range dst {
				if v != 1+2+3 {
					t.Fatalf("dst[%d] = %d, want 6", i, v)
				}
			}
		})
	}
	// A job nested in another's chunk (a kernel calling a helper that
	// splits) gets a variable of its own.
	s := &Slots{}
	ctx := &Ctx{Par: nnTestPar, Slots: s}
	s.Begin()
	outer := make([]int, 8)
	ParallelJob(ctx, len(outer), 1, zallocNestJob{ctx: ctx, dst: outer})
	for i, v := range outer {
		if v != 10 {
			t.Fatalf("nested jobs: outer[%d] = %d, want 10", i, v)
		}
	}
	sync := &Ctx{Par: zallocSyncPar, Slots: &Slots{}}
	dst := make([]int, 1000)
	allocs := testing.AllocsPerRun(100, func() {
		sync.Slots.Begin()
		ParallelJob(sync, len(dst), 64, zallocSumJob{dst: dst, add: 1, seen: &seen})
	})
	if allocs != 0 {
		t.Errorf("ParallelJob with Slots: %v allocations per call, want 0", allocs)
	}
}

// zallocNestJob runs, for each of its elements, a job of its own over 10
// items, on a Ctx that shares the node's Slots but runs inline.
type zallocNestJob struct {
	ctx *Ctx
	dst []int
}

func (j *zallocNestJob) Chunk(lo, hi int) {
	inner := *j.ctx
	inner.Par = nil
	var seen atomic.Int64
	for i := lo; i < hi; i++ {
		ones := make([]int, 10)
		ParallelJob(&inner, len(ones), 1, zallocSumJob{dst: ones, add: 1, seen: &seen})
		for _, v := range ones {
			j.dst[i] += v
		}
	}
}

func TestCtxViewKeepsOneHeaderPerNode(t *testing.T) {
	p := pool.New()
	x, err := p.Get(tensor.Float32, tensor.Shape{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	s := &Slots{}
	ctx := &Ctx{Slots: s}
	s.Begin()
	v1, err := ctx.View(x, tensor.Shape{3, 2})
	if err != nil {
		t.Fatal(err)
	}
	if !v1.Shape().Equal(tensor.Shape{3, 2}) || !pool.SameStorage(v1.Data(), x.Data()) || !v1.Pooled() {
		t.Fatalf("view %v%v is not a pooled view of x", v1.DType(), v1.Shape())
	}
	// The node's next call while the view is still held (a caller kept
	// it): a header of its own.
	s.Begin()
	v2, err := ctx.View(x, tensor.Shape{6})
	if err != nil {
		t.Fatal(err)
	}
	if v2 == v1 || !v1.Shape().Equal(tensor.Shape{3, 2}) {
		t.Fatal("View overwrote a header still in use")
	}
	v1.Release()
	v2.Release()
	s.Begin()
	v3, err := ctx.View(x, tensor.Shape{1, 6})
	if err != nil {
		t.Fatal(err)
	}
	if v3 != v1 {
		t.Error("View did not reuse the node's released header")
	}
	if _, err := ctx.View(x, tensor.Shape{4}); err == nil {
		t.Error("View to 4 elements of 6 succeeded")
	}
	v3.Release()
	// Views keep their storage alive until released, as Tensor.View's do.
	x.Release()
	if st := p.Stats(); st.Outstanding.Load() != 0 {
		t.Errorf("%d pooled buffers outstanding after releasing x and its views", st.Outstanding.Load())
	}
	// Scalars keep the shape [], not nil.
	y, _ := p.Get(tensor.Float32, tensor.Shape{1})
	s.Begin()
	if v, err := ctx.View(y, tensor.Shape{}); err != nil || v.Shape() == nil || v.Rank() != 0 {
		t.Errorf("scalar view: %v, shape %#v", err, v.Shape())
	}
	// A view of an unpooled tensor (a feed, a constant) may be kept by
	// anyone: never the node's header.
	c := tensor.FromSlice(tensor.Shape{2}, []float32{1, 2})
	s.Begin()
	u1, _ := ctx.View(c, tensor.Shape{1, 2})
	s.Begin()
	u2, _ := ctx.View(c, tensor.Shape{2, 1})
	if u1 == u2 || !u1.Shape().Equal(tensor.Shape{1, 2}) {
		t.Error("views of an unpooled tensor share a header")
	}
}

// zallocKernel builds op from the default registry with attrs for the
// given inputs (known shapes, no constants).
func zallocKernel(t *testing.T, op string, attrs tensor.Attrs, in ...*tensor.Tensor) Kernel {
	t.Helper()
	spec, ok := Default().Lookup(op)
	if !ok {
		t.Fatalf("op %s is not registered", op)
	}
	k, err := spec.Build(nnNode(op, attrs, in, false))
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return k
}

// TestFusedKernelsSeeTheirInnerOutputs runs kernels that call other
// kernels' Run on their own Ctx, whose inner kernels return their outputs
// with Out: the slice an inner call returned must survive the next inner
// call. A kernelChain releases each intermediate
// after the next kernel has read it; if the second Out reused the first's
// slice, it would release the wrong tensor and return a released one.
func TestFusedKernelsSeeTheirInnerOutputs(t *testing.T) {
	x := tensor.FromSlice(tensor.Shape{2, 3}, []float32{1, -2, 3, 0.5, -1, 2})
	soft := zallocKernel(t, "Softmax", tensor.Attrs{"T": tensor.Float32}, x)
	relu := zallocKernel(t, "Relu", tensor.Attrs{"T": tensor.Float32}, x)
	neg := zallocKernel(t, "Neg", tensor.Attrs{"T": tensor.Float32}, x)
	chain := kernelChain{neg, relu, soft}
	pair := KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		a, err := soft.Run(ctx, in)
		if err != nil {
			return nil, err
		}
		b, err := relu.Run(ctx, in)
		if err != nil {
			return nil, err
		}
		return ctx.Out(a[0], b[0]), nil
	})
	for _, k := range []struct {
		name string
		k    Kernel
	}{{"chain", chain}, {"pair", pair}} {
		t.Run(k.name, func(t *testing.T) {
			want := zallocCall(t, k.k, &Ctx{}, []*tensor.Tensor{x})
			p := pool.New()
			ctx := &Ctx{Pool: p, Par: nnTestPar, Slots: &Slots{}}
			for call := 0; call < 3; call++ {
				got := zallocCall(t, k.k, ctx, []*tensor.Tensor{x})
				if len(got) != len(want) {
					t.Fatalf("call %d: %d outputs, want %d", call, len(got), len(want))
				}
				for i := range got {
					if !got[i].Pooled() {
						t.Fatalf("call %d: output %d was released by the kernel", call, i)
					}
					if !tensor.Equal(got[i], want[i]) {
						t.Fatalf("call %d: output %d is %v, want %v", call, i, got[i], want[i])
					}
				}
				for _, o := range got {
					o.Release()
				}
			}
			if n := p.Stats().Outstanding.Load(); n != 0 {
				t.Errorf("%d pooled buffers outstanding", n)
			}
		})
	}
}

// TestKernelsGiveTheSameBitsWithSlots runs kernels that keep their state
// in Slots (and those that call them) with a plain Ctx and, call after
// call, with one holding Slots that splits work on goroutines, and
// compares the bits.
func TestKernelsGiveTheSameBitsWithSlots(t *testing.T) {
	f32 := func(seed int, shape ...int) *tensor.Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((i*7+seed*13)%23)/11 - 1
		}
		return tensor.FromSlice(tensor.Shape(shape), v)
	}
	i32 := func(v ...int32) *tensor.Tensor { return tensor.FromSlice(tensor.Shape{len(v)}, v) }
	conv := tensor.Attrs{"T": tensor.Float32, "strides": []int64{1, 1, 1, 1}, "padding": "SAME", "data_format": "NHWC", "dilations": []int64{1, 1, 1, 1}}
	pool3 := tensor.Attrs{"T": tensor.Float32, "ksize": []int64{1, 3, 3, 1}, "strides": []int64{1, 2, 2, 1}, "padding": "SAME", "data_format": "NHWC"}
	cases := []struct {
		op    string
		attrs tensor.Attrs
		in    []*tensor.Tensor
	}{
		{op: "Softmax", attrs: tensor.Attrs{"T": tensor.Float32}, in: []*tensor.Tensor{f32(1, 300, 70)}},
		{op: "MatMul", attrs: tensor.Attrs{"T": tensor.Float32}, in: []*tensor.Tensor{f32(1, 200, 100), f32(2, 100, 70)}},
		{op: "MatMul", attrs: tensor.Attrs{"T": tensor.Float32}, in: []*tensor.Tensor{f32(1, 2, 40), f32(2, 40, 30)}},
		{op: "_FusedMatMul", attrs: tensor.Attrs{"T": tensor.Float32, "fused_ops": []string{"BiasAdd", "Relu"}, "num_args": int64(1)}, in: []*tensor.Tensor{f32(1, 70, 40), f32(2, 40, 30), f32(3, 30)}},
		{op: "_FusedMatMul", attrs: tensor.Attrs{"T": tensor.Float32, "fused_ops": []string{"BiasAdd", "Tanh"}, "num_args": int64(1)}, in: []*tensor.Tensor{f32(1, 70, 40), f32(2, 40, 30), f32(3, 30)}},
		{op: "Conv2D", attrs: conv, in: []*tensor.Tensor{f32(1, 2, 24, 24, 3), f32(2, 3, 3, 3, 16)}},
		{op: "Conv2D", attrs: conv, in: []*tensor.Tensor{f32(1, 2, 24, 24, 8), f32(2, 1, 1, 8, 16)}},
		{op: "Conv2D", attrs: map[string]any{"T": tensor.Float32, "strides": []int64{1, 1, 1, 1}, "padding": "SAME", "data_format": "NCHW", "dilations": []int64{1, 1, 1, 1}}, in: []*tensor.Tensor{f32(1, 2, 3, 12, 12), f32(2, 3, 3, 3, 8)}},
		{op: "_FusedConv2D", attrs: tensor.Attrs{"T": tensor.Float32, "strides": []int64{1, 1, 1, 1}, "padding": "SAME", "data_format": "NHWC", "dilations": []int64{1, 1, 1, 1}, "fused_ops": []string{"BiasAdd", "Relu6"}, "num_args": int64(1)}, in: []*tensor.Tensor{f32(1, 2, 12, 12, 3), f32(2, 3, 3, 3, 8), f32(3, 8)}},
		{op: "_FusedConv2D", attrs: tensor.Attrs{"T": tensor.Float32, "strides": []int64{1, 1, 1, 1}, "padding": "SAME", "data_format": "NHWC", "dilations": []int64{1, 1, 1, 1}, "fused_ops": []string{"BiasAdd", "Elu"}, "num_args": int64(1)}, in: []*tensor.Tensor{f32(1, 2, 12, 12, 3), f32(2, 3, 3, 3, 8), f32(3, 8)}},
		{op: "DepthwiseConv2dNative", attrs: conv, in: []*tensor.Tensor{f32(1, 2, 12, 12, 8), f32(2, 3, 3, 8, 1)}},
		{op: "MaxPool", attrs: pool3, in: []*tensor.Tensor{f32(1, 2, 13, 13, 8)}},
		{op: "AvgPool", attrs: pool3, in: []*tensor.Tensor{f32(1, 2, 13, 13, 8)}},
		{op: "AvgPool", attrs: tensor.Attrs{"T": tensor.Float32, "ksize": []int64{1, 9, 9, 1}, "strides": []int64{1, 1, 1, 1}, "padding": "VALID", "data_format": "NHWC"}, in: []*tensor.Tensor{f32(1, 2, 13, 13, 8)}},
		{op: "Reshape", attrs: tensor.Attrs{"T": tensor.Float32}, in: []*tensor.Tensor{f32(1, 4, 6), i32(-1, 3)}},
		{op: "Squeeze", attrs: tensor.Attrs{"T": tensor.Float32, "squeeze_dims": []int64{1}}, in: []*tensor.Tensor{f32(1, 4, 1, 6)}},
		{op: "ExpandDims", attrs: tensor.Attrs{"T": tensor.Float32}, in: []*tensor.Tensor{f32(1, 4, 6), i32(1)}},
		{op: "Identity", attrs: tensor.Attrs{"T": tensor.Float32}, in: []*tensor.Tensor{f32(1, 4, 6)}},
		{op: "AddV2", attrs: tensor.Attrs{"T": tensor.Float32}, in: []*tensor.Tensor{f32(1, 300, 70), f32(2, 300, 70)}},
		{op: "AddV2", attrs: tensor.Attrs{"T": tensor.Float32}, in: []*tensor.Tensor{f32(1, 300, 70), f32(2, 70)}},
		{op: "Mul", attrs: tensor.Attrs{"T": tensor.Float32}, in: []*tensor.Tensor{f32(1, 1), f32(2, 300, 70)}},
		{op: "Sub", attrs: tensor.Attrs{"T": tensor.Float32}, in: []*tensor.Tensor{f32(1, 30, 1, 70), f32(2, 30, 20, 1)}},
		{op: "Maximum", attrs: tensor.Attrs{"T": tensor.Float32}, in: []*tensor.Tensor{f32(1, 4, 30, 700), f32(2, 30, 1)}},
		{op: "Relu", attrs: tensor.Attrs{"T": tensor.Float32}, in: []*tensor.Tensor{f32(1, 300, 70)}},
		{op: "_TfdFusedElementwise", attrs: tensor.Attrs{"T": tensor.Float32, "steps": []tensor.Func{{Name: "Mul"}, {Name: "AddV2"}, {Name: "Relu"}}, "operands": []int64{-1, 1, -1, 2, -1, -2}},
			in: []*tensor.Tensor{f32(1, 1000, 32), tensor.Scalar[float32](1.5), f32(2, 32)}},
		// Operands that are not periodic: the steps run as their own
		// kernels on the fused kernel's Ctx (runSteps).
		{op: "_TfdFusedElementwise", attrs: tensor.Attrs{"T": tensor.Float32, "steps": []tensor.Func{{Name: "AddV2"}, {Name: "Neg"}}, "operands": []int64{-1, 1, -1, -2}},
			in: []*tensor.Tensor{f32(1, 700, 32), f32(2, 700, 1)}},
		{op: "BiasAdd", attrs: tensor.Attrs{"T": tensor.Float32, "data_format": "NHWC"}, in: []*tensor.Tensor{f32(1, 300, 70), f32(2, 70)}},
		{op: "BiasAdd", attrs: tensor.Attrs{"T": tensor.Float32, "data_format": "NCHW"}, in: []*tensor.Tensor{f32(1, 3, 70, 10, 10), f32(2, 70)}},
		{op: "FusedBatchNormV3", attrs: tensor.Attrs{"T": tensor.Float32, "U": tensor.Float32, "epsilon": float32(0.001), "is_training": false, "data_format": "NHWC"}, in: []*tensor.Tensor{f32(1, 2, 9, 9, 8), f32(2, 8), f32(3, 8), f32(4, 8), tensor.FromSlice(tensor.Shape{8}, []float32{1, 2, 3, 4, 5, 6, 7, 8})}},
		{op: "Mean", attrs: tensor.Attrs{"T": tensor.Float32, "keep_dims": false}, in: []*tensor.Tensor{f32(1, 2, 30, 30, 8), i32(1, 2)}},
		{op: "Mean", attrs: tensor.Attrs{"T": tensor.Float32, "keep_dims": true}, in: []*tensor.Tensor{f32(1, 300, 70), i32(-1)}},
		{op: "Sum", attrs: tensor.Attrs{"T": tensor.Float32, "keep_dims": false}, in: []*tensor.Tensor{f32(1, 3, 4), tensor.FromSlice(tensor.Shape{0}, []int32{})}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s%v", c.op, c.in[0].Shape()), func(t *testing.T) {
			k := zallocKernel(t, c.op, c.attrs, c.in...)
			want := zallocCall(t, k, &Ctx{}, c.in)
			p := pool.New()
			for _, par := range []func(n, grain int, fn func(lo, hi int)){nil, nnTestPar} {
				ctx := &Ctx{Pool: p, Par: par, Slots: &Slots{}}
				for call := 0; call < 3; call++ {
					got := zallocCall(t, k, ctx, c.in)
					if len(got) != len(want) {
						t.Fatalf("call %d: %d outputs, want %d", call, len(got), len(want))
					}
					for i := range got {
						if !tensor.Equal(got[i], want[i]) {
							t.Fatalf("call %d (par %v): output %d differs from a plain Ctx's:\n%v\n%v", call, par != nil, i, got[i], want[i])
						}
						for _, x := range c.in {
							if got[i] == x {
								t.Fatalf("output %d is an input tensor pointer", i)
							}
						}
					}
					for _, o := range got {
						o.Release()
					}
				}
			}
			if n := p.Stats().Outstanding.Load(); n != 0 {
				t.Errorf("%d pooled buffers outstanding", n)
			}
		})
	}
}
