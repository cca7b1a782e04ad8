package ops

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

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
	// Slots, when set, is what the kernel of the plan node being run
	// keeps from one of its calls to the next: the variables of Keep and
	// ParallelJob, the slice Out returns and the headers View makes. Set
	// by a scheduler that keeps one Slots per node and run state (a
	// Runner, and each of its batch-slice Runners), never runs two calls
	// of the node at once, calls Begin before each call and, once it has
	// taken the outputs out of the slice the call returned, End; and
	// that releases every value of a run before the node's next call.
	// Nil elsewhere (constant folding, the dynamic executor, a zero
	// Ctx): then those helpers allocate.
	Slots *Slots
}

// A steady-state run allocates nothing only if its kernels do not:
// besides their tensors (Alloc, served by the run's memory plan), a
// kernel call would allocate the slice it returns, each closure it hands
// to Parallel (Par is an indirect call, so the closure escapes to the
// heap) and each view header. With Ctx.Slots set, these helpers take
// them from the node's Slots instead, kept from run to run:
//
//	return ctx.Out(y), nil                   // instead of []*tensor.Tensor{y}
//	ParallelJob(ctx, n, grain, rowsJob{…})   // instead of ctx.Parallel(n, grain, func…)
//	v, err := ctx.View(in[0], shape)         // instead of in[0].View(shape)
//	buf := Keep[myScratch](ctx)              // any other per-call state
//
// Each is safe however kernels nest (a fused kernel calling another's
// Run on its ctx) and from Parallel's chunks: Out hands the node's slice
// out once per call and a new one after that, so a slice an inner call
// returned is never overwritten by a later call; Keep and ParallelJob
// hand each variable to one user at a time.

// Slots holds what one plan node's kernel keeps from call to call in one
// run state. The zero value is ready to use.
type Slots struct {
	mu   sync.Mutex
	vars []zallocVar
	out  atomic.Bool // outs was handed out in this call
	outs []*tensor.Tensor
}

type zallocVar struct {
	v    any
	used bool
}

// Begin starts a call of the node's kernel: every kept variable and the
// output slice become free again. The previous call must have ended and
// its outputs must have been taken out of the slice it returned.
func (s *Slots) Begin() {
	for i := range s.vars {
		s.vars[i].used = false
	}
	s.out.Store(false)
}

// End ends a call once the scheduler has taken the outputs out of the
// slice it returned: the node's slice drops them, so that they do not
// outlive their run.
func (s *Slots) End() { clear(s.outs) }

// zallocClaim returns a free kept *J of s, marked used, and its index, or a
// new one added to s.
func zallocClaim[J any](s *Slots) (*J, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.vars {
		sv := &s.vars[i]
		if sv.used {
			continue
		}
		if j, ok := sv.v.(*J); ok {
			sv.used = true
			return j, i
		}
	}
	j := new(J)
	s.vars = append(s.vars, zallocVar{v: j, used: true})
	return j, len(s.vars) - 1
}

// free makes variable i free again within the call.
func (s *Slots) free(i int) {
	s.mu.Lock()
	s.vars[i].used = false
	s.mu.Unlock()
}

// Keep returns a variable of type J for the rest of the kernel call (and
// what it holds until the node's next call): with Ctx.Slots, one the
// node kept from an earlier call, as that call left it, or else a new
// zero one that is kept from now on; without, a new one. Each Keep of a
// call returns a different variable. A kernel must therefore set every
// field it reads, and should drop references to tensors' data it no
// longer needs, so that they do not outlive the run. Keep is safe for
// concurrent use by the goroutines of the call, but variables it hands
// out inside Parallel's chunks stay taken until the call ends.
func Keep[J any](c *Ctx) *J {
	if c.Slots == nil {
		return new(J)
	}
	j, _ := zallocClaim[J](c.Slots)
	return j
}

// Out returns ts as a kernel call's outputs, for its return statement
// (`return ctx.Out(y), nil`). With Ctx.Slots, the first Out of a call
// returns the node's kept slice, which the node's next call reuses; any
// later Out of the same call (a fused kernel's own, after an inner
// kernel's) returns a new slice, so a slice an inner kernel returned
// stays valid for the rest of the call. Without Slots it returns a new
// slice.
func (c *Ctx) Out(ts ...*tensor.Tensor) []*tensor.Tensor {
	if s := c.Slots; s != nil && s.out.CompareAndSwap(false, true) {
		s.outs = append(s.outs[:0], ts...)
		return s.outs[:len(ts):len(ts)]
	}
	return append([]*tensor.Tensor(nil), ts...)
}

// View returns a view of t with the given shape, as t.View does. With
// Ctx.Slots and a pooled t, the view's header (and its copy of shape) is
// one the node keeps from call to call: it is valid until the node's next
// call, by which time the scheduler has released every value of the run
// that made it (a caller that keeps a value beyond its run takes a copy
// or a detached header, as it must of any pooled tensor). A view of an
// unpooled tensor (a feed, a constant) may be kept by anyone, so it always
// gets a header of its own.
func (c *Ctx) View(t *tensor.Tensor, shape tensor.Shape) (*tensor.Tensor, error) {
	if c.Slots == nil || !t.Pooled() {
		return t.View(shape)
	}
	v := Keep[zallocView](c)
	if v.hdr.Pooled() {
		// Still holding the view of an earlier call (it should have been
		// released): leave it alone.
		return t.View(shape)
	}
	if v.shape == nil {
		v.shape = make(tensor.Shape, 0, len(shape)) // a scalar's shape is [], never nil
	}
	v.shape = append(v.shape[:0], shape...)
	if err := t.ViewInto(&v.hdr, v.shape); err != nil {
		return nil, err
	}
	return &v.hdr, nil
}

// zallocView is a view header kept by Ctx.View, with its shape.
type zallocView struct {
	hdr   tensor.Tensor
	shape tensor.Shape
}

// ParallelJob runs job.Chunk over [0, n) as Parallel does (chunks of at
// least grain items, on disjoint ranges). It is Parallel without the
// allocations of a closure: job is copied into a variable of the call
// (kept in Ctx.Slots from call to call, as with Keep), whose method value
// is made once, and zeroed when the work is done, so that it holds no
// references afterwards. Chunk must touch only job's fields and what they
// point to.
//
//	type rowsJob struct{ dst, src []float32; c int }
//	func (j *rowsJob) Chunk(lo, hi int) { … }
//	ParallelJob(ctx, rows, grain, rowsJob{dst, src, c})
func ParallelJob[J any, P interface {
	*J
	Chunk(lo, hi int)
}](c *Ctx, n, grain int, job J) {
	if n <= 0 {
		return
	}
	var b *zallocBox[J, P]
	slot := -1
	if c.Slots != nil {
		b, slot = zallocClaim[zallocBox[J, P]](c.Slots)
	} else {
		b = new(zallocBox[J, P])
	}
	b.job = job
	if c.Par == nil || n <= grain {
		P(&b.job).Chunk(0, n)
	} else {
		if b.fn == nil {
			b.fn = b.run
		}
		c.Par(n, grain, b.fn)
	}
	var zero J
	b.job = zero
	if slot >= 0 {
		c.Slots.free(slot)
	}
}

// zallocBox is ParallelJob's variable: the job and its Chunk method value.
type zallocBox[J any, P interface {
	*J
	Chunk(lo, hi int)
}] struct {
	job J
	fn  func(lo, hi int)
}

func (b *zallocBox[J, P]) run(lo, hi int) { P(&b.job).Chunk(lo, hi) }

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
