package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"unsafe"

	"github.com/tfdgo/tfd/tensor"
)

// Header describes the array stored in a .npy file, as ReadHeader finds
// it. It lets callers read the data in chunks of rows instead of loading
// it whole (see DecodeRows), and write files whose row count is only known
// at the end (see EncodeHeader).
type Header struct {
	DType   tensor.DType // element type in memory
	Shape   tensor.Shape // shape of the whole array
	Fortran bool         // column-major data
	Descr   string       // NumPy dtype string as written, such as "<f4"
	// ElemSize is the size of one element in the file, in bytes.
	ElemSize int
	// DataOffset is the file offset of the first data byte.
	DataOffset int64
	d          descr
}

// ReadHeader reads the magic, version and header dictionary at the start
// of r, leaving r at the first data byte. It checks that the element count
// and the byte size of the data do not overflow; it allocates nothing that
// depends on the declared shape.
func ReadHeader(r io.Reader) (Header, error) {
	h, err := streamReadHeader(r)
	if err != nil {
		return h, fmt.Errorf("npy: %w", err)
	}
	return h, nil
}

func streamReadHeader(r io.Reader) (Header, error) {
	var h Header
	ph, d, off, err := readDict(r)
	if err != nil {
		return h, err
	}
	count, err := ph.shape.NumElements()
	if err != nil {
		return h, fmt.Errorf("shape %v: %w", ph.shape, err)
	}
	if _, ok := tensor.CheckedMul(count, d.size); !ok {
		return h, fmt.Errorf("shape %v of %q overflows the byte count: %w", ph.shape, ph.descr, ErrLimit)
	}
	return Header{
		DType: d.dt, Shape: ph.shape, Fortran: ph.fortran, Descr: ph.descr,
		ElemSize: d.size, DataOffset: off, d: d,
	}, nil
}

// Rows returns the length of the first axis (1 for a scalar).
func (h *Header) Rows() int {
	if len(h.Shape) == 0 {
		return 1
	}
	return h.Shape[0]
}

// RowShape returns the shape of one row: Shape without its first axis.
func (h *Header) RowShape() tensor.Shape {
	if len(h.Shape) == 0 {
		return tensor.Shape{}
	}
	return h.Shape[1:].Clone()
}

// RowElems returns the number of elements in one row.
func (h *Header) RowElems() int { return h.RowShape().Size() }

// RowBytes returns the size of one row in the file, in bytes.
func (h *Header) RowBytes() int { return h.RowElems() * h.ElemSize }

// DataBytes returns the size of the whole data in the file, in bytes.
func (h *Header) DataBytes() int64 { return int64(h.Shape.Size()) * int64(h.ElemSize) }

// DecodeRows decodes raw, the file bytes of whole rows, into dst starting
// at element off. dst must be a tensor of h.DType with room for them.
// Fortran-order files of rank above 1 cannot be decoded by rows.
func (h *Header) DecodeRows(dst *tensor.Tensor, off int, raw []byte) error {
	if h.Fortran && len(h.Shape) > 1 {
		return fmt.Errorf("npy: fortran-order data of shape %v cannot be read row by row: %w", h.Shape, ErrFormat)
	}
	if dst.DType() != h.DType {
		return fmt.Errorf("npy: decoding %s data into a %s tensor", h.DType, dst.DType())
	}
	if h.ElemSize == 0 {
		return nil
	}
	if len(raw)%h.ElemSize != 0 || off < 0 || off+len(raw)/h.ElemSize > dst.Len() {
		return fmt.Errorf("npy: %d bytes of %d-byte elements at element %d do not fit %d elements", len(raw), h.ElemSize, off, dst.Len())
	}
	decodeElems(h.d, dst.Data(), off, raw)
	return nil
}

// nativeLE reports whether the host stores numbers little-endian.
var nativeLE = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// streamRaw returns the bytes of t's storage when they are laid out as a
// little-endian .npy file lays out elements of size size: a little-endian
// host, and a numeric dtype stored at its file size (not HALF, kept as
// float32 in memory, nor BOOL, whose bytes must be 0 or 1).
func streamRaw(t *tensor.Tensor, size int) ([]byte, bool) {
	if !nativeLE {
		return nil, false
	}
	var p unsafe.Pointer
	n := t.Len()
	switch s := t.Data().(type) {
	case []float32:
		if t.DType() == tensor.Half || size != 4 {
			return nil, false
		}
		if n > 0 {
			p = unsafe.Pointer(&s[0])
		}
	case []float64:
		if n > 0 {
			p = unsafe.Pointer(&s[0])
		}
	case []int8:
		if n > 0 {
			p = unsafe.Pointer(&s[0])
		}
	case []uint8:
		if n > 0 {
			p = unsafe.Pointer(&s[0])
		}
	case []int16:
		if n > 0 {
			p = unsafe.Pointer(&s[0])
		}
	case []uint16:
		if n > 0 {
			p = unsafe.Pointer(&s[0])
		}
	case []int32:
		if n > 0 {
			p = unsafe.Pointer(&s[0])
		}
	case []int64:
		if n > 0 {
			p = unsafe.Pointer(&s[0])
		}
	default:
		return nil, false
	}
	if size != t.DType().Size() {
		return nil, false
	}
	if n == 0 {
		return []byte{}, true
	}
	return unsafe.Slice((*byte)(p), n*size), true
}

