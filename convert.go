package tfd

import (
	"fmt"
	"math"

	"github.com/tfdgo/tfd/tensor"
)

// ConvertFeed converts a tensor read from a file to the dtype a
// placeholder expects, refusing conversions that could change a value
// silently: float64 → float32 (rounding, as TensorFlow's own feeding
// does), integer → integer when every value fits, integer → float when
// every value is exact, and nothing else.
func ConvertFeed(t *Tensor, dt DType) (*Tensor, error) {
	if t.DType() == dt {
		return t, nil
	}
	src := t.DType()
	switch {
	case src == tensor.Float64 && (dt == tensor.Float32 || dt == tensor.Half || dt == tensor.BFloat16):
		out, _ := tensor.New(dt, t.Shape(), 0)
		o := tensor.As[float32](out)
		for i, v := range tensor.As[float64](t) {
			o[i] = float32(v)
		}
		return out, nil
	case src == tensor.Float32 && dt == tensor.Float64:
		out, _ := tensor.New(dt, t.Shape(), 0)
		o := tensor.As[float64](out)
		for i, v := range tensor.As[float32](t) {
			o[i] = float64(v)
		}
		return out, nil
	case src.IsInteger() && dt == tensor.Uint64:
		// Exact, not through float64: any non-negative value fits.
		out, err := tensor.New(dt, t.Shape(), 0)
		if err != nil {
			return nil, err
		}
		o := tensor.As[uint64](out)
		for i := range o {
			v, neg := intAt(t, i)
			if neg {
				return nil, fmt.Errorf("value at index %d is negative and does not fit %s", i, dt)
			}
			o[i] = v
		}
		return out, nil
	case src.IsInteger() && (dt.IsInteger() || dt == tensor.Float32 || dt == tensor.Float64):
		lo, hi, exact := intRange(dt)
		vals := t.Float64s()
		out, err := tensor.New(dt, t.Shape(), 0)
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			if v < lo || v > hi || (exact > 0 && math.Abs(v) > exact) {
				return nil, fmt.Errorf("value %v at index %d does not fit %s", v, i, dt)
			}
			setFloat(out, i, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("dtype %s cannot be converted to %s without loss; expected %s", src, dt, dt)
}

func intRange(dt DType) (lo, hi, exact float64) {
	switch dt {
	case tensor.Int8:
		return math.MinInt8, math.MaxInt8, 0
	case tensor.Uint8:
		return 0, math.MaxUint8, 0
	case tensor.Int16:
		return math.MinInt16, math.MaxInt16, 0
	case tensor.Uint16:
		return 0, math.MaxUint16, 0
	case tensor.Int32:
		return math.MinInt32, math.MaxInt32, 0
	case tensor.Uint32:
		return 0, math.MaxUint32, 0
	case tensor.Float32:
		return math.Inf(-1), math.Inf(1), 1 << 24
	}
	return math.Inf(-1), math.Inf(1), 1 << 53
}

func setFloat(t *Tensor, i int, v float64) {
	switch s := t.Data().(type) {
	case []float32:
		s[i] = float32(v)
	case []float64:
		s[i] = v
	case []int32:
		s[i] = int32(v)
	case []int64:
		s[i] = int64(v)
	case []uint8:
		s[i] = uint8(v)
	case []int8:
		s[i] = int8(v)
	case []int16:
		s[i] = int16(v)
	case []uint16:
		s[i] = uint16(v)
	case []uint32:
		s[i] = uint32(v)
	case []uint64:
		s[i] = uint64(v)
	}
}

// intAt returns element i of an integer tensor as its magnitude bits and
// whether it is negative.
func intAt(t *Tensor, i int) (v uint64, neg bool) {
	var x int64
	switch s := t.Data().(type) {
	case []uint64:
		return s[i], false
	case []uint32:
		return uint64(s[i]), false
	case []int64:
		x = s[i]
	case []int32:
		x = int64(s[i])
	case []uint8:
		x = int64(s[i])
	case []int8:
		x = int64(s[i])
	case []int16:
		x = int64(s[i])
	case []uint16:
		x = int64(s[i])
	}
	return uint64(x), x < 0
}
