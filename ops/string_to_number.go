package ops

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tfdgo/tfd/tensor"
)

// StringToNumber parses each string as a number of out_type (float32 by
// default; float64, int32, int64), as tensorflow/core/kernels/
// string_to_number_op.cc does with strings::SafeStringToNumeric:
// surrounding ASCII whitespace is ignored; floats accept decimal and
// exponent notation, "inf", "infinity" and "nan" in any case, and a value
// out of range becomes ±Inf or 0; integers are decimal with an optional
// sign and must fit the type. Anything else is an error naming the
// string.

func init() {
	Default().Register(Spec{
		Name:  "StringToNumber",
		Doc:   "parses each string as a number of out_type",
		Infer: strNumInfer,
		Build: strNumBuild,
		Batch: BatchElementwise,
	})
}

func strNumType(n *Node) (tensor.DType, error) {
	if err := NeedInputs(n, 1); err != nil {
		return tensor.Invalid, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if d := n.Inputs[0].DType.Base(); d != tensor.Invalid && d != tensor.String {
		return tensor.Invalid, fmt.Errorf("%w: op %s: input is %s, expected string", ErrDType, n.Op, d)
	}
	dt, err := cplxOptType(n, "out_type", tensor.Float32)
	if err != nil {
		return tensor.Invalid, err
	}
	switch dt {
	case tensor.Float32, tensor.Float64, tensor.Int32, tensor.Int64:
		return dt, nil
	}
	return tensor.Invalid, fmt.Errorf("%w: op %s: out_type %s not supported (supported: float32, float64, int32, int64)", ErrDType, n.Op, dt)
}

func strNumInfer(n *Node) ([]Value, error) {
	dt, err := strNumType(n)
	if err != nil {
		return nil, err
	}
	return []Value{{DType: dt, Shape: n.Inputs[0].Shape}}, nil
}

func strNumBuild(n *Node) (Kernel, error) {
	dt, err := strNumType(n)
	if err != nil {
		return nil, err
	}
	switch dt {
	case tensor.Float32:
		return &strNum[float32]{op: n.Op, dt: dt, parse: func(s string) (float32, bool) {
			v, ok := strParseFloat(s, 32)
			return float32(v), ok
		}}, nil
	case tensor.Float64:
		return &strNum[float64]{op: n.Op, dt: dt, parse: func(s string) (float64, bool) { return strParseFloat(s, 64) }}, nil
	case tensor.Int32:
		return &strNum[int32]{op: n.Op, dt: dt, parse: func(s string) (int32, bool) {
			v, err := strconv.ParseInt(s, 10, 32)
			return int32(v), err == nil
		}}, nil
	}
	return &strNum[int64]{op: n.Op, dt: dt, parse: func(s string) (int64, bool) {
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil
	}}, nil
}

// strParseFloat parses a decimal float; out-of-range values are accepted
// as the ±Inf or 0 strconv returns. Hexadecimal floats and digit
// separators, which strconv would accept, are not numbers to TensorFlow.
func strParseFloat(s string, bits int) (float64, bool) {
	if strings.ContainsRune(s, '_') || strings.ContainsAny(s, "xX") {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, bits)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return v, true
}

type strNum[T tensor.Number] struct {
	op    string
	dt    tensor.DType
	parse func(string) (T, bool)
}

func (k *strNum[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	d, err := mathInputs[string](k.op, in, 1)
	if err != nil {
		return nil, err
	}
	out, err := ctx.Alloc(k.dt, in[0].Shape())
	if err != nil {
		return nil, err
	}
	dst := tensor.As[T](out)
	for i, s := range d[0] {
		v, ok := k.parse(strings.Trim(s, " \t\n\v\f\r"))
		if !ok {
			out.Release()
			if len(s) > 64 {
				s = s[:64] + "…"
			}
			return nil, fmt.Errorf("%w: op %s: could not convert string %q to %s", ErrShape, k.op, s, k.dt)
		}
		dst[i] = v
	}
	return []*tensor.Tensor{out}, nil
}
