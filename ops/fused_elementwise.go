package ops

import (
	"fmt"
	"slices"

	"github.com/tfdgo/tfd/tensor"
)

// _TfdFusedElementwise is a chain of element-wise ops evaluated in one pass
// over the data. tfd's compiler writes it when it fuses such a chain
// (sched's fusion pass); TensorFlow has no op of this name.
//
// Attrs:
//
//	T         dtype of the inputs and the output: float32, float64, half or bfloat16
//	steps     list(func): the ops in order, each its op type (Name) and that node's attrs
//	operands  list(int): two per step, its left and right operand:
//	          -1 the running value (input 0 before the first step),
//	          k ≥ 0 input k, -2 none (the right operand of a unary step)
//
// The value starts as input 0; each step replaces it with op(left, right),
// or op(value) for a unary step. A step may be any op whose registered
// kernel is one of tfd's element-wise kernels: the unary math ops (Relu,
// Sigmoid, Exp, Square, ...), the broadcasting binary float ops (Add, Sub,
// Mul, RealDiv, Maximum, SquaredDifference, Pow, ...) and BiasAdd (NHWC).
// Every binary step must use the running value.
//
// Results equal those of running the ops one after the other, bit for bit:
// each step runs the very element loop of that op's kernel on the same
// values in the same order, and 16-bit results are rounded after every step
// as each op rounds its output.
//
// When every operand has input 0's shape, a single element, or repeats
// along input 0's trailing axes (a vector over the channels: [C] or [1, C]
// against [N, H, W, C]), the output has input 0's shape and is computed in
// blocks of a few thousand elements that stay in the L1 cache, each block
// passing through all steps before the next is read. Other shapes (a
// broadcast that grows the value) run the ops' kernels one after the other.

func init() {
	Default().Register(Spec{
		Name:  "_TfdFusedElementwise",
		Doc:   "a chain of element-wise ops (attrs steps, operands) evaluated in one pass; written by tfd's compiler",
		Infer: fuseEwInfer,
		Build: fuseEwBuildNode,
		Batch: fuseEwBatch,
	})
}

// Operand codes of _TfdFusedElementwise.
const (
	fuseEwAcc  = -1 // the running value
	fuseEwNone = -2 // no operand
)

// fuseEwBlockLen is the number of elements a block of the one-pass
// evaluation holds: two blocks of float64 fit the L1 cache beside the
// inputs' lines.
const fuseEwBlockLen = 1024

// ElementwiseArity returns 1 or 2 when k, a built kernel, is one of tfd's
// element-wise kernels that _TfdFusedElementwise can run as a step (of one
// or two operands), and 0 otherwise. It lets the compiler find fusable
// chains among nodes it has already built.
func ElementwiseArity(k Kernel) int {
	switch kk := k.(type) {
	case *mathUnaryKernel[float32], *mathUnaryKernel[float64]:
		return 1
	case *mathBinKernel[float32, float32]:
		if kk.check == nil && kk.onMismatch == nil {
			return 2
		}
	case *mathBinKernel[float64, float64]:
		if kk.check == nil && kk.onMismatch == nil {
			return 2
		}
	case *mathBiasAddKernel[float32]:
		if !kk.nchw {
			return 2
		}
	case *mathBiasAddKernel[float64]:
		if !kk.nchw {
			return 2
		}
	}
	return 0
}

// fuseEwProgram is the decoded attrs of a _TfdFusedElementwise node.
type fuseEwProgram struct {
	dt       tensor.DType
	steps    []tensor.Func
	operands []int64
}

func fuseEwParse(n *Node) (*fuseEwProgram, error) {
	if err := NeedMinInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	var steps []tensor.Func
	switch v := n.Attrs["steps"].(type) {
	case []tensor.Func:
		steps = v
	case nil, tensor.EmptyList:
	default:
		return nil, fmt.Errorf("%w: op %s: attr steps is %T, expected a list of funcs", ErrAttr, n.Op, v)
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("%w: op %s: attr steps is empty, expected at least one op", ErrAttr, n.Op)
	}
	operands, err := AttrInts(n, "operands", nil)
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if len(operands) != 2*len(steps) {
		return nil, fmt.Errorf("%w: op %s: attr operands has %d entries, expected 2 per step (%d)", ErrAttr, n.Op, len(operands), 2*len(steps))
	}
	for i, o := range operands {
		if o < fuseEwNone || o >= int64(len(n.Inputs)) || (i%2 == 0 && o == fuseEwNone) {
			return nil, fmt.Errorf("%w: op %s: step %d: operand %d is %d, expected -1 (value), -2 (none, right only) or an input index below %d", ErrAttr, n.Op, i/2, i%2, o, len(n.Inputs))
		}
	}
	return &fuseEwProgram{dt: dt, steps: steps, operands: operands}, nil
}

