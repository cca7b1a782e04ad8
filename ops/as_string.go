package ops

import (
	"fmt"
	"math"
	"strings"

	"github.com/tfdgo/tfd/tensor"
)

// AsString (tensorflow/core/kernels/as_string_op.cc) formats each element
// as printf would with the format TensorFlow builds from the attrs: "%",
// then fill and width when width > -1, then ".precision" when
// precision > -1, then "d" for integers and "f", "e" (scientific) or "g"
// (shortest) for floats. Booleans become "true" and "false". Go's fmt
// takes the same flags and gives the same digits; non-finite floats are
// written as C does ("inf", "-inf", "nan"), padded to the width with
// spaces.

func init() {
	Default().Register(Spec{Name: "AsString", Doc: "each element formatted as a string (printf-style attrs precision, scientific, shortest, width, fill)",
		Infer: asStrInfer, Build: asStrBuild, Batch: BatchElementwise})
}

func asStrInfer(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return []Value{{DType: tensor.String, Shape: n.Inputs[0].Shape}}, nil
}

func asStrBuild(n *Node) (Kernel, error) {
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return nil, fmt.Errorf("op AsString: %w", err)
	}
	precision, err := AttrInt(n, "precision", -1)
	if err != nil {
		return nil, fmt.Errorf("op AsString: %w", err)
	}
	scientific, err := AttrBool(n, "scientific", false)
	if err != nil {
		return nil, fmt.Errorf("op AsString: %w", err)
	}
	shortest, err := AttrBool(n, "shortest", false)
	if err != nil {
		return nil, fmt.Errorf("op AsString: %w", err)
	}
	width, err := AttrInt(n, "width", -1)
	if err != nil {
		return nil, fmt.Errorf("op AsString: %w", err)
	}
	fill, err := AttrString(n, "fill", "")
	if err != nil {
		return nil, fmt.Errorf("op AsString: %w", err)
	}
	isFloat := dt == tensor.Float32 || dt == tensor.Float64 || dt == tensor.Half || dt == tensor.BFloat16
	switch {
	case len(fill) > 1:
		return nil, fmt.Errorf("%w: op AsString: fill %q must be at most one character", ErrAttr, fill)
	case scientific && shortest:
		return nil, fmt.Errorf("%w: op AsString: scientific and shortest cannot both be set", ErrAttr)
	case !isFloat && (scientific || shortest || precision > -1):
		return nil, fmt.Errorf("%w: op AsString: precision, scientific and shortest apply only to floats, not %s", ErrAttr, dt)
	case width > 1<<16 || precision > 1<<16:
		return nil, fmt.Errorf("%w: op AsString: width %d or precision %d is too large", ErrAttr, width, precision)
	}
	if fill != "" && !strings.ContainsAny(fill, "0- +#") {
		// printf reads the fill as a flag; any other character would make
		// the format invalid in C.
		return nil, fmt.Errorf("%w: op AsString: fill %q is not a printf flag (0, -, space, + or #)", ErrAttr, fill)
	}
	format := "%"
	if width > -1 {
		format += fmt.Sprintf("%s%d", fill, width)
	}
	if precision > -1 {
		format += fmt.Sprintf(".%d", precision)
	} else if shortest {
		format += ".6" // C's %g defaults to 6 significant digits; Go's to the shortest exact form
	}
	switch {
	case shortest:
		format += "g"
	case scientific:
		format += "e"
	default:
		format += "f"
	}
	var conv func(t *tensor.Tensor, out []string)
	switch dt {
	case tensor.Bool:
		conv = func(t *tensor.Tensor, out []string) {
			for i, v := range tensor.As[bool](t) {
				out[i] = fmt.Sprint(v)
			}
		}
	case tensor.Int8:
		conv = asStrInts[int8](strings.TrimSuffix(format, "f") + "d")
	case tensor.Int16:
		conv = asStrInts[int16](strings.TrimSuffix(format, "f") + "d")
	case tensor.Int32:
		conv = asStrInts[int32](strings.TrimSuffix(format, "f") + "d")
	case tensor.Int64:
		conv = asStrInts[int64](strings.TrimSuffix(format, "f") + "d")
	case tensor.Uint8:
		conv = asStrInts[uint8](strings.TrimSuffix(format, "f") + "d")
	case tensor.Uint16:
		conv = asStrInts[uint16](strings.TrimSuffix(format, "f") + "d")
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		conv = asStrFloats[float32](format, int(width), strings.Contains(fill, "-"))
	case tensor.Float64:
		conv = asStrFloats[float64](format, int(width), strings.Contains(fill, "-"))
	default:
		return nil, fmt.Errorf("%w: op AsString: dtype %s not supported (supported: bool, int8, int16, int32, int64, uint8, uint16, float16, bfloat16, float32, float64)", ErrDType, dt)
	}
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if in[0].DType() != dt {
			return nil, fmt.Errorf("%w: op AsString: input is %s, expected %s", ErrDType, in[0].DType(), dt)
		}
		out, err := ctx.Alloc(tensor.String, in[0].Shape())
		if err != nil {
			return nil, err
		}
		conv(in[0], tensor.As[string](out))
		return []*tensor.Tensor{out}, nil
	}), nil
}

func asStrInts[T int8 | int16 | int32 | int64 | uint8 | uint16](format string) func(*tensor.Tensor, []string) {
	return func(t *tensor.Tensor, out []string) {
		for i, v := range tensor.As[T](t) {
			out[i] = fmt.Sprintf(format, v)
		}
	}
}

func asStrFloats[T float32 | float64](format string, width int, left bool) func(*tensor.Tensor, []string) {
	return func(t *tensor.Tensor, out []string) {
		for i, v := range tensor.As[T](t) {
			f := float64(v)
			switch {
			case math.IsNaN(f):
				out[i] = asStrPad("nan", width, left)
			case math.IsInf(f, 1):
				out[i] = asStrPad("inf", width, left)
			case math.IsInf(f, -1):
				out[i] = asStrPad("-inf", width, left)
			default:
				out[i] = fmt.Sprintf(format, f)
			}
		}
	}
}

// asStrPad pads s with spaces to width, on the left unless left-justified.
func asStrPad(s string, width int, left bool) string {
	if len(s) >= width {
		return s
	}
	pad := strings.Repeat(" ", width-len(s))
	if left {
		return s + pad
	}
	return pad + s
}
