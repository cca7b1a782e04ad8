package ops

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// fftRefDFT is the naive N-d DFT of a row-major block of shape dims
// (sign -1 forward, +1 inverse, unnormalized).
func fftRefDFT(x []complex128, dims []int, sign float64) []complex128 {
	n := len(x)
	out := make([]complex128, n)
	idx := func(flat int) []int {
		v := make([]int, len(dims))
		for i := len(dims) - 1; i >= 0; i-- {
			v[i] = flat % dims[i]
			flat /= dims[i]
		}
		return v
	}
	for k := 0; k < n; k++ {
		kk := idx(k)
		var s complex128
		for j := 0; j < n; j++ {
			jj := idx(j)
			var ph float64
			for a := range dims {
				ph += float64(kk[a]*jj[a]) / float64(dims[a])
			}
			s += x[j] * cmplx.Rect(1, sign*2*math.Pi*ph)
		}
		out[k] = s
	}
	return out
}

// fftRefBatched applies f to each block of size block of x.
func fftRefBatched(x []complex128, block int, f func([]complex128) []complex128) []complex128 {
	var out []complex128
	for b := 0; b*block < len(x); b++ {
		out = append(out, f(x[b*block:(b+1)*block])...)
	}
	return out
}

func fftRandComplex(r *rand.Rand, n int) []complex128 {
	v := make([]complex128, n)
	for i := range v {
		v[i] = complex(r.NormFloat64(), r.NormFloat64())
	}
	return v
}

func fftTensor(dt tensor.DType, shape tensor.Shape, v []complex128) *tensor.Tensor {
	if dt == tensor.Complex128 {
		return tensor.FromSlice(shape, append([]complex128(nil), v...))
	}
	c := make([]complex64, len(v))
	for i, z := range v {
		c[i] = complex64(z)
	}
	return tensor.FromSlice(shape, c)
}

func TestFFTHandComputed(t *testing.T) {
	s := mathS
	// DFT of the unit impulse is all ones; of δ[n-1] (length 4) it is
	// e^{-iπk/2} = 1, -i, -1, i. The inverse divides by 4.
	got := moreMust(t, "FFT", nil, cplx64s(s(2, 4), 1, 0, 0, 0, 0, 1, 0, 0))[0]
	cplxCheck(t, "FFT", got, tensor.Complex64, s(2, 4), []complex128{1, 1, 1, 1, 1, -1i, -1, 1i}, 1e-7)
	got = moreMust(t, "IFFT", nil, cplx128s(s(4), 1, -1i, -1, 1i))[0]
	cplxCheck(t, "IFFT", got, tensor.Complex128, s(4), []complex128{0, 1, 0, 0}, 1e-15)
	// RFFT of [1, 2, 3, 4]: X0 = 10, X1 = 1 - 2i - 3 + 4i = -2+2i, X2 = -2.
	got = moreMust(t, "RFFT", nil, mathF32s(s(4), 1, 2, 3, 4), mathI32s(s(1), 4))[0]
	cplxCheck(t, "RFFT", got, tensor.Complex64, s(3), []complex128{10, -2 + 2i, -2}, 1e-7)
	// Longer inputs are cropped to fft_length.
	got = moreMust(t, "RFFT", nil, mathF32s(s(6), 1, 2, 3, 4, 100, 200), mathI32s(s(1), 4))[0]
	cplxCheck(t, "RFFT cropped", got, tensor.Complex64, s(3), []complex128{10, -2 + 2i, -2}, 1e-7)
	// IRFFT inverts it; the imaginary parts of the zero and Nyquist
	// frequencies are ignored.
	attrs := tensor.Attrs{"Treal": tensor.Float64, "Tcomplex": tensor.Complex128}
	got = moreMust(t, "IRFFT", attrs, cplx128s(s(3), 10+5i, -2+2i, -2+7i), mathI32s(s(1), 4))[0]
	mathCheckClose(t, "IRFFT", got, []float64{1, 2, 3, 4}, 1e-15, 1e-15)
	// Zero-length transforms and empty inputs.
	got = moreMust(t, "RFFT", nil, mathF32s(s(5), 1, 2, 3, 4, 5), mathI32s(s(1), 0))[0]
	if !got.Shape().Equal(s(0)) {
		t.Errorf("RFFT length 0: shape %v", got.Shape())
	}
	got = moreMust(t, "RFFT", nil, mathF32s(s(0)), mathI32s(s(1), 4))[0]
	cplxCheck(t, "RFFT empty input", got, tensor.Complex64, s(3), []complex128{0, 0, 0}, 0)
	got = moreMust(t, "FFT2D", nil, cplx64s(s(2, 0, 3)))[0]
	if !got.Shape().Equal(s(2, 0, 3)) {
		t.Errorf("FFT2D empty: shape %v", got.Shape())
	}
	got = moreMust(t, "FFT", nil, cplx64s(s(1), 2-3i))[0]
	cplxCheck(t, "FFT length 1", got, tensor.Complex64, s(1), []complex128{2 - 3i}, 0)
}

