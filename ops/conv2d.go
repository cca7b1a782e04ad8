package ops

import (
	"fmt"

	"github.com/tfdgo/tfd/tensor"
)

// Conv2D and DepthwiseConv2dNative in NHWC, as TensorFlow's CPU kernels
// compute them (tensorflow/core/kernels/conv_ops_impl.h,
// depthwise_conv_op.cc; output sizes from kernel_shape_util.cc).
//
// Conv2D lowers to the GEMM: a 1×1, stride-1, unpadded convolution is a
// single product of the input viewed as [pixels, in] with the filter viewed
// as [in, out]; float32 convolutions with short receptive-field rows or
// output rows that fill the GEMM's tiles run the GEMM's tile over a padded
// band of input rows (conv_direct.go); every other convolution copies the
// receptive field of a block of output pixels into rows (im2col) and
// multiplies those rows by the filter. Each output is summed over
// (kh, kw, c) in that order, whatever the path, the blocking and the number
// of workers, and the direct path gives the bits of im2col. Grouped
// convolutions (input depth a multiple of the filter's) run one product per
// group, as TF's CPU kernel supports them.
//
// DepthwiseConv2dNative honors its dilations attr, as the op's definition
// and TF's shape function do; TF's CPU kernel itself ignores the attr (graphs
// written by TF always carry dilations of 1 there: tf.nn.depthwise_conv2d
// dilates with space_to_batch around the op).
//
// NCHW data is transposed to NHWC and back around both kernels (nchw.go),
// as TensorFlow's layout optimizer does on CPU.

func init() {
	Default().Register(Spec{
		Name:  "Conv2D",
		Doc:   "2-D convolution of an NHWC input with an [h, w, in, out] filter",
		Infer: nchwWrapInfer(nnInferConv2D, "NHWC", "NHWC", []bool{true, false}, "strides", "dilations"),
		Build: nchwWrapBuild(nnBuildConv2D, "NHWC", "NHWC", []bool{true, false}, "strides", "dilations"),
		Batch: nnBatchRuleNHWC,
	})
	Default().Register(Spec{
		Name:  "DepthwiseConv2dNative",
		Doc:   "depthwise 2-D convolution of an NHWC input with an [h, w, in, multiplier] filter",
		Infer: nchwWrapInfer(nnInferConv2D, "NHWC", "NHWC", []bool{true, false}, "strides", "dilations"),
		Build: nchwWrapBuild(nnBuildDepthwise, "NHWC", "NHWC", []bool{true, false}, "strides", "dilations"),
		Batch: nnBatchRuleNHWC,
	})
}

// Padding modes.
const (
	nnPadSame     = "SAME"
	nnPadValid    = "VALID"
	nnPadExplicit = "EXPLICIT"
)

// nnMaxWindowAttr bounds strides, dilations, window sizes and paddings,
// as TF bounds them to int32.
const nnMaxWindowAttr = 1<<31 - 1

// nnWindowAttrs are the validated spatial attrs of a convolution or pool.
type nnWindowAttrs struct {
	strideH, strideW int
	dilH, dilW       int
	kH, kW           int // window size (pools only; convs take it from the filter)
	padding          string
	padT, padB       int // EXPLICIT only
	padL, padR       int
}

// nnCheckNHWC rejects data formats other than NHWC, as TF's CPU kernels do.
func nnCheckNHWC(n *Node) error {
	df, err := AttrString(n, "data_format", "NHWC")
	if err != nil {
		return err
	}
	switch df {
	case "NHWC":
		return nil
	case "NCHW", "NCHW_VECT_C", "HWNC", "HWCN":
		return fmt.Errorf("%w: op %s: data_format %s is not supported on CPU (only NHWC, as in TensorFlow's CPU kernel)", ErrAttr, n.Op, df)
	}
	return fmt.Errorf("%w: op %s: invalid data_format %q", ErrAttr, n.Op, df)
}

