package ops

import (
	"fmt"
	"math"
	"slices"

	"github.com/tfdgo/tfd/tensor"
)

// _FusedConv2D and FusedDepthwiseConv2dNative with their epilogue inside
// the convolution: a leading BiasAdd, and a Relu or Relu6 right after it,
// are applied by the kernel as it stores each output (the GEMM epilogue
// of nnGemmArch, or the depthwise kernel's); the other steps run on each
// block of finished output pixels while it is still in cache, on the
// worker that computed it. So the output is written once instead of being
// read back by every step.
//
// The results equal those of fusedKernel (the convolution, then each step
// over the whole tensor) bit for bit: every element goes through the same
// operations in the same order. The kernels' Relu keeps NaN and -0 where
// the step's x < 0 test does too, and their Relu6 clamps as min(max(x, 0),
// 6) does except for -0, which a sum starting at +0 plus a bias never is.

// cvFusable is a convolution kernel that can run an epilogue.
type cvFusable[T nnGemmNum] interface {
	// outShape returns the output shape for the inputs, or the error Run
	// would return for their shapes.
	outShape(in []*tensor.Tensor) ([4]int, error)
	runFused(ctx *Ctx, in []*tensor.Tensor, ep nnEpilogue[T], post func(v []T, off int)) ([]*tensor.Tensor, error)
}

func (kn *nnConv2D[T]) outShape(in []*tensor.Tensor) ([4]int, error) {
	g, err := nnConvGeometry("Conv2D", kn.a, in[0].Shape(), in[1].Shape())
	if err != nil {
		return [4]int{}, err
	}
	return [4]int{g.n, g.oh, g.ow, g.fo}, nil
}

func (kn *nnDepthwise[T]) outShape(in []*tensor.Tensor) ([4]int, error) {
	g, err := nnConvGeometry("DepthwiseConv2dNative", kn.a, in[0].Shape(), in[1].Shape())
	if err != nil {
		return [4]int{}, err
	}
	depth, ok := tensor.CheckedMul(g.c, g.fo)
	if !ok {
		return [4]int{}, fmt.Errorf("%w: op DepthwiseConv2dNative: output depth %d×%d overflows", ErrLimit, g.c, g.fo)
	}
	return [4]int{g.n, g.oh, g.ow, depth}, nil
}

// cvFusedFor returns a kernel running the fused steps inside the
// convolution inner, or nil when inner cannot run them.
func cvFusedFor(inner Kernel, steps []fusedStep, dt tensor.DType) Kernel {
	switch k := inner.(type) {
	case *nnConv2D[float32]:
		return cvNewFused[float32](k, steps, dt)
	case *nnConv2D[float64]:
		return cvNewFused[float64](k, steps, dt)
	case *nnDepthwise[float32]:
		return cvNewFused[float32](k, steps, dt)
	case *nnDepthwise[float64]:
		return cvNewFused[float64](k, steps, dt)
	}
	return nil
}

// cvFused is a fused convolution for one float type.
type cvFused[T float32 | float64] struct {
	conv    cvFusable[T]
	biasArg int // input index of the leading BiasAdd's argument, or -1
	act     nnAct
	rest    []fusedStep // steps after those the kernel applies
	dt      tensor.DType
	round   func([]float32)
}

func cvNewFused[T float32 | float64](conv cvFusable[T], steps []fusedStep, dt tensor.DType) *cvFused[T] {
	k := &cvFused[T]{conv: conv, biasArg: -1, dt: dt, round: mathRounder(dt)}
	if len(steps) > 0 && steps[0].kind == "bias" && steps[0].act == nil {
		k.biasArg = steps[0].arg
		steps = steps[1:]
		if len(steps) > 0 && steps[0].kind == "relu" {
			k.act, steps = nnActRelu, steps[1:]
		} else if len(steps) > 0 && steps[0].kind == "relu6" {
			k.act, steps = nnActRelu6, steps[1:]
		}
	}
	k.rest = steps
	return k
}

// cvStep is a fused step with its arguments checked and resolved.
type cvStep[T float32 | float64] struct {
	kind   string
	vec    []T // bias, addend, Prelu alpha
	sc, of []T // FusedBatchNorm folded to a scale and an offset
	alpha  T   // LeakyRelu
	act    func(d, s []T)
}

