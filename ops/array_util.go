package ops

import (
	"fmt"
	"math"

	"github.com/tfdgo/tfd/tensor"
)

// Helpers shared by the array and shape kernels (Reshape, Transpose,
// ConcatV2, Slice, Tile, GatherV2, ...): a per-dtype element mover chosen
// once at build time, an N-d strided copy that moves contiguous runs with
// copy(), readers for int32/int64 index inputs and constant folding for
// small shape computations.

// arrDim is one dimension of a strided copy: n steps, each advancing the
// destination by ds elements and the source by ss elements.
type arrDim struct{ n, ds, ss int }

// arrMover moves elements of one storage type. Build picks it once per
// dtype (arrMoverFor), so Run makes one dynamic call per operation and the
// loops inside are specialized for the element type.
type arrMover interface {
	// copyND copies the elements addressed by dims from src, starting at
	// sOff, to dst, starting at dOff.
	copyND(ctx *Ctx, dst *tensor.Tensor, dOff int, src *tensor.Tensor, sOff int, dims []arrDim)
	// fill sets every element of dst to v's first element.
	fill(dst, v *tensor.Tensor)
	// tile writes src repeated multiples[i] times along each axis i to dst.
	tile(dst, src *tensor.Tensor, multiples []int)
	// gather copies rows of inner elements: for every batch b < nb, outer
	// row o < outer and index m < len(idx)/nb, row idx[b*M+m] of the n rows
	// of src block (b, o) goes to dst row ((b*outer+o)*M + m). Indices are
	// already validated.
	gather(ctx *Ctx, dst, src *tensor.Tensor, idx []int, nb, outer, n, inner int)
	// holds reports whether t's storage has the mover's element type.
	holds(t *tensor.Tensor) bool
}

// arrMove implements arrMover for storage type T.
type arrMove[T tensor.Elem] struct{}

// arrMoverFor returns the mover for dt's storage type.
func arrMoverFor(op string, dt tensor.DType) (arrMover, error) {
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return arrMove[float32]{}, nil
	case tensor.Float64:
		return arrMove[float64]{}, nil
	case tensor.Int32:
		return arrMove[int32]{}, nil
	case tensor.Int64:
		return arrMove[int64]{}, nil
	case tensor.Uint8:
		return arrMove[uint8]{}, nil
	case tensor.Int8:
		return arrMove[int8]{}, nil
	case tensor.Int16:
		return arrMove[int16]{}, nil
	case tensor.Uint16:
		return arrMove[uint16]{}, nil
	case tensor.Uint32:
		return arrMove[uint32]{}, nil
	case tensor.Uint64:
		return arrMove[uint64]{}, nil
	case tensor.Complex64:
		return arrMove[complex64]{}, nil
	case tensor.Complex128:
		return arrMove[complex128]{}, nil
	case tensor.Bool:
		return arrMove[bool]{}, nil
	case tensor.String:
		return arrMove[string]{}, nil
	}
	return nil, fmt.Errorf("%w: op %s: dtype %s not supported (supported: float32, float64, float16, bfloat16, int32, int64, uint8, int8, int16, uint16, uint32, uint64, complex64, complex128, bool, string)", ErrDType, op, dt)
}

func (arrMove[T]) copyND(ctx *Ctx, dst *tensor.Tensor, dOff int, src *tensor.Tensor, sOff int, dims []arrDim) {
	arrCopyND(ctx, tensor.As[T](dst), dOff, tensor.As[T](src), sOff, dims)
}

func (arrMove[T]) fill(dst, v *tensor.Tensor) {
	arrFillSlice(tensor.As[T](dst), tensor.As[T](v)[0])
}

func (arrMove[T]) tile(dst, src *tensor.Tensor, multiples []int) {
	arrTile(tensor.As[T](dst), tensor.As[T](src), src.Shape(), multiples)
}

func (arrMove[T]) gather(ctx *Ctx, dst, src *tensor.Tensor, idx []int, nb, outer, n, inner int) {
	arrGather(ctx, tensor.As[T](dst), tensor.As[T](src), idx, nb, outer, n, inner)
}

