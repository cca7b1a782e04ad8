package tensor

import "fmt"

// DType is a TensorFlow element type. Its values are TensorFlow's DataType
// enum numbers (tensorflow/core/framework/types.proto), so a dtype read from
// a file converts with a plain cast.
type DType int32

// The dtypes tfd knows. Reference dtypes (base+100) are folded to their base
// by Base.
const (
	Invalid  DType = 0
	Float32  DType = 1
	Float64  DType = 2
	Int32    DType = 3
	Uint8    DType = 4
	Int16    DType = 5
	Int8     DType = 6
	String   DType = 7
	Int64    DType = 9
	Bool     DType = 10
	BFloat16 DType = 14
	Uint16   DType = 17
	Half     DType = 19
	Resource DType = 20
	Variant  DType = 21
	Uint32   DType = 22
	Uint64   DType = 23
	// Complex64 and Complex128 hold Go complex64 and complex128 values.
	Complex64  DType = 8
	Complex128 DType = 18
)

// refOffset is what TensorFlow adds to a dtype to mark a reference (DT_FLOAT_REF = 101).
const refOffset = 100

var dtypeNames = map[DType]string{
	Invalid: "invalid", Float32: "float32", Float64: "float64", Int32: "int32",
	Uint8: "uint8", Int16: "int16", Int8: "int8", String: "string", Int64: "int64",
	Bool: "bool", BFloat16: "bfloat16", Uint16: "uint16", Half: "float16",
	Resource: "resource", Variant: "variant", Uint32: "uint32", Uint64: "uint64",
	Complex64: "complex64", Complex128: "complex128",
	11: "qint8", 12: "quint8", 13: "qint32", 15: "qint16", 16: "quint16",
}

// String returns the NumPy-style name of the dtype ("float32", "int64"); a
// reference dtype is printed with a "_ref" suffix.
func (d DType) String() string {
	if d.IsRef() {
		return d.Base().String() + "_ref"
	}
	if s, ok := dtypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("dtype(%d)", int32(d))
}

// IsRef reports whether d is a TensorFlow reference dtype (base + 100).
func (d DType) IsRef() bool { return d > refOffset && d < 2*refOffset }

// Base folds a reference dtype to its base dtype; other dtypes are returned as is.
func (d DType) Base() DType {
	if d.IsRef() {
		return d - refOffset
	}
	return d
}

// Supported reports whether tfd can hold tensors of this dtype.
func (d DType) Supported() bool {
	switch d {
	case Float32, Float64, Int32, Int64, Uint8, Int8, Int16, Uint16, Uint32, Uint64, Bool, String, Half, BFloat16,
		Complex64, Complex128, Resource:
		return true
	}
	return false
}

// Size returns the number of bytes one element occupies in TensorFlow's
// serialized form (2 for HALF and BFLOAT16 even though tfd stores them as
// float32), or 0 for dtypes without a fixed size (string, unsupported).
func (d DType) Size() int {
	switch d {
	case Float32, Int32, Uint32:
		return 4
	case Float64, Int64, Uint64, Complex64:
		return 8
	case Complex128:
		return 16
	case Uint8, Int8, Bool:
		return 1
	case Int16, Uint16, Half, BFloat16:
		return 2
	}
	return 0
}

// StorageSize returns the bytes one element occupies in memory in tfd.
func (d DType) StorageSize() int {
	switch d {
	case Half, BFloat16:
		return 4
	case String, Resource, Variant:
		return 16
	}
	return d.Size()
}

// IsFloat reports whether d is a floating-point dtype.
func (d DType) IsFloat() bool {
	switch d {
	case Float32, Float64, Half, BFloat16:
		return true
	}
	return false
}

// IsComplex reports whether d is a complex dtype.
func (d DType) IsComplex() bool { return d == Complex64 || d == Complex128 }

// IsInteger reports whether d is an integer dtype.
func (d DType) IsInteger() bool {
	switch d {
	case Int32, Int64, Uint8, Int8, Int16, Uint16, Uint32, Uint64:
		return true
	}
	return false
}

// ParseDType parses a NumPy-style dtype name as printed by String. It also
// accepts TensorFlow's "DT_FLOAT" spellings and "half".
func ParseDType(s string) (DType, error) {
	for d, n := range dtypeNames {
		if n == s && d != Invalid {
			return d, nil
		}
	}
	switch s {
	case "float", "DT_FLOAT":
		return Float32, nil
	case "double", "DT_DOUBLE":
		return Float64, nil
	case "half", "DT_HALF":
		return Half, nil
	case "DT_INT32":
		return Int32, nil
	case "DT_INT64":
		return Int64, nil
	case "DT_UINT8":
		return Uint8, nil
	case "DT_INT8":
		return Int8, nil
	case "DT_INT16":
		return Int16, nil
	case "DT_UINT16":
		return Uint16, nil
	case "DT_UINT32":
		return Uint32, nil
	case "DT_UINT64":
		return Uint64, nil
	case "DT_COMPLEX64":
		return Complex64, nil
	case "DT_COMPLEX128":
		return Complex128, nil
	case "DT_BOOL":
		return Bool, nil
	case "DT_STRING":
		return String, nil
	case "DT_BFLOAT16":
		return BFloat16, nil
	}
	return Invalid, fmt.Errorf("tensor: unknown dtype %q", s)
}

// MarshalText encodes the dtype as its name, so JSON shows "float32".
func (d DType) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a dtype name.
func (d *DType) UnmarshalText(b []byte) error {
	v, err := ParseDType(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
