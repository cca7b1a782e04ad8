package sched

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
)

// A Runner's helper goroutines (its crew) take three kinds of work: ready
// nodes of a run whose independent branches execute concurrently (share.go),
// chunks of a kernel's Ctx.Parallel, and slices of a batch-sliced run. The
// goroutine that called Run takes part as worker 0, so a run with n workers
// uses n goroutines in all. A Runner made with NewRunner keeps its crew
// until Close; the Runners behind Plan.Run start one when a run first
// needs it and stop it when the run ends, so no goroutine outlives a run.
//
// Handing work to a goroutine that is parked costs its wake-up: several
// microseconds on Linux, tens when the machine is busy, more than many
// kernels of a small model take. So a helper that has just worked keeps
// looking for work for memSpinNanos before it parks, and the runs that
// share work with their helpers wake them as they start: within a run, a
// kernel's split or a ready branch is taken up in well under a microsecond.
// Parked helpers are woken only where work is posted, and whoever posts
// work takes it up too, so a helper that wakes late only finds less to do.
// A spinning goroutine gives its CPU to the kernel's other ready threads
// every few polls (on a busy machine, the thread it waits for may share
// that CPU); still, a run that shares work keeps its cores busy while it
// lasts, which is why the decisions of share.go only share work that was
// seen to pay, and a run started while another run of its plan is under
// way shares nothing.

// Spinning bounds.
const (
	// memSpinNanos is how long an idle helper keeps looking for work
	// before it parks, and how long a worker waiting for the chunks or
	// nodes of others spins before it parks.
	memSpinNanos = 100_000
	// memParSlots bounds the kernel splits open to helpers at once; a
	// split beyond them runs on its caller alone.
	memParSlots = 16
)

// memCrew is the helper goroutines of one Runner.
type memCrew struct {
	jobs     chan memJob   // invitations into batch-sliced runs, and quit
	wake     chan struct{} // tokens for parked helpers (hints: they look for work)
	parked   atomic.Int32  // helpers parked or about to park
	npar     atomic.Int32  // splits open in pars
	pars     [memParSlots]atomic.Pointer[memPar]
	wg       sync.WaitGroup
	n        int  // helpers running
	stopping bool // told to quit, not yet waited for
}

type memJob struct {
	kind int8
	r    *Runner
}

const (
	memJobQuit int8 = iota
	memJobSlices
)

// memGate admits helpers into the work of a run until the run closes it;
// the run then waits for the helpers that came in, and for no others. A
// helper that takes up an invitation late (the machine was busy, the work
// is done) finds the gate closed and goes back to waiting, so a run never
// waits for a helper that has not started.
type memGate struct {
	in   atomic.Int32 // helpers in; -1: closed
	exit chan struct{}
}

func (g *memGate) open(workers int) {
	if cap(g.exit) < workers {
		g.exit = make(chan struct{}, workers)
	}
	g.in.Store(0)
}

