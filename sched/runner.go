package sched

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tfdgo/tfd/ops"
	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
	"github.com/tfdgo/tfd/tracing"
)

// Runner holds what runs of a plan need besides the plan, kept from run
// to run: the values table, per-node input slices, a kernel context per
// worker, a memory plan (pool.Arena: intermediate tensors laid out once
// per feed shapes, sharing memory where their lifetimes do not overlap)
// and, with more than one worker, helper goroutines. Once the memory plan
// for the feeds' shapes is laid out (on their second run), a run allocates
// nothing of the scheduler's own, and kernels that keep their per-call
// state in the Runner's per-node ops.Slots (Ctx.Slots) allocate nothing
// either.
//
// A Runner with more than one worker keeps its helpers until Close. It
// runs one run at a time and is not safe for concurrent use: use one per
// goroutine, or Plan.Run, which draws Runners from the plan's idle ones
// (and stops their helpers when each run ends).
type Runner struct {
	p         *Plan
	workers   int
	sliceRows int
	rec       *tracing.Recorder
	persist   bool // helpers live until Close

	values  []*tensor.Tensor
	uses    []atomic.Int32
	pending []atomic.Int32
	in      [][]*tensor.Tensor
	slots   []ops.Slots // per node: what its kernel keeps from run to run (Ctx.Slots)
	arena   *pool.Arena
	own     *pool.Budget // the Runner's budget
	budget  *pool.Budget // the current run's: own, or the enclosing run's
	wk      []*memWorker
	key     []int // the arena's key for the run
	costKey []int // the feeds' shapes, for memCost
	fetched []*tensor.Tensor
	outs    []*tensor.Tensor
	held    []*tensor.Tensor // outputs kept for the caller until the next run
	consts  []*tensor.Tensor // copies of fetched constants (view mode)
	crew    *memCrew
	call    func(tensor.Func, []*tensor.Tensor) ([]*tensor.Tensor, error)
	closed  bool
	// slabBytes is the size of the memory-plan slabs when the Runner was
	// last put among the idle ones.
	slabBytes int64
	// slot is the worker a batch-slice Runner runs on, for profiles.
	slot int

	// Per run.
	ctx    context.Context
	res    *ops.Resources
	depth  int
	errMu  sync.Mutex
	err    error
	failed atomic.Bool

	// Runs that execute ready nodes concurrently, and batch-sliced runs.
	dag       memDAG
	sliceGate memGate
	parMu     sync.Mutex
	parFree   []*memPar

	// Work sharing decisions (memCost): nil while the first run for the
	// feed shapes measures them.
	cost      *memCost
	measure   bool
	trial     bool     // the run tries the kernels' splits (memCost.final not set)
	inOrder   bool     // the run shares no work (a trial's reference run)
	share     bool     // run independent branches concurrently (share.go)
	shareOf   *memCost // the decisions share was taken from
	shareW    int      // for that many workers
	watch     memWatch // the times of runs that share work (share.go)
	nodeNanos []int64
	nodeParts []bool // per node: its kernel offered to split (measuring runs)
	noting    bool   // a recording for concurrent runs: tell the arena who reads each value

	// Batch slices.
	subs     []*Runner
	slices   memSlices
	joinMu   sync.Mutex
	joined   []*tensor.Tensor
	joinKeep []*tensor.Tensor // view mode: join targets reused across runs
}

// DefaultMaxRunBytes is the default bound on the bytes one run's tensors
// hold at once (Options.MaxRunBytes): 4 GiB. It is a fixed size rather
// than a fraction of the machine's memory so that a model behaves the same
// on every machine (a run that passes in testing does not fail in
// production for having landed on a smaller host), and it is larger than
// any single tensor the default MaxElements allows (2^28 elements: 1 GiB
// of float32), so that it only stops runs that hold several such tensors
// at once: the runaway intermediates an untrusted graph (Tile, Fill,
// BroadcastTo, Range of sizes it computes) can ask for. Set it below the
// memory of the container a server runs in, divided by the runs it admits
// at once.
const DefaultMaxRunBytes = 4 << 30

// runBytesLimit resolves Options.MaxRunBytes.
func runBytesLimit(n int64) int64 {
	switch {
	case n == 0:
		return DefaultMaxRunBytes
	case n < 0:
		return 0
	}
	return n
}

