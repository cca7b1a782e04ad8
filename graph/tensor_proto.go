package graph

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
)

// UnsupportedTensor is the value of a tensor attr whose dtype tfd cannot
// hold (quantized, resource, variant, float8, int4, ...). Decoding keeps
// the node so that graphs holding such constants in parts that never run
// still load; building a kernel from the attr fails with a message naming
// the dtype.
type UnsupportedTensor struct {
	DType tensor.DType
	Shape tensor.Shape
	// Proto is the TensorProto as read (deterministically re-marshaled),
	// so that Encode writes the value back unchanged.
	Proto []byte
}

// String prints the dtype and shape.
func (u UnsupportedTensor) String() string {
	return fmt.Sprintf("unsupported tensor %s%v", u.DType, u.Shape)
}

// tensorFromProto converts a TensorProto as TensorFlow's Tensor::FromProto
// does (tensorflow/core/framework/tensor.cc). It returns a *tensor.Tensor,
// or an UnsupportedTensor for dtypes tfd cannot hold. The shape, element
// count and memory are checked against the limits before allocating.
func (d *decoder) tensorFromProto(tp *tfpb.TensorProto) (any, error) {
	dt := tensor.DType(tp.GetDtype())
	shape, err := d.tensorShape(tp.GetTensorShape())
	if err != nil {
		return nil, err
	}
	n, err := shape.NumElements()
	if err != nil {
		return nil, limitErr("tensor shape %v has too many elements", shape)
	}
	if n > d.lim.MaxElements {
		return nil, limitErr("tensor declares %d elements, more than the limit %d", n, d.lim.MaxElements)
	}
	// RESOURCE and VARIANT values only exist at run time; a constant of
	// those dtypes is kept opaque like other unsupported dtypes.
	if !dt.Supported() || dt == tensor.Resource || dt == tensor.Variant {
		raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(tp)
		if err != nil {
			return nil, fmt.Errorf("re-encoding %s tensor: %v", dt, err)
		}
		if err := d.charge(int64(len(raw))); err != nil {
			return nil, err
		}
		return UnsupportedTensor{DType: dt, Shape: shape, Proto: raw}, nil
	}

	// Memory: element storage, plus string bytes (charged below once known).
	mem, ok := tensor.CheckedMul(n, dt.StorageSize())
	if !ok {
		return nil, limitErr("tensor %s%v needs more memory than an int holds", dt, shape)
	}
	if err := d.charge(int64(mem)); err != nil {
		return nil, err
	}
	if n == 0 {
		// TensorFlow ignores the value fields of an empty tensor.
		return tensor.New(dt, shape, 0)
	}
	if content := tp.GetTensorContent(); len(content) > 0 {
		data, err := d.decodeContent(dt, n, content)
		if err != nil {
			return nil, err
		}
		return tensor.Wrap(dt, shape, data)
	}
	data, err := d.decodeTyped(dt, n, tp)
	if err != nil {
		return nil, err
	}
	return tensor.Wrap(dt, shape, data)
}

// tensorShape converts the shape of a tensor value, which must be fully
// known.
func (d *decoder) tensorShape(sp *tfpb.TensorShapeProto) (tensor.Shape, error) {
	if sp.GetUnknownRank() {
		return nil, fmt.Errorf("tensor shape has unknown rank (expected a fully known shape)")
	}
	dims := sp.GetDim()
	if len(dims) > d.lim.MaxRank {
		return nil, limitErr("tensor has rank %d, more than the limit %d", len(dims), d.lim.MaxRank)
	}
	shape := make(tensor.Shape, len(dims))
	for i, dim := range dims {
		s := dim.GetSize()
		if s < 0 {
			return nil, fmt.Errorf("tensor shape dimension %d is %d (expected a size >= 0)", i, s)
		}
		if uint64(s) > math.MaxInt {
			return nil, limitErr("tensor shape dimension %d is %d, more than an int holds", i, s)
		}
		shape[i] = int(s)
	}
	return shape, nil
}

// charge takes n bytes from the graph's constant memory budget.
func (d *decoder) charge(n int64) error {
	if n < 0 || n > d.lim.MaxConstBytes-d.constBytes {
		return limitErr("constants need more than %d bytes in total (%d already used, %d more requested)",
			d.lim.MaxConstBytes, d.constBytes, n)
	}
	d.constBytes += n
	return nil
}