// nnAttr4 reads a list(int) attr of length 4 whose batch and depth entries
// must be 1 and whose spatial entries must be positive.
func nnAttr4(n *Node, name string, def []int64) (h, w int, err error) {
	v, err := AttrInts(n, name, def)
	if err != nil {
		return 0, 0, err
	}
	if len(v) != 4 {
		return 0, 0, fmt.Errorf("%w: op %s: %s must have 4 entries, got %v", ErrAttr, n.Op, name, v)
	}
	if v[0] != 1 || v[3] != 1 {
		return 0, 0, fmt.Errorf("%w: op %s: %s %v: only 1 is supported in the batch and depth dimensions", ErrAttr, n.Op, name, v)
	}
	if v[1] <= 0 || v[2] <= 0 || v[1] > nnMaxWindowAttr || v[2] > nnMaxWindowAttr {
		return 0, 0, fmt.Errorf("%w: op %s: %s %v: spatial entries must be in [1, 2^31)", ErrAttr, n.Op, name, v)
	}
	return int(v[1]), int(v[2]), nil
}

// nnPaddingAttrs reads padding and explicit_paddings (NHWC), as TF's
// CheckValidPadding validates them.
func nnPaddingAttrs(n *Node, a *nnWindowAttrs, allowExplicit bool) error {
	p, err := AttrString(n, "padding", "")
	if err != nil {
		return err
	}
	ep, err := AttrInts(n, "explicit_paddings", nil)
	if err != nil {
		return err
	}
	switch p {
	case nnPadSame, nnPadValid:
		if len(ep) != 0 {
			return fmt.Errorf("%w: op %s: explicit_paddings must be empty unless padding is EXPLICIT, got %v", ErrAttr, n.Op, ep)
		}
	case nnPadExplicit:
		if !allowExplicit {
			return fmt.Errorf("%w: op %s: padding EXPLICIT is not supported (expected SAME or VALID)", ErrAttr, n.Op)
		}
		if len(ep) != 8 {
			return fmt.Errorf("%w: op %s: explicit_paddings must have 8 entries, got %v", ErrAttr, n.Op, ep)
		}
		for _, v := range ep {
			if v < 0 || v > nnMaxWindowAttr {
				return fmt.Errorf("%w: op %s: explicit_paddings %v: entries must be in [0, 2^31)", ErrAttr, n.Op, ep)
			}
		}
		if ep[0] != 0 || ep[1] != 0 || ep[6] != 0 || ep[7] != 0 {
			return fmt.Errorf("%w: op %s: explicit_paddings %v: nonzero padding in the batch or depth dimension is not supported", ErrAttr, n.Op, ep)
		}
		a.padT, a.padB, a.padL, a.padR = int(ep[2]), int(ep[3]), int(ep[4]), int(ep[5])
	default:
		return fmt.Errorf("%w: op %s: padding %q (expected SAME, VALID or EXPLICIT)", ErrAttr, n.Op, p)
	}
	a.padding = p
	return nil
}

// nnConvAttrs reads the attrs of Conv2D and DepthwiseConv2dNative.
func nnConvAttrs(n *Node) (nnWindowAttrs, error) {
	var a nnWindowAttrs
	if err := nnCheckNHWC(n); err != nil {
		return a, err
	}
	var err error
	if a.strideH, a.strideW, err = nnAttr4(n, "strides", nil); err != nil {
		return a, err
	}
	if a.dilH, a.dilW, err = nnAttr4(n, "dilations", []int64{1, 1, 1, 1}); err != nil {
		return a, err
	}
	if n.Op == "DepthwiseConv2dNative" && a.strideH != a.strideW {
		return a, fmt.Errorf("%w: op %s: strides %d and %d differ: only equal row and column strides are supported", ErrAttr, n.Op, a.strideH, a.strideW)
	}
	return a, nnPaddingAttrs(n, &a, true)
}

// nnWindow returns the output size of one spatial dimension and the padding
// before it, as TF's GetWindowedOutputSizeVerbose computes them (integer
// division truncates toward zero, as in C++).
func nnWindow(op string, in, k, dil, stride int, padding string, padBefore, padAfter int) (out, before int, err error) {
	eff := (k-1)*dil + 1
	switch padding {
	case nnPadValid:
		out = (in - eff + stride) / stride
	case nnPadSame:
		out = (in + stride - 1) / stride
		need := max(0, (out-1)*stride+eff-in)
		before = need / 2
	case nnPadExplicit:
		out = (in + padBefore + padAfter - eff + stride) / stride
		before = padBefore
	}
	if out < 0 {
		return 0, 0, fmt.Errorf("%w: op %s: computed output size would be negative: input size %d, effective window %d, stride %d, padding %s", ErrShape, op, in, eff, stride, padding)
	}
	return out, before, nil
}