// Idle Runners kept per plan for Plan.Run: at most maxIdleRunners, holding
// at most maxIdleBytes of memory-plan slabs in all.
const (
	maxIdleRunners = 16
	maxIdleBytes   = 1 << 30
)

// runnerCache holds idle Runners for Plan.Run.
type runnerCache struct {
	mu    sync.Mutex
	idle  []*Runner
	bytes int64
	costs []*memCost // most recent first
	// inflight counts the runs with more than one worker under way (top).
	inflight atomic.Int32

	orderOnce sync.Once
	anc       [][]uint64 // per node: bit set of the nodes that finish before it starts
	cons      [][]int32  // per value: the nodes that read it
}

// memMaxOrderNodes bounds the plans whose node order (a quadratic bit set)
// is computed for memory plans of concurrent runs; larger plans lay those
// out as for runs in order, and the arena's check of held memory keeps
// them right.
const memMaxOrderNodes = 1 << 12

// order computes, once, what memory plans of concurrent runs need: which
// nodes precede which whatever the schedule, and who reads each value.
func (p *Plan) order() {
	c := &p.runners
	c.orderOnce.Do(func() {
		n := len(p.nodes)
		c.cons = make([][]int32, p.nvalues)
		for i, nd := range p.nodes {
			for _, v := range nd.in {
				if k := len(c.cons[v]); k == 0 || c.cons[v][k-1] != int32(i) {
					c.cons[v] = append(c.cons[v], int32(i))
				}
			}
		}
		if n > memMaxOrderNodes {
			return
		}
		words := (n + 63) / 64
		back := make([]uint64, n*words)
		c.anc = make([][]uint64, n)
		for i := range c.anc {
			c.anc[i], back = back[:words:words], back[words:]
		}
		for i := range p.nodes { // in topological order
			for _, s := range p.nodes[i].succ {
				if int(s) <= i {
					c.anc = nil // not in order: lay out as for runs in order
					return
				}
				a := c.anc[s]
				for w, bits := range c.anc[i] {
					a[w] |= bits
				}
				a[i/64] |= 1 << (i % 64)
			}
		}
	})
}

// before reports whether node x finishes before node y starts in every
// schedule: x is an ancestor of y.
func (p *Plan) before(x, y int32) bool {
	return p.runners.anc[y][x/64]&(1<<(x%64)) != 0
}

// takeRunner returns an idle Runner (or a new one) set for workers.
func (p *Plan) takeRunner(workers int) *Runner {
	c := &p.runners
	c.mu.Lock()
	var r *Runner
	if n := len(c.idle); n > 0 {
		r = c.idle[n-1]
		c.idle[n-1] = nil
		c.idle = c.idle[:n-1]
		c.bytes -= r.slabBytes
	}
	c.mu.Unlock()
	if r == nil {
		r = p.newRunner(workers)
	}
	r.setWorkers(workers)
	return r
}

// giveRunner returns r to the idle Runners, or drops it when there are
// enough.
func (p *Plan) giveRunner(r *Runner) {
	r.rec = nil
	r.slabBytes = r.ArenaStats().SlabBytes
	c := &p.runners
	c.mu.Lock()
	if len(c.idle) < maxIdleRunners && c.bytes+r.slabBytes <= maxIdleBytes {
		c.idle = append(c.idle, r)
		c.bytes += r.slabBytes
	}
	c.mu.Unlock()
}

// memWorker is what one worker of a Runner uses to run kernels.
type memWorker struct {
	r     *Runner
	index int // its worker index
	frame *pool.Frame
	kctx  ops.Ctx
	node  int                                     // the node it runs
	par   func(n, grain int, fn func(lo, hi int)) // its Ctx.Par
}

// split is the Ctx.Par of a worker: kernels whose calls took long enough
// on one worker split their work (Runner.par); others run it inline.
func (w *memWorker) split(n, grain int, fn func(lo, hi int)) {
	c := w.r.cost
	if c == nil || !c.split[w.node] {
		if w.r.measure && n >= 2*max(grain, 1) {
			w.r.nodeParts[w.node] = true
		}
		fn(0, n)
		return
	}
	w.r.par(w.index, n, grain, c.chunks(w.node, w.r.workers), fn)
}

