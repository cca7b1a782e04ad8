package ops

import (
	"fmt"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/tfdgo/tfd/tensor"
)

// Fast Fourier transforms over the innermost 1, 2 or 3 dimensions, as
// tensorflow/core/kernels/fft_ops.cc defines them:
//
//   - FFT, FFT2D, FFT3D and their inverses IFFT… map complex64 (complex128)
//     to the same dtype and shape; the inverses divide by the number of
//     points, the forward transforms are unnormalized;
//   - RFFT… take a real input and fft_length (int32, one length per
//     transformed dimension); each transformed input dimension is cropped
//     to its length (it must not be shorter, unless the input is empty)
//     and the innermost output dimension holds the fft_length/2+1
//     non-negative frequencies (0 for a zero length);
//   - IRFFT… take the complex half spectrum (innermost dimension cropped to
//     fft_length/2+1, the others to fft_length) and return a real tensor of
//     fft_length points, treating the spectrum as Hermitian: the imaginary
//     parts of the zero frequency (and, for even lengths, of the Nyquist
//     frequency) are ignored;
//   - an empty input gives zeros of the output shape.
//
// The 1-D transforms are gonum's (a port of FFTPACK, any length), computed
// in float64 and rounded once for complex64 and float32.

func init() {
	for _, f := range []struct {
		name          string
		rank          int
		forward, real bool
	}{
		{"FFT", 1, true, false}, {"IFFT", 1, false, false},
		{"FFT2D", 2, true, false}, {"IFFT2D", 2, false, false},
		{"FFT3D", 3, true, false}, {"IFFT3D", 3, false, false},
		{"RFFT", 1, true, true}, {"IRFFT", 1, false, true},
		{"RFFT2D", 2, true, true}, {"IRFFT2D", 2, false, true},
		{"RFFT3D", 3, true, true}, {"IRFFT3D", 3, false, true},
	} {
		f := f
		dir := "forward"
		if !f.forward {
			dir = "inverse"
		}
		doc := fmt.Sprintf("%s complex discrete Fourier transform over the innermost %d dimension(s)", dir, f.rank)
		if f.real {
			doc = fmt.Sprintf("%s real discrete Fourier transform over the innermost %d dimension(s) (input fft_length)", dir, f.rank)
		}
		Default().Register(Spec{
			Name:  f.name,
			Doc:   doc,
			Infer: func(n *Node) ([]Value, error) { return fftInfer(n, f.rank, f.forward, f.real) },
			Build: func(n *Node) (Kernel, error) { return fftBuild(n, f.rank, f.forward, f.real) },
			Batch: fftBatchRule(f.rank),
		})
	}
}

// fftBatchRule allows batch slicing when axis 0 is not transformed.
func fftBatchRule(rank int) BatchFunc {
	return func(n *Node, batched []bool) ([]bool, bool) {
		if len(batched) > 1 && batched[1] {
			return nil, false
		}
		if len(batched) == 0 || !batched[0] {
			return []bool{false}, true
		}
		s := n.Inputs[0].Shape
		if s.UnknownRank || len(s.Dims) <= rank {
			return nil, false
		}
		return []bool{true}, true
	}
}

// fftTypes returns the input and output dtypes of a transform.
func fftTypes(n *Node, forward, real bool) (in, out tensor.DType, err error) {
	want := 1
	if real {
		want = 2
	}
	if err := NeedInputs(n, want); err != nil {
		return 0, 0, fmt.Errorf("op %s: %w", n.Op, err)
	}
	cdt, err := cplxOptType(n, "Tcomplex", tensor.Complex64)
	if err != nil {
		return 0, 0, err
	}
	if !real {
		if d := n.Inputs[0].DType.Base(); d != tensor.Invalid {
			cdt = d
		}
		if !cdt.IsComplex() {
			return 0, 0, fmt.Errorf("%w: op %s: dtype %s not supported (supported: complex64, complex128)", ErrDType, n.Op, cdt)
		}
		return cdt, cdt, nil
	}
	rdt, err := cplxOptType(n, "Treal", tensor.Float32)
	if err != nil {
		return 0, 0, err
	}
	in, out = rdt, cdt
	if !forward {
		in, out = cdt, rdt
	}
	if d := n.Inputs[0].DType.Base(); d != tensor.Invalid && d != in {
		return 0, 0, fmt.Errorf("%w: op %s: input is %s, expected %s", ErrDType, n.Op, d, in)
	}
	if !cdt.IsComplex() || cplxRealOf(cdt) != rdt {
		return 0, 0, fmt.Errorf("%w: op %s: Treal %s and Tcomplex %s do not pair (supported: float32 with complex64, float64 with complex128)", ErrDType, n.Op, rdt, cdt)
	}
	return in, out, nil
}