func nnWindowPartial(in, k, dil, stride int, a nnWindowAttrs) int {
	if in < 0 || k < 0 {
		return -1
	}
	out, _, err := nnWindow("", in, k, dil, stride, a.padding, a.padT, a.padB)
	if err != nil {
		return -1
	}
	return out
}

func nnInferConv2D(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 2); err != nil {
		return nil, err
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return nil, err
	}
	a, err := nnConvAttrs(n)
	if err != nil {
		return nil, err
	}
	x, f := n.Inputs[0].Shape, n.Inputs[1].Shape
	if (!x.UnknownRank && len(x.Dims) != 4) || (!f.UnknownRank && len(f.Dims) != 4) {
		return nil, fmt.Errorf("%w: op %s: input and filter must be rank 4, got %v and %v", ErrShape, n.Op, x, f)
	}
	if x.UnknownRank {
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	fd := []int{-1, -1, -1, -1}
	if !f.UnknownRank {
		fd = f.Dims
	}
	out := []int{x.Dims[0], -1, -1, -1}
	if fd[0] >= 0 {
		out[1] = nnWindowPartial(x.Dims[1], fd[0], a.dilH, a.strideH, a)
	}
	if fd[1] >= 0 {
		b := a
		b.padT, b.padB = a.padL, a.padR
		out[2] = nnWindowPartial(x.Dims[2], fd[1], a.dilW, a.strideW, b)
	}
	if n.Op == "Conv2D" {
		out[3] = fd[3]
	} else if x.Dims[3] >= 0 && fd[3] >= 0 {
		out[3] = x.Dims[3] * fd[3]
	}
	return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: out}}}, nil
}

// nnBatchRuleNHWC is the rule of convolutions and pools: each image of the batch
// is computed alone (strides and windows are 1 on the batch axis, which the
// builders enforce), so the output is batched iff the input is, provided
// the filter (or window input) is not.
func nnBatchRuleNHWC(n *Node, batched []bool) ([]bool, bool) {
	for i := 1; i < len(batched); i++ {
		if batched[i] {
			return nil, false
		}
	}
	if len(batched) == 0 || !batched[0] {
		return []bool{false}, true
	}
	s := n.Inputs[0].Shape
	if s.UnknownRank || len(s.Dims) != 4 {
		return nil, false
	}
	for _, name := range []string{"strides", "ksize"} {
		if v, ok, err := n.Attrs.Ints(name); ok && (err != nil || len(v) != 4 || v[0] != 1) {
			return nil, false
		}
	}
	return []bool{true}, true
}

// nnConvShape is the geometry of one Conv2D or depthwise call.
type nnConvShape struct {
	n, h, w, c     int // input
	kh, kw, fc, fo int // filter
	oh, ow, od     int // output
	padT, padL     int
}

func nnConvGeometry(op string, a nnWindowAttrs, xs, fs tensor.Shape) (g nnConvShape, err error) {
	if len(xs) != 4 || len(fs) != 4 {
		// Copies, so that xs and fs (often a caller's literal) do not escape.
		return g, fmt.Errorf("%w: op %s: input and filter must be rank 4, got %v and %v", ErrShape, op, xs.Clone(), fs.Clone())
	}
	g.n, g.h, g.w, g.c = xs[0], xs[1], xs[2], xs[3]
	g.kh, g.kw, g.fc, g.fo = fs[0], fs[1], fs[2], fs[3]
	if g.oh, g.padT, err = nnWindow(op, g.h, g.kh, a.dilH, a.strideH, a.padding, a.padT, a.padB); err != nil {
		return g, err
	}
	if g.ow, g.padL, err = nnWindow(op, g.w, g.kw, a.dilW, a.strideW, a.padding, a.padL, a.padR); err != nil {
		return g, err
	}
	return g, nil
}

