package ops

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tfdgo/tfd/tensor"
)

// NumPy broadcasting for the element-wise kernels.
//
// A broadcast of k operands is described by mathBcast: the output shape and
// a "coalesced" view of it in which dimensions of size 1 are dropped and
// adjacent dimensions are merged whenever every operand is either full in
// both or broadcast in both. [N,C]+[C] thus becomes a 2-D problem whatever
// the ranks, and [2,3,4]+[2,3,4] a 1-D one. Kernels then walk the output
// row by row (a row is the innermost coalesced dimension) and call tight
// slice loops on each row.

// mathGrain is the number of elements below which element-wise kernels do
// not split their work.
const mathGrain = 16 << 10

// mathBcast is the broadcast of k operand shapes.
type mathBcast struct {
	out     tensor.Shape // broadcast output shape
	n       int          // number of output elements
	dims    []int        // coalesced output dims; empty when n ≤ 1
	strides [][]int      // strides[j][d]: element stride of operand j along dims[d], 0 if broadcast
}

// mathNewBcast broadcasts the shapes as TensorFlow's BCast does: aligned
// from the right, each dimension equal or 1.
func mathNewBcast(op string, shapes ...tensor.Shape) (*mathBcast, error) {
	bc := &mathBcast{}
	if err := bc.init(op, shapes...); err != nil {
		return nil, err
	}
	return bc, nil
}

// init sets bc to the broadcast of shapes (as mathNewBcast), reusing the
// storage of its slices.
func (bc *mathBcast) init(op string, shapes ...tensor.Shape) error {
	r := 0
	for _, s := range shapes {
		r = max(r, len(s))
	}
	dimOf := func(s tensor.Shape, i int) int {
		if j := len(s) - r + i; j >= 0 {
			return s[j]
		}
		return 1
	}
	out := slices.Grow(bc.out[:0], r)[:r]
	for i := range r {
		d := 1
		for _, s := range shapes {
			x := dimOf(s, i)
			switch {
			case x == d || x == 1:
			case d == 1:
				d = x
			default:
				return fmt.Errorf("%w: op %s: incompatible shapes for broadcasting: %s", ErrShape, op, mathShapeList(shapes))
			}
		}
		out[i] = d
	}
	n, err := out.NumElements()
	if err != nil {
		return fmt.Errorf("op %s: %w", op, err)
	}
	bc.out, bc.n, bc.dims = out, n, bc.dims[:0]
	bc.strides = slices.Grow(bc.strides[:0], len(shapes))[:len(shapes)]
	for j := range bc.strides {
		bc.strides[j] = bc.strides[j][:0]
	}
	if n <= 1 {
		return nil
	}
	// Coalesce: pattern bit j is set where operand j is full.
	var patBuf [8]uint64
	pats := patBuf[:0]
	for i := range r {
		if out[i] == 1 {
			continue
		}
		var p uint64
		for j, s := range shapes {
			if dimOf(s, i) == out[i] {
				p |= 1 << uint(j)
			}
		}
		if k := len(bc.dims); k > 0 && pats[k-1] == p {
			bc.dims[k-1] *= out[i]
			continue
		}
		bc.dims = append(bc.dims, out[i])
		pats = append(pats, p)
	}
	for j := range shapes {
		st := slices.Grow(bc.strides[j][:0], len(bc.dims))[:len(bc.dims)]
		acc := 1
		for d := len(bc.dims) - 1; d >= 0; d-- {
			st[d] = 0
			if pats[d]&(1<<uint(j)) != 0 {
				st[d] = acc
				acc *= bc.dims[d]
			}
		}
		bc.strides[j] = st
	}
	return nil
}