func (k *cvFused[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	shape, err := k.conv.outShape(in)
	if err != nil {
		return nil, err
	}
	c := shape[3]
	var ep nnEpilogue[T]
	if k.biasArg >= 0 {
		b, err := channelArg[T]("BiasAdd", in[k.biasArg], nil, c)
		if err != nil {
			return nil, err
		}
		ep = nnEpilogue[T]{Bias: b, Act: k.act}
	}
	var post func(v []T, off int)
	if len(k.rest) > 0 || k.round != nil {
		kp := Keep[cvPost[T]](ctx)
		kp.steps, err = cvResolveSteps[T](kp.steps, k.rest, in, k.dt, shape[:], c)
		if err != nil {
			return nil, err
		}
		kp.c, kp.round = c, k.round
		if kp.fn == nil {
			kp.fn = kp.apply
		}
		post = kp.fn
		defer kp.drop()
	}
	return k.conv.runFused(ctx, in[:2], ep, post)
}

// cvPost is the post function of a fused convolution: the remaining
// steps, resolved, which a node keeps from call to call (Keep) with the
// method value, so that neither is allocated per call.
type cvPost[T float32 | float64] struct {
	steps []cvStep[T]
	c     int
	round func([]float32)
	fn    func(v []T, off int)
}

func (p *cvPost[T]) apply(v []T, off int) { cvApplySteps(v, off, p.c, p.steps, p.round) }

// drop forgets the steps' references to the call's inputs (keeping the
// storage of their folded batch norms).
func (p *cvPost[T]) drop() {
	for i := range p.steps {
		p.steps[i].vec, p.steps[i].act = nil, nil
	}
}

// cvResolveSteps checks the arguments of steps against an output of shape
// shape (c channels), as applyEpilogue does, and returns them resolved in
// the storage of out (whose slices it reuses).
func cvResolveSteps[T float32 | float64](out []cvStep[T], steps []fusedStep, in []*tensor.Tensor, dt tensor.DType, shape tensor.Shape, c int) ([]cvStep[T], error) {
	out = out[:0]
	for _, s := range steps {
		var old cvStep[T]
		if len(out) < cap(out) {
			old = out[: len(out)+1 : len(out)+1][len(out)]
		}
		r := cvStep[T]{kind: s.kind}
		if act, ok := s.act.(func(d, s []T)); ok {
			r.act = act
		}
		switch s.kind {
		case "bias":
			b, err := channelArg[T]("BiasAdd", in[s.arg], nil, c)
			if err != nil {
				return nil, err
			}
			r.vec = b
		case "bn":
			var p [4][]T
			for j := range p {
				a, err := channelArg[T]("FusedBatchNorm", in[s.arg+j], nil, c)
				if err != nil {
					return nil, err
				}
				p[j] = a
			}
			r.sc, r.of = slices.Grow(old.sc[:0], c)[:c], slices.Grow(old.of[:0], c)[:c]
			for j := 0; j < c; j++ {
				r.sc[j] = p[0][j] * T(1/math.Sqrt(float64(p[3][j])+s.eps))
				r.of[j] = p[1][j] - p[2][j]*r.sc[j]
			}
		case "add":
			a := in[s.arg]
			if !a.Shape().Equal(shape) || a.DType() != dt {
				return nil, fmt.Errorf("%w: fused Add argument is %s%v, expected %s%v", ErrShape, a.DType(), a.Shape(), dt, shape.Clone())
			}
			r.vec = tensor.As[T](a)
		case "leaky":
			r.alpha = T(s.alpha)
		case "prelu":
			a := in[s.arg]
			as := a.Shape()
			for len(as) > 0 && as[0] == 1 {
				as = as[1:]
			}
			if len(as) > len(shape) || !shape[len(shape)-len(as):].Equal(as) {
				return nil, fmt.Errorf("%w: Prelu alpha of shape %v does not broadcast over %v", ErrShape, a.Shape(), shape.Clone())
			}
			r.vec = tensor.As[T](a)
		}
		out = append(out, r)
	}
	return out, nil
}

// cvApplySteps applies steps to v, the output elements [off, off+len(v))
// of whole pixels of c channels, then rounds them for 16-bit dtypes.
func cvApplySteps[T float32 | float64](v []T, off, c int, steps []cvStep[T], round func([]float32)) {
	for _, s := range steps {
		if s.act != nil {
			s.act(v, v)
			continue
		}
		switch s.kind {
		case "bias":
			for i := 0; i+c <= len(v); i += c {
				row := v[i : i+c]
				for j, b := range s.vec[:c] {
					row[j] += b
				}
			}
		case "bn":
			for i := 0; i+c <= len(v); i += c {
				row := v[i : i+c]
				for j := range row {
					row[j] = row[j]*s.sc[j] + s.of[j]
				}
			}
		case "add":
			for i, x := range s.vec[off : off+len(v)] {
				v[i] += x
			}
		case "relu":
			for i, x := range v {
				if x < 0 {
					v[i] = 0
				}
			}
		case "relu6":
			for i, x := range v {
				v[i] = min(max(x, 0), 6)
			}
		case "elu":
			for i, x := range v {
				if x < 0 {
					v[i] = T(math.Expm1(float64(x)))
				}
			}
		case "leaky":
			for i, x := range v {
				if x < 0 {
					v[i] = x * s.alpha
				}
			}
		case "prelu":
			n := len(s.vec)
			if n == 0 {
				continue
			}
			for i, x := range v {
				if x < 0 {
					v[i] = x * s.vec[(off+i)%n]
				}
			}
		case "sigmoid":
			for i, x := range v {
				v[i] = T(1 / (1 + math.Exp(-float64(x))))
			}
		case "tanh":
			for i, x := range v {
				v[i] = T(math.Tanh(float64(x)))
			}
		}
	}
	if round != nil {
		if s, ok := any(v).([]float32); ok {
			round(s)
		}
	}
}