// RunnerOptions configures a Runner.
type RunnerOptions struct {
	// Workers is the number of goroutines a run uses (≤ 1: one, the
	// caller's). With more, Workers-1 helper goroutines start with the
	// Runner and stop at Close.
	Workers int
	// SliceRows is as for RunOptions.
	SliceRows int
	// Recorder, when non-nil, receives one event per kernel call.
	Recorder *tracing.Recorder
}

// NewRunner returns a Runner for runs of p. A Runner with more than one
// worker holds goroutines: Close it when done.
func (p *Plan) NewRunner(opt RunnerOptions) *Runner {
	r := p.newRunner(max(opt.Workers, 1))
	r.sliceRows = opt.SliceRows
	r.rec = opt.Recorder
	r.persist = true
	if r.workers > 1 && !r.p.isDynamic() {
		r.startCrew()
	}
	return r
}

func (p *Plan) isDynamic() bool { return p.dyn != nil }

func (p *Plan) newRunner(workers int) *Runner {
	r := &Runner{p: p, arena: pool.NewArena(p.pool, len(p.nodes)), own: pool.NewBudget(p.maxRunBytes)}
	r.dag.gate.in.Store(-1)
	r.sliceGate.in.Store(-1)
	if p.width > 1 {
		p.order()
		if p.runners.anc != nil {
			r.arena.SetOrder(p.before)
		}
	}
	r.values = make([]*tensor.Tensor, p.nvalues)
	r.uses = make([]atomic.Int32, p.nvalues)
	r.pending = make([]atomic.Int32, len(p.nodes))
	total := 0
	for i := range p.nodes {
		total += len(p.nodes[i].in)
	}
	back := make([]*tensor.Tensor, total)
	r.in = make([][]*tensor.Tensor, len(p.nodes))
	for i := range p.nodes {
		k := len(p.nodes[i].in)
		r.in[i], back = back[:k:k], back[k:]
	}
	r.slots = make([]ops.Slots, len(p.nodes))
	r.fetched = make([]*tensor.Tensor, len(p.fetches))
	r.outs = make([]*tensor.Tensor, len(p.fetches))
	r.call = r.callFunc
	r.setWorkers(workers)
	return r
}

// setWorkers sizes the per-worker state for n workers.
func (r *Runner) setWorkers(n int) {
	r.workers = n
	for len(r.wk) < n {
		w := &memWorker{r: r, index: len(r.wk), frame: r.arena.NewFrame()}
		w.par = w.split
		w.kctx = ops.Ctx{Pool: r.p.pool, MaxElements: r.p.maxElems, Frame: w.frame, Call: r.call}
		r.wk = append(r.wk, w)
	}
}

// Close stops the Runner's goroutines and releases the outputs of its last
// run. The Runner must not be used afterwards.
func (r *Runner) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.releaseHeld()
	r.stopCrew(true)
	for _, sub := range r.subs {
		sub.releaseHeld()
	}
	return nil
}

// ArenaStats returns the memory-plan counters of the Runner (and of its
// batch-slice Runners, summed). It must not be called during a run.
func (r *Runner) ArenaStats() pool.ArenaStats {
	st := r.arena.Stats()
	for _, sub := range r.subs {
		o := sub.arena.Stats()
		st.Runs += o.Runs
		st.Records += o.Records
		st.Misses += o.Misses
		st.SlabBytes += o.SlabBytes
		st.Layouts += o.Layouts
	}
	return st
}

// PeakBytes returns the most bytes the last run's tensors held at once
// (what Options.MaxRunBytes bounds).
func (r *Runner) PeakBytes() int64 { return r.own.Peak() }

// memMode says what becomes of a run's outputs.
type memMode int8

const (
	memView  memMode = iota // returned as views owned by the Runner until its next run
	memInto                 // copied into (or computed in) the caller's tensors
	memLeave                // handed over to the caller (Plan.Run)
)

// Run evaluates the plan on feeds (in the order of Plan.Feeds). The
// outputs, in the order of the fetches, are owned by the Runner: they stay
// valid until its next Run, RunInto or Close, and must not be modified or
// released. Copy (Tensor.Clone) what must outlive that.
func (r *Runner) Run(ctx context.Context, feeds []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return r.top(ctx, feeds, memView, nil)
}