// fftLengths reads fft_length, which must hold rank non-negative values.
func fftLengths(op string, t *tensor.Tensor, rank int) ([]int, error) {
	v, err := nnIntValues(op, "fft_length", t)
	if err != nil {
		return nil, err
	}
	if t.Rank() != 1 || len(v) != rank {
		return nil, fmt.Errorf("%w: op %s: fft_length must have shape [%d], got %v", ErrShape, op, rank, t.Shape())
	}
	for i, x := range v {
		if x < 0 {
			return nil, fmt.Errorf("%w: op %s: fft_length[%d] must be >= 0, got %d", ErrShape, op, i, x)
		}
	}
	return v, nil
}

// fftOutShape returns the output shape and the transform lengths for an
// input shape, checking the input dimensions against fft_length.
func fftOutShape(op string, rank int, forward, real bool, in tensor.Shape, lengths []int) (tensor.Shape, []int, error) {
	if len(in) < rank {
		return nil, nil, fmt.Errorf("%w: op %s: input must have rank of at least %d, got %v", ErrShape, op, rank, in)
	}
	out := in.Clone()
	base := len(in) - rank
	if !real {
		return out, append([]int(nil), in[base:]...), nil
	}
	empty := in.Size() == 0
	for i, l := range lengths {
		inner := i == rank-1
		need := l
		if !forward && inner {
			need = l/2 + 1
		}
		if !empty && in[base+i] < need {
			return nil, nil, fmt.Errorf("%w: op %s: input dimension %d must have length of at least %d, got %d", ErrShape, op, base+i, need, in[base+i])
		}
		d := l
		if forward && inner && l != 0 {
			d = l/2 + 1
		}
		out[base+i] = d
	}
	return out, lengths, nil
}

func fftInfer(n *Node, rank int, forward, real bool) ([]Value, error) {
	_, out, err := fftTypes(n, forward, real)
	if err != nil {
		return nil, err
	}
	s := n.Inputs[0].Shape
	if !real {
		return []Value{{DType: out, Shape: s}}, nil
	}
	if s.UnknownRank {
		return []Value{{DType: out, Shape: tensor.UnknownShape()}}, nil
	}
	if len(s.Dims) < rank {
		return nil, fmt.Errorf("%w: op %s: input must have rank of at least %d, got %d", ErrShape, n.Op, rank, len(s.Dims))
	}
	dims := append([]int(nil), s.Dims...)
	base := len(dims) - rank
	for i := base; i < len(dims); i++ {
		dims[i] = -1
	}
	if c := n.Inputs[1].Const; c != nil {
		lengths, err := fftLengths(n.Op, c, rank)
		if err != nil {
			return nil, err
		}
		for i, l := range lengths {
			if forward && i == rank-1 && l != 0 {
				l = l/2 + 1
			}
			dims[base+i] = l
		}
	}
	return []Value{{DType: out, Shape: tensor.PartialShape{Dims: dims}}}, nil
}

type fftKernel struct {
	op            string
	rank          int
	forward, real bool
	in, out       tensor.DType
}

func fftBuild(n *Node, rank int, forward, real bool) (Kernel, error) {
	in, out, err := fftTypes(n, forward, real)
	if err != nil {
		return nil, err
	}
	if _, err := fftInfer(n, rank, forward, real); err != nil {
		return nil, err
	}
	return &fftKernel{op: n.Op, rank: rank, forward: forward, real: real, in: in, out: out}, nil
}

