package tensor

import (
	"fmt"
	"math"
	"strings"
	"sync/atomic"
)

// Number is the set of element types that arithmetic kernels work on.
type Number interface {
	~float32 | ~float64 | ~int32 | ~int64 | ~uint8 | ~int8 | ~int16 | ~uint16 | ~uint32 | ~uint64
}

// Float is the set of floating-point element types.
type Float interface{ ~float32 | ~float64 }

// Integer is the set of integer element types.
type Integer interface {
	~int32 | ~int64 | ~uint8 | ~int8 | ~int16 | ~uint16 | ~uint32 | ~uint64
}

// Complex is the set of complex element types.
type Complex interface{ ~complex64 | ~complex128 }

// Elem is every Go element type a Tensor can hold.
type Elem interface {
	Number | Complex | ~bool | ~string
}

// Tensor is a dense, row-major n-dimensional array.
//
// Its data is a []T of the dtype's Go type (see GoType). A tensor made by a
// pool carries a Buffer; dropping it with Release returns the storage to the
// pool once every view of it has been released. Tensors without a Buffer
// (constants, user feeds, fetched outputs) are ordinary garbage-collected
// values.
type Tensor struct {
	dtype DType
	shape Shape
	data  any
	buf   *Buffer
}

// Buffer is the reference-counted owner of pooled tensor storage. The pool
// package creates Buffers; kernels never do.
type Buffer struct {
	refs     atomic.Int32
	orphaned atomic.Bool
	Data     any           // the full-capacity slice handed back on recycle
	Recycle  func(*Buffer) // called once when the last reference is released
	// Orphan, if set, is called once when the buffer leaves the pool for
	// good because a tensor over it was handed to a caller (Detach).
	Orphan func(*Buffer)
}

// NewBuffer returns a Buffer holding one reference.
func NewBuffer(data any, recycle func(*Buffer)) *Buffer {
	b := &Buffer{Data: data, Recycle: recycle}
	b.refs.Store(1)
	return b
}

// Reset makes a recycled Buffer hold one reference again.
func (b *Buffer) Reset() { b.refs.Store(1); b.orphaned.Store(false) }

// New returns a zero-filled tensor of the given dtype and shape, after
// checking that the shape is valid and that its element count is at most
// maxElems (0 means no limit).
func New(dt DType, shape Shape, maxElems int) (*Tensor, error) {
	n, err := shape.NumElements()
	if err != nil {
		return nil, err
	}
	if maxElems > 0 && n > maxElems {
		return nil, fmt.Errorf("tensor: %s%v has %d elements, more than the limit %d: %w", dt, shape, n, maxElems, ErrLimit)
	}
	data, err := MakeSlice(dt, n)
	if err != nil {
		return nil, err
	}
	return &Tensor{dtype: dt, shape: shape.Clone(), data: data}, nil
}

// HardMaxElements caps every allocation whatever the configured limits,
// so that a size computed from untrusted input never reaches make() with a
// value the runtime would panic on.
const HardMaxElements = 1 << 36

// MakeSlice allocates a zeroed []T of n elements for dt.
func MakeSlice(dt DType, n int) (any, error) {
	if n < 0 || n > HardMaxElements {
		return nil, fmt.Errorf("tensor: %d elements of %s: %w", n, dt, ErrLimit)
	}
	switch dt {
	case Float32, Half, BFloat16:
		return make([]float32, n), nil
	case Float64:
		return make([]float64, n), nil
	case Int32:
		return make([]int32, n), nil
	case Int64:
		return make([]int64, n), nil
	case Uint8:
		return make([]uint8, n), nil
	case Int8:
		return make([]int8, n), nil
	case Int16:
		return make([]int16, n), nil
	case Uint16:
		return make([]uint16, n), nil
	case Uint32:
		return make([]uint32, n), nil
	case Uint64:
		return make([]uint64, n), nil
	case Complex64:
		return make([]complex64, n), nil
	case Complex128:
		return make([]complex128, n), nil
	case Bool:
		return make([]bool, n), nil
	case String, Resource, Variant:
		return make([]string, n), nil
	}
	return nil, fmt.Errorf("tensor: dtype %s not supported", dt)
}

