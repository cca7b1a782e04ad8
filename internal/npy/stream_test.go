package npy

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unsafe"

	"github.com/tfdgo/tfd/tensor"
)

// TestStreamMatchesWrite checks that EncodeHeader + AppendData produce
// exactly what Write produces, and that ReadHeader + DecodeRows read back,
// chunk by chunk, what Read reads.
func TestStreamMatchesWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    *tensor.Tensor
	}{
		{name: "f32 matrix", t: tensor.FromSlice(tensor.Shape{5, 3}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})},
		{name: "f64 vector", t: tensor.FromSlice(tensor.Shape{4}, []float64{1.5, -2, 3e300, 0})},
		{name: "i64 rank 3", t: tensor.FromSlice(tensor.Shape{3, 1, 2}, []int64{1, -2, 3, -4, 5, -6})},
		{name: "bool", t: tensor.FromSlice(tensor.Shape{3, 2}, []bool{true, false, false, true, true, true})},
		{name: "u8 empty rows", t: tensor.FromSlice(tensor.Shape{0, 4}, []uint8{})},
		{name: "scalar", t: tensor.Scalar[int32](7)},
		{name: "half", t: streamWrap(tensor.Half, tensor.Shape{2}, []float32{1.5, -2})},
		{name: "u16", t: tensor.FromSlice(tensor.Shape{2}, []uint16{1, 65535})},
		{name: "i16", t: tensor.FromSlice(tensor.Shape{1, 2}, []int16{-1, 300})},
		{name: "i8", t: tensor.FromSlice(tensor.Shape{3}, []int8{-128, 0, 127})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want bytes.Buffer
			if err := Write(&want, tc.t); err != nil {
				t.Fatal(err)
			}
			hdr, err := EncodeHeader(tc.t.DType(), tc.t.Shape())
			if err != nil {
				t.Fatal(err)
			}
			got, err := AppendData(hdr, tc.t)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("streamed encoding differs from Write:\n%q\n%q", got, want.Bytes())
			}

			r := bytes.NewReader(got)
			h, err := ReadHeader(r)
			if err != nil {
				t.Fatal(err)
			}
			if h.DType != tc.t.DType() || !h.Shape.Equal(tc.t.Shape()) || h.DataOffset != int64(len(got)-r.Len()) {
				t.Fatalf("header %+v for %v", h, tc.t)
			}
			rows, rowElems := h.Rows(), h.RowElems()
			dst, err := tensor.New(h.DType, tc.t.Shape(), 0)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(r)
			// Reading straight into the storage equals decoding.
			direct, _ := tensor.New(h.DType, tc.t.Shape(), 0)
			if b, ok := h.Raw(direct); ok {
				copy(b, raw)
				if !tensor.Equal(direct, tc.t) {
					t.Errorf("raw read %v, want %v", direct, tc.t)
				}
			} else if nativeLE && h.DType != tensor.Bool && h.DType != tensor.Half {
				t.Errorf("no raw access for %s", h.Descr)
			}
			if len(raw) > 0 {
				if b, ok := Bytes(tc.t); ok && !bytes.Equal(b, raw) {
					t.Errorf("Bytes %x, want %x", b, raw)
				}
			}
			// Two rows per chunk.
			for lo := 0; lo < rows; lo += 2 {
				hi := min(rows, lo+2)
				if err := h.DecodeRows(dst, lo*rowElems, raw[lo*h.RowBytes():hi*h.RowBytes()]); err != nil {
					t.Fatal(err)
				}
			}
			if !tensor.Equal(dst, tc.t) {
				t.Errorf("decoded %v, want %v", dst, tc.t)
			}
		})
	}
}

func streamWrap(dt tensor.DType, shape tensor.Shape, data any) *tensor.Tensor {
	t, err := tensor.Wrap(dt, shape, data)
	if err != nil {
		panic(err)
	}
	return t
}

// TestEncodeHeaderGrowth checks the property writers rely on: the header
// of 0 rows is as long as the header of any row count up to 21 digits.
func TestEncodeHeaderGrowth(t *testing.T) {
	for _, trail := range []tensor.Shape{{}, {784}, {28, 28, 1}} {
		h0, err := EncodeHeader(tensor.Float32, append(tensor.Shape{0}, trail...))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 99, 123456789, 1 << 40} {
			hn, _ := EncodeHeader(tensor.Float32, append(tensor.Shape{n}, trail...))
			if len(hn) != len(h0) {
				t.Errorf("shape %v: header of %d rows is %d bytes, of 0 rows %d", trail, n, len(hn), len(h0))
			}
		}
	}
}