// nnConvDType checks a convolution's dtype.
func nnConvDType(n *Node, allowInt bool) (tensor.DType, error) {
	if err := NeedInputs(n, 2); err != nil {
		return tensor.Invalid, err
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return tensor.Invalid, err
	}
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16, tensor.Float64:
		return dt, nil
	case tensor.Int32:
		if allowInt {
			return dt, nil
		}
	}
	supported := "float32, float64, float16, bfloat16"
	if allowInt {
		supported += ", int32"
	}
	return tensor.Invalid, fmt.Errorf("%w: op %s: dtype %s not supported (supported: %s)", ErrDType, n.Op, dt, supported)
}

// nnConv2D is Conv2D for one element type. When the filter is a
// constant it is packed once, at build: for the GEMM (packed, one per
// group) or, for float32 convolutions that take the direct path, for the
// convolution tile (direct).
type nnConv2D[T nnGemmNum] struct {
	dt          tensor.DType
	a           nnWindowAttrs
	packed      [][]T
	direct      []float32
	packedShape tensor.Shape
	packedIn    int // input depth the packing assumed
}

func nnBuildConv2D(n *Node) (Kernel, error) {
	dt, err := nnConvDType(n, true)
	if err != nil {
		return nil, err
	}
	a, err := nnConvAttrs(n)
	if err != nil {
		return nil, err
	}
	if _, err := nnInferConv2D(n); err != nil {
		return nil, err
	}
	switch dt {
	case tensor.Float64:
		return nnNewConv2D[float64](n, dt, a), nil
	case tensor.Int32:
		return nnNewConv2D[int32](n, dt, a), nil
	}
	return nnNewConv2D[float32](n, dt, a), nil
}

func nnNewConv2D[T nnGemmNum](n *Node, dt tensor.DType, a nnWindowAttrs) *nnConv2D[T] {
	k := &nnConv2D[T]{dt: dt, a: a}
	f := n.Inputs[1].Const
	x := n.Inputs[0].Shape
	if f == nil || f.Rank() != 4 || f.DType().Base() != dt || x.UnknownRank || len(x.Dims) != 4 || x.Dims[3] <= 0 {
		return k
	}
	fs := f.Shape()
	if fs[2] <= 0 || x.Dims[3]%fs[2] != 0 || fs.Size() == 0 {
		return k
	}
	groups := x.Dims[3] / fs[2]
	if fs[3]%groups != 0 {
		return k
	}
	kk, og := fs[0]*fs[1]*fs[2], fs[3]/groups
	fd := tensor.As[T](f)
	ow := -1
	if x.Dims[2] >= 0 {
		b := a
		b.padT, b.padB = a.padL, a.padR
		ow = nnWindowPartial(x.Dims[2], fs[1], a.dilW, a.strideW, b)
	}
	use, maybe := cvUseDirect(a, fs, groups, ow)
	fd32, is32 := any(fd).([]float32)
	use, maybe = use && is32, maybe && is32
	if maybe {
		// Packed for the direct path, and for the GEMM too when the
		// choice waits for the input's width.
		k.direct = make([]float32, cvPackedLen(cvArchF32, kk, og))
		cvPackFilter(cvArchF32, kk, og, fd32, fs[3], k.direct)
	}
	if !use {
		for g := 0; g < groups; g++ {
			p := make([]T, nnPackBLen(kk, og))
			nnPackB(&Ctx{}, kk, og, fd[g*og:], fs[3], false, p)
			k.packed = append(k.packed, p)
		}
	}
	k.packedShape = fs.Clone()
	k.packedIn = x.Dims[3]
	return k
}

// cvPlain1x1 tells whether a convolution is a plain product: a 1×1
// filter, stride 1, no padding.
func cvPlain1x1(a nnWindowAttrs, kh, kw int) bool {
	return kh == 1 && kw == 1 && a.strideH == 1 && a.strideW == 1 && a.padT == 0 && a.padB == 0 && a.padL == 0 && a.padR == 0
}