// RunInto evaluates the plan and writes the fetched values into outs,
// which the caller allocates with the fetches' dtypes and shapes (see
// Plan.FetchInfo; a batch dimension follows the feeds) and which must not
// share memory with the feeds. Where the memory plan allows, kernels write
// the outputs in place; otherwise they are copied. Nothing of the run is
// held afterwards.
func (r *Runner) RunInto(ctx context.Context, feeds, outs []*tensor.Tensor) error {
	if len(outs) != len(r.p.fetches) {
		return fmt.Errorf("sched: %d output tensors given, the plan fetches %d", len(outs), len(r.p.fetches))
	}
	for i, t := range outs {
		if t == nil {
			return fmt.Errorf("sched: output %d (%q) is nil", i, r.p.fetchNames[i])
		}
		for j, f := range feeds {
			if f != nil && (f == t || pool.SameStorage(f.Data(), t.Data())) {
				return fmt.Errorf("sched: output %d (%q) is the storage of feed %d (%q): outputs must not share memory with feeds", i, r.p.fetchNames[i], j, r.p.feeds[min(j, len(r.p.feeds)-1)].Name)
			}
		}
	}
	_, err := r.top(ctx, feeds, memInto, outs)
	return err
}

// top runs the plan as a run of its own (not a batch slice).
func (r *Runner) top(ctx context.Context, feeds []*tensor.Tensor, mode memMode, into []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if r.closed {
		return nil, fmt.Errorf("sched: run on a closed Runner")
	}
	p := r.p
	r.releaseHeld()
	if err := p.checkFeeds(feeds); err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if p.dyn != nil {
		outs, err := p.runDynamic(ctx, feeds, r.workers, r.rec)
		if err != nil {
			return nil, err
		}
		return r.finishDynamic(outs, mode, into)
	}
	r.budget = r.own
	if n := nestOf(ctx); n != nil && n.budget != nil {
		r.budget = n.budget
	} else {
		r.own.Reset()
	}
	if r.workers > 1 && !r.persist {
		defer r.stopCrew(false)
	}
	r.cost, r.measure, r.trial, r.inOrder = nil, false, false, false
	if r.workers > 1 {
		// Rows per slice given: slice as asked. Else slice (and let
		// kernels split) once a run on one worker has shown that the work
		// is worth sharing.
		if r.sliceRows > 0 {
			if rows, size, ok := r.sliceSize(feeds); ok {
				return r.runSliced(ctx, feeds, rows, size, mode, into)
			}
		}
		// While another run of the plan is under way, the runs share the
		// machine already: this one runs in order, on this goroutine
		// (no decisions, hence no helpers), and measures nothing.
		alone := p.runners.inflight.Add(1) == 1
		defer p.runners.inflight.Add(-1)
		if !alone {
			return r.whole(ctx, feeds, mode, into)
		}
		r.costKey = memFeedKey(r.costKey[:0], feeds)
		r.cost = p.costOf(r.costKey)
		r.measure = r.cost == nil
		r.trial = r.cost != nil && !r.cost.final
		if r.trial {
			r.inOrder = p.trialInOrder(r.cost)
		}
		if r.cost != nil && r.cost.slices >= 2*r.workers {
			if rows, size, ok := r.sliceSize(feeds); ok {
				return r.runSliced(ctx, feeds, rows, size, mode, into)
			}
		}
	}
	return r.whole(ctx, feeds, mode, into)
}

// memFeedKey appends the feeds' shapes to key: what a memory plan and a
// cost decision are for.
func memFeedKey(key []int, feeds []*tensor.Tensor) []int {
	for _, t := range feeds {
		key = append(key, len(t.Shape()))
		key = append(key, t.Shape()...)
	}
	return key
}

// Work is shared between workers only in pieces that take long enough on
// one worker: handing work over costs microseconds, more when the machine
// is busy, and a kernel's split threshold (its grain) cannot know what its
// items cost on this machine, nor how well its split scales (a copy bound
// by memory, a kernel whose parts redo work). So the runs that measure a
// plan's kernels on one worker also note which of them offer to split;
// those long enough become candidates, the next runs split them and time
// them again, and only the splits that made their kernels faster are kept
// (share.go). The work is cut into several pieces per worker, taken up as
// workers come free, so that a helper that starts late or runs slowly
// (another process shares its core) leaves the others at most a piece to
// wait for.
const (
	// memMinSplitNanos is the least time a kernel call must take on one
	// worker for its split to be tried.
	memMinSplitNanos = 10_000
	// memSliceNanos is the least time a batch slice should take: a run
	// is cut into as many slices as it holds of it, up to
	// memSlicesPerWorker per worker, and is sliced only if that gives at
	// least two per worker.
	memSliceNanos      = 100_000
	memSlicesPerWorker = 4
)