func TestFFTErrors(t *testing.T) {
	s := mathS
	moreWantErr(t, ErrShape, "FFT2D", nil, cplx64s(s(3), 1, 2, 3))
	moreWantErr(t, ErrDType, "FFT", nil, mathF32s(s(2), 1, 2))
	moreWantErr(t, ErrShape, "RFFT", nil, mathF32s(s(3), 1, 2, 3), mathI32s(s(1), 4))
	moreWantErr(t, ErrShape, "RFFT", nil, mathF32s(s(3), 1, 2, 3), mathI32s(s(2), 2, 2))
	moreWantErr(t, ErrShape, "RFFT", nil, mathF32s(s(3), 1, 2, 3), mathI32s(s(1), -1))
	moreWantErr(t, ErrShape, "IRFFT", nil, cplx64s(s(2), 1, 2), mathI32s(s(1), 4))
	moreWantErr(t, ErrDType, "RFFT", tensor.Attrs{"Treal": tensor.Float64}, mathF64s(s(2), 1, 2), mathI32s(s(1), 2))
	moreWantErr(t, ErrDType, "RFFT", nil, mathF64s(s(2), 1, 2), mathI32s(s(1), 2))
}

// TestFFTAgainstNaiveDFT compares every complex transform with the naive
// DFT on random data: batches, odd and prime lengths, both precisions.
func TestFFTAgainstNaiveDFT(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, tt := range []struct {
		op    string
		rank  int
		shape tensor.Shape
	}{
		{"FFT", 1, mathS(3, 7)}, {"IFFT", 1, mathS(2, 12)},
		{"FFT2D", 2, mathS(2, 3, 5)}, {"IFFT2D", 2, mathS(4, 6)},
		{"FFT3D", 3, mathS(2, 3, 2, 5)}, {"IFFT3D", 3, mathS(3, 4, 2)},
	} {
		forward := tt.op[0] == 'F'
		block := 1
		for _, d := range tt.shape[len(tt.shape)-tt.rank:] {
			block *= d
		}
		x := fftRandComplex(r, tt.shape.Size())
		want := fftRefBatched(x, block, func(b []complex128) []complex128 {
			if forward {
				return fftRefDFT(b, tt.shape[len(tt.shape)-tt.rank:], -1)
			}
			y := fftRefDFT(b, tt.shape[len(tt.shape)-tt.rank:], 1)
			for i := range y {
				y[i] /= complex(float64(block), 0)
			}
			return y
		})
		for _, dt := range []tensor.DType{tensor.Complex128, tensor.Complex64} {
			tol := 1e-13
			if dt == tensor.Complex64 {
				tol = 1e-6
			}
			got := moreMust(t, tt.op, tensor.Attrs{"Tcomplex": dt}, fftTensor(dt, tt.shape, x))[0]
			cplxCheck(t, tt.op+" "+dt.String(), got, dt, tt.shape, want, tol)
		}
	}
}