// fuseEwInfer: the running value's dtype and the broadcast of its shape
// with each binary step's operands.
func fuseEwInfer(n *Node) ([]Value, error) {
	p, err := fuseEwParse(n)
	if err != nil {
		return nil, err
	}
	shape := n.Inputs[0].Shape
	for s := range p.steps {
		r := p.operands[2*s+1]
		if r == fuseEwNone || p.steps[s].Name == "BiasAdd" {
			continue // BiasAdd keeps the value's shape
		}
		for _, o := range p.operands[2*s : 2*s+2] {
			if o >= 0 {
				if shape, err = BroadcastPartial(shape, n.Inputs[o].Shape); err != nil {
					return nil, fmt.Errorf("op %s: step %d (%s): %w", n.Op, s, p.steps[s].Name, err)
				}
			}
		}
	}
	return []Value{{DType: p.dt, Shape: shape}}, nil
}

// fuseEwBatch: rows stay independent when they do for each step, which
// holds when input 0 carries the batch whenever any input does, and the
// inputs broadcast along axis 0 as BatchElementwise requires.
func fuseEwBatch(n *Node, batched []bool) ([]bool, bool) {
	if len(batched) == 0 {
		return nil, false
	}
	for _, b := range batched[1:] {
		if b && !batched[0] {
			return nil, false
		}
	}
	return BatchElementwise(n, batched)
}

func fuseEwBuildNode(n *Node) (Kernel, error) {
	p, err := fuseEwParse(n)
	if err != nil {
		return nil, err
	}
	switch p.dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return fuseEwBuild[float32](n, p)
	case tensor.Float64:
		return fuseEwBuild[float64](n, p)
	}
	return nil, mathUnsupported(n.Op, p.dt, mathFloatTypes)
}

// fuseEwStep is one step: a unary loop or binary loops, its operands and
// the rounding of its results.
type fuseEwStep[T tensor.Float] struct {
	unary       func(d, s []T)
	bin         *mathBinLoops[T, T]
	bias        bool // BiasAdd: the right operand must be a vector over the last axis
	left, right int
	round       func([]float32)
}

type fuseEwKernel[T tensor.Float] struct {
	name    string
	dt      tensor.DType
	nin     int
	steps   []fuseEwStep[T]
	kernels []Kernel // the steps' kernels, for shapes the blocked path does not take
	used    []int    // inputs read as operands
}