// memCost is what runs of the plan for given feed shapes learned about
// sharing their work, measured on one worker: which kernels take long
// enough to split, whether the batch is worth slicing, and how long each
// node's path to the end is (for running branches concurrently). The first
// two runs measure (the first pays for cold caches and fresh memory); the
// decisions take the faster of the two times. Then memTrialRuns runs try
// the candidate splits and keep those that pay (share.go). A memCost that
// runs use is never changed: new decisions replace it.
type memCost struct {
	key    []int
	nanos  []int64 // per node, the least time measured
	total  int64   // the least time of a whole run
	runs   int     // runs measured
	parts  []bool  // per node: its kernel offered to split its work
	split  []bool  // per node: its kernel splits
	rank   []int64 // per node: the time of its longest path to the end (share.go)
	slices int     // batch slices for runs with SliceRows 0 (< 2: none)

	cand     []bool    // per node: its kernel is worth trying to split
	anyCand  bool      // some kernel is
	anySplit bool      // some kernel splits
	final    bool      // the candidates were tried: split holds those that paid
	decided  time.Time // when they were (final)
	trials   int       // runs that tried them (not final; under the cache's lock)
	tried    []int64   // per node: the least time of its split calls in those runs
	triedAll int64     // the least time of those runs
	refs     int       // runs in order between them (likewise)
	ref      int64     // the least time of those: what sharing must beat
	turns    int       // trial runs begun (likewise)
	inOrder  bool      // runs share no work (the splits were seen to lose)
}

// Cost decisions: runs measured before deciding, and feed shapes kept.
const (
	memCostRuns = 2
	maxCosts    = 8
)

// costOf returns the decisions made for key, or nil while runs still
// measure it.
func (p *Plan) costOf(key []int) *memCost {
	c := &p.runners
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, m := range c.costs {
		if slices.Equal(m.key, key) && m.runs >= memCostRuns {
			if m.final && (m.anyCand || m.inOrder) && time.Since(m.decided) > memRetryNanos {
				// Measure and try again: the machine may be less (or
				// more) busy than when the decisions were made.
				c.costs = append(c.costs[:k], c.costs[k+1:]...)
				return nil
			}
			return m
		}
	}
	return nil
}

// learnCost adds the times of a measuring run.
func (r *Runner) learnCost(total int64) {
	p := r.p
	c := &p.runners
	c.mu.Lock()
	defer c.mu.Unlock()
	var m *memCost
	for _, x := range c.costs {
		if slices.Equal(x.key, r.costKey) {
			m = x
			break
		}
	}
	if m == nil {
		m = &memCost{key: append([]int(nil), r.costKey...), nanos: append([]int64(nil), r.nodeNanos...), parts: append([]bool(nil), r.nodeParts...), total: total}
		if len(c.costs) == maxCosts {
			c.costs = c.costs[:maxCosts-1]
		}
		c.costs = append([]*memCost{m}, c.costs...)
	} else if m.runs < memCostRuns {
		for i, ns := range r.nodeNanos {
			m.nanos[i] = min(m.nanos[i], ns)
			m.parts[i] = m.parts[i] || r.nodeParts[i]
		}
		m.total = min(m.total, total)
	}
	if m.runs++; m.runs == memCostRuns {
		m.cand = make([]bool, len(m.nanos))
		for i, ns := range m.nanos {
			m.cand[i] = ns >= memMinSplitNanos && m.parts[i]
			m.anyCand = m.anyCand || m.cand[i]
		}
		m.anySplit = m.anyCand
		m.split = m.cand
		m.rankNodes(p)
		m.slices = int(m.total / memSliceNanos)
		// Decisions without a split to try are final at once.
		m.final = !m.anySplit
	}
}