func (k *fftKernel) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	want := 1
	if k.real {
		want = 2
	}
	if len(in) != want {
		return nil, fmt.Errorf("%w: op %s: expected %d inputs, got %d", ErrShape, k.op, want, len(in))
	}
	x := in[0]
	if x.DType() != k.in {
		return nil, fmt.Errorf("%w: op %s: input is %s, expected %s", ErrDType, k.op, x.DType(), k.in)
	}
	var lengths []int
	if k.real {
		var err error
		if lengths, err = fftLengths(k.op, in[1], k.rank); err != nil {
			return nil, err
		}
	}
	xs := x.Shape()
	os, lengths, err := fftOutShape(k.op, k.rank, k.forward, k.real, xs, lengths)
	if err != nil {
		return nil, err
	}
	out, err := ctx.Zeros(k.out, os)
	if err != nil {
		return nil, err
	}
	if xs.Size() == 0 || os.Size() == 0 {
		return []*tensor.Tensor{out}, nil
	}
	base := len(xs) - k.rank
	batch := 1
	for _, d := range xs[:base] {
		batch *= d
	}
	inBlock, outBlock := 1, 1
	for i := base; i < len(xs); i++ {
		inBlock *= xs[i]
		outBlock *= os[i]
	}
	// work holds one block as the transform sees it: the transformed
	// lengths, with the innermost halved (n/2+1) for the real transforms.
	work := append([]int(nil), lengths...)
	if k.real {
		work[k.rank-1] = lengths[k.rank-1]/2 + 1
	}
	workSize := 1
	points := 1
	for i, w := range work {
		workSize *= w
		points *= lengths[i]
	}
	var (
		src  []float64    // real input (forward real transforms)
		srcC []complex128 // complex input
		dst  []complex128 // complex output
		res  []float64    // real output (inverse real transforms)
	)
	switch d := x.Data().(type) {
	case []complex64:
		srcC = make([]complex128, len(d))
		for i, z := range d {
			srcC[i] = complex128(z)
		}
	case []complex128:
		srcC = d
	default:
		src = x.Float64s()
	}
	if k.real && !k.forward {
		res = make([]float64, batch*outBlock)
	} else {
		dst = make([]complex128, batch*outBlock)
	}
	grain := max(1, (1<<16)/max(1, workSize))
	ctx.Parallel(batch, grain, func(lo, hi int) {
		f := &fftWorker{c: map[int]*fourier.CmplxFFT{}}
		buf := make([]complex128, workSize)
		for b := lo; b < hi; b++ {
			if (b-lo)%64 == 63 && ctx.Err() != nil {
				return
			}
			switch {
			case !k.real:
				fftGather(buf, work, srcC[b*inBlock:], xs[base:])
				for ax := k.rank - 1; ax >= 0; ax-- {
					f.axis(buf, work, ax, k.forward)
				}
				if !k.forward {
					s := complex(1/float64(points), 0)
					for i := range buf {
						buf[i] *= s
					}
				}
				copy(dst[b*outBlock:], buf)
			case k.forward:
				f.realForward(buf, work, lengths, src[b*inBlock:], xs[base:])
				for ax := k.rank - 2; ax >= 0; ax-- {
					f.axis(buf, work, ax, true)
				}
				copy(dst[b*outBlock:], buf)
			default:
				fftGather(buf, work, srcC[b*inBlock:], xs[base:])
				for ax := k.rank - 2; ax >= 0; ax-- {
					f.axis(buf, work, ax, false)
				}
				f.realInverse(res[b*outBlock:(b+1)*outBlock], buf, work, lengths, 1/float64(points))
			}
		}
	})
	if err := ctx.Err(); err != nil {
		out.Release()
		return nil, err
	}
	switch o := out.Data().(type) {
	case []complex64:
		for i, z := range dst {
			o[i] = complex64(z)
		}
	case []complex128:
		copy(o, dst)
	case []float32:
		for i, v := range res {
			o[i] = float32(v)
		}
	case []float64:
		copy(o, res)
	}
	return []*tensor.Tensor{out}, nil
}