func (arrMove[T]) holds(t *tensor.Tensor) bool {
	_, ok := t.Data().([]T)
	return ok
}

// arrCheckData fails when a tensor's storage is not of the type the kernel
// was built for (a value fed with another dtype than the graph declares).
func arrCheckData(op string, mv arrMover, ts ...*tensor.Tensor) error {
	for _, t := range ts {
		if !mv.holds(t) {
			return fmt.Errorf("%w: op %s: input is %s, which differs from the dtype the node was built for", ErrDType, op, t.DType())
		}
	}
	return nil
}

// arrParallel is ctx.Parallel that also accepts a nil ctx.
func arrParallel(ctx *Ctx, n, grain int, fn func(lo, hi int)) {
	if ctx == nil {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	ctx.Parallel(n, grain, fn)
}

// arrGrainElems is roughly how many elements one parallel chunk moves.
const arrGrainElems = 1 << 15

// arrGrain returns the number of work units of per elements each that make
// one parallel chunk.
func arrGrain(per int) int {
	if per <= 0 {
		return arrGrainElems
	}
	return max(1, arrGrainElems/per)
}

// arrSimplify drops dimensions of size 1 and merges neighbours that are
// contiguous in both source and destination. empty is true if some
// dimension has size 0.
func arrSimplify(dims []arrDim) (out []arrDim, empty bool) {
	out = make([]arrDim, 0, len(dims))
	for _, d := range dims {
		if d.n == 0 {
			return nil, true
		}
		if d.n == 1 {
			continue
		}
		if k := len(out) - 1; k >= 0 && out[k].ds == d.n*d.ds && out[k].ss == d.n*d.ss {
			out[k] = arrDim{n: out[k].n * d.n, ds: d.ds, ss: d.ss}
			continue
		}
		out = append(out, d)
	}
	return out, false
}

// arrCount returns the product of the dims' sizes.
func arrCount(dims []arrDim) int {
	c := 1
	for _, d := range dims {
		c *= d.n
	}
	return c
}

// arrOffsets returns the destination and source offsets of the k-th
// position (row-major) of dims.
func arrOffsets(dims []arrDim, k, d, s int) (int, int) {
	for i := len(dims) - 1; i >= 0 && k > 0; i-- {
		q, r := k/dims[i].n, k%dims[i].n
		d += r * dims[i].ds
		s += r * dims[i].ss
		k = q
	}
	return d, s
}

// arrIter walks the positions of dims in row-major order.
type arrIter struct {
	dims []arrDim
	idx  []int
	d, s int
}

// arrIterAt returns an iterator at the k-th position of dims, whose origin
// has offsets d0 and s0.
func arrIterAt(dims []arrDim, k, d0, s0 int) *arrIter {
	it := &arrIter{dims: dims, idx: make([]int, len(dims)), d: d0, s: s0}
	for i := len(dims) - 1; i >= 0 && k > 0; i-- {
		q, r := k/dims[i].n, k%dims[i].n
		it.idx[i] = r
		it.d += r * dims[i].ds
		it.s += r * dims[i].ss
		k = q
	}
	return it
}

func (it *arrIter) next() {
	for i := len(it.dims) - 1; i >= 0; i-- {
		d := &it.dims[i]
		it.idx[i]++
		it.d += d.ds
		it.s += d.ss
		if it.idx[i] < d.n {
			return
		}
		it.idx[i] = 0
		it.d -= d.n * d.ds
		it.s -= d.n * d.ss
	}
}

// arrBlock is the tile edge of the cache-blocked transpose path. Along
// the axis read with a stride the edge shrinks to arrBlockAliased when the
// stride is a multiple of 2 KiB: those source lines all fall in one or two
// L1 cache sets, and more than a few of them evict each other.
const (
	arrBlock        = 32
	arrBlockAliased = 8
)

// arrElemSize returns the in-memory size of T in bytes.
func arrElemSize[T any]() int {
	var z T
	switch any(z).(type) {
	case float64, int64:
		return 8
	case float32, int32:
		return 4
	case int16, uint16:
		return 2
	case uint8, int8, bool:
		return 1
	case string:
		return 16
	}
	return 8
}

// arrCopyND copies the elements addressed by dims from src[sOff...] to
// dst[dOff...]. Runs contiguous on both sides are moved with copy(); a
// transpose-like pattern (destination contiguous on one axis, source on
// another) is moved in cache-sized tiles.
func arrCopyND[T any](ctx *Ctx, dst []T, dOff int, src []T, sOff int, dims []arrDim) {
	dims, empty := arrSimplify(dims)
	if empty {
		return
	}
	r := len(dims)
	if r == 0 {
		dst[dOff] = src[sOff]
		return
	}
	last := dims[r-1]
	if last.ds == 1 && last.ss == 1 {
		outer := dims[:r-1]
		inner := last.n
		arrParallel(ctx, arrCount(outer), arrGrain(inner), func(lo, hi int) {
			it := arrIterAt(outer, lo, dOff, sOff)
			for k := lo; k < hi; k++ {
				copy(dst[it.d:it.d+inner], src[it.s:it.s+inner])
				it.next()
			}
		})
		return
	}
	if last.ds == 1 {
		for j := r - 2; j >= 0; j-- {
			if dims[j].ss == 1 {
				arrCopyTiled(ctx, dst, dOff, src, sOff, dims, j)
				return
			}
		}
	}
	outer := dims[:r-1]
	arrParallel(ctx, arrCount(outer), arrGrain(last.n), func(lo, hi int) {
		it := arrIterAt(outer, lo, dOff, sOff)
		for k := lo; k < hi; k++ {
			d, s := it.d, it.s
			for i := 0; i < last.n; i++ {
				dst[d] = src[s]
				d += last.ds
				s += last.ss
			}
			it.next()
		}
	})
}

// arrCopyTiled handles dims whose last axis is contiguous in dst and whose
// axis j is contiguous in src, moving tiles of up to arrBlock×arrBlock
// elements so that both sides stay in cache.
func arrCopyTiled[T any](ctx *Ctx, dst []T, dOff int, src []T, sOff int, dims []arrDim, j int) {
	r := len(dims)
	a, b := dims[r-1], dims[j]
	others := make([]arrDim, 0, r-2)
	others = append(others, dims[:j]...)
	others = append(others, dims[j+1:r-1]...)
	blkA := arrBlock
	if a.ss*arrElemSize[T]()%2048 == 0 {
		blkA = arrBlockAliased
	}
	nbB := (b.n + arrBlock - 1) / arrBlock
	units := arrCount(others) * nbB
	arrParallel(ctx, units, arrGrain(arrBlock*a.n), func(lo, hi int) {
		for u := lo; u < hi; u++ {
			d0, s0 := arrOffsets(others, u/nbB, dOff, sOff)
			b0 := (u % nbB) * arrBlock
			b1 := min(b.n, b0+arrBlock)
			for a0 := 0; a0 < a.n; a0 += blkA {
				a1 := min(a.n, a0+blkA)
				for y := b0; y < b1; y++ {
					drow := dst[d0+y*b.ds+a0 : d0+y*b.ds+a1]
					s := s0 + y + a0*a.ss
					for x := range drow {
						drow[x] = src[s]
						s += a.ss
					}
				}
			}
		}
	})
}

// arrFillSlice sets every element of s to v, doubling copies for speed.
func arrFillSlice[T any](s []T, v T) {
	if len(s) == 0 {
		return
	}
	s[0] = v
	for n := 1; n < len(s); n *= 2 {
		copy(s[n:], s[:n])
	}
}

// arrTile writes src (of shape shape) repeated multiples[i] times along
// each axis into dst. It builds each axis's first tile recursively and
// then replicates it with doubling copies, so all moves are contiguous.
func arrTile[T any](dst, src []T, shape tensor.Shape, multiples []int) {
	if len(dst) == 0 {
		return
	}
	r := len(shape)
	if r == 0 {
		dst[0] = src[0]
		return
	}
	ist := shape.Strides()
	ost := make([]int, r)
	acc := 1
	for i := r - 1; i >= 0; i-- {
		ost[i] = acc
		acc *= shape[i] * multiples[i]
	}
	var rec func(d, s, axis int)
	rec = func(d, s, axis int) {
		if axis == r-1 {
			copy(dst[d:d+shape[axis]], src[s:s+shape[axis]])
		} else {
			for i := 0; i < shape[axis]; i++ {
				rec(d+i*ost[axis], s+i*ist[axis], axis+1)
			}
		}
		tile := shape[axis] * ost[axis]
		total := tile * multiples[axis]
		for n := tile; n < total; n *= 2 {
			copy(dst[d+n:d+total], dst[d:d+n])
		}
	}
	rec(0, 0, 0)
}

// arrGather is arrMover.gather for storage type T.
func arrGather[T any](ctx *Ctx, dst, src []T, idx []int, nb, outer, n, inner int) {
	if nb == 0 || outer == 0 || inner == 0 || len(idx) == 0 {
		return
	}
	m := len(idx) / nb
	rows := nb * outer * m
	arrParallel(ctx, rows, arrGrain(inner), func(lo, hi int) {
		for row := lo; row < hi; row++ {
			bo, k := row/m, row%m
			b := bo / outer
			srow := bo*n + idx[b*m+k]
			if inner == 1 {
				dst[row] = src[srow]
				continue
			}
			copy(dst[row*inner:(row+1)*inner], src[srow*inner:(srow+1)*inner])
		}
	})
}

// arrInts reads an int32 or int64 tensor as int64 values, flattened. what
// names the input in messages.
func arrInts(op, what string, t *tensor.Tensor) ([]int64, error) {
	switch v := t.Data().(type) {
	case []int32:
		out := make([]int64, len(v))
		for i, x := range v {
			out[i] = int64(x)
		}
		return out, nil
	case []int64:
		return v, nil
	}
	return nil, fmt.Errorf("%w: op %s: %s must be int32 or int64, got %s", ErrDType, op, what, t.DType())
}

// arrVector reads a 1-D int32/int64 tensor (a scalar is accepted as a
// vector of one element only when scalarOK).
func arrVector(op, what string, t *tensor.Tensor, scalarOK bool) ([]int64, error) {
	if t.Rank() != 1 && !(scalarOK && t.Rank() == 0) {
		return nil, fmt.Errorf("%w: op %s: %s must be a vector, got shape %v", ErrShape, op, what, t.Shape())
	}
	return arrInts(op, what, t)
}

// arrVectorTo is arrVector reading int32 values into *buf (grown as
// needed) rather than a new slice. int64 values are returned in place:
// the result must not be written.
func arrVectorTo(buf *[]int64, op, what string, t *tensor.Tensor, scalarOK bool) ([]int64, error) {
	if t.Rank() != 1 && !(scalarOK && t.Rank() == 0) {
		return nil, fmt.Errorf("%w: op %s: %s must be a vector, got shape %v", ErrShape, op, what, t.Shape())
	}
	if v, ok := t.Data().([]int32); ok {
		out := (*buf)[:0]
		for _, x := range v {
			out = append(out, int64(x))
		}
		*buf = out
		return out, nil
	}
	return arrInts(op, what, t)
}

// arrScalar reads a scalar (or one-element) int32/int64 tensor.
func arrScalar(op, what string, t *tensor.Tensor) (int64, error) {
	if t.Len() != 1 {
		return 0, fmt.Errorf("%w: op %s: %s must be a scalar, got shape %v", ErrShape, op, what, t.Shape())
	}
	v, err := arrInts(op, what, t)
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// arrConstInts returns the values of a constant int32/int64 input, or
// ok=false when input i is absent, not constant or not an integer.
func arrConstInts(n *Node, i int) ([]int64, bool) {
	if i >= len(n.Inputs) || n.Inputs[i].Const == nil {
		return nil, false
	}
	v, err := arrInts(n.Op, "input", n.Inputs[i].Const)
	if err != nil {
		return nil, false
	}
	return v, true
}

// arrNormAxis resolves axis against rank, accepting [-rank, rank).
func arrNormAxis(op string, axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("%w: op %s: axis %d out of range for rank %d (expected [%d, %d))", ErrShape, op, axis, rank, -rank, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// arrDimInt converts a size read from data to int, rejecting negatives and
// values that do not fit.
func arrDimInt(op, what string, v int64) (int, error) {
	if v < 0 || uint64(v) > uint64(math.MaxInt) {
		return 0, fmt.Errorf("%w: op %s: %s must be non-negative, got %d", ErrShape, op, what, v)
	}
	return int(v), nil
}

// arrView returns t viewed as shape, as a new tensor sharing t's storage.
func arrView(op string, t *tensor.Tensor, shape tensor.Shape) (*tensor.Tensor, error) {
	v, err := t.View(shape)
	if err != nil {
		return nil, fmt.Errorf("%w: op %s: %v", ErrShape, op, err)
	}
	return v, nil
}

// arrCtxView is arrView through ctx.View (a header the node keeps, for
// pooled t).
func arrCtxView(ctx *Ctx, op string, t *tensor.Tensor, shape tensor.Shape) (*tensor.Tensor, error) {
	v, err := ctx.View(t, shape)
	if err != nil {
		return nil, fmt.Errorf("%w: op %s: %v", ErrShape, op, err)
	}
	return v, nil
}

// arrInDType returns the dtype of input i, falling back to the attr.
func arrInDType(n *Node, i int, attr string) (tensor.DType, error) {
	dt, err := InputDType(n, i, attr)
	if err != nil {
		return tensor.Invalid, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return dt, nil
}

// arrFoldMax bounds the elements arrFold computes at inference time.
const arrFoldMax = 4096

// arrFold wraps an inference function: when every input is a constant and
// every output shape is known and small, it builds the op's kernel, runs it
// on the constants and records the results as the outputs' Const values.
// This makes shape arithmetic (Shape → StridedSlice → Pack → Reshape)
// known at compile time. A kernel error leaves the outputs non-constant:
// the run will report it if the node is ever evaluated.
func arrFold(infer InferFunc, build BuildFunc) InferFunc {
	return func(n *Node) ([]Value, error) {
		out, err := infer(n)
		if err != nil || len(out) == 0 {
			return out, err
		}
		in := make([]*tensor.Tensor, len(n.Inputs))
		for i, v := range n.Inputs {
			if v.Const == nil {
				return out, nil
			}
			in[i] = v.Const
		}
		total := 0
		for _, v := range out {
			s, ok := v.Shape.Shape()
			if !ok {
				return out, nil
			}
			k, err := s.NumElements()
			if err != nil {
				return out, nil
			}
			total += k
			if total > arrFoldMax {
				return out, nil
			}
		}
		k, err := build(n)
		if err != nil {
			return out, nil
		}
		res, err := k.Run(&Ctx{MaxElements: arrFoldMax}, in)
		if err != nil || len(res) != len(out) {
			return out, nil
		}
		for i := range out {
			out[i].Const = res[i]
			out[i].Shape = tensor.Known(res[i].Shape())
		}
		return out, nil
	}
}

// arrIndexBatched reports whether any input from index from on is batched:
// index inputs (shapes, axes, perms) must never carry the batch.
func arrIndexBatched(batched []bool, from int) bool {
	for i := from; i < len(batched); i++ {
		if batched[i] {
			return true
		}
	}
	return false
}

// arrKnownRank returns the rank of input i, or -1 when unknown.
func arrKnownRank(n *Node, i int) int {
	if i >= len(n.Inputs) || n.Inputs[i].Shape.UnknownRank {
		return -1
	}
	return len(n.Inputs[i].Shape.Dims)
}

// arrProd returns the product of dims and whether all are known and the
// product does not overflow.
func arrProd(dims []int) (int, bool) {
	p := 1
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		var ok bool
		if p, ok = tensor.CheckedMul(p, d); !ok {
			return 0, false
		}
	}
	return p, true
}