// sliceSize decides whether a run is cut into batch slices, and how.
func (r *Runner) sliceSize(feeds []*tensor.Tensor) (rows, size int, ok bool) {
	if r.workers < 2 || r.sliceRows < 0 {
		return 0, 0, false
	}
	rows, ok = r.p.sliceRows(feeds)
	if !ok {
		return 0, 0, false
	}
	size = r.sliceRows
	if size == 0 {
		n := r.workers
		if c := r.cost; c != nil {
			n = min(c.slices, r.workers*memSlicesPerWorker)
		}
		size = (rows + n - 1) / n
	}
	size = max(size, minSliceRows)
	return rows, size, size < rows
}

// whole runs every node once on feeds.
func (r *Runner) whole(ctx context.Context, feeds []*tensor.Tensor, mode memMode, into []*tensor.Tensor) (outs []*tensor.Tensor, err error) {
	p := r.p
	r.beginRun(ctx)
	// Runs that execute nodes concurrently and runs in order get layouts
	// of their own (marked in the key: shapes are never negative).
	concurrent := r.workers > 1 && p.width > 1 && !r.inOrder && r.shareNodes()
	r.key = memFeedKey(r.key[:0], feeds)
	r.key = append(r.key, -1)
	if concurrent {
		r.key[len(r.key)-1] = -2
	}
	r.arena.Begin(r.key, pool.ArenaRun{Budget: r.budget, Leave: mode == memLeave, Record: !r.measure, Concurrent: concurrent})
	recording := r.arena.Recording()
	r.noting = recording && concurrent
	if mode == memInto && !recording {
		for k, t := range into {
			if fd := p.fetchInfo[k].DType; fd == tensor.Invalid || fd == t.DType() {
				r.arena.Bind(k, t.Data())
			}
		}
	}
	for v, t := range p.consts {
		if t != nil {
			r.values[v] = t
		}
	}
	for i, v := range p.feedVals {
		r.values[v] = feeds[i]
	}
	for v := range r.uses {
		r.uses[v].Store(p.uses[v])
	}
	var start time.Time
	if r.cost != nil || r.measure {
		start = time.Now()
	}
	switch {
	case concurrent && !recording:
		err = r.runDAG()
	default:
		err = r.runSeq(0)
	}
	var took int64
	if r.measure || r.trial {
		took = int64(time.Since(start))
	}
	if err == nil && r.cost != nil && r.cost.final && (r.cost.anySplit || concurrent) {
		r.watchRun(start)
	}
	if r.measure && err == nil {
		r.learnCost(took)
	}
	if err == nil {
		for i, v := range p.fetches {
			r.fetched[i] = r.values[v]
			if r.fetched[i] == nil {
				err = fmt.Errorf("sched: fetch %q was not computed", p.fetchNames[i])
				break
			}
		}
	}
	r.arena.Step(len(p.nodes))
	if err != nil {
		r.arena.Abort()
		r.releaseAll()
		r.endRun()
		return nil, err
	}
	r.arena.End(r.fetched)
	if r.trial && !recording {
		r.learnTrial(took)
	}
	r.endRun()
	return r.finish(mode, into)
}

// beginRun sets the per-run fields shared by the workers.
func (r *Runner) beginRun(ctx context.Context) {
	r.ctx = ctx
	r.err = nil
	r.failed.Store(false)
	r.res = r.p.resourcesFor(ctx)
	r.depth = 0
	if n := nestOf(ctx); n != nil {
		r.depth = n.depth
	}
	split := r.cost != nil && r.cost.anySplit && !r.inOrder
	for _, w := range r.wk[:r.workers] {
		w.kctx.Context = ctx
		w.kctx.Resources = r.res
		w.kctx.Par = nil
		if split {
			w.kctx.Par = w.par
		}
	}
	if split && r.workers > 1 {
		// Wake the helpers now, so that they are looking for work when
		// the first kernel splits.
		c := r.startCrew()
		c.rouse(c.n)
	}
	if r.measure || r.trial {
		if len(r.nodeNanos) != len(r.p.nodes) {
			r.nodeNanos = make([]int64, len(r.p.nodes))
			r.nodeParts = make([]bool, len(r.p.nodes))
		}
		clear(r.nodeParts)
		if r.measure && r.workers > 1 {
			// Kernels run inline, noting whether they would split.
			for _, w := range r.wk[:r.workers] {
				w.kctx.Par = w.par
			}
		}
	}
}

// endRun drops the per-run references.
func (r *Runner) endRun() {
	r.ctx = nil
	r.res = nil
	for _, w := range r.wk[:r.workers] {
		w.kctx.Context = nil
		w.kctx.Resources = nil
	}
}