// FromSlice wraps data (not copied) as a tensor of the given shape. The
// dtype follows the Go element type. It panics if len(data) does not match
// the shape: that is a programmer error.
func FromSlice[T Elem](shape Shape, data []T) *Tensor {
	dt := DTypeOf[T]()
	n := shape.Size()
	if n != len(data) {
		panic(fmt.Sprintf("tensor.FromSlice: %d values for shape %v", len(data), shape))
	}
	return &Tensor{dtype: dt, shape: shape.Clone(), data: data}
}

// Scalar returns a rank-0 tensor holding v.
func Scalar[T Elem](v T) *Tensor { return FromSlice(Shape{}, []T{v}) }

// Wrap builds a tensor from a dtype, shape and a data slice of the dtype's
// Go type, checking that they agree.
func Wrap(dt DType, shape Shape, data any) (*Tensor, error) {
	n, err := shape.NumElements()
	if err != nil {
		return nil, err
	}
	if l := sliceLen(data); l != n || !goTypeMatches(dt, data) {
		return nil, fmt.Errorf("tensor: %T of length %d does not fit %s%v", data, l, dt, shape)
	}
	return &Tensor{dtype: dt, shape: shape.Clone(), data: data}, nil
}

// WrapBuffer builds a pooled tensor over data (a prefix of b.Data). Only
// the pool package calls it.
func WrapBuffer(dt DType, shape Shape, data any, b *Buffer) *Tensor {
	return &Tensor{dtype: dt, shape: shape, data: data, buf: b}
}

// DTypeOf returns the dtype whose Go element type is T.
func DTypeOf[T Elem]() DType {
	var z T
	switch any(z).(type) {
	case float32:
		return Float32
	case float64:
		return Float64
	case int32:
		return Int32
	case int64:
		return Int64
	case uint8:
		return Uint8
	case int8:
		return Int8
	case int16:
		return Int16
	case uint16:
		return Uint16
	case uint32:
		return Uint32
	case uint64:
		return Uint64
	case complex64:
		return Complex64
	case complex128:
		return Complex128
	case bool:
		return Bool
	case string:
		return String
	}
	panic(fmt.Sprintf("tensor: no dtype for %T", z))
}

func goTypeMatches(dt DType, data any) bool {
	switch data.(type) {
	case []float32:
		return dt == Float32 || dt == Half || dt == BFloat16
	case []float64:
		return dt == Float64
	case []int32:
		return dt == Int32
	case []int64:
		return dt == Int64
	case []uint8:
		return dt == Uint8
	case []int8:
		return dt == Int8
	case []int16:
		return dt == Int16
	case []uint16:
		return dt == Uint16
	case []uint32:
		return dt == Uint32
	case []uint64:
		return dt == Uint64
	case []complex64:
		return dt == Complex64
	case []complex128:
		return dt == Complex128
	case []bool:
		return dt == Bool
	case []string:
		return dt == String || dt == Resource || dt == Variant
	}
	return false
}

// DataLen returns the number of elements of a tensor storage slice (as
// Tensor.Data returns it), or -1 for a value that is not one.
func DataLen(data any) int { return sliceLen(data) }

func sliceLen(data any) int {
	switch s := data.(type) {
	case []float32:
		return len(s)
	case []float64:
		return len(s)
	case []int32:
		return len(s)
	case []int64:
		return len(s)
	case []uint8:
		return len(s)
	case []int8:
		return len(s)
	case []int16:
		return len(s)
	case []uint16:
		return len(s)
	case []uint32:
		return len(s)
	case []uint64:
		return len(s)
	case []complex64:
		return len(s)
	case []complex128:
		return len(s)
	case []bool:
		return len(s)
	case []string:
		return len(s)
	}
	return -1
}