// fftGather copies the leading work[0]×…×work[r-1] corner of a block of
// shape dims (row-major, each dims[i] ≥ work[i]) into buf.
func fftGather(buf []complex128, work []int, src []complex128, dims []int) {
	fftCorner(work, dims, func(bi, si int) { buf[bi] = src[si] })
}

// fftCorner calls fn(work offset, block offset) for every element of the
// work-shaped corner of a block of shape dims, the innermost dimension in
// runs.
func fftCorner(work, dims []int, fn func(bi, si int)) {
	r := len(work)
	idx := make([]int, r)
	inner := work[r-1]
	rows := 1
	for _, w := range work[:r-1] {
		rows *= w
	}
	for row := 0; row < rows; row++ {
		si := 0
		for i := 0; i < r-1; i++ {
			si = si*dims[i] + idx[i]
		}
		si *= dims[r-1]
		for j := 0; j < inner; j++ {
			fn(row*inner+j, si+j)
		}
		for i := r - 2; i >= 0; i-- {
			idx[i]++
			if idx[i] < work[i] {
				break
			}
			idx[i] = 0
		}
	}
}

// fftWorker holds the gonum plans and scratch of one worker.
type fftWorker struct {
	c    map[int]*fourier.CmplxFFT
	r    *fourier.FFT
	line []complex128
}

func (f *fftWorker) plan(n int) *fourier.CmplxFFT {
	p, ok := f.c[n]
	if !ok {
		p = fourier.NewCmplxFFT(n)
		f.c[n] = p
	}
	return p
}

// axis transforms buf (shape work) along axis ax, unnormalized.
func (f *fftWorker) axis(buf []complex128, work []int, ax int, forward bool) {
	n := work[ax]
	if n <= 1 {
		return
	}
	stride := 1
	for _, w := range work[ax+1:] {
		stride *= w
	}
	outer := len(buf) / (n * stride)
	p := f.plan(n)
	if cap(f.line) < n {
		f.line = make([]complex128, n)
	}
	line := f.line[:n]
	for o := 0; o < outer; o++ {
		for s := 0; s < stride; s++ {
			off := o*n*stride + s
			for i := range line {
				line[i] = buf[off+i*stride]
			}
			if forward {
				p.Coefficients(line, line)
			} else {
				p.Sequence(line, line)
			}
			for i, z := range line {
				buf[off+i*stride] = z
			}
		}
	}
}

// realForward fills buf (shape work, innermost n/2+1) with the real
// transforms of the innermost lines of the lengths-shaped corner of src
// (shape dims).
func (f *fftWorker) realForward(buf []complex128, work, lengths []int, src []float64, dims []int) {
	r := len(work)
	n := lengths[r-1]
	h := work[r-1]
	if f.r == nil || f.r.Len() != n {
		f.r = fourier.NewFFT(n)
	}
	seq := make([]float64, n)
	rows := len(buf) / h
	idx := make([]int, r-1)
	for row := 0; row < rows; row++ {
		si := 0
		for i := 0; i < r-1; i++ {
			si = si*dims[i] + idx[i]
		}
		si *= dims[r-1]
		copy(seq, src[si:si+n])
		f.r.Coefficients(buf[row*h:(row+1)*h], seq)
		for i := r - 2; i >= 0; i-- {
			idx[i]++
			if idx[i] < work[i] {
				break
			}
			idx[i] = 0
		}
	}
}

// realInverse writes to dst (shape lengths) the real inverse transforms
// of the innermost half-spectrum lines of buf (shape work), scaled.
func (f *fftWorker) realInverse(dst []float64, buf []complex128, work, lengths []int, scale float64) {
	r := len(work)
	n := lengths[r-1]
	h := work[r-1]
	if f.r == nil || f.r.Len() != n {
		f.r = fourier.NewFFT(n)
	}
	rows := len(buf) / h
	for row := 0; row < rows; row++ {
		out := dst[row*n : (row+1)*n]
		f.r.Sequence(out, buf[row*h:(row+1)*h])
		for i := range out {
			out[i] *= scale
		}
	}
}