func (g *memGate) enter() bool {
	for {
		n := g.in.Load()
		if n < 0 {
			return false
		}
		if g.in.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (g *memGate) leave() { g.exit <- struct{}{} }

// close closes the gate and returns the number of helpers that came in.
func (g *memGate) close() int { return max(int(g.in.Swap(-1)), 0) }

// wait waits for n helpers to leave.
func (g *memGate) wait(n int) {
	for range n {
		<-g.exit
	}
}

// memMaxWorkers bounds a Runner's helpers.
const memMaxWorkers = 1 << 12

// startCrew starts the Runner's helpers if they are not running, and
// returns the crew. Only the goroutine running the Runner calls it while
// no helper runs.
func (r *Runner) startCrew() *memCrew {
	n := min(r.workers, memMaxWorkers) - 1
	c := r.crew
	if c != nil && c.n > 0 {
		return c
	}
	if c != nil && c.stopping {
		// Helpers told to quit after the last run may not have yet: they
		// must be gone before new ones use the same worker slots.
		c.wg.Wait()
		c.stopping = false
	}
	if c == nil || cap(c.jobs) < 2*n {
		c = &memCrew{jobs: make(chan memJob, 2*n), wake: make(chan struct{}, n)}
		r.crew = c
	}
	c.n = n
	c.wg.Add(n)
	for w := 1; w <= n; w++ {
		go c.helper(r, w)
	}
	return c
}

// stopCrew tells the helpers to quit, and waits until they have returned
// if wait is set. Helpers that are not waited for are waited for before
// new ones start; meanwhile they touch nothing of the Runner's runs.
func (r *Runner) stopCrew(wait bool) {
	c := r.crew
	if c == nil {
		return
	}
	if c.n > 0 {
		for range c.n {
			c.jobs <- memJob{kind: memJobQuit}
		}
		c.n = 0
		c.stopping = true
	}
	if wait && c.stopping {
		c.wg.Wait()
		c.stopping = false
	}
}

// invite asks idle helpers to join a run's work (through its gate).
func (c *memCrew) invite(kind int8, r *Runner, n int) {
	for range n {
		select {
		case c.jobs <- memJob{kind: kind, r: r}:
		default:
			return // invitations still pending do as well
		}
	}
}

// rouse wakes up to n parked helpers. Tokens are hints: a helper that
// finds no work spins for a while and parks again.
func (c *memCrew) rouse(n int) {
	for n = min(n, int(c.parked.Load())); n > 0; n-- {
		select {
		case c.wake <- struct{}{}:
		default:
			return
		}
	}
}

// helper is the loop of helper goroutine w: it takes up work as long as
// there is some, looks for more for memSpinNanos, then parks until a
// token or a job comes.
func (c *memCrew) helper(r *Runner, w int) {
	defer c.wg.Done()
	var spin memSpin
	for {
		if c.helpPars(w) || r.dag.join(r, w) {
			spin.reset()
			continue
		}
		select {
		case j := <-c.jobs:
			if c.job(r, w, j) {
				return
			}
			spin.reset()
			continue
		default:
		}
		if spin.more() {
			continue
		}
		c.parked.Add(1)
		if c.npar.Load() > 0 || r.dag.wants() {
			c.parked.Add(-1)
			continue
		}
		select {
		case <-c.wake:
			c.parked.Add(-1)
		case j := <-c.jobs:
			c.parked.Add(-1)
			if c.job(r, w, j) {
				return
			}
		}
		spin.reset()
	}
}

// job runs a job taken from c.jobs and reports whether it says to quit.
func (c *memCrew) job(r *Runner, w int, j memJob) bool {
	switch j.kind {
	case memJobQuit:
		return true
	case memJobSlices:
		if r.sliceGate.enter() {
			r.sliceLoop(w)
			r.sliceGate.leave()
		}
	}
	return false
}

// helpPars takes chunks of the open splits as worker w until none is
// left, and reports whether it ran any.
func (c *memCrew) helpPars(w int) bool {
	did := false
	for c.npar.Load() > 0 {
		any := false
		for k := range c.pars {
			if pc := c.pars[k].Load(); pc != nil {
				ran, _ := pc.work(w, false)
				any = any || ran
			}
		}
		if !any {
			break
		}
		did = true
	}
	return did
}

// open makes pc's chunks visible to the helpers and wakes a parked one; it
// returns the slot (-1: all taken, the caller runs every chunk).
func (c *memCrew) open(pc *memPar, helpers int) int {
	for k := range c.pars {
		if c.pars[k].Load() == nil && c.pars[k].CompareAndSwap(nil, pc) {
			c.npar.Add(1)
			c.rouse(helpers)
			return k
		}
	}
	return -1
}

// shut withdraws the split in slot k.
func (c *memCrew) shut(k int) {
	if k >= 0 {
		c.pars[k].Store(nil)
		c.npar.Add(-1)
	}
}

// memSpin times a wait: more reports whether the waiter should keep
// spinning, reading the clock every few calls only.
type memSpin struct {
	n     int
	start time.Time
}

func (s *memSpin) reset() { s.n = 0 }

func (s *memSpin) more() bool {
	s.n++
	if s.n == 1 {
		s.start = time.Now()
		return true
	}
	if s.n%16 != 0 {
		return true
	}
	// Let the kernel run what else is ready on this CPU: on a busy
	// machine, the thread spun for may be waiting for it.
	memYield()
	return time.Since(s.start) < memSpinNanos
}

// memPar is one call of Ctx.Parallel being shared between workers.
//
// Its chunks are dealt out in runs of consecutive chunks, one per worker
// (run k to worker k, the caller's own worker index included): each worker
// takes the chunks of its run from the front, then steals from the back of
// the others'. Kernels split their output rows alike, so a worker mostly
// reads the rows that it wrote in the kernel before (on some machines
// moving data between cores costs more than the work saved), while a
// worker that starts late or runs slowly still leaves the others at most a
// chunk to wait for. Each run's word packs the call's generation (32 bits)
// and the run's front and back (16 each): a helper holding a stale pointer
// claims chunks of whatever call the memPar holds now, or none, so calls
// can be reused without waiting for helpers to let go of them.
type memPar struct {
	runs     []atomic.Uint64 // per worker: gen | front | back of its run of chunks
	chunks   int32
	done     atomic.Int32
	sleeping atomic.Bool // the caller is parked waiting for done
	gen      uint32
	fn       func(lo, hi int)
	n, size  int
	wake     chan struct{}
	panicked atomic.Pointer[string]
}

// par is the Ctx.Par of worker w of a Runner's runs: [0, n) is cut into
// at most most chunks, each of at least grain items, which idle workers
// take up; the calling goroutine takes chunks too and returns when all are
// done. The chunks do not depend on which goroutine runs them, nor on how
// busy the others are.
func (r *Runner) par(w, n, grain, most int, fn func(lo, hi int)) {
	chunks := min(most, 1<<15, n/max(grain, 1))
	if chunks <= 1 {
		fn(0, n)
		return
	}
	c := r.startCrew()
	size := (n + chunks - 1) / chunks
	chunks = (n + size - 1) / size
	pc := r.getPar()
	pc.fn, pc.n, pc.size, pc.chunks = fn, n, size, int32(chunks)
	pc.gen++
	pc.done.Store(0)
	nruns := min(len(pc.runs), chunks)
	for k := range nruns {
		lo, hi := k*chunks/nruns, (k+1)*chunks/nruns
		pc.runs[k].Store(uint64(pc.gen)<<32 | uint64(lo)<<16 | uint64(hi))
	}
	slot := c.open(pc, chunks-1)
	r.dag.poke()
	_, last := pc.work(w, true)
	c.shut(slot)
	if !last {
		pc.wait(pc.chunks)
	}
	pc.fn = nil
	msg := pc.panicked.Swap(nil)
	r.putPar(pc)
	if msg != nil {
		// Re-raised on the kernel's goroutine, where safeRun recovers it.
		panic(*msg)
	}
}

// work claims and runs chunks of the call pc holds as worker w until none
// is left. It reports whether it ran any, and whether it ran the call's
// last chunk to finish; a helper that does wakes the caller if it parked.
func (pc *memPar) work(w int, caller bool) (ran, last bool) {
	for {
		k, ok := pc.claim(w)
		if !ok {
			return ran, false
		}
		ran = true
		chunks := pc.chunks
		lo := k * pc.size
		pc.run(lo, min(lo+pc.size, pc.n))
		if pc.done.Add(1) == chunks {
			if !caller && pc.sleeping.Load() {
				select {
				case pc.wake <- struct{}{}:
				default:
				}
			}
			return true, true
		}
	}
}

// claim takes a chunk for worker w: the front of its own run, else the
// back of another's.
func (pc *memPar) claim(w int) (int, bool) {
	nr := len(pc.runs)
	for i := range nr {
		k := (w + i) % nr
		for {
			v := pc.runs[k].Load()
			front, back := int(v>>16&0xffff), int(v&0xffff)
			if front >= back {
				break
			}
			if i == 0 {
				if pc.runs[k].CompareAndSwap(v, v+1<<16) {
					return front, true
				}
			} else if pc.runs[k].CompareAndSwap(v, v-1) {
				return back - 1, true
			}
		}
	}
	return 0, false
}

// wait waits until the call's chunks are done: it spins, then parks.
// Tokens on pc.wake are hints (one may be left from an earlier call).
func (pc *memPar) wait(chunks int32) {
	var spin memSpin
	for pc.done.Load() != chunks {
		if spin.more() {
			continue
		}
		pc.sleeping.Store(true)
		if pc.done.Load() != chunks {
			<-pc.wake
		}
		pc.sleeping.Store(false)
	}
}

func (pc *memPar) run(lo, hi int) {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprintf("%v\n%s", r, debug.Stack())
			pc.panicked.CompareAndSwap(nil, &msg)
		}
	}()
	pc.fn(lo, hi)
}