func fuseEwBuild[T tensor.Float](n *Node, p *fuseEwProgram) (Kernel, error) {
	k := &fuseEwKernel[T]{name: n.Name, dt: p.dt, nin: len(n.Inputs)}
	seen := make([]bool, len(n.Inputs))
	seen[0] = true
	for s, f := range p.steps {
		l, r := int(p.operands[2*s]), int(p.operands[2*s+1])
		stepErr := func(format string, args ...any) error {
			return fmt.Errorf("%w: op %s: step %d (%s): %s", ErrAttr, n.Op, s, f.Name, fmt.Sprintf(format, args...))
		}
		impl, err := Default().Choose(f.Name)
		if err != nil {
			return nil, stepErr("not a registered op")
		}
		attrs := f.Attrs
		if _, ok := attrs["T"]; !ok {
			attrs = make(tensor.Attrs, len(f.Attrs)+1)
			for a, v := range f.Attrs {
				attrs[a] = v
			}
			attrs["T"] = p.dt
		}
		sn := &Node{Name: n.Name, Op: f.Name, Attrs: attrs}
		for _, o := range []int{l, r} {
			switch {
			case o == fuseEwAcc:
				sn.Inputs = append(sn.Inputs, Value{DType: p.dt, Shape: tensor.UnknownShape()})
			case o >= 0:
				v := n.Inputs[o]
				if v.DType == tensor.Invalid {
					v.DType = p.dt
				}
				if v.DType.Base() != p.dt {
					return nil, fmt.Errorf("%w: op %s: input %d is %s, expected %s", ErrDType, n.Op, o, v.DType, p.dt)
				}
				sn.Inputs = append(sn.Inputs, v)
				if !seen[o] {
					seen[o] = true
					k.used = append(k.used, o)
				}
			}
		}
		sk, err := impl.Build(sn)
		if err != nil {
			return nil, fmt.Errorf("op %s: step %d: %w", n.Op, s, err)
		}
		st := fuseEwStep[T]{left: l, right: r}
		unary := r == fuseEwNone
		switch kk := sk.(type) {
		case *mathUnaryKernel[T]:
			if !unary || l != fuseEwAcc {
				return nil, stepErr("a unary op takes the running value (operands -1, -2), got %d, %d", l, r)
			}
			st.unary, st.round = kk.fn, kk.round
		case *mathBinKernel[T, T]:
			if kk.check != nil || kk.onMismatch != nil {
				return nil, stepErr("op checks its operands and cannot be fused")
			}
			st.bin, st.round = &kk.lp, kk.round
		case *mathBiasAddKernel[T]:
			if kk.nchw {
				return nil, stepErr("BiasAdd with data_format NCHW cannot be fused")
			}
			if l != fuseEwAcc || r < 0 {
				return nil, stepErr("BiasAdd takes the running value and an input (operands -1, k), got %d, %d", l, r)
			}
			st.bin, st.round, st.bias = &kk.lp, kk.round, true
		default:
			return nil, stepErr("not an element-wise op that can be fused")
		}
		if !unary && l != fuseEwAcc && r != fuseEwAcc {
			return nil, stepErr("a binary step must use the running value, got operands %d, %d", l, r)
		}
		k.steps = append(k.steps, st)
		k.kernels = append(k.kernels, sk)
	}
	return k, nil
}

// fuseEwPeriod returns how input shape s maps onto the elements of the
// value of shape s0 (n elements) without growing it: 1 for a single element,
// n for the same shape, p for a vector of p elements over the trailing axes
// (element i reads s[i % p]), and 0 when none applies.
func fuseEwPeriod(s0, s tensor.Shape, n, sLen int) int {
	if len(s) > len(s0) {
		return 0
	}
	if sLen == 1 {
		return 1
	}
	for len(s) > 0 && s[0] == 1 {
		s = s[1:]
	}
	if !s.Equal(s0[len(s0)-len(s):]) {
		return 0
	}
	if sLen == 0 {
		return n // both empty
	}
	return sLen
}

func (k *fuseEwKernel[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) != k.nin {
		return nil, fmt.Errorf("%w: op %s: expected %d inputs, got %d", ErrShape, k.name, k.nin, len(in))
	}
	kp := Keep[fuseEwKeep[T]](ctx)
	kp.data = slices.Grow(kp.data[:0], len(in))[:len(in)]
	kp.per = slices.Grow(kp.per[:0], len(in))[:len(in)]
	defer kp.drop()
	data, err := mathInputsTo(kp.data, k.name, in)
	if err != nil {
		return nil, err
	}
	s0 := in[0].Shape()
	n := len(data[0])
	per := kp.per
	clear(per)
	per[0] = n
	block := fuseEwBlockLen
	for _, j := range k.used {
		p := fuseEwPeriod(s0, in[j].Shape(), n, len(data[j]))
		if p == 0 {
			return k.runSteps(ctx, in)
		}
		per[j] = p
		if p > 1 && p < n && p <= fuseEwBlockLen && block == fuseEwBlockLen {
			block = fuseEwBlockLen / p * p
		}
	}
	for _, st := range k.steps {
		if st.bias && (len(s0) < 2 || in[st.right].Rank() != 1 || per[st.right] != s0[len(s0)-1] && n > 0) {
			return k.runSteps(ctx, in) // the kernel reports the mismatch
		}
	}
	out, err := ctx.Alloc(k.dt, s0)
	if err != nil {
		return nil, err
	}
	dst := tensor.As[T](out)
	// A short period that divides the block is tiled to a whole block, so
	// that each step reads it with one call per block.
	for _, j := range k.used {
		if p := per[j]; p > 1 && p < n && block%p == 0 && p < block {
			buf, release := nnScratch[T](ctx, block)
			defer release.Release()
			for i := 0; i < block; i += p {
				copy(buf[i:i+p], data[j])
			}
			data[j], per[j] = buf, block
		}
	}
	nb := (n + block - 1) / block
	ParallelJob(ctx, nb, max(1, mathGrain/block), fuseEwJob[T]{k: k, ctx: ctx, dst: dst, data: data, per: per, n: n, block: block})
	return ctx.Out(out), nil
}

