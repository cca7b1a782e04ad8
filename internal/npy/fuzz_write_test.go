package npy

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// FuzzWriteRead builds a tensor from the fuzzer's bytes (a dtype of
// npyDTypes, up to three dimensions, element bits or string bytes) and
// checks that Write then Read gives it back: bit for bit, BFLOAT16 as the
// FLOAT32 it is written as, strings without their trailing NULs (which
// NumPy drops).
func FuzzWriteRead(f *testing.F) {
	f.Add(uint8(0), []byte{2, 3}, []byte("0123456789abcdefghijklmnopqrstuvwxyz"))
	f.Add(uint8(11), []byte{3}, []byte("a\x00b\xffc\x00\x00"))
	f.Add(uint8(11), []byte{2, 1}, []byte("é日🙂\x00 "))
	f.Add(uint8(2), []byte{4}, []byte{0x00, 0x7c, 0x01, 0x7c, 0xff, 0xff, 0x00, 0x80})
	f.Add(uint8(10), []byte{}, []byte{1})
	f.Add(uint8(3), []byte{0, 5}, []byte{})
	f.Fuzz(func(t *testing.T, which uint8, dims, data []byte) {
		dt := npyDTypes[int(which)%len(npyDTypes)]
		shape := tensor.Shape{}
		for _, d := range dims[:min(len(dims), 3)] {
			shape = append(shape, int(d%8))
		}
		in := npyFromBytes(dt, shape, data)
		var buf bytes.Buffer
		if err := Write(&buf, in); err != nil {
			t.Fatalf("Write(%s%v): %v", dt, shape, err)
		}
		got, err := Read(bytes.NewReader(buf.Bytes()), Limits{})
		if err != nil {
			t.Fatalf("Read of what Write wrote for %s%v: %v", dt, shape, err)
		}
		want := in
		switch dt {
		case tensor.BFloat16:
			want, _ = in.Retag(tensor.Float32)
		case tensor.String:
			s := tensor.As[string](in)
			trimmed := make([]string, len(s))
			for i, v := range s {
				trimmed[i] = strings.TrimRight(v, "\x00")
			}
			want = tensor.FromSlice(in.Shape(), trimmed)
		}
		if !npyEqualNaN(got, want) {
			t.Fatalf("round trip of %s%v: got %v, want %v", dt, shape, got, want)
		}
	})
}

// npyFromBytes fills a tensor of dtype dt and shape from data, repeating
// data as needed (zeros when it is empty). Strings take 0 to 7 bytes each.
func npyFromBytes(dt tensor.DType, shape tensor.Shape, data []byte) *tensor.Tensor {
	n := shape.Size()
	pos := 0
	next := func(k int) []byte {
		out := make([]byte, k)
		for i := range out {
			if len(data) > 0 {
				out[i] = data[pos%len(data)]
				pos++
			}
		}
		return out
	}
	le := binary.LittleEndian
	var v any
	switch dt {
	case tensor.Float32, tensor.BFloat16:
		s := make([]float32, n)
		for i := range s {
			s[i] = math.Float32frombits(le.Uint32(next(4)))
		}
		v = s
	case tensor.Half:
		s := make([]float32, n)
		for i := range s {
			s[i] = halfToFloat32(le.Uint16(next(2)))
		}
		v = s
	case tensor.Float64:
		s := make([]float64, n)
		for i := range s {
			s[i] = math.Float64frombits(le.Uint64(next(8)))
		}
		v = s
	case tensor.Int8:
		s := make([]int8, n)
		for i := range s {
			s[i] = int8(next(1)[0])
		}
		v = s
	case tensor.Uint8:
		s := make([]uint8, n)
		for i := range s {
			s[i] = next(1)[0]
		}
		v = s
	case tensor.Int16:
		s := make([]int16, n)
		for i := range s {
			s[i] = int16(le.Uint16(next(2)))
		}
		v = s
	case tensor.Uint16:
		s := make([]uint16, n)
		for i := range s {
			s[i] = le.Uint16(next(2))
		}
		v = s
	case tensor.Int32:
		s := make([]int32, n)
		for i := range s {
			s[i] = int32(le.Uint32(next(4)))
		}
		v = s
	case tensor.Int64:
		s := make([]int64, n)
		for i := range s {
			s[i] = int64(le.Uint64(next(8)))
		}
		v = s
	case tensor.Bool:
		s := make([]bool, n)
		for i := range s {
			s[i] = next(1)[0]&1 == 1
		}
		v = s
	case tensor.String:
		s := make([]string, n)
		for i := range s {
			s[i] = string(next(int(next(1)[0] % 8)))
		}
		v = s
	}
	t, err := tensor.Wrap(dt, shape, v)
	if err != nil {
		panic(err)
	}
	return t
}

// npyEqualNaN is tensor.Equal, except that NaNs of a float dtype compare
// equal whatever their payload (a half NaN widened to float32 and
// narrowed again may come back with another payload).
func npyEqualNaN(a, b *tensor.Tensor) bool {
	if tensor.Equal(a, b) {
		return true
	}
	if a.DType() != b.DType() || !a.Shape().Equal(b.Shape()) || (a.DType() != tensor.Half && a.DType() != tensor.Float32) {
		return false
	}
	x, y := tensor.As[float32](a), tensor.As[float32](b)
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) && !(x[i] != x[i] && y[i] != y[i]) {
			return false
		}
	}
	return true
}