// nnConvBlockElems bounds the im2col rows a worker builds at a time.
const nnConvBlockElems = 1 << 16

func (kn *nnConv2D[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return kn.runFused(ctx, in, nnEpilogue[T]{}, nil)
}

// runFused is Run with an epilogue: ep as the GEMM stores each output,
// then post, when not nil, on blocks of whole output pixels (v is
// out[off:off+len(v)]).
func (kn *nnConv2D[T]) runFused(ctx *Ctx, in []*tensor.Tensor, ep nnEpilogue[T], post func(v []T, off int)) ([]*tensor.Tensor, error) {
	x, f := in[0], in[1]
	g, err := nnConvGeometry("Conv2D", kn.a, x.Shape(), f.Shape())
	if err != nil {
		return nil, err
	}
	// Checks in TF's order: depth, then (once the output is known to be
	// non-empty and the input too) filter size and groups.
	if g.fc <= 0 || g.c%g.fc != 0 {
		return nil, fmt.Errorf("%w: op Conv2D: input depth %d must be a multiple of the filter depth %d (> 0)", ErrShape, g.c, g.fc)
	}
	out, err := ctx.Alloc(kn.dt, tensor.Shape{g.n, g.oh, g.ow, g.fo})
	if err != nil {
		return nil, err
	}
	od := tensor.As[T](out)
	if len(od) == 0 {
		return ctx.Out(out), nil
	}
	xd, fd := tensor.As[T](x), tensor.As[T](f)
	groups := g.c / g.fc
	switch {
	case len(xd) != 0 && len(fd) == 0:
		err = fmt.Errorf("%w: op Conv2D: filter must not have zero elements, got shape %v", ErrShape, f.Shape())
	case len(xd) != 0 && g.fo%groups != 0:
		err = fmt.Errorf("%w: op Conv2D: output depth %d must be a multiple of the number of groups %d", ErrShape, g.fo, groups)
	}
	if err != nil {
		out.Release()
		return nil, err
	}
	if len(xd) == 0 {
		// Only padding: the epilogue of zeros.
		clear(od)
		cvEpilogueOnly(ctx, od, g.fo, ep, post)
		return ctx.Out(out), nil
	}
	og := g.fo / groups
	kk := g.kh * g.kw * g.fc
	sameFilter := f.Shape().Equal(kn.packedShape) && g.c == kn.packedIn
	pixels := g.n * g.oh * g.ow
	if fd32, ok := any(fd).([]float32); ok && cvUseDirectNow(kn.a, f.Shape(), groups, g.ow) && cvDirectFits(cvArchF32, g, kn.a, len(xd)) {
		pb := kn.direct
		if pb == nil || !sameFilter {
			buf, release := nnScratch[float32](ctx, cvPackedLen(cvArchF32, kk, og))
			defer release.Release()
			cvPackFilter(cvArchF32, kk, og, fd32, g.fo, buf)
			pb = buf
		}
		ep32, _ := any(ep).(nnEpilogue[float32])
		post32, _ := any(post).(func([]float32, int))
		cvConvDirect(cvArchF32, ctx, g, kn.a, tensor.As[float32](x), pb, tensor.As[float32](out), ep32, post32)
	} else {
		packed := kn.packed
		if packed == nil || !sameFilter {
			packed = make([][]T, groups)
			for gi := range packed {
				buf, release := nnScratch[T](ctx, nnPackBLen(kk, og))
				defer release.Release()
				nnPackB(ctx, kk, og, fd[gi*og:], g.fo, false, buf)
				packed[gi] = buf
			}
		}
		if groups == 1 && cvPlain1x1(kn.a, g.kh, g.kw) {
			// A 1×1 convolution without stride or padding is a plain product.
			nnGemmEp(ctx, pixels, g.fo, g.c, xd, g.c, false, nil, 0, false, packed[0], od, g.fo, ep)
			if post != nil {
				cvConvPost(ctx, od, g.fo, post)
			}
		} else {
			kn.im2colGemm(ctx, g, groups, og, kk, xd, packed, od, ep, post)
		}
	}
	if err := ctx.Err(); err != nil {
		out.Release()
		return nil, err
	}
	return ctx.Out(out), nil
}

// cvUseDirectNow is cvUseDirect once the output width is known.
func cvUseDirectNow(a nnWindowAttrs, fs tensor.Shape, groups, ow int) bool {
	use, _ := cvUseDirect(a, fs, groups, ow)
	return use
}

// cvConvPost runs post over od in blocks of whole pixels of depth
// channels, split between workers.
func cvConvPost[T nnGemmNum](ctx *Ctx, od []T, depth int, post func(v []T, off int)) {
	pixels := len(od) / depth
	const block = 1 << 12 // elements
	step := max(1, block/depth)
	ctx.Parallel((pixels+step-1)/step, 1, func(lo, hi int) {
		p0, p1 := lo*step, min(hi*step, pixels)
		post(od[p0*depth:p1*depth], p0*depth)
	})
}

// cvEpilogueOnly applies ep and post to od (depth channels), which
// holds products of nothing (zeros).
func cvEpilogueOnly[T nnGemmNum](ctx *Ctx, od []T, depth int, ep nnEpilogue[T], post func(v []T, off int)) {
	if ef := ep.flags(); ef != 0 {
		for i := range od {
			od[i] = nnEpilogueOne(od[i], i%depth, ef, ep.Bias)
		}
	}
	if post != nil {
		cvConvPost(ctx, od, depth, post)
	}
}

// im2colGemm computes the convolution in blocks of output pixels: each
// block's receptive fields are copied into rows, which the GEMM multiplies
// by the packed filter of each group.
func (kn *nnConv2D[T]) im2colGemm(ctx *Ctx, g nnConvShape, groups, og, kk int, xd []T, packed [][]T, od []T, ep nnEpilogue[T], post func(v []T, off int)) {
	pixels := g.n * g.oh * g.ow
	// Blocks of whole row panels of the GEMM's tile.
	mr := nnArchOf[T]().mr
	rows := max(mr, nnConvBlockElems/kk/mr*mr)
	// Enough blocks to share between workers.
	rows = min(rows, max(mr, (pixels+7)/8+mr-1)/mr*mr)
	blocks := (pixels + rows - 1) / rows
	j := nnIm2colJob[T]{kn: kn, ctx: ctx, g: g, groups: groups, og: og, kk: kk, rows: rows, pixels: pixels, xd: xd, packed: packed, od: od, ep: ep, post: post}
	j.inner = *ctx
	j.inner.Par = nil
	ParallelJob(ctx, blocks, 1, j)
}

// nnIm2colJob computes blocks [lo, hi) of rows output pixels of
// im2colGemm, each block's GEMM inline (on inner, a Ctx that does not
// split).
type nnIm2colJob[T nnGemmNum] struct {
	kn                           *nnConv2D[T]
	ctx                          *Ctx
	inner                        Ctx
	g                            nnConvShape
	groups, og, kk, rows, pixels int
	xd, od                       []T
	packed                       [][]T
	ep                           nnEpilogue[T]
	post                         func(v []T, off int)
}

func (j *nnIm2colJob[T]) Chunk(lo, hi int) {
	g, rows, kk, og, ep := &j.g, j.rows, j.kk, j.og, j.ep
	col, release := nnScratch[T](j.ctx, rows*kk)
	defer release.Release()
	for b := lo; b < hi; b++ {
		if j.ctx.Err() != nil {
			return
		}
		p0 := b * rows
		np := min(rows, j.pixels-p0)
		for gi := 0; gi < j.groups; gi++ {
			nnIm2col(*g, j.kn.a, j.xd, gi*g.fc, p0, np, col)
			gep := ep
			if len(ep.Bias) > 0 {
				gep.Bias = ep.Bias[gi*og:]
			}
			nnGemmEp(&j.inner, np, og, kk, col, kk, false, nil, 0, false, j.packed[gi], j.od[p0*g.fo+gi*og:], g.fo, gep)
		}
		if j.post != nil {
			j.post(j.od[p0*g.fo:(p0+np)*g.fo], p0*g.fo)
		}
	}
}

// nnIm2col writes, for output pixels [p0, p0+np), the receptive field of
// channels [c0, c0+g.fc) as rows of col, in (kh, kw, c) order; positions in
// the padding are zeros.
func nnIm2col[T nnGemmNum](g nnConvShape, a nnWindowAttrs, xd []T, c0, p0, np int, col []T) {
	kk := g.kh * g.kw * g.fc
	for p := p0; p < p0+np; p++ {
		ow := p % g.ow
		oh := p / g.ow % g.oh
		n := p / (g.ow * g.oh)
		row := col[(p-p0)*kk:][:kk]
		for kh := 0; kh < g.kh; kh++ {
			ih := oh*a.strideH - g.padT + kh*a.dilH
			seg := row[kh*g.kw*g.fc:][:g.kw*g.fc]
			if ih < 0 || ih >= g.h {
				clear(seg)
				continue
			}
			base := (n*g.h + ih) * g.w
			for kw := 0; kw < g.kw; kw++ {
				iw := ow*a.strideW - g.padL + kw*a.dilW
				dst := seg[kw*g.fc:][:g.fc]
				if iw < 0 || iw >= g.w {
					clear(dst)
					continue
				}
				copy(dst, xd[(base+iw)*g.c+c0:][:g.fc])
			}
		}
	}
}

// Depthwise convolution.

// nnDepthwise is DepthwiseConv2dNative for one float type: out[.., c*m+j] =
// Σ_{kh,kw} in[.., c]·f[kh, kw, c, j], summed over (kh, kw) in order.
// Padding positions contribute 0·f, as in TF's kernel, which multiplies a
// zero-padded copy of the input.
//
// Float32 with multiplier 1 and a finite filter runs the channel-vector
// kernel of cvArch (depthwise.go), which skips the padding taps instead:
// with a finite filter 0·f adds ±0 to a sum that starts at +0 and so
// never is -0, which leaves it unchanged, so the results are the same.
type nnDepthwise[T float32 | float64] struct {
	dt tensor.DType
	a  nnWindowAttrs
	// filterFinite is 1 when the filter is a constant without Inf or NaN,
	// -1 when it is a constant with some, 0 when it is not a constant.
	filterFinite int8
}

func nnBuildDepthwise(n *Node) (Kernel, error) {
	dt, err := nnConvDType(n, false)
	if err != nil {
		return nil, err
	}
	a, err := nnConvAttrs(n)
	if err != nil {
		return nil, err
	}
	if _, err := nnInferConv2D(n); err != nil {
		return nil, err
	}
	var finite int8
	if f := n.Inputs[1].Const; f != nil && f.DType().Base() == dt.Base() {
		finite = -1
		if dt == tensor.Float64 && cvAllFinite(tensor.As[float64](f)) || dt != tensor.Float64 && cvAllFinite(tensor.As[float32](f)) {
			finite = 1
		}
	}
	if dt == tensor.Float64 {
		return &nnDepthwise[float64]{dt: dt, a: a, filterFinite: finite}, nil
	}
	return &nnDepthwise[float32]{dt: dt, a: a, filterFinite: finite}, nil
}

// cvAllFinite tells whether no element of v is Inf or NaN.
func cvAllFinite[T float32 | float64](v []T) bool {
	for _, x := range v {
		if x-x != 0 {
			return false
		}
	}
	return true
}

func (kn *nnDepthwise[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return kn.runFused(ctx, in, nnEpilogue[T]{}, nil)
}

// runFused is Run with an epilogue: ep as each output is stored, then
// post, when not nil, on blocks of whole output pixels (v is
// out[off:off+len(v)]).
func (kn *nnDepthwise[T]) runFused(ctx *Ctx, in []*tensor.Tensor, ep nnEpilogue[T], post func(v []T, off int)) ([]*tensor.Tensor, error) {
	x, f := in[0], in[1]
	g, err := nnConvGeometry("DepthwiseConv2dNative", kn.a, x.Shape(), f.Shape())
	if err != nil {
		return nil, err
	}
	if g.fc != g.c {
		return nil, fmt.Errorf("%w: op DepthwiseConv2dNative: input and filter must have the same depth: %d vs %d", ErrShape, g.c, g.fc)
	}
	mult := g.fo
	depth, ok := tensor.CheckedMul(g.c, mult)
	if !ok {
		return nil, fmt.Errorf("%w: op DepthwiseConv2dNative: output depth %d×%d overflows", ErrLimit, g.c, mult)
	}
	if len(ep.Bias) > 0 && len(ep.Bias) < depth {
		return nil, fmt.Errorf("%w: op DepthwiseConv2dNative: bias has %d elements, expected %d", ErrShape, len(ep.Bias), depth)
	}
	out, err := ctx.Alloc(kn.dt, tensor.Shape{g.n, g.oh, g.ow, depth})
	if err != nil {
		return nil, err
	}
	od := tensor.As[T](out)
	if len(od) == 0 {
		return ctx.Out(out), nil
	}
	xd, fd := tensor.As[T](x), tensor.As[T](f)
	fast := mult == 1 && (kn.filterFinite == 1 || kn.filterFinite == 0 && cvAllFinite(fd))
	if xd32, ok := any(xd).([]float32); ok && fast {
		ep32, _ := any(ep).(nnEpilogue[float32])
		post32, _ := any(post).(func([]float32, int))
		cvDepthwise(cvArchF32, ctx, g, kn.a, xd32, tensor.As[float32](f), tensor.As[float32](out), ep32, post32)
	} else {
		kn.generic(ctx, g, xd, fd, od, ep, post)
	}
	if err := ctx.Err(); err != nil {
		out.Release()
		return nil, err
	}
	return ctx.Out(out), nil
}

// generic is the portable depthwise loop for any multiplier, multiplying
// the padding's zeros.
func (kn *nnDepthwise[T]) generic(ctx *Ctx, g nnConvShape, xd, fd, od []T, ep nnEpilogue[T], post func(v []T, off int)) {
	a := kn.a
	mult := g.fo
	depth := g.c * mult
	ef := ep.flags()
	rowWork := max(1, g.ow*g.kh*g.kw*depth)
	ctx.Parallel(g.n*g.oh, max(1, nnGemmGrain/rowWork), func(lo, hi int) {
		zeros, release := nnScratch[T](ctx, g.c)
		defer release.Release()
		clear(zeros)
		for r := lo; r < hi; r++ {
			if (r-lo)%64 == 63 && ctx.Err() != nil {
				return
			}
			n, oh := r/g.oh, r%g.oh
			for ow := 0; ow < g.ow; ow++ {
				acc := od[((r)*g.ow+ow)*depth:][:depth]
				clear(acc)
				for kh := 0; kh < g.kh; kh++ {
					ih := oh*a.strideH - g.padT + kh*a.dilH
					for kw := 0; kw < g.kw; kw++ {
						iw := ow*a.strideW - g.padL + kw*a.dilW
						src := zeros
						if ih >= 0 && ih < g.h && iw >= 0 && iw < g.w {
							src = xd[((n*g.h+ih)*g.w+iw)*g.c:][:g.c]
						}
						fo := fd[(kh*g.kw+kw)*depth:][:depth]
						if mult == 1 {
							nnMulAdd(acc, src, fo)
							continue
						}
						for c, v := range src {
							nnAxpy(acc[c*mult:][:mult], v, fo[c*mult:][:mult])
						}
					}
				}
				if ef != 0 {
					for c, v := range acc {
						acc[c] = nnEpilogueOne(v, c, ef, ep.Bias)
					}
				}
			}
			if post != nil {
				row := od[r*g.ow*depth : (r+1)*g.ow*depth]
				post(row, r*g.ow*depth)
			}
		}
	})
}

// nnMulAdd sets acc[i] += x[i]·y[i].
func nnMulAdd[T float32 | float64](acc, x, y []T) {
	x = x[:len(acc)]
	y = y[:len(acc)]
	for i := range acc {
		acc[i] += x[i] * y[i]
	}
}

// nnAxpy sets acc[i] += a·y[i].
func nnAxpy[T float32 | float64](acc []T, a T, y []T) {
	y = y[:len(acc)]
	for i := range acc {
		acc[i] += a * y[i]
	}
}