// finish hands the fetched values over as the mode says.
func (r *Runner) finish(mode memMode, into []*tensor.Tensor) ([]*tensor.Tensor, error) {
	p := r.p
	switch mode {
	case memLeave:
		out := make([]*tensor.Tensor, len(p.fetches))
		copy(out, r.fetched)
		clear(r.values)
		clear(r.fetched)
		return p.handOver(out), nil
	case memInto:
		var err error
		for k, t := range r.fetched {
			if err == nil {
				err = memCopyOut(into[k], t, p.fetchNames[k])
			}
		}
		r.releaseFetched()
		clear(r.values)
		return nil, err
	}
	for k, t := range r.fetched {
		r.outs[k] = t
		if p.consts[p.fetches[k]] != nil {
			r.outs[k] = r.constCopy(k, t)
		}
	}
	r.held = append(r.held[:0], r.fetched...)
	clear(r.fetched)
	clear(r.values)
	return r.outs, nil
}

// constCopy returns the Runner's copy of fetched constant t, so that a
// caller modifying an output can never change the plan.
func (r *Runner) constCopy(k int, t *tensor.Tensor) *tensor.Tensor {
	if r.consts == nil {
		r.consts = make([]*tensor.Tensor, len(r.p.fetches))
	}
	if r.consts[k] == nil {
		r.consts[k] = t.Clone()
	}
	return r.consts[k]
}

// finishDynamic hands over the outputs of a run of the dynamic executor,
// which are the caller's already.
func (r *Runner) finishDynamic(outs []*tensor.Tensor, mode memMode, into []*tensor.Tensor) ([]*tensor.Tensor, error) {
	switch mode {
	case memInto:
		for k, t := range outs {
			if err := memCopyOut(into[k], t, r.p.fetchNames[k]); err != nil {
				return nil, err
			}
		}
		return nil, nil
	case memView:
		copy(r.outs, outs)
		return r.outs, nil
	}
	return outs, nil
}

// releaseHeld releases the outputs of the previous view-mode run.
func (r *Runner) releaseHeld() {
	if len(r.held) == 0 {
		return
	}
	r.releaseTensors(r.held)
	clear(r.held)
	r.held = r.held[:0]
	clear(r.outs)
}

// releaseFetched releases the fetched values of this run.
func (r *Runner) releaseFetched() {
	r.releaseTensors(r.fetched)
	clear(r.fetched)
}

// releaseTensors releases each distinct pooled fetched value once.
func (r *Runner) releaseTensors(ts []*tensor.Tensor) {
	p := r.p
	for i, t := range ts {
		if t == nil || i >= len(p.fetches) {
			continue
		}
		v := p.fetches[i]
		if p.consts[v] != nil || isFeed(p, v) {
			continue
		}
		dup := false
		for _, u := range ts[:i] {
			if u == t {
				dup = true
				break
			}
		}
		if !dup {
			t.Release()
		}
	}
}

// releaseAll releases every value a failed run still holds.
func (r *Runner) releaseAll() {
	p := r.p
	for v, t := range r.values {
		if t != nil && !p.pinned[v] {
			t.Release()
		}
	}
	clear(r.fetched)
	for i, v := range p.fetches {
		if t := r.values[v]; t != nil && p.consts[v] == nil && !isFeed(p, v) {
			r.fetched[i] = t
		}
	}
	r.releaseTensors(r.fetched)
	clear(r.fetched)
	clear(r.values)
	for _, in := range r.in {
		clear(in)
	}
}

// runSeq runs the nodes in order on worker w.
func (r *Runner) runSeq(w int) error {
	ctx := r.ctx
	for i := range r.p.nodes {
		if err := ctx.Err(); err != nil {
			return r.p.canceled(i, err)
		}
		if err := r.step(w, i); err != nil {
			return err
		}
	}
	return nil
}