func (r *Runner) getPar() *memPar {
	r.parMu.Lock()
	defer r.parMu.Unlock()
	if n := len(r.parFree); n > 0 {
		pc := r.parFree[n-1]
		r.parFree = r.parFree[:n-1]
		return pc
	}
	// One run of chunks per worker; the runs a call leaves unused stay
	// empty (front = back).
	return &memPar{wake: make(chan struct{}, 1), runs: make([]atomic.Uint64, r.workers)}
}

func (r *Runner) putPar(pc *memPar) {
	r.parMu.Lock()
	r.parFree = append(r.parFree, pc)
	r.parMu.Unlock()
}

// memSlices is the batch slicing of a Runner's runs: the slice views of the
// feeds, kept while the caller feeds the same storage.
type memSlices struct {
	rows, size, n int
	next          atomic.Int32
	src           []any          // per feed: the data the views were cut from
	shapes        []tensor.Shape // per feed: its shape then
	in            [][]*tensor.Tensor
	mode          memMode
	into          []*tensor.Tensor
}

// runSliced runs row slices of the batch on the workers, each through a
// Runner of its own, and joins their outputs in order.
func (r *Runner) runSliced(ctx context.Context, feeds []*tensor.Tensor, rows, size int, mode memMode, into []*tensor.Tensor) ([]*tensor.Tensor, error) {
	p := r.p
	r.ctx = ctx
	r.err = nil
	r.failed.Store(false)
	r.prepareSlices(feeds, rows, size)
	sl := &r.slices
	sl.mode, sl.into = mode, into
	for len(r.subs) < r.workers {
		sub := p.newRunner(1)
		sub.persist = true
		sub.slot = len(r.subs)
		r.subs = append(r.subs, sub)
	}
	for _, sub := range r.subs {
		sub.rec = r.rec
		sub.budget = r.budget
	}
	if r.joined == nil {
		r.joined = make([]*tensor.Tensor, len(p.fetches))
	}
	clear(r.joined)
	sl.next.Store(0)
	c := r.startCrew()
	r.sliceGate.open(r.workers)
	c.invite(memJobSlices, r, min(c.n, sl.n-1))
	r.sliceLoop(0)
	r.sliceGate.wait(r.sliceGate.close())
	r.ctx = nil
	sl.into = nil
	if r.failed.Load() {
		clear(r.joined)
		return nil, r.err
	}
	switch mode {
	case memLeave:
		return append([]*tensor.Tensor(nil), r.joined...), nil
	case memInto:
		return nil, nil
	}
	copy(r.outs, r.joined)
	return r.outs, nil
}

