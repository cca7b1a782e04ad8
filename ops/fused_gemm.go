package ops

import (
	"fmt"

	"github.com/tfdgo/tfd/tensor"
)

// _FusedMatMul with its epilogue in the GEMM: a leading BiasAdd and a Relu
// or Relu6 right after it are applied by the GEMM as it stores each element
// of C for the last time (nnGemmEp), so the product is written once instead
// of being read back by each step. Later steps (other activations) run on
// the stored result as in fusedKernel.
//
// The results equal those of MatMul, BiasAdd and the activation run one
// after the other, bit for bit: the GEMM computes the same dot product
// either way, then adds bias[j] in the output's precision, then clamps as
// the Relu and Relu6 ops do (NaN and -0 kept).

// fuseGemmKernel is _FusedMatMul for float32 and float64.
type fuseGemmKernel[T float32 | float64] struct {
	mm   *nnMatMulKernel[T]
	bias int // input index of the BiasAdd argument, or -1
	act  nnAct
	rest []fusedStep // steps applied after the GEMM
	// acts are the element loops of rest when all its steps are
	// activations: they run split over ctx.Parallel.
	acts []func(d, s []T)
}

// fuseGemmFor returns a _FusedMatMul kernel running the leading steps in the
// GEMM, or nil when inner is not tfd's MatMul kernel of float32 or float64,
// or when the steps neither start with BiasAdd, Relu or Relu6 nor are all
// activations.
func fuseGemmFor(inner Kernel, steps []fusedStep) Kernel {
	switch mm := inner.(type) {
	case *nnMatMulKernel[float32]:
		if mm.dt == tensor.Float32 {
			return fuseGemmNew(mm, steps)
		}
	case *nnMatMulKernel[float64]:
		return fuseGemmNew(mm, steps)
	}
	return nil
}

func fuseGemmNew[T float32 | float64](mm *nnMatMulKernel[T], steps []fusedStep) Kernel {
	k := &fuseGemmKernel[T]{mm: mm, bias: -1, rest: steps}
	if len(k.rest) > 0 && k.rest[0].kind == "bias" {
		k.bias = k.rest[0].arg
		k.rest = k.rest[1:]
	}
	if len(k.rest) > 0 {
		switch k.rest[0].kind {
		case "relu":
			k.act = nnActRelu
		case "relu6":
			k.act = nnActRelu6
		}
		if k.act != nnActNone {
			k.rest = k.rest[1:]
		}
	}
	for _, s := range k.rest {
		act, ok := s.act.(func(d, s []T))
		if !ok {
			k.acts = nil
			break
		}
		k.acts = append(k.acts, act)
	}
	if k.bias < 0 && k.act == nnActNone && k.acts == nil {
		return nil
	}
	return k
}

func (k *fuseGemmKernel[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	mm := k.mm
	a, b := in[0], in[1]
	if a.DType() != mm.dt || b.DType() != mm.dt {
		return nil, fmt.Errorf("%w: op _FusedMatMul: inputs are %s and %s, expected %s", ErrDType, a.DType(), b.DType(), mm.dt)
	}
	m, n, kk, err := nnMatMulShapes(a.Shape(), b.Shape(), mm.transA, mm.transB)
	if err != nil {
		return nil, err
	}
	ep := nnEpilogue[T]{Act: k.act, DotTail: true}
	if k.bias >= 0 {
		bt := in[k.bias]
		if bt.DType() != mm.dt || bt.Len() != n {
			return nil, fmt.Errorf("%w: fused BiasAdd argument is %s%v, expected %d values of %s (the output's last dimension)", ErrShape, bt.DType(), bt.Shape(), n, mm.dt)
		}
		ep.Bias = tensor.As[T](bt)
	}
	out, err := ctx.Alloc(mm.dt, tensor.Shape{m, n})
	if err != nil {
		return nil, err
	}
	var bd []T
	pb := mm.packed
	if pb == nil || !b.Shape().Equal(mm.packedShape) {
		pb = nil
		bd = tensor.As[T](b)
	}
	nnGemmEp(ctx, m, n, kk, tensor.As[T](a), a.Shape()[1], mm.transA, bd, b.Shape()[1], mm.transB, pb, tensor.As[T](out), n, ep)
	if err := ctx.Err(); err != nil {
		out.Release()
		return nil, err
	}
	if k.acts != nil {
		v := tensor.As[T](out)
		ParallelJob(ctx, len(v), mathGrain, fuseActsJob[T]{acts: k.acts, v: v})
	} else if len(k.rest) > 0 {
		if err := applyEpilogue[T](out, in, k.rest); err != nil {
			out.Release()
			return nil, err
		}
	}
	return ctx.Out(out), nil
}

// fuseActsJob applies the activations to v[lo:hi] in place.
type fuseActsJob[T tensor.Float] struct {
	acts []func(d, s []T)
	v    []T
}

func (j *fuseActsJob[T]) Chunk(lo, hi int) {
	for _, act := range j.acts {
		act(j.v[lo:hi], j.v[lo:hi])
	}
}

// fuseBindActs sets the act of each activation step to the element loop of
// the op's own kernel (built from the default registry), so that a fused
// activation gives exactly what the unfused op gives. Steps whose op does
// not build keep act nil and use applyEpilogue's formulas.
func fuseBindActs(steps []fusedStep, dt tensor.DType) {
	for i := range steps {
		s := &steps[i]
		op := ""
		attrs := tensor.Attrs{"T": dt}
		switch s.kind {
		case "relu":
			op = "Relu"
		case "relu6":
			op = "Relu6"
		case "elu":
			op = "Elu"
		case "leaky":
			op = "LeakyRelu"
			attrs["alpha"] = float32(s.alpha)
		case "sigmoid":
			op = "Sigmoid"
		case "tanh":
			op = "Tanh"
		default:
			continue
		}
		impl, err := Default().Choose(op)
		if err != nil {
			continue
		}
		k, err := impl.Build(&Node{Op: op, Attrs: attrs, Inputs: []Value{{DType: dt, Shape: tensor.UnknownShape()}}})
		if err != nil {
			continue
		}
		switch kk := k.(type) {
		case *mathUnaryKernel[float32]:
			s.act = kk.fn
		case *mathUnaryKernel[float64]:
			s.act = kk.fn
		}
	}
}