func mathShapeList(shapes []tensor.Shape) string {
	parts := make([]string, len(shapes))
	for i, s := range shapes {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

// rowLen is the length of the innermost coalesced dimension.
func (bc *mathBcast) rowLen() int {
	if len(bc.dims) == 0 {
		return bc.n
	}
	return bc.dims[len(bc.dims)-1]
}

// inner returns operand j's stride along the innermost dimension.
func (bc *mathBcast) inner(j int) int {
	if len(bc.dims) == 0 {
		return 0
	}
	return bc.strides[j][len(bc.dims)-1]
}

// rows calls fn for each output row r in [lo, hi) with offs[j] the offset
// of operand j's first element of that row. offs is reused between calls.
func (bc *mathBcast) rows(lo, hi int, fn func(r int, offs []int)) {
	if lo >= hi {
		return
	}
	k := len(bc.strides)
	offs := make([]int, k)
	outer := bc.dims[:len(bc.dims)-1]
	idx := make([]int, len(outer))
	rem := lo
	for d := len(outer) - 1; d >= 0; d-- {
		idx[d] = rem % outer[d]
		rem /= outer[d]
		for j := range k {
			offs[j] += idx[d] * bc.strides[j][d]
		}
	}
	for r := lo; r < hi; r++ {
		fn(r, offs)
		for d := len(outer) - 1; d >= 0; d-- {
			idx[d]++
			for j := range k {
				offs[j] += bc.strides[j][d]
			}
			if idx[d] < outer[d] {
				break
			}
			for j := range k {
				offs[j] -= idx[d] * bc.strides[j][d]
			}
			idx[d] = 0
		}
	}
}

// mathBinLoops are the slice loops of one binary op with inputs T and
// result R: vv pairs two slices, vs a slice with a scalar on the right, sv
// a scalar on the left with a slice. Each writes len(dst) elements.
type mathBinLoops[T, R any] struct {
	vv func(dst []R, a, b []T)
	vs func(dst []R, a []T, b T)
	sv func(dst []R, a T, b []T)
}

// mathLoopsOf builds loops from a per-element function, for ops whose cost
// dwarfs a call (pow, fmod, integer division).
func mathLoopsOf[T, R any](f func(a, b T) R) mathBinLoops[T, R] {
	return mathBinLoops[T, R]{
		vv: func(dst []R, a, b []T) {
			a, b = a[:len(dst)], b[:len(dst)]
			for i := range dst {
				dst[i] = f(a[i], b[i])
			}
		},
		vs: func(dst []R, a []T, b T) {
			a = a[:len(dst)]
			for i := range dst {
				dst[i] = f(a[i], b)
			}
		},
		sv: func(dst []R, a T, b []T) {
			b = b[:len(dst)]
			for i := range dst {
				dst[i] = f(a, b[i])
			}
		},
	}
}

// mathBinaryApply computes dst = op(a, b) with broadcasting, splitting the
// work over ctx.Parallel. dst has bc.n elements. The common shapes take
// one call per chunk: same shapes, a scalar with a tensor, and a tensor
// [N, L] with a row [L] on either side (mathRowsApply).
func mathBinaryApply[T, R tensor.Elem](ctx *Ctx, lp *mathBinLoops[T, R], bc *mathBcast, dst []R, a, b []T) {
	n := bc.n
	j := mathBinJob[T, R]{lp: lp, bc: bc, dst: dst, a: a, b: b}
	switch {
	case n == 0:
		return
	case len(a) == n && len(b) == n:
		j.mode = mathBinVV
		ParallelJob(ctx, n, mathGrain, j)
		return
	case len(a) == 1 && len(b) == n:
		j.mode, j.s = mathBinSV, a[0]
		ParallelJob(ctx, n, mathGrain, j)
		return
	case len(b) == 1 && len(a) == n:
		j.mode, j.s = mathBinVS, b[0]
		ParallelJob(ctx, n, mathGrain, j)
		return
	}
	L := bc.rowLen()
	nrows := n / L
	if len(bc.dims) == 2 && L <= mathRowChunk/2 {
		sa, sb := bc.strides[0], bc.strides[1]
		switch {
		case sa[0] == L && sb[0] == 0 && sa[1] == 1 && sb[1] == 1:
			mathRowsApply(ctx, lp, dst, a, b, L, false)
			return
		case sa[0] == 0 && sb[0] == L && sa[1] == 1 && sb[1] == 1:
			mathRowsApply(ctx, lp, dst, a, b, L, true)
			return
		}
	}
	switch ia, ib := bc.inner(0), bc.inner(1); {
	case ia != 0 && ib != 0:
		j.mode = mathBinRowsVV
	case ia != 0:
		j.mode = mathBinRowsVS
	default:
		j.mode = mathBinRowsSV
	}
	j.L = L
	ParallelJob(ctx, nrows, max(1, mathGrain/L), j)
}

// Modes of mathBinJob: the whole of both operands (vv), a scalar on the
// right (vs) or on the left (sv), the full rows of a repeated row
// (rows), or rows of a general broadcast, walked as mathBcast.rows does,
// with each side full (vv) or a scalar per row.
const (
	mathBinVV int8 = iota
	mathBinVS
	mathBinSV
	mathBinRows
	mathBinRowsVV
	mathBinRowsVS
	mathBinRowsSV
)

// mathBinJob is the work of mathBinaryApply and mathRowsApply over
// elements, blocks of rows or rows [lo, hi), depending on mode.
type mathBinJob[T, R tensor.Elem] struct {
	lp        *mathBinLoops[T, R]
	bc        *mathBcast
	dst       []R
	a, b      []T
	s         T   // the scalar of vs and sv
	rep, full []T // mathBinRows: the repeated row and the full operand
	L, k      int // row length; rows per block (mathBinRows)
	nrows     int
	rowIsA    bool
	mode      int8
}

func (j *mathBinJob[T, R]) Chunk(lo, hi int) {
	lp, dst, a, b, L := j.lp, j.dst, j.a, j.b, j.L
	switch j.mode {
	case mathBinVV:
		lp.vv(dst[lo:hi], a[lo:hi], b[lo:hi])
	case mathBinSV:
		lp.sv(dst[lo:hi], j.s, b[lo:hi])
	case mathBinVS:
		lp.vs(dst[lo:hi], a[lo:hi], j.s)
	case mathBinRows:
		k := j.k
		for bl := lo; bl < hi; bl++ {
			o0, o1 := bl*k*L, min((bl+1)*k, j.nrows)*L
			d, f, r := dst[o0:o1], j.full[o0:o1], j.rep[:o1-o0]
			if j.rowIsA {
				lp.vv(d, r, f)
			} else {
				lp.vv(d, f, r)
			}
		}
	default:
		var it mathRowIter
		it.start(j.bc, lo)
		for r := lo; r < hi; r++ {
			o0, o1 := it.offs[0], it.offs[1]
			switch j.mode {
			case mathBinRowsVV:
				lp.vv(dst[r*L:(r+1)*L], a[o0:o0+L], b[o1:o1+L])
			case mathBinRowsVS:
				lp.vs(dst[r*L:(r+1)*L], a[o0:o0+L], b[o1])
			default:
				lp.sv(dst[r*L:(r+1)*L], a[o0], b[o1:o1+L])
			}
			it.next()
		}
	}
}

// mathRowIter walks the output rows of a broadcast of two operands as
// mathBcast.rows does, keeping the operands' offsets in offs, without
// allocating for up to 8 outer dimensions.
type mathRowIter struct {
	bc     *mathBcast
	outer  []int
	idx    []int
	idxBuf [8]int
	offs   [2]int
}

// start places the walk at row lo.
func (it *mathRowIter) start(bc *mathBcast, lo int) {
	it.bc = bc
	it.outer = bc.dims[:len(bc.dims)-1]
	if len(it.outer) <= len(it.idxBuf) {
		it.idx = it.idxBuf[:len(it.outer)]
	} else {
		it.idx = make([]int, len(it.outer))
	}
	rem := lo
	for d := len(it.outer) - 1; d >= 0; d-- {
		it.idx[d] = rem % it.outer[d]
		rem /= it.outer[d]
		for j := range it.offs {
			it.offs[j] += it.idx[d] * bc.strides[j][d]
		}
	}
}

// next moves the walk to the next row.
func (it *mathRowIter) next() {
	st, outer, idx := it.bc.strides, it.outer, it.idx
	for d := len(outer) - 1; d >= 0; d-- {
		idx[d]++
		for j := range it.offs {
			it.offs[j] += st[j][d]
		}
		if idx[d] < outer[d] {
			break
		}
		for j := range it.offs {
			it.offs[j] -= idx[d] * st[j][d]
		}
		idx[d] = 0
	}
}

// mathRowChunk is about the number of elements mathRowsApply covers per
// call of a loop.
const mathRowChunk = 1024

// mathRowsApply computes dst = op(a, b) where one operand is a row of L
// elements (a when rowIsA, else b) and the other, like dst, holds rows of
// L. Short rows would cost a loop call each, so the row is first repeated
// k times (k·L about mathRowChunk) and the loop runs on k rows at once;
// every element is computed as by a call per row.
func mathRowsApply[T, R tensor.Elem](ctx *Ctx, lp *mathBinLoops[T, R], dst []R, a, b []T, L int, rowIsA bool) {
	nrows := len(dst) / L
	row, full := b[:L], a
	if rowIsA {
		row, full = a[:L], b
	}
	k := min(max(1, mathRowChunk/L), nrows)
	rep := row
	if k > 1 {
		t, err := ctx.Alloc(tensor.DTypeOf[T](), tensor.Shape{k * L})
		if err != nil {
			k = 1
		} else {
			defer t.Release()
			rep = tensor.As[T](t)
			for i := 0; i < k; i++ {
				copy(rep[i*L:], row)
			}
		}
	}
	blocks := (nrows + k - 1) / k
	ParallelJob(ctx, blocks, max(1, mathGrain/(k*L)), mathBinJob[T, R]{lp: lp, dst: dst, rep: rep, full: full, L: L, k: k, nrows: nrows, rowIsA: rowIsA, mode: mathBinRows})
}