// sliceLoop is worker w's part of a batch-sliced run: it claims slices and
// runs each through its own Runner.
func (r *Runner) sliceLoop(w int) {
	sl := &r.slices
	sub := r.subs[w]
	for !r.failed.Load() {
		j := int(sl.next.Add(1)) - 1
		if j >= sl.n {
			return
		}
		if err := r.ctx.Err(); err != nil {
			r.fail(fmt.Errorf("sched: %w: %w", ErrCanceled, err))
			return
		}
		outs, err := sub.whole(r.ctx, sl.in[j], memView, nil)
		if err == nil {
			err = r.join(j*sl.size, min((j+1)*sl.size, sl.rows), outs)
		}
		sub.releaseHeld()
		if err != nil {
			r.fail(err)
			return
		}
	}
}

// join copies the outputs of the slice holding rows [lo, hi) into the
// joined outputs, which the first slice to finish allocates (or checks,
// for caller-given outputs).
func (r *Runner) join(lo, hi int, outs []*tensor.Tensor) error {
	p := r.p
	r.joinMu.Lock()
	defer r.joinMu.Unlock()
	for f, part := range outs {
		if part.Rank() == 0 {
			return fmt.Errorf("sched: fetch %q is a scalar but was marked batched", p.fetchNames[f])
		}
		if part.Shape()[0] != hi-lo {
			return fmt.Errorf("sched: fetch %q: a slice of %d rows gave %d rows", p.fetchNames[f], hi-lo, part.Shape()[0])
		}
		if r.joined[f] == nil {
			t, err := r.joinTarget(f, part)
			if err != nil {
				return err
			}
			r.joined[f] = t
		}
		if err := tensor.CopyRows(r.joined[f], lo, part); err != nil {
			return fmt.Errorf("sched: joining slices of %q: %w", p.fetchNames[f], err)
		}
	}
	return nil
}