// Raw returns the bytes of dst's storage when the file's data can be read
// straight into it (see inPlace). Reading whole rows into Raw's bytes
// equals decoding them with DecodeRows, without the per-element pass; when
// ok is false, use DecodeRows.
func (h *Header) Raw(dst *tensor.Tensor) (b []byte, ok bool) {
	if dst.DType() != h.DType || !h.inPlace() {
		return nil, false
	}
	return streamRaw(dst, h.ElemSize)
}

// inPlace reports whether the file's data bytes are, as they are, the
// memory of a tensor of the array's dtype: a little-endian host and file,
// C order (or rank 1), and a numeric dtype stored in memory as in the file
// (not float16, kept as float32, nor bool, whose bytes must be 0 or 1).
func (h *Header) inPlace() bool {
	return nativeLE && !(h.Fortran && len(h.Shape) > 1) && h.d.kind != kindBool && h.DType != tensor.Half &&
		(h.d.order == binary.LittleEndian || h.d.order == binary.NativeEndian) && h.ElemSize == h.DType.Size()
}

// Viewable reports whether View can give tensors over the file's data in
// place: the data is laid out as a tensor's memory (as for Raw) and starts
// at a file offset aligned for its elements, so that a mapping of the file
// is aligned too.
func (h *Header) Viewable() bool {
	return h.inPlace() && h.ElemSize > 0 && h.DataOffset%int64(h.ElemSize) == 0
}

// Bytes returns the file encoding of t's elements without copying when
// its memory holds them as a little-endian .npy file does (see Raw), for
// writers that can write them directly; ok is false otherwise (use
// AppendData).
func Bytes(t *tensor.Tensor) (b []byte, ok bool) {
	if t.DType() == tensor.Bool || t.DType() == tensor.BFloat16 {
		return nil, false
	}
	return streamRaw(t, t.DType().Size())
}

// EncodeHeader returns the header (magic through the final newline) that
// Write produces for an array of dtype dt and the given shape. Because
// NumPy pads the header so that the first dimension can grow to 21 digits,
// the header of [0, d1, ...] and of [n, d1, ...] have the same length: a
// writer that does not know the row count yet can write the header for 0
// rows, append the data and overwrite the header at the end. String
// tensors are refused, since their width depends on all the data.
func EncodeHeader(dt tensor.DType, shape tensor.Shape) ([]byte, error) {
	ds, ok := descrOf(dt)
	if !ok {
		return nil, fmt.Errorf("npy: dtype %s cannot be streamed (supported: float16, float32, float64, bfloat16, int8, int16, int32, int64, uint8, uint16, bool): %w", dt, ErrDType)
	}
	return formatHeader(ds, shape), nil
}

// AppendData appends the file encoding of t's elements to dst, as Write
// encodes them; string tensors are refused as in EncodeHeader.
func AppendData(dst []byte, t *tensor.Tensor) ([]byte, error) {
	if t.DType() == tensor.String {
		return dst, fmt.Errorf("npy: dtype string cannot be streamed: %w", ErrDType)
	}
	enc, err := encoderFor(t)
	if err != nil {
		return dst, fmt.Errorf("npy: %w", err)
	}
	n := t.Len()
	if enc.size == 0 || n == 0 {
		return dst, nil
	}
	if raw, ok := streamRaw(t, enc.size); ok && t.DType() != tensor.Bool {
		return append(dst, raw...), nil
	}
	start := len(dst)
	dst = append(dst, make([]byte, n*enc.size)...)
	enc.put(dst[start:], 0)
	return dst, nil
}

// View returns a tensor of rows rows over b, the file bytes of those rows,
// without copying: it is possible when the data could be read straight
// into a tensor (see Raw) and b is aligned for the element type. ok is
// false otherwise. The tensor shares b's memory, so b must outlive it and
// must not change while it is used.
func (h *Header) View(b []byte, rows int) (t *tensor.Tensor, ok bool) {
	if !h.inPlace() || rows < 0 || int64(len(b)) != int64(rows)*int64(h.RowBytes()) {
		return nil, false
	}
	shape := append(tensor.Shape{rows}, h.RowShape()...)
	n := shape.Size()
	if n == 0 {
		t, err := tensor.New(h.DType, shape, 0)
		return t, err == nil
	}
	p := unsafe.Pointer(&b[0])
	if uintptr(p)%uintptr(h.ElemSize) != 0 {
		return nil, false
	}
	var data any
	switch h.DType {
	case tensor.Float32:
		data = unsafe.Slice((*float32)(p), n)
	case tensor.Float64:
		data = unsafe.Slice((*float64)(p), n)
	case tensor.Int8:
		data = unsafe.Slice((*int8)(p), n)
	case tensor.Uint8:
		data = unsafe.Slice((*uint8)(p), n)
	case tensor.Int16:
		data = unsafe.Slice((*int16)(p), n)
	case tensor.Uint16:
		data = unsafe.Slice((*uint16)(p), n)
	case tensor.Int32:
		data = unsafe.Slice((*int32)(p), n)
	case tensor.Int64:
		data = unsafe.Slice((*int64)(p), n)
	default: // strings

		return nil, false
	}
	t, err := tensor.Wrap(h.DType, shape, data)
	return t, err == nil
}