// DType returns the tensor's element type.
func (t *Tensor) DType() DType { return t.dtype }

// Shape returns the tensor's shape. Callers must not modify it.
func (t *Tensor) Shape() Shape { return t.shape }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Len returns the number of elements.
func (t *Tensor) Len() int { return sliceLen(t.data) }

// Data returns the element slice ([]float32, []int64, ...) as an any.
func (t *Tensor) Data() any { return t.data }

// Bytes returns the size of the tensor's storage in bytes (strings count
// their lengths).
func (t *Tensor) Bytes() int64 {
	if s, ok := t.data.([]string); ok {
		var n int64
		for _, v := range s {
			n += int64(len(v))
		}
		return n
	}
	return int64(t.Len()) * int64(t.dtype.StorageSize())
}

// Pooled reports whether the tensor's storage belongs to a pool.
func (t *Tensor) Pooled() bool { return t.buf != nil }

// View returns a tensor of a new shape sharing t's storage; the element
// counts must match. A view of a pooled tensor holds its own reference, so
// both must be released.
func (t *Tensor) View(shape Shape) (*Tensor, error) {
	n, err := shape.NumElements()
	if err != nil {
		return nil, err
	}
	if n != t.Len() {
		return nil, fmt.Errorf("tensor: cannot view %d elements as shape %v", t.Len(), shape)
	}
	if t.buf != nil {
		t.buf.refs.Add(1)
	}
	return &Tensor{dtype: t.dtype, shape: shape.Clone(), data: t.data, buf: t.buf}, nil
}

// Retag returns a view of t with a different dtype of the same Go storage
// (for example float32 data relabelled as HALF).
func (t *Tensor) Retag(dt DType) (*Tensor, error) {
	if !goTypeMatches(dt, t.data) {
		return nil, fmt.Errorf("tensor: cannot view %s as %s", t.dtype, dt)
	}
	v, _ := t.View(t.shape)
	v.dtype = dt
	return v, nil
}

// Release drops this tensor's reference to pooled storage; when no view
// holds it any more the storage is recycled. It is a no-op for unpooled
// tensors. The tensor must not be used afterwards.
func (t *Tensor) Release() {
	b := t.buf
	if b == nil {
		return
	}
	t.buf = nil
	switch r := b.refs.Add(-1); {
	case r == 0:
		if b.Recycle != nil {
			b.Recycle(b)
		}
	case r < 0:
		panic("tensor: buffer released more times than referenced")
	}
}

// Detach returns a copy of the tensor's header that is not pooled: its
// storage is kept alive by the garbage collector and never recycled. Used
// for values handed to users. t's reference moves to the detached tensor,
// so releasing t afterwards does nothing.
func (t *Tensor) Detach() *Tensor {
	if t.buf == nil {
		return t
	}
	defer func() { t.buf = nil }()
	// The detached tensor keeps its reference on purpose: the buffer can
	// never reach zero, so it is never recycled while the user holds it.
	// The pool is told once that the buffer has left it.
	if t.buf.orphaned.CompareAndSwap(false, true) && t.buf.Orphan != nil {
		t.buf.Orphan(t.buf)
	}
	return &Tensor{dtype: t.dtype, shape: t.shape, data: t.data}
}

// Clone returns a deep, unpooled copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{dtype: t.dtype, shape: t.shape.Clone()}
	switch s := t.data.(type) {
	case []float32:
		c.data = append([]float32(nil), s...)
	case []float64:
		c.data = append([]float64(nil), s...)
	case []int32:
		c.data = append([]int32(nil), s...)
	case []int64:
		c.data = append([]int64(nil), s...)
	case []uint8:
		c.data = append([]uint8(nil), s...)
	case []int8:
		c.data = append([]int8(nil), s...)
	case []int16:
		c.data = append([]int16(nil), s...)
	case []uint16:
		c.data = append([]uint16(nil), s...)
	case []uint32:
		c.data = append([]uint32(nil), s...)
	case []uint64:
		c.data = append([]uint64(nil), s...)
	case []complex64:
		c.data = append([]complex64(nil), s...)
	case []complex128:
		c.data = append([]complex128(nil), s...)
	case []bool:
		c.data = append([]bool(nil), s...)
	case []string:
		c.data = append([]string(nil), s...)
	}
	return c
}