// TestRawRefusals checks that Raw refuses layouts that differ in memory.
func TestRawRefusals(t *testing.T) {
	for _, tc := range []struct {
		dict string
		dt   tensor.DType
	}{
		{"{'descr': '>f4', 'fortran_order': False, 'shape': (2,)}", tensor.Float32},
		{"{'descr': '<f2', 'fortran_order': False, 'shape': (2,)}", tensor.Half},
		{"{'descr': '|b1', 'fortran_order': False, 'shape': (2,)}", tensor.Bool},
		{"{'descr': '<i4', 'fortran_order': True, 'shape': (2, 2)}", tensor.Int32},
	} {
		h, err := ReadHeader(bytes.NewReader(npyFile(1, tc.dict, make([]byte, 64))))
		if err != nil {
			t.Fatal(err)
		}
		dst, _ := tensor.New(tc.dt, h.Shape, 0)
		if _, ok := h.Raw(dst); ok {
			t.Errorf("%s: raw access granted", tc.dict)
		}
	}
	h, _ := ReadHeader(bytes.NewReader(npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", make([]byte, 8))))
	if _, ok := h.Raw(tensor.FromSlice(tensor.Shape{2}, []float64{1, 2})); ok {
		t.Error("raw access to a float64 tensor for float32 data")
	}
}

func TestStreamErrors(t *testing.T) {
	if _, err := EncodeHeader(tensor.String, tensor.Shape{2}); !errors.Is(err, ErrDType) {
		t.Errorf("string header: %v", err)
	}
	if _, err := AppendData(nil, tensor.FromSlice(tensor.Shape{1}, []string{"a"})); !errors.Is(err, ErrDType) {
		t.Errorf("string data: %v", err)
	}
	fortran := npyFile(1, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3)}", make([]byte, 24))
	h, err := ReadHeader(bytes.NewReader(fortran))
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := tensor.New(tensor.Int32, tensor.Shape{2, 3}, 0)
	if err := h.DecodeRows(dst, 0, make([]byte, 12)); !errors.Is(err, ErrFormat) {
		t.Errorf("fortran rows: %v", err)
	}
	h, err = ReadHeader(bytes.NewReader(npyFile(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3)}", make([]byte, 24))))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.DecodeRows(dst, 4, make([]byte, 12)); err == nil {
		t.Error("decoding past the end of dst succeeded")
	}
	f32, _ := tensor.New(tensor.Float32, tensor.Shape{2, 3}, 0)
	if err := h.DecodeRows(f32, 0, make([]byte, 12)); err == nil {
		t.Error("decoding int32 data into a float32 tensor succeeded")
	}
	for _, bad := range [][]byte{nil, []byte("\x93NUMPY\x09\x00"), npyFile(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", nil)} {
		if _, err := ReadHeader(bytes.NewReader(bad)); err == nil {
			t.Errorf("ReadHeader(%q) succeeded", bad)
		}
	}
}

// TestViewMatchesRead checks that View over a file's data bytes equals
// Read of the file, for each dtype View takes, and that it refuses what
// must be decoded (bool, half, big-endian, Fortran order) and misaligned
// bytes.
func TestViewMatchesRead(t *testing.T) {
	encode := func(x *tensor.Tensor) (Header, []byte) {
		var b bytes.Buffer
		if err := Write(&b, x); err != nil {
			t.Fatal(err)
		}
		r := bytes.NewReader(b.Bytes())
		h, err := ReadHeader(r)
		if err != nil {
			t.Fatal(err)
		}
		return h, b.Bytes()[h.DataOffset:]
	}
	for _, x := range []*tensor.Tensor{
		tensor.FromSlice(tensor.Shape{3, 2}, []float32{1, -2, 3.5, 0, 1e-30, 7}),
		tensor.FromSlice(tensor.Shape{2}, []float64{1.5, -3e300}),
		tensor.FromSlice(tensor.Shape{2, 2}, []int8{-128, 0, 1, 127}),
		tensor.FromSlice(tensor.Shape{3}, []uint8{0, 1, 255}),
		tensor.FromSlice(tensor.Shape{2}, []int16{-300, 300}),
		tensor.FromSlice(tensor.Shape{2}, []uint16{0, 65535}),
		tensor.FromSlice(tensor.Shape{2, 1}, []int32{-1 << 31, 5}),
		tensor.FromSlice(tensor.Shape{1, 2}, []int64{-1 << 63, 9}),
		tensor.FromSlice(tensor.Shape{0, 3}, []float32{}),
	} {
		h, data := encode(x)
		// Copy to an aligned buffer: the file's data offset is a multiple
		// of 16, the buffer's start may not be.
		buf := make([]uint64, (len(data)+7)/8+1)
		aligned := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*8)
		copy(aligned, data)
		rows := h.Rows()
		got, ok := h.View(aligned[:len(data)], rows)
		if !ok {
			t.Errorf("%s%v: View refused", x.DType(), x.Shape())
			continue
		}
		if !tensor.Equal(got, x) {
			t.Errorf("%s%v: View gives %v, want %v", x.DType(), x.Shape(), got, x)
		}
		if h.ElemSize > 1 && len(data) > 0 {
			copy(aligned[1:], data)
			if _, ok := h.View(aligned[1:1+len(data)], rows); ok {
				t.Errorf("%s%v: View took misaligned bytes", x.DType(), x.Shape())
			}
		}
		if _, ok := h.View(aligned[:len(data)], rows+1); ok {
			t.Errorf("%s%v: View took %d rows from the bytes of %d", x.DType(), x.Shape(), rows+1, rows)
		}
	}
	for name, x := range map[string]*tensor.Tensor{
		"bool": tensor.FromSlice(tensor.Shape{2}, []bool{true, false}),
		"half": streamWrap(tensor.Half, tensor.Shape{2}, []float32{1.5, -2}),
	} {
		h, data := encode(x)
		if _, ok := h.View(data, 2); ok {
			t.Errorf("%s: View took data that must be decoded", name)
		}
	}
	h, data := encode(tensor.FromSlice(tensor.Shape{2}, []int32{1, 2}))
	h2, err := ReadHeader(bytes.NewReader(bytes.Replace(append(formatHeader("<i4", tensor.Shape{2}), data...), []byte("'<i4'"), []byte("'>i4'"), 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h2.View(data, 2); ok {
		t.Error("View took big-endian data")
	}
	h.Fortran, h.Shape = true, tensor.Shape{1, 2}
	if _, ok := h.View(data, 1); ok {
		t.Error("View took Fortran-order data")
	}
}