// step runs node i on worker w and releases the values it used last.
func (r *Runner) step(w, i int) error {
	p := r.p
	n := &p.nodes[i]
	wk := r.wk[w]
	in := r.in[i]
	for j, v := range n.in {
		in[j] = r.values[v]
	}
	r.arena.Step(i)
	wk.frame.Begin(i)
	wk.node = i
	var start time.Time
	if r.rec != nil || r.measure || r.trial {
		start = time.Now()
	}
	// A node runs on one worker at a time, and its outputs leave the
	// slice its kernel returns (Ctx.Out) before its next call.
	slots := &r.slots[i]
	slots.Begin()
	wk.kctx.Slots = slots
	outs, err := safeRun(n.kernel, &wk.kctx, in)
	wk.kctx.Slots = nil
	if r.measure || r.trial {
		r.nodeNanos[i] = int64(time.Since(start))
	}
	if err != nil {
		clear(in)
		return &NodeError{Model: p.model, Node: n.name, Op: n.op, Err: err}
	}
	if err := p.checkOutputs(n, in, outs); err != nil {
		clear(in)
		for _, t := range outs {
			if t != nil {
				t.Release()
			}
		}
		return err
	}
	clear(in)
	if r.rec != nil {
		var bytes int64
		for _, t := range outs {
			bytes += t.Bytes()
		}
		r.rec.Record(tracing.Event{Model: p.model, Node: n.name, Op: n.op, Worker: r.slot + w, Start: start, Dur: time.Since(start), Bytes: bytes})
	}
	for j, v := range n.out {
		r.values[v] = outs[j]
		if r.noting {
			r.arena.Note(outs[j].Data(), p.runners.cons[v])
		}
	}
	slots.End()
	for _, v := range p.unusedOut[i] {
		r.values[v].Release()
		r.values[v] = nil
	}
	for _, v := range n.in {
		if r.uses[v].Add(-1) == 0 && !p.pinned[v] {
			if t := r.values[v]; t != nil {
				t.Release()
				r.values[v] = nil
			}
		}
	}
	return nil
}

// fail records the first error of a run and stops its workers.
func (r *Runner) fail(err error) {
	r.errMu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.errMu.Unlock()
	r.failed.Store(true)
	r.dag.stop()
}

// callFunc is the Ctx.Call hook of the Runner's runs: it evaluates a
// library function in the same run (resources, budget).
func (r *Runner) callFunc(f tensor.Func, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if r.depth >= maxCallDepth {
		return nil, fmt.Errorf("function calls nested more than %d deep (at %q)", maxCallDepth, f.Name)
	}
	sub, err := r.p.function(f)
	if err != nil {
		return nil, err
	}
	cctx := context.WithValue(r.ctx, nestKey{}, &nest{res: r.res, depth: r.depth + 1, budget: r.budget})
	outs, err := sub.Run(cctx, in, RunOptions{Workers: 1, SliceRows: -1})
	if err != nil {
		return nil, fmt.Errorf("in function %q: %w", f.Name, err)
	}
	return outs, nil
}

// memCopyOut writes src into the caller's output dst (unless the kernel
// wrote it there already).
func memCopyOut(dst, src *tensor.Tensor, name string) error {
	if pool.SameStorage(dst.Data(), src.Data()) && dst.Shape().Equal(src.Shape()) && dst.DType() == src.DType() {
		return nil
	}
	if dst.DType() != src.DType() || !dst.Shape().Equal(src.Shape()) {
		return fmt.Errorf("sched: output %q: the run produced %s%v, the output tensor given is %s%v", name, src.DType(), src.Shape(), dst.DType(), dst.Shape())
	}
	if dst.Rank() == 0 {
		return memCopyScalar(dst, src)
	}
	return tensor.CopyRows(dst, 0, src)
}

// memCopyScalar copies a rank-0 tensor's element.
func memCopyScalar(dst, src *tensor.Tensor) error {
	switch d := dst.Data().(type) {
	case []float32:
		copy(d, src.Data().([]float32))
	case []float64:
		copy(d, src.Data().([]float64))
	case []int32:
		copy(d, src.Data().([]int32))
	case []int64:
		copy(d, src.Data().([]int64))
	case []uint8:
		copy(d, src.Data().([]uint8))
	case []int8:
		copy(d, src.Data().([]int8))
	case []int16:
		copy(d, src.Data().([]int16))
	case []uint16:
		copy(d, src.Data().([]uint16))
	case []bool:
		copy(d, src.Data().([]bool))
	case []string:
		copy(d, src.Data().([]string))
	default:
		return fmt.Errorf("sched: cannot copy a scalar of %s", dst.DType())
	}
	return nil
}