// TestRealFFTAgainstNaiveDFT checks RFFT… against the naive DFT (half of
// the spectrum of the cropped input), IRFFT… against the naive inverse of
// the Hermitian extension of the half spectrum, and the round trip.
func TestRealFFTAgainstNaiveDFT(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for _, tt := range []struct {
		rf, irf string
		rank    int
		inShape tensor.Shape // RFFT input (larger than lengths: cropped)
		lengths []int
	}{
		{"RFFT", "IRFFT", 1, mathS(2, 9), []int{8}},
		{"RFFT", "IRFFT", 1, mathS(3, 7), []int{7}},
		{"RFFT2D", "IRFFT2D", 2, mathS(2, 4, 6), []int{3, 5}},
		{"RFFT2D", "IRFFT2D", 2, mathS(5, 4), []int{5, 4}},
		{"RFFT3D", "IRFFT3D", 3, mathS(2, 3, 4, 3), []int{2, 3, 3}},
	} {
		rf, irf := tt.rf, tt.irf
		lens := make([]int32, len(tt.lengths))
		for i, l := range tt.lengths {
			lens[i] = int32(l)
		}
		lt := tensor.FromSlice(mathS(len(lens)), lens)
		base := len(tt.inShape) - tt.rank
		batch := tt.inShape[:base].Size()
		x := make([]float64, tt.inShape.Size())
		for i := range x {
			x[i] = r.NormFloat64()
		}
		// Reference RFFT: crop, full DFT, keep the first n/2+1 of the last axis.
		h := tt.lengths[tt.rank-1]/2 + 1
		half := append(append(tensor.Shape{}, tt.inShape[:base]...), tt.lengths...)
		half[len(half)-1] = h
		block := 1
		for _, l := range tt.lengths {
			block *= l
		}
		inBlock := tt.inShape[base:].Size()
		var want []complex128
		for b := 0; b < batch; b++ {
			crop := make([]complex128, 0, block)
			fftCorner(tt.lengths, tt.inShape[base:], func(_, si int) { crop = append(crop, complex(x[b*inBlock+si], 0)) })
			full := fftRefDFT(crop, tt.lengths, -1)
			fftCorner(half[base:], tt.lengths, func(_, si int) { want = append(want, full[si]) })
		}
		for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
			cdt, tol := cplxOf(dt), 1e-13
			if dt == tensor.Float32 {
				tol = 1e-5
			}
			in := moreT(dt, tt.inShape, x...)
			if dt == tensor.Float32 {
				for i, v := range tensor.As[float32](in) {
					x[i] = float64(v)
				}
			}
			attrs := tensor.Attrs{"Treal": dt, "Tcomplex": cdt}
			spec := moreMust(t, rf, attrs, in, lt)[0]
			cplxCheck(t, rf+" "+dt.String(), spec, cdt, half, want, tol)

			// Reference IRFFT of a random half spectrum.
			hs := fftRandComplex(r, half.Size())
			back := moreMust(t, irf, attrs, fftTensor(cdt, half, hs), lt)[0]
			outShape := append(append(tensor.Shape{}, tt.inShape[:base]...), tt.lengths...)
			var wantBack []float64
			for b := 0; b < batch; b++ {
				hb := hs[b*half[base:].Size():]
				ext := make([]complex128, block)
				fftCorner(tt.lengths, tt.lengths, func(bi, _ int) {
					idx := fftUnflat(bi, tt.lengths)
					k := idx[tt.rank-1]
					if k < h {
						ext[bi] = hb[fftFlat(idx, half[base:])]
						return
					}
					mirror := make([]int, tt.rank)
					for a, v := range idx {
						mirror[a] = (tt.lengths[a] - v) % tt.lengths[a]
					}
					ext[bi] = cmplx.Conj(hb[fftFlat(mirror, half[base:])])
				})
				y := fftRefDFT(ext, tt.lengths, 1)
				for _, z := range y {
					wantBack = append(wantBack, real(z)/float64(block))
				}
			}
			if back.DType() != dt || !back.Shape().Equal(outShape) {
				t.Fatalf("%s: got %s%v, want %s%v", irf, back.DType(), back.Shape(), dt, outShape)
			}
			mathCheckClose(t, irf+" "+dt.String(), back, wantBack, tol*10, tol)

			// Round trip of the cropped input.
			rt := moreMust(t, irf, attrs, spec, lt)[0]
			var crop []float64
			for b := 0; b < batch; b++ {
				fftCorner(tt.lengths, tt.inShape[base:], func(_, si int) { crop = append(crop, x[b*inBlock+si]) })
			}
			mathCheckClose(t, rf+" round trip "+dt.String(), rt, crop, tol*10, tol*10)
		}
	}
}

func fftUnflat(flat int, dims []int) []int {
	v := make([]int, len(dims))
	for i := len(dims) - 1; i >= 0; i-- {
		v[i] = flat % dims[i]
		flat /= dims[i]
	}
	return v
}

func fftFlat(idx, dims []int) int {
	f := 0
	for i, v := range idx {
		f = f*dims[i] + v
	}
	return f
}