// decodeContent decodes tensor_content: n little-endian elements, or for
// strings n varint32 lengths followed by the bytes
// (tensorflow/core/platform/tensor_coding.cc, DecodeStringList).
func (d *decoder) decodeContent(dt tensor.DType, n int, b []byte) (any, error) {
	if dt == tensor.String {
		return d.decodeStringList(n, b)
	}
	size := dt.Size()
	if want, ok := tensor.CheckedMul(n, size); !ok || want != len(b) {
		return nil, fmt.Errorf("tensor_content holds %d bytes, expected %d elements of %s (%d bytes each)", len(b), n, dt, size)
	}
	le := binary.LittleEndian
	switch dt {
	case tensor.Float32:
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
		return out, nil
	case tensor.Float64:
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(b[8*i:]))
		}
		return out, nil
	case tensor.Int32:
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(le.Uint32(b[4*i:]))
		}
		return out, nil
	case tensor.Int64:
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(le.Uint64(b[8*i:]))
		}
		return out, nil
	case tensor.Int16:
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(le.Uint16(b[2*i:]))
		}
		return out, nil
	case tensor.Uint16:
		out := make([]uint16, n)
		for i := range out {
			out[i] = le.Uint16(b[2*i:])
		}
		return out, nil
	case tensor.Int8:
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(b[i])
		}
		return out, nil
	case tensor.Uint32:
		out := make([]uint32, n)
		for i := range out {
			out[i] = le.Uint32(b[4*i:])
		}
		return out, nil
	case tensor.Uint64:
		out := make([]uint64, n)
		for i := range out {
			out[i] = le.Uint64(b[8*i:])
		}
		return out, nil
	case tensor.Complex64:
		out := make([]complex64, n)
		for i := range out {
			out[i] = complex(math.Float32frombits(le.Uint32(b[8*i:])), math.Float32frombits(le.Uint32(b[8*i+4:])))
		}
		return out, nil
	case tensor.Complex128:
		out := make([]complex128, n)
		for i := range out {
			out[i] = complex(math.Float64frombits(le.Uint64(b[16*i:])), math.Float64frombits(le.Uint64(b[16*i+8:])))
		}
		return out, nil
	case tensor.Uint8:
		return append([]uint8(nil), b...), nil
	case tensor.Bool:
		out := make([]bool, n)
		for i := range out {
			out[i] = b[i] != 0
		}
		return out, nil
	case tensor.Half:
		out := make([]float32, n)
		for i := range out {
			out[i] = halfToFloat32(le.Uint16(b[2*i:]))
		}
		return out, nil
	case tensor.BFloat16:
		out := make([]float32, n)
		for i := range out {
			out[i] = bfloat16ToFloat32(le.Uint16(b[2*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("tensor_content of dtype %s not supported", dt)
}

func (d *decoder) decodeStringList(n int, b []byte) ([]string, error) {
	if len(b) < n {
		// Each length takes at least one byte.
		return nil, fmt.Errorf("string tensor_content holds %d bytes, too few for %d lengths", len(b), n)
	}
	lens := make([]uint32, n)
	rest := b
	var total uint64
	for i := range lens {
		v, k := protowire.ConsumeVarint(rest)
		if k < 0 || v > math.MaxUint32 {
			return nil, fmt.Errorf("string tensor_content: bad length %d of %d", i, n)
		}
		lens[i] = uint32(v)
		total += v
		rest = rest[k:]
	}
	if total != uint64(len(rest)) {
		return nil, fmt.Errorf("string tensor_content: lengths add up to %d bytes, %d bytes follow them", total, len(rest))
	}
	if err := d.charge(int64(total)); err != nil {
		return nil, err
	}
	out := make([]string, n)
	for i, l := range lens {
		out[i] = string(rest[:l])
		rest = rest[l:]
	}
	return out, nil
}

// decodeTyped reads the repeated field matching dt with TensorFlow's fill
// rule (FromProtoField in tensor.cc): values beyond n are ignored, fewer
// values are padded with the last one, no values give zeros.
func (d *decoder) decodeTyped(dt tensor.DType, n int, tp *tfpb.TensorProto) (any, error) {
	switch dt {
	case tensor.Float32:
		return fillRepeated(n, tp.GetFloatVal(), func(v float32) float32 { return v }), nil
	case tensor.Float64:
		return fillRepeated(n, tp.GetDoubleVal(), func(v float64) float64 { return v }), nil
	case tensor.Int32:
		return fillRepeated(n, tp.GetIntVal(), func(v int32) int32 { return v }), nil
	case tensor.Int16:
		return fillRepeated(n, tp.GetIntVal(), func(v int32) int16 { return int16(v) }), nil
	case tensor.Int8:
		return fillRepeated(n, tp.GetIntVal(), func(v int32) int8 { return int8(v) }), nil
	case tensor.Uint8:
		return fillRepeated(n, tp.GetIntVal(), func(v int32) uint8 { return uint8(v) }), nil
	case tensor.Uint16:
		return fillRepeated(n, tp.GetIntVal(), func(v int32) uint16 { return uint16(v) }), nil
	case tensor.Int64:
		return fillRepeated(n, tp.GetInt64Val(), func(v int64) int64 { return v }), nil
	case tensor.Uint32:
		return fillRepeated(n, tp.GetUint32Val(), func(v uint32) uint32 { return v }), nil
	case tensor.Uint64:
		return fillRepeated(n, tp.GetUint64Val(), func(v uint64) uint64 { return v }), nil
	case tensor.Complex64:
		// scomplex_val holds (real, imag) pairs; a trailing odd value is
		// ignored, as TensorFlow counts size/2 elements.
		return fillRepeated(n, complexPairs(tp.GetScomplexVal(), func(re, im float32) complex64 { return complex(re, im) }),
			func(v complex64) complex64 { return v }), nil
	case tensor.Complex128:
		return fillRepeated(n, complexPairs(tp.GetDcomplexVal(), func(re, im float64) complex128 { return complex(re, im) }),
			func(v complex128) complex128 { return v }), nil
	case tensor.Bool:
		return fillRepeated(n, tp.GetBoolVal(), func(v bool) bool { return v }), nil
	case tensor.Half:
		return fillRepeated(n, tp.GetHalfVal(), func(v int32) float32 { return halfToFloat32(uint16(v)) }), nil
	case tensor.BFloat16:
		return fillRepeated(n, tp.GetHalfVal(), func(v int32) float32 { return bfloat16ToFloat32(uint16(v)) }), nil
	case tensor.String:
		vals := tp.GetStringVal()
		var total int64
		for i, v := range vals {
			if i == n {
				break
			}
			total += int64(len(v))
		}
		if err := d.charge(total); err != nil {
			return nil, err
		}
		return fillRepeated(n, vals, func(v []byte) string { return string(v) }), nil
	}
	return nil, fmt.Errorf("dtype %s not supported", dt)
}

// fillRepeated converts up to n values and repeats the last one to length n. The
// repeated value is converted once, so strings share their bytes.
func fillRepeated[S, T any](n int, vals []S, conv func(S) T) []T {
	out := make([]T, n)
	m := min(n, len(vals))
	for i := range m {
		out[i] = conv(vals[i])
	}
	if m > 0 {
		last := out[m-1]
		for i := m; i < n; i++ {
			out[i] = last
		}
	}
	return out
}

// complexPairs groups (real, imag) pairs of a scomplex_val or dcomplex_val
// field into complex numbers.
func complexPairs[F float32 | float64, C complex64 | complex128](vals []F, mk func(re, im F) C) []C {
	out := make([]C, len(vals)/2)
	for i := range out {
		out[i] = mk(vals[2*i], vals[2*i+1])
	}
	return out
}

// halfToFloat32 widens an IEEE 754 binary16 bit pattern to float32
// exactly, including subnormals, infinities and NaN payloads.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or NaN: keep the payload in the top mantissa bits
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal: rebias 15 → 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: mant × 2^-24, exact in float32.
	v := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}

// float32ToHalf rounds a float32 to the nearest binary16, ties to even.
// NaNs stay NaNs, keeping the top payload bits.
func float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		m := uint16(mant >> 13)
		if m == 0 {
			m = 0x200 // a payload only in the low bits would otherwise become inf
		}
		return sign | 0x7c00 | m
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal or zero in half: shift the full significand right.
		if e < -10 {
			return sign // below half the smallest subnormal: rounds to zero
		}
		m := mant | 0x800000
		shift := uint32(14 - e)
		return sign | uint16(roundShift(m, shift))
	}
	// Normal: drop 13 mantissa bits; a carry may bump the exponent (even to inf).
	v := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && v&1 == 1) {
		v++
	}
	return sign | uint16(v)
}

