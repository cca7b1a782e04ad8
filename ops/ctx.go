package ops

import (
	"context"
	"fmt"
	"math"

	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
)

// Ctx is what a kernel call may use besides its inputs: the run's context,
// an allocator and a way to split work. The scheduler fills it; a zero Ctx
// is valid (plain allocation, no limits, everything inline).
type Ctx struct {
	// Context is checked by long kernels every few thousand rows.
	Context context.Context
	// Pool supplies output and scratch storage; nil means plain make.
	Pool *pool.Pool
	// Frame, when set, supplies storage instead of Pool: the run's memory
	// plan (pool.Arena), which numbers the kernel call's allocations,
	// serves them from storage laid out in advance, falls back to the pool
	// and charges the run's memory budget. Set by the scheduler.
	Frame *pool.Frame
	// MaxElements bounds every tensor a kernel allocates; 0 means no bound.
	MaxElements int
	// Par runs fn over [0, n) split into chunks, possibly on several
	// goroutines, and returns when all are done. Nil means inline. Set by
	// the scheduler.
	Par func(n, grain int, fn func(lo, hi int))
	// Resources holds the run's stateful objects (TensorArrays, ...); nil
	// outside a run. Use State to reach it.
	Resources *Resources
	// Call evaluates a function of the graph's library with its attrs
	// bound, on inputs, in the same run (sharing Resources). Functional
	// control flow (While, If) uses it. Nil outside a run.
	Call func(fn tensor.Func, in []*tensor.Tensor) ([]*tensor.Tensor, error)
}

// State returns the run's resource store, or an error when the kernel runs
// outside a run that provides one (for example during constant folding,
// which never folds stateful ops).
func (c *Ctx) State() (*Resources, error) {
	if c.Resources == nil {
		return nil, fmt.Errorf("stateful op needs the run's resource store")
	}
	return c.Resources, nil
}

// Alloc returns an output tensor with unspecified contents. shape is
// copied (and never retained, so a kernel's shape literal stays on its
// stack).
func (c *Ctx) Alloc(dt tensor.DType, shape tensor.Shape) (*tensor.Tensor, error) {
	if err := c.check(dt, shape); err != nil {
		return nil, err
	}
	if c.Frame != nil {
		return c.Frame.Get(dt, shape, false)
	}
	if c.Pool == nil || dt == tensor.String {
		return tensor.New(dt, shape.Clone(), 0)
	}
	return c.Pool.Get(dt, shape.Clone())
}

// Zeros returns an output tensor filled with zeros.
func (c *Ctx) Zeros(dt tensor.DType, shape tensor.Shape) (*tensor.Tensor, error) {
	if err := c.check(dt, shape); err != nil {
		return nil, err
	}
	if c.Frame != nil {
		return c.Frame.Get(dt, shape, true)
	}
	if c.Pool == nil || dt == tensor.String {
		return tensor.New(dt, shape.Clone(), 0)
	}
	return c.Pool.Zeroed(dt, shape.Clone())
}

// check validates shape against MaxElements. Error paths format a copy of
// shape, so that shape itself does not escape.
func (c *Ctx) check(dt tensor.DType, shape tensor.Shape) error {
	n := 1
	for _, d := range shape {
		if d < 0 || (d != 0 && n > math.MaxInt/d) {
			_, err := shape.Clone().NumElements()
			return err
		}
		n *= d
	}
	if c.MaxElements > 0 && n > c.MaxElements {
		return fmt.Errorf("output %s%v has %d elements, more than the limit %d: %w", dt, shape.Clone(), n, c.MaxElements, ErrLimit)
	}
	return nil
}

// Parallel runs fn over [0, n) in chunks of at least grain items. Chunks
// must write disjoint outputs and must not depend on how [0, n) is split.
func (c *Ctx) Parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if c.Par == nil || n <= grain {
		fn(0, n)
		return
	}
	c.Par(n, grain, fn)
}

// Err returns the context's error, or nil without a context.
func (c *Ctx) Err() error {
	if c.Context == nil {
		return nil
	}
	return c.Context.Err()
}