// As returns the tensor's data as []T. It panics if T is not the tensor's
// storage type: kernels pick T from the dtype when they are built.
func As[T Elem](t *Tensor) []T { return t.data.([]T) }

// Float64s returns the elements converted to float64 (bools as 0/1, complex
// numbers as their real parts). Strings are not convertible and yield nil.
// Meant for tests and reporting.
func (t *Tensor) Float64s() []float64 {
	switch s := t.data.(type) {
	case []float32:
		return conv(s)
	case []float64:
		return append([]float64(nil), s...)
	case []int32:
		return conv(s)
	case []int64:
		return conv(s)
	case []uint8:
		return conv(s)
	case []int8:
		return conv(s)
	case []int16:
		return conv(s)
	case []uint16:
		return conv(s)
	case []uint32:
		return conv(s)
	case []uint64:
		return conv(s)
	case []complex64:
		out := make([]float64, len(s))
		for i, v := range s {
			out[i] = float64(real(v))
		}
		return out
	case []complex128:
		out := make([]float64, len(s))
		for i, v := range s {
			out[i] = real(v)
		}
		return out
	case []bool:
		out := make([]float64, len(s))
		for i, v := range s {
			if v {
				out[i] = 1
			}
		}
		return out
	}
	return nil
}

func conv[T Number](s []T) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// String prints dtype, shape and up to 8 leading values.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%v", t.dtype, t.shape)
	const max = 8
	switch s := t.data.(type) {
	case []string:
		if len(s) > max {
			s = s[:max]
		}
		fmt.Fprintf(&b, " %q", s)
	case []complex64:
		fmt.Fprintf(&b, " %v", s[:min(len(s), max)])
		if len(s) > max {
			b.WriteString("...")
		}
	case []complex128:
		fmt.Fprintf(&b, " %v", s[:min(len(s), max)])
		if len(s) > max {
			b.WriteString("...")
		}
	default:
		v := t.Float64s()
		more := len(v) > max
		if more {
			v = v[:max]
		}
		fmt.Fprintf(&b, " %v", v)
		if more {
			b.WriteString("...")
		}
	}
	return b.String()
}

// Equal reports whether two tensors have the same dtype, shape and
// elements. NaNs compare equal to NaNs so that results can be compared bit
// for bit across runs.
func Equal(a, b *Tensor) bool {
	if a.dtype != b.dtype || !a.shape.Equal(b.shape) {
		return false
	}
	switch x := a.data.(type) {
	case []float32:
		y := b.data.([]float32)
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				return false
			}
		}
		return true
	case []float64:
		y := b.data.([]float64)
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return false
			}
		}
		return true
	case []string:
		return sliceEq(x, b.data.([]string))
	case []bool:
		return sliceEq(x, b.data.([]bool))
	case []int32:
		return sliceEq(x, b.data.([]int32))
	case []int64:
		return sliceEq(x, b.data.([]int64))
	case []uint8:
		return sliceEq(x, b.data.([]uint8))
	case []int8:
		return sliceEq(x, b.data.([]int8))
	case []int16:
		return sliceEq(x, b.data.([]int16))
	case []uint16:
		return sliceEq(x, b.data.([]uint16))
	case []uint32:
		return sliceEq(x, b.data.([]uint32))
	case []uint64:
		return sliceEq(x, b.data.([]uint64))
	case []complex64:
		y := b.data.([]complex64)
		for i := range x {
			if math.Float32bits(real(x[i])) != math.Float32bits(real(y[i])) ||
				math.Float32bits(imag(x[i])) != math.Float32bits(imag(y[i])) {
				return false
			}
		}
		return true
	case []complex128:
		y := b.data.([]complex128)
		for i := range x {
			if math.Float64bits(real(x[i])) != math.Float64bits(real(y[i])) ||
				math.Float64bits(imag(x[i])) != math.Float64bits(imag(y[i])) {
				return false
			}
		}
		return true
	}
	return false
}