// joinTarget returns the tensor that fetch f's slices are joined into,
// shaped like part with all the rows.
func (r *Runner) joinTarget(f int, part *tensor.Tensor) (*tensor.Tensor, error) {
	sl := &r.slices
	fits := func(t *tensor.Tensor) bool {
		if t == nil || t.DType() != part.DType() || t.Rank() != part.Rank() || t.Shape()[0] != sl.rows {
			return false
		}
		return t.Shape()[1:].Equal(part.Shape()[1:])
	}
	switch sl.mode {
	case memInto:
		if t := sl.into[f]; !fits(t) {
			shape := part.Shape().Clone()
			shape[0] = sl.rows
			return nil, fmt.Errorf("sched: output %q: the run produced %s%v, the output tensor given is %s%v", r.p.fetchNames[f], part.DType(), shape, t.DType(), t.Shape())
		}
		return sl.into[f], nil
	case memView:
		if r.joinKeep == nil {
			r.joinKeep = make([]*tensor.Tensor, len(r.p.fetches))
		}
		if fits(r.joinKeep[f]) {
			return r.joinKeep[f], nil
		}
	}
	shape := part.Shape().Clone()
	shape[0] = sl.rows
	t, err := tensor.New(part.DType(), shape, 0)
	if err != nil {
		return nil, err
	}
	if sl.mode == memView {
		r.joinKeep[f] = t
	}
	return t, nil
}

// prepareSlices cuts (or reuses) the feeds' slice views.
func (r *Runner) prepareSlices(feeds []*tensor.Tensor, rows, size int) {
	sl := &r.slices
	p := r.p
	nslices := (rows + size - 1) / size
	valid := sl.rows == rows && sl.size == size && len(sl.src) == len(feeds)
	if valid {
		for i, t := range feeds {
			if p.feeds[i].Batched && (!pool.SameStorage(sl.src[i], t.Data()) || !sl.shapes[i].Equal(t.Shape()) || sl.in[0][i].DType() != t.DType()) {
				valid = false
				break
			}
		}
	}
	if !valid {
		sl.rows, sl.size, sl.n = rows, size, nslices
		sl.src = make([]any, len(feeds))
		sl.shapes = make([]tensor.Shape, len(feeds))
		sl.in = make([][]*tensor.Tensor, nslices)
		for j := range sl.in {
			sl.in[j] = make([]*tensor.Tensor, len(feeds))
		}
		for i, t := range feeds {
			sl.src[i] = t.Data()
			sl.shapes[i] = t.Shape().Clone()
			if !p.feeds[i].Batched {
				continue
			}
			for j := range sl.in {
				lo, hi := j*size, min((j+1)*size, rows)
				sl.in[j][i] = memRows(t, lo, hi)
			}
		}
	}
	for i, t := range feeds {
		if !p.feeds[i].Batched {
			for j := range sl.in {
				sl.in[j][i] = t
			}
		}
	}
}

// memRows returns rows [lo, hi) of t as an unpooled tensor sharing t's
// storage.
func memRows(t *tensor.Tensor, lo, hi int) *tensor.Tensor {
	shape := t.Shape().Clone()
	row := 1
	for _, d := range shape[1:] {
		row *= d
	}
	shape[0] = hi - lo
	a, b := lo*row, hi*row
	var data any
	switch d := t.Data().(type) {
	case []float32:
		data = d[a:b:b]
	case []float64:
		data = d[a:b:b]
	case []int32:
		data = d[a:b:b]
	case []int64:
		data = d[a:b:b]
	case []uint8:
		data = d[a:b:b]
	case []int8:
		data = d[a:b:b]
	case []int16:
		data = d[a:b:b]
	case []uint16:
		data = d[a:b:b]
	case []bool:
		data = d[a:b:b]
	case []string:
		data = d[a:b:b]
	default:
		v, err := t.SliceRows(lo, hi)
		if err != nil {
			panic(err) // rows were checked against the shape
		}
		return v
	}
	v, err := tensor.Wrap(t.DType(), shape, data)
	if err != nil {
		panic(err) // the slice matches the shape by construction
	}
	return v
}