// roundShift returns m >> shift rounded to nearest, ties to even.
func roundShift(m, shift uint32) uint32 {
	q := m >> shift
	rem := m & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return q
}

// bfloat16ToFloat32 widens a bfloat16 bit pattern (the top half of a
// float32) exactly.
func bfloat16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// float32ToBFloat16 rounds a float32 to the nearest bfloat16, ties to
// even; NaNs stay NaNs.
func float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN
		h := uint16(b >> 16)
		if h&0x7f == 0 {
			h |= 0x40
		}
		return h
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// tensorToProto encodes a tensor the way TensorFlow writes constants:
// tensor_content for fixed-size dtypes, string_val for strings and
// half_val for HALF and BFLOAT16.
func tensorToProto(t *tensor.Tensor) (*tfpb.TensorProto, error) {
	dt := t.DType()
	tp := &tfpb.TensorProto{Dtype: tfpb.DataType(dt), TensorShape: shapeToProto(t.Shape())}
	le := binary.LittleEndian
	switch s := t.Data().(type) {
	case []float32:
		switch dt {
		case tensor.Half:
			tp.HalfVal = make([]int32, len(s))
			for i, v := range s {
				tp.HalfVal[i] = int32(float32ToHalf(v))
			}
		case tensor.BFloat16:
			tp.HalfVal = make([]int32, len(s))
			for i, v := range s {
				tp.HalfVal[i] = int32(float32ToBFloat16(v))
			}
		default:
			b := make([]byte, 4*len(s))
			for i, v := range s {
				le.PutUint32(b[4*i:], math.Float32bits(v))
			}
			tp.TensorContent = b
		}
	case []float64:
		b := make([]byte, 8*len(s))
		for i, v := range s {
			le.PutUint64(b[8*i:], math.Float64bits(v))
		}
		tp.TensorContent = b
	case []int32:
		b := make([]byte, 4*len(s))
		for i, v := range s {
			le.PutUint32(b[4*i:], uint32(v))
		}
		tp.TensorContent = b
	case []int64:
		b := make([]byte, 8*len(s))
		for i, v := range s {
			le.PutUint64(b[8*i:], uint64(v))
		}
		tp.TensorContent = b
	case []int16:
		b := make([]byte, 2*len(s))
		for i, v := range s {
			le.PutUint16(b[2*i:], uint16(v))
		}
		tp.TensorContent = b
	case []uint16:
		b := make([]byte, 2*len(s))
		for i, v := range s {
			le.PutUint16(b[2*i:], v)
		}
		tp.TensorContent = b
	case []int8:
		b := make([]byte, len(s))
		for i, v := range s {
			b[i] = byte(v)
		}
		tp.TensorContent = b
	case []uint8:
		tp.TensorContent = append([]byte(nil), s...)
	case []uint32:
		b := make([]byte, 4*len(s))
		for i, v := range s {
			le.PutUint32(b[4*i:], v)
		}
		tp.TensorContent = b
	case []uint64:
		b := make([]byte, 8*len(s))
		for i, v := range s {
			le.PutUint64(b[8*i:], v)
		}
		tp.TensorContent = b
	case []complex64:
		b := make([]byte, 8*len(s))
		for i, v := range s {
			le.PutUint32(b[8*i:], math.Float32bits(real(v)))
			le.PutUint32(b[8*i+4:], math.Float32bits(imag(v)))
		}
		tp.TensorContent = b
	case []complex128:
		b := make([]byte, 16*len(s))
		for i, v := range s {
			le.PutUint64(b[16*i:], math.Float64bits(real(v)))
			le.PutUint64(b[16*i+8:], math.Float64bits(imag(v)))
		}
		tp.TensorContent = b
	case []bool:
		b := make([]byte, len(s))
		for i, v := range s {
			if v {
				b[i] = 1
			}
		}
		tp.TensorContent = b
	case []string:
		tp.StringVal = make([][]byte, len(s))
		for i, v := range s {
			tp.StringVal[i] = []byte(v)
		}
	default:
		return nil, fmt.Errorf("cannot encode tensor of dtype %s", dt)
	}
	if len(tp.TensorContent) == 0 {
		tp.TensorContent = nil
	}
	return tp, nil
}

func shapeToProto(s tensor.Shape) *tfpb.TensorShapeProto {
	sp := &tfpb.TensorShapeProto{}
	for _, d := range s {
		sp.Dim = append(sp.Dim, &tfpb.TensorShapeProto_Dim{Size: int64(d)})
	}
	return sp
}