func sliceEq[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// SliceRows returns a view of rows [lo, hi) along axis 0, sharing storage.
func (t *Tensor) SliceRows(lo, hi int) (*Tensor, error) {
	if len(t.shape) == 0 {
		return nil, fmt.Errorf("tensor: cannot slice rows of a scalar")
	}
	if lo < 0 || hi < lo || hi > t.shape[0] {
		return nil, fmt.Errorf("tensor: rows [%d, %d) out of range for shape %v", lo, hi, t.shape)
	}
	row := 1
	for _, d := range t.shape[1:] {
		row *= d
	}
	shape := t.shape.Clone()
	shape[0] = hi - lo
	var data any
	a, b := lo*row, hi*row
	switch s := t.data.(type) {
	case []float32:
		data = s[a:b:b]
	case []float64:
		data = s[a:b:b]
	case []int32:
		data = s[a:b:b]
	case []int64:
		data = s[a:b:b]
	case []uint8:
		data = s[a:b:b]
	case []int8:
		data = s[a:b:b]
	case []int16:
		data = s[a:b:b]
	case []uint16:
		data = s[a:b:b]
	case []uint32:
		data = s[a:b:b]
	case []uint64:
		data = s[a:b:b]
	case []complex64:
		data = s[a:b:b]
	case []complex128:
		data = s[a:b:b]
	case []bool:
		data = s[a:b:b]
	case []string:
		data = s[a:b:b]
	default:
		return nil, fmt.Errorf("tensor: cannot slice %T", t.data)
	}
	if t.buf != nil {
		t.buf.refs.Add(1)
	}
	return &Tensor{dtype: t.dtype, shape: shape, data: data, buf: t.buf}, nil
}

// CopyRows copies all of src into dst starting at row lo along axis 0.
// The trailing dimensions and dtypes must match.
func CopyRows(dst *Tensor, lo int, src *Tensor) error {
	if dst.dtype != src.dtype || len(dst.shape) != len(src.shape) || len(dst.shape) == 0 ||
		!dst.shape[1:].Equal(src.shape[1:]) || lo < 0 || lo+src.shape[0] > dst.shape[0] {
		return fmt.Errorf("tensor: cannot copy %s%v into rows %d.. of %s%v", src.dtype, src.shape, lo, dst.dtype, dst.shape)
	}
	row := 1
	for _, d := range dst.shape[1:] {
		row *= d
	}
	off := lo * row
	switch s := src.data.(type) {
	case []float32:
		copy(dst.data.([]float32)[off:], s)
	case []float64:
		copy(dst.data.([]float64)[off:], s)
	case []int32:
		copy(dst.data.([]int32)[off:], s)
	case []int64:
		copy(dst.data.([]int64)[off:], s)
	case []uint8:
		copy(dst.data.([]uint8)[off:], s)
	case []int8:
		copy(dst.data.([]int8)[off:], s)
	case []int16:
		copy(dst.data.([]int16)[off:], s)
	case []uint16:
		copy(dst.data.([]uint16)[off:], s)
	case []uint32:
		copy(dst.data.([]uint32)[off:], s)
	case []uint64:
		copy(dst.data.([]uint64)[off:], s)
	case []complex64:
		copy(dst.data.([]complex64)[off:], s)
	case []complex128:
		copy(dst.data.([]complex128)[off:], s)
	case []bool:
		copy(dst.data.([]bool)[off:], s)
	case []string:
		copy(dst.data.([]string)[off:], s)
	}
	return nil
}