// fuseEwKeep is what a fused element-wise node keeps from call to call
// (Keep): its inputs' data and periods.
type fuseEwKeep[T tensor.Float] struct {
	data [][]T
	per  []int
}

// drop forgets the inputs' data (and scratch) once the call is done.
func (kp *fuseEwKeep[T]) drop() { clear(kp.data) }

// fuseEwJob runs blocks [lo, hi) of block elements through the steps.
type fuseEwJob[T tensor.Float] struct {
	k        *fuseEwKernel[T]
	ctx      *Ctx
	dst      []T
	data     [][]T
	per      []int
	n, block int
}

func (j *fuseEwJob[T]) Chunk(lo, hi int) {
	k, block := j.k, j.block
	var tmp []T
	if len(k.steps) > 1 {
		buf, release := nnScratch[T](j.ctx, block)
		defer release.Release()
		tmp = buf
	}
	for b := lo; b < hi; b++ {
		k.block(j.dst, tmp, j.data, j.per, b*block, min(j.n, (b+1)*block))
	}
}

// block runs elements [i0, i1) through all steps. The steps write to dst
// and tmp alternately, so that no loop writes the slice it reads and the
// last step writes dst.
func (k *fuseEwKernel[T]) block(dst, tmp []T, data [][]T, per []int, i0, i1 int) {
	m := i1 - i0
	bufs := [2][]T{dst[i0:i1], nil}
	if tmp != nil {
		bufs[1] = tmp[:m]
	}
	last := len(k.steps) - 1
	cur := data[0][i0:i1]
	for s := range k.steps {
		st := &k.steps[s]
		d := bufs[(last-s)&1]
		if st.unary != nil {
			st.unary(d, cur)
		} else {
			fuseEwBinary(st, d, cur, data, per, i0, i1)
		}
		if st.round != nil {
			st.round(any(d).([]float32))
		}
		cur = d
	}
}

// fuseEwBinary computes d = op(left, right) over elements [i0, i1), where
// cur holds the running value of those elements. A periodic operand is
// cut at the ends of its periods, so that each call sees contiguous slices.
func fuseEwBinary[T tensor.Float](st *fuseEwStep[T], d, cur []T, data [][]T, per []int, i0, i1 int) {
	l, r := st.left, st.right
	// A single-element operand takes the vector-scalar loops.
	if r >= 0 && per[r] == 1 && l == fuseEwAcc {
		st.bin.vs(d, cur, data[r][0])
		return
	}
	if l >= 0 && per[l] == 1 && r == fuseEwAcc {
		st.bin.sv(d, data[l][0], cur)
		return
	}
	// Otherwise each operand is the running value or a periodic input (a
	// single element never pairs with anything but the running value).
	operand := func(o, pos, end int) []T {
		if o == fuseEwAcc {
			return cur[pos-i0 : end-i0]
		}
		p := per[o]
		return data[o][pos%p : pos%p+end-pos]
	}
	for pos := i0; pos < i1; {
		end := i1
		for _, o := range [2]int{l, r} {
			if o >= 0 && per[o] > 1 {
				end = min(end, (pos/per[o]+1)*per[o])
			}
		}
		st.bin.vv(d[pos-i0:end-i0], operand(l, pos, end), operand(r, pos, end))
		pos = end
	}
}

// runSteps runs the steps' kernels one after the other, as the unfused
// ops would run.
func (k *fuseEwKernel[T]) runSteps(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	var acc *tensor.Tensor
	args := make([]*tensor.Tensor, 0, 2)
	for s, st := range k.steps {
		args = args[:0]
		for _, o := range [2]int{st.left, st.right} {
			switch {
			case o == fuseEwAcc && acc == nil:
				args = append(args, in[0])
			case o == fuseEwAcc:
				args = append(args, acc)
			case o >= 0:
				args = append(args, in[o])
			}
		}
		outs, err := k.kernels[s].Run(ctx, args)
		if acc != nil {
			acc.Release()
		}
		if err != nil {
			return nil, err
		}
		acc = outs[0]
	}
	return ctx.Out(acc), nil
}
