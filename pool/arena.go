package pool

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tfdgo/tfd/tensor"
)

// Arena serves the allocations of a run from storage laid out in advance:
// a memory plan in the manner of TF Lite's arena planner and ONNX Runtime's
// memory patterns.
//
// The first run for a given key (the scheduler uses the feeds' shapes)
// draws from the Pool; the second draws from it too and records every
// allocation: which node made it, in which order, its size, and when it
// was made and released. From that record the arena lays out one slab per
// storage type in which allocations whose lifetimes do not overlap share
// memory (greedy by size, first fit), and preallocates a tensor header and
// a Buffer for each. Later runs with the same key get those tensors back
// without allocating. Lifetimes are the steps of the recording run, which
// the scheduler runs in order; for runs that execute nodes concurrently,
// they are the dependencies between nodes (SetOrder, Note), which hold for
// any schedule.
//
// A run that strays from the record (an allocation of another size, a
// buffer that lives longer than recorded, a kernel whose allocation order
// depends on the data) is never wrong, only slower: before an allocation
// is served from the slab, the arena checks that no allocation sharing its
// memory is still held, and otherwise draws from the Pool. A key whose runs
// keep straying is recorded again a bounded number of times.
//
// An Arena serves one run at a time (it belongs to the scheduler's
// Runner); its Frames may allocate from several goroutines during that
// run. Tensors it hands out are valid until released; their headers are
// reused by later runs.
type Arena struct {
	pool   *Pool
	nodes  int
	budget *Budget

	step     atomic.Int32 // the current step of a recording run
	cur      *layout      // the layout of this run, nil while recording
	rec      *recording   // non-nil while recording
	layouts  []*layout    // most recently used first
	seen     [][]int      // keys run once without a layout, most recent first
	slab     [numKinds]any
	slabLen  [numKinds]int
	leave    bool // fetched values leave with the caller (Begin)
	before   func(x, y int32) bool
	misses   atomic.Int64
	runs     int64
	records  int64
	lostSlab atomic.Bool // a slab tensor was handed over: drop the slab
	handMu   sync.Mutex
	handed   [][2]int32 // (node, ordinal) of allocations once handed over
}

// Arena limits.
const (
	// maxLayouts bounds the keys (for example batch sizes) an arena keeps
	// layouts for; the slab is shared by all of them.
	maxLayouts = 4
	// maxRecords bounds the allocations of a run that the arena lays out
	// (the layout takes time quadratic in them); larger runs use the Pool.
	maxRecords = 1 << 13
	// maxRerecords bounds how often a key is recorded again after runs
	// that strayed from its layout.
	maxRerecords = 2
	// arenaAlign is the alignment of slab offsets in bytes.
	arenaAlign = 64
)

// ArenaStats describes an arena, for tests and benchmarks.
type ArenaStats struct {
	Runs      int64 // runs begun
	Records   int64 // runs that recorded a layout
	Misses    int64 // allocations of the last run drawn from the Pool although it had a layout
	SlabBytes int64 // bytes of the slabs
	Layouts   int   // keys with a layout
}

// NewArena returns an arena for runs of a plan of `nodes` nodes, falling
// back to p (nil: plain allocation).
func NewArena(p *Pool, nodes int) *Arena { return &Arena{pool: p, nodes: nodes} }

// Stats returns the arena's counters. It must not be called during a run.
func (a *Arena) Stats() ArenaStats {
	s := ArenaStats{Runs: a.runs, Records: a.records, Misses: a.misses.Load(), Layouts: len(a.layouts)}
	for k, n := range a.slabLen {
		s.SlabBytes += int64(n) * int64(kindSize[k])
	}
	return s
}

// ArenaRun describes a run to Arena.Begin.
type ArenaRun struct {
	// Budget, when non-nil, is charged for every allocation.
	Budget *Budget
	// Leave says that the fetched values are handed over to the caller
	// after the run (Tensor.Detach), so they are never placed in the slab.
	Leave bool
	// Record allows this run to record a layout (runs that measure the
	// work, with other work sharing than later runs, do not).
	Record bool
	// Concurrent says that the runs using the layout execute independent
	// nodes at once: the layout then shares memory only between
	// allocations ordered by the dependencies given to SetOrder, whatever
	// the schedule, rather than by the steps of the recording run.
	Concurrent bool
}

// Begin starts a run: it selects the layout recorded for key, or (on the
// key's second run, if run.Record is set) starts recording one, which the
// scheduler must run in order, stepping (Step) once per node, and with the
// same work sharing as the runs that will use it. The key must tell apart
// runs that differ in Concurrent.
func (a *Arena) Begin(key []int, run ArenaRun) {
	budget, leave, record := run.Budget, run.Leave, run.Record
	a.runs++
	a.budget = budget
	a.cur, a.rec = nil, nil
	a.misses.Store(0)
	if a.lostSlab.Load() {
		a.dropSlab()
	}
	for i, l := range a.layouts {
		if l.leave == leave && slices.Equal(l.key, key) {
			copy(a.layouts[1:i+1], a.layouts[:i])
			a.layouts[0] = l
			if !l.stale {
				a.cur = l
				a.step.Store(0)
				return
			}
			break
		}
	}
	a.leave = leave
	a.step.Store(0)
	// A key is recorded on its second run, so that one-off runs do not pay
	// for a layout.
	for i, k := range a.seen {
		if slices.Equal(k, key) {
			if record {
				a.seen = append(a.seen[:i], a.seen[i+1:]...)
				a.rec = &recording{key: append([]int(nil), key...), concurrent: run.Concurrent, live: map[any]int{}}
			}
			return
		}
	}
	if len(a.seen) == maxLayouts {
		a.seen = a.seen[:maxLayouts-1]
	}
	a.seen = append([][]int{append([]int(nil), key...)}, a.seen...)
}

// SetOrder gives the arena the dependencies between the nodes of the runs
// it serves: before(x, y) reports that node x finishes before node y starts
// in every schedule. Layouts recorded for concurrent runs use it.
func (a *Arena) SetOrder(before func(x, y int32) bool) { a.before = before }

// Note tells a recording run that the tensor whose storage is data is
// released, at the latest, when the nodes in releasers have run (the
// consumers of a value living in it). Layouts for concurrent runs need it;
// a tensor never noted is taken to be released by the node that made it.
func (a *Arena) Note(data any, releasers []int32) {
	r := a.rec
	if r == nil || !r.concurrent {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if i, ok := r.live[dataKey(data)]; ok {
		r.recs[i].rel = append(r.recs[i].rel, releasers...)
	}
}

// Recording reports whether this run records a layout.
func (a *Arena) Recording() bool { return a.rec != nil }

// Step sets the step of a recording run: allocations and releases are
// stamped with it. The scheduler steps once per node, in order.
func (a *Arena) Step(i int) { a.step.Store(int32(i)) }

// Bind makes the slab slot of fetch k use data (a []T of the fetched
// dtype's storage, typically a caller's output tensor) in this run, so
// that the kernel writes the output in place. It reports whether the fetch
// has a slot of that many elements; Bind must come after Begin and is
// undone when the run ends (End, Abort).
func (a *Arena) Bind(k int, data any) bool {
	l := a.cur
	if l == nil || k >= len(l.fetchSlot) || l.fetchSlot[k] < 0 {
		return false
	}
	s := &l.slots[l.fetchSlot[k]]
	if kindOfData(data) != s.kind || tensor.DataLen(data) != s.n {
		return false
	}
	s.ext = data
	l.bound = append(l.bound, l.fetchSlot[k])
	return true
}

// End finishes a run. fetched are the run's fetched values, still held:
// a recording run notes which allocations they live in, lays out the slab
// and keeps the layout for the key. A run that drew from the Pool while a
// layout was in use marks the layout to be recorded again (a bounded
// number of times).
func (a *Arena) End(fetched []*tensor.Tensor) {
	if l := a.cur; l != nil {
		for _, i := range l.bound {
			l.slots[i].ext = nil
		}
		l.bound = l.bound[:0]
		if a.misses.Load() > 0 && l.rerecords < maxRerecords {
			l.stale = true
		}
		return
	}
	r := a.rec
	if r == nil {
		return
	}
	a.rec = nil
	a.records++
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = true
	if r.broken || len(r.recs) > maxRecords {
		return
	}
	l := a.layOut(r, fetched)
	if l == nil {
		return
	}
	for i, old := range a.layouts {
		if old.leave == l.leave && slices.Equal(old.key, l.key) {
			l.rerecords = old.rerecords + 1
			a.layouts = append(a.layouts[:i], a.layouts[i+1:]...)
			break
		}
	}
	if len(a.layouts) == maxLayouts {
		a.layouts = a.layouts[:maxLayouts-1]
	}
	a.layouts = append([]*layout{l}, a.layouts...)
}

// Abort ends a run that failed: a recording is dropped (the key is
// recorded again on a later run), bindings are undone.
func (a *Arena) Abort() {
	if r := a.rec; r != nil {
		a.rec = nil
		r.mu.Lock()
		r.done = true
		r.mu.Unlock()
		a.seen = append([][]int{r.key}, a.seen[:min(len(a.seen), maxLayouts-1)]...)
		return
	}
	if l := a.cur; l != nil {
		for _, i := range l.bound {
			l.slots[i].ext = nil
		}
		l.bound = l.bound[:0]
	}
}

// dropSlab forgets the slabs and every layout over them, after a slab
// tensor was handed over to a caller (whose storage it now is).
func (a *Arena) dropSlab() {
	a.lostSlab.Store(false)
	a.layouts = nil
	a.slab = [numKinds]any{}
	a.slabLen = [numKinds]int{}
}

// Frame numbers the allocations of one kernel call at a time and serves
// them from its Arena. A scheduler keeps one Frame per worker and calls
// Begin before each kernel; Get is safe for concurrent use by the
// goroutines of that kernel call (ops.Ctx.Parallel).
type Frame struct {
	a    *Arena
	node int32
	next atomic.Int32
}

// NewFrame returns a frame allocating from a.
func (a *Arena) NewFrame() *Frame { return &Frame{a: a} }

// Begin starts the allocations of plan node i.
func (f *Frame) Begin(node int) {
	f.node = int32(node)
	f.next.Store(0)
}

// Get returns a tensor of the given dtype and shape, zeroed if zero is set
// and with unspecified contents otherwise, charging the run's budget.
// shape is copied.
func (f *Frame) Get(dt tensor.DType, shape tensor.Shape, zero bool) (*tensor.Tensor, error) {
	n, err := numElements(shape)
	if err != nil {
		return nil, err
	}
	a := f.a
	ord := f.next.Add(1) - 1
	bytes := int64(n) * int64(dt.StorageSize())
	k := kindOf(dt)
	if l := a.cur; l != nil && k >= 0 && n > 0 {
		s, planned := l.acquire(f.node, ord, int8(k), n, len(shape))
		if s != nil {
			if err := a.budget.charge(dt, shape, bytes); err != nil {
				s.busy.Store(0)
				return nil, err
			}
			data := s.data
			if s.ext != nil {
				data = s.ext
			}
			if zero {
				clearData(data)
			}
			sh := s.shape[:len(shape)]
			copy(sh, shape)
			s.buf.Reset()
			*s.hdr = *tensor.WrapBuffer(dt, sh, data, s.buf)
			return s.hdr, nil
		}
		if !planned {
			a.misses.Add(1)
		}
	}
	return a.fallback(f.node, ord, dt, shape, n, bytes, zero)
}

// fallback allocates from the pool (or the heap), recording the
// allocation when the run records.
func (a *Arena) fallback(node, ord int32, dt tensor.DType, shape tensor.Shape, n int, bytes int64, zero bool) (*tensor.Tensor, error) {
	if err := a.budget.charge(dt, shape, bytes); err != nil {
		return nil, err
	}
	var orig *tensor.Buffer
	var data any
	if a.pool != nil {
		orig = a.pool.take(dt, n)
	}
	if orig != nil {
		data = prefix(orig.Data, n)
		if zero {
			clearData(data)
		}
	} else {
		d, err := tensor.MakeSlice(dt, n)
		if err != nil {
			a.budget.uncharge(bytes)
			return nil, err
		}
		data = d
	}
	fb := &heldBuf{budget: a.budget, orig: orig, bytes: bytes, rec: -1}
	if r := a.rec; r != nil {
		fb.r = r
		fb.rec = r.add(node, ord, kindOf(dt), n, len(shape), a.step.Load(), data)
		fb.step = &a.step
	}
	b := tensor.NewBuffer(data, fb.recycle)
	b.Orphan = fb.orphan
	return tensor.WrapBuffer(dt, shape.Clone(), data, b), nil
}

// heldBuf is the bookkeeping of a tensor drawn from the pool by an arena:
// its budget charge, the pool buffer holding its storage and, in a
// recording run, its record.
type heldBuf struct {
	budget *Budget
	orig   *tensor.Buffer
	bytes  int64
	r      *recording
	rec    int
	step   *atomic.Int32
}

func (h *heldBuf) recycle(*tensor.Buffer) {
	h.budget.uncharge(h.bytes)
	if h.r != nil {
		h.r.end(h.rec, h.step.Load(), false)
	}
	if h.orig != nil {
		h.orig.Recycle(h.orig)
	}
}

func (h *heldBuf) orphan(*tensor.Buffer) {
	h.budget.uncharge(h.bytes)
	if h.r != nil {
		h.r.end(h.rec, 0, true)
	}
	if h.orig != nil && h.orig.Orphan != nil {
		h.orig.Orphan(h.orig)
	}
}

// take returns a pool buffer holding at least n elements of dt's storage
// with one reference, or nil when dt or n is not pooled. Its Recycle
// returns it to the pool.
func (p *Pool) take(dt tensor.DType, n int) *tensor.Buffer {
	k := kindOf(dt)
	c, capacity := classOf(n)
	if k < 0 || c < 0 || n == 0 {
		return nil
	}
	p.stats.Gets.Add(1)
	p.stats.Outstanding.Add(1)
	cl := &p.classes[k][c]
	bytes := int64(capacity) * int64(dt.StorageSize())
	var b *tensor.Buffer
	cl.mu.Lock()
	if n := len(cl.free); n > 0 {
		b = cl.free[n-1]
		cl.free[n-1] = nil
		cl.free = cl.free[:n-1]
	}
	cl.mu.Unlock()
	if b != nil {
		p.retained.Add(-bytes)
		b.Reset()
		return b
	}
	p.stats.Misses.Add(1)
	data, err := tensor.MakeSlice(dt, capacity)
	if err != nil {
		p.stats.Outstanding.Add(-1)
		return nil
	}
	b = tensor.NewBuffer(data, func(b *tensor.Buffer) { p.recycle(cl, b, bytes) })
	b.Orphan = func(*tensor.Buffer) {
		p.stats.Outstanding.Add(-1)
		p.stats.HandedOut.Add(1)
	}
	return b
}

// Budget bounds the bytes that the tensors of a run (intermediate values,
// kernel scratch and outputs; not feeds or constants) hold at once. The
// scheduler charges it on every allocation and credits it when a tensor is
// released. It is safe for concurrent use.
type Budget struct {
	limit int64
	live  atomic.Int64
	peak  atomic.Int64
}

// NewBudget returns a budget of limit bytes (≤ 0: unbounded, counting only).
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// Limit returns the budget's bound in bytes (0: none).
func (b *Budget) Limit() int64 { return max(b.limit, 0) }

// Live returns the bytes held now.
func (b *Budget) Live() int64 { return b.live.Load() }

// Peak returns the most bytes held at once since the last Reset.
func (b *Budget) Peak() int64 { return b.peak.Load() }

// Reset sets the held and peak bytes to zero, at the start of a run once
// everything of the previous run has been released.
func (b *Budget) Reset() {
	b.live.Store(0)
	b.peak.Store(0)
}

func (b *Budget) charge(dt tensor.DType, shape tensor.Shape, n int64) error {
	if b == nil {
		return nil
	}
	for {
		cur := b.live.Load()
		next := cur + n
		if b.limit > 0 && next > b.limit {
			return fmt.Errorf("run memory budget exceeded: %s%v needs %d bytes while %d are held, more than the budget of %d bytes: %w",
				dt, shape.Clone(), n, cur, b.limit, tensor.ErrLimit)
		}
		if b.live.CompareAndSwap(cur, next) {
			for {
				p := b.peak.Load()
				if next <= p || b.peak.CompareAndSwap(p, next) {
					return nil
				}
			}
		}
	}
}

func (b *Budget) uncharge(n int64) {
	if b != nil {
		b.live.Add(-n)
	}
}

// recording is the allocation record of one run.
type recording struct {
	key        []int
	concurrent bool
	mu         sync.Mutex
	recs       []allocRec
	live       map[any]int // held allocations by dataKey
	done       bool        // the run ended: later releases are not recorded
	broken     bool        // an allocation left the run in a way the layout cannot follow
}

// allocRec is one recorded allocation.
type allocRec struct {
	node, ord  int32
	kind       int8
	n, rank    int
	start, end int32 // steps; end < 0 while held
	data       any
	fetch      int32   // index of the first fetch living in it, or -1
	rel        []int32 // nodes that release it (Note), for concurrent runs
}

func (r *recording) add(node, ord int32, k int, n, rank int, step int32, data any) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, allocRec{node: node, ord: ord, kind: int8(k), n: n, rank: rank, start: step, end: -1, data: data, fetch: -1})
	if r.live != nil && n > 0 {
		r.live[dataKey(data)] = len(r.recs) - 1
	}
	return len(r.recs) - 1
}

func (r *recording) end(i int, step int32, orphaned bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	if orphaned {
		// Handed over during the run: only fetched values may be.
		r.broken = true
		return
	}
	r.recs[i].end = step
	if r.live != nil && r.recs[i].n > 0 {
		delete(r.live, dataKey(r.recs[i].data))
	}
	r.recs[i].data = nil
}

// layout is the memory plan of one key.
type layout struct {
	key       []int
	leave     bool
	nodeStart []int32 // slots of node i: slots[nodeStart[i]:nodeStart[i+1]]
	slots     []slot
	fetchSlot []int32 // per fetch: the slot holding it, or -1
	bound     []int32 // slots bound to caller storage in this run
	stale     bool
	rerecords int
}

// slot is one planned allocation: a region of a slab, with the tensor
// header and Buffer handed out for it.
type slot struct {
	kind    int8
	n       int
	off     int // in elements of the kind's slab
	aliases []int32
	data    any // the region, as a []T
	ext     any // caller storage bound for this run (Bind), or nil
	shape   []int
	hdr     *tensor.Tensor
	buf     *tensor.Buffer
	busy    atomic.Int32
	bytes   int64
	heap    bool     // not in the slab: fetched values that leave the run
	id      [2]int32 // (node, ordinal)
}

// acquire returns a free slot of node for an allocation of n elements of
// kind k and the given rank, preferring the ord-th, or nil. planned
// reports that the allocation was planned to come from the pool (a
// fetched value that leaves the run).
func (l *layout) acquire(node, ord int32, k int8, n, rank int) (s *slot, planned bool) {
	if node < 0 || int(node) >= len(l.nodeStart)-1 {
		return nil, false
	}
	lo, hi := l.nodeStart[node], l.nodeStart[node+1]
	if i := lo + ord; i < hi {
		if p := &l.slots[i]; p.heap {
			return nil, p.n == n
		}
		if l.try(i, k, n, rank) {
			return &l.slots[i], false
		}
	}
	for i := lo; i < hi; i++ {
		if l.try(i, k, n, rank) {
			return &l.slots[i], false
		}
	}
	return nil, false
}

// try takes slot i if it fits and neither it nor any slot sharing its
// memory is held. Each side sets its own flag before reading the others'
// (sequentially consistent atomics), so two goroutines can never both
// take slots that share memory.
func (l *layout) try(i int32, k int8, n, rank int) bool {
	s := &l.slots[i]
	if s.heap || s.kind != k || s.n != n || len(s.shape) < rank {
		return false
	}
	if !s.busy.CompareAndSwap(0, 1) {
		return false
	}
	for _, j := range s.aliases {
		if l.slots[j].busy.Load() != 0 {
			s.busy.Store(0)
			return false
		}
	}
	return true
}

// layOut plans the slab for a recording and builds its slots.
func (a *Arena) layOut(r *recording, fetched []*tensor.Tensor) *layout {
	recs := r.recs
	inf := int32(a.nodes) + 1
	for i := range recs {
		if recs[i].end < 0 {
			recs[i].end = inf
		}
	}
	for k, t := range fetched {
		if t == nil {
			continue
		}
		for i := range recs {
			if recs[i].data != nil && recs[i].end == inf && sameStorage(recs[i].data, t.Data()) {
				if recs[i].fetch < 0 {
					recs[i].fetch = int32(k)
				}
				break
			}
		}
	}
	// Order slots by (node, ordinal) so that a node's slots are contiguous.
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int {
		if recs[x].node != recs[y].node {
			return int(recs[x].node - recs[y].node)
		}
		return int(recs[x].ord - recs[y].ord)
	})
	l := &layout{key: r.key, leave: a.leave, nodeStart: make([]int32, a.nodes+1), slots: make([]slot, len(recs)), fetchSlot: make([]int32, len(fetched))}
	for i := range l.fetchSlot {
		l.fetchSlot[i] = -1
	}
	pos := make([]int32, len(recs)) // record → slot
	for si, ri := range order {
		pos[ri] = int32(si)
		rc := &recs[ri]
		if rc.node >= 0 && int(rc.node) < a.nodes {
			l.nodeStart[rc.node+1]++
		}
		s := &l.slots[si]
		s.kind, s.n = rc.kind, rc.n
		s.bytes = int64(rc.n) * int64(kindSize[max(rc.kind, 0)])
		s.id = [2]int32{rc.node, rc.ord}
		s.heap = rc.kind < 0 || rc.n == 0 || (a.leave && rc.fetch >= 0) || a.wasHanded(rc.node, rc.ord)
		if rc.fetch >= 0 && l.fetchSlot[rc.fetch] < 0 && !s.heap {
			l.fetchSlot[rc.fetch] = int32(si)
		}
	}
	for i := 1; i <= a.nodes; i++ {
		l.nodeStart[i] += l.nodeStart[i-1]
	}
	if int(l.nodeStart[a.nodes]) != len(recs) {
		return nil // allocations outside any node: not planned
	}
	// Greedy by size, first fit, per storage kind.
	var need [numKinds]int
	bySize := make([]int, 0, len(recs))
	for i := range recs {
		if !l.slots[pos[i]].heap {
			bySize = append(bySize, i)
		}
	}
	slices.SortFunc(bySize, func(x, y int) int {
		if recs[x].n != recs[y].n {
			return recs[y].n - recs[x].n
		}
		return int(recs[x].start-recs[y].start)*len(recs) + x - y
	})
	placed := make([][]int, numKinds)
	var live []int
	conflict := func(x, y *allocRec) bool { return x.start <= y.end && y.start <= x.end }
	if r.concurrent && a.before != nil {
		// Allocations may share memory only when one is released, by
		// every node that may release it, before the other is made.
		released := func(x, y *allocRec) bool {
			if x.end == inf || len(x.rel) == 0 && x.end != x.start {
				return false // fetched, or released where the record cannot tell
			}
			if len(x.rel) == 0 {
				return a.before(x.node, y.node)
			}
			for _, c := range x.rel {
				if !a.before(c, y.node) {
					return false
				}
			}
			return a.before(x.node, y.node)
		}
		conflict = func(x, y *allocRec) bool { return !released(x, y) && !released(y, x) }
	}
	for _, ri := range bySize {
		rc := &recs[ri]
		k := rc.kind
		align := max(1, arenaAlign/kindSize[k])
		live = live[:0]
		for _, pj := range placed[k] {
			if conflict(rc, &recs[pj]) {
				live = append(live, pj)
			}
		}
		slices.SortFunc(live, func(x, y int) int { return l.slots[pos[x]].off - l.slots[pos[y]].off })
		off := 0
		for _, pj := range live {
			ps := &l.slots[pos[pj]]
			if off+rc.n <= ps.off {
				break
			}
			off = max(off, (ps.off+ps.n+align-1)/align*align)
		}
		l.slots[pos[ri]].off = off
		need[k] = max(need[k], off+rc.n)
		placed[k] = append(placed[k], ri)
	}
	// Slots sharing memory (their lifetimes are disjoint by construction).
	var pairs int
	for k := range placed {
		ps := placed[k]
		slices.SortFunc(ps, func(x, y int) int { return l.slots[pos[x]].off - l.slots[pos[y]].off })
		for x := range ps {
			sx := &l.slots[pos[ps[x]]]
			for y := x + 1; y < len(ps); y++ {
				sy := &l.slots[pos[ps[y]]]
				if sy.off >= sx.off+sx.n {
					break
				}
				sx.aliases = append(sx.aliases, pos[ps[y]])
				sy.aliases = append(sy.aliases, pos[ps[x]])
				if pairs++; pairs > 64*maxRecords {
					return nil
				}
			}
		}
	}
	// The slabs grow to the largest layout; the others are dropped when
	// they do, since their regions pointed into the old slabs.
	for k := range need {
		if need[k] > a.slabLen[k] {
			d, err := tensor.MakeSlice(kindDType[k], need[k])
			if err != nil {
				return nil
			}
			a.slab[k], a.slabLen[k] = d, need[k]
			a.layouts = nil
		}
	}
	for i := range l.slots {
		s := &l.slots[i]
		rc := &recs[order[i]]
		s.shape = make([]int, rc.rank)
		s.hdr = new(tensor.Tensor)
		if s.heap {
			continue
		}
		s.data = window(a.slab[s.kind], s.off, s.n)
		s.buf = tensor.NewBuffer(s.data, a.releaser(s))
		s.buf.Orphan = a.orphaner(s)
	}
	return l
}

// releaser returns the Recycle hook of a slot's Buffer.
func (a *Arena) releaser(s *slot) func(*tensor.Buffer) {
	return func(*tensor.Buffer) {
		if poisonDefault && s.ext == nil {
			poisonSlice(s.data)
		}
		a.budget.uncharge(s.bytes)
		s.busy.Store(0)
	}
}

// orphaner returns the Orphan hook of a slot's Buffer: a slab tensor
// handed over to a caller takes its memory with it, so the slab is
// dropped at the next Begin (the slot stays held, so nothing reuses the
// region meanwhile).
func (a *Arena) orphaner(s *slot) func(*tensor.Buffer) {
	return func(*tensor.Buffer) {
		a.budget.uncharge(s.bytes)
		if s.ext == nil {
			a.lostSlab.Store(true)
			a.handMu.Lock()
			if len(a.handed) < maxRecords {
				a.handed = append(a.handed, s.id)
			}
			a.handMu.Unlock()
		}
	}
}

// wasHanded reports whether allocation (node, ord) was once handed over
// from the slab: later layouts leave it to the pool.
func (a *Arena) wasHanded(node, ord int32) bool {
	a.handMu.Lock()
	defer a.handMu.Unlock()
	for _, h := range a.handed {
		if h == [2]int32{node, ord} {
			return true
		}
	}
	return false
}

// Storage kinds' element sizes and a dtype of each.
var (
	kindSize  = [numKinds]int{4, 8, 4, 8, 1, 1, 2, 2, 1}
	kindDType = [numKinds]tensor.DType{tensor.Float32, tensor.Float64, tensor.Int32, tensor.Int64, tensor.Uint8, tensor.Int8, tensor.Int16, tensor.Uint16, tensor.Bool}
)

func kindOfData(data any) int8 {
	switch data.(type) {
	case []float32:
		return kFloat32
	case []float64:
		return kFloat64
	case []int32:
		return kInt32
	case []int64:
		return kInt64
	case []uint8:
		return kUint8
	case []int8:
		return kInt8
	case []int16:
		return kInt16
	case []uint16:
		return kUint16
	case []bool:
		return kBool
	}
	return -1
}

// window returns data[off:off+n] with its capacity cut at n.
func window(data any, off, n int) any {
	switch s := data.(type) {
	case []float32:
		return s[off : off+n : off+n]
	case []float64:
		return s[off : off+n : off+n]
	case []int32:
		return s[off : off+n : off+n]
	case []int64:
		return s[off : off+n : off+n]
	case []uint8:
		return s[off : off+n : off+n]
	case []int8:
		return s[off : off+n : off+n]
	case []int16:
		return s[off : off+n : off+n]
	case []uint16:
		return s[off : off+n : off+n]
	case []bool:
		return s[off : off+n : off+n]
	}
	panic(fmt.Sprintf("pool: unexpected storage %T", data))
}

// SameStorage reports whether a and b (element slices of tensors) are the
// same non-empty memory: same type, same first element, same length.
func SameStorage(a, b any) bool { return sameStorage(a, b) }

func sameStorage(a, b any) bool {
	switch x := a.(type) {
	case []float32:
		y, ok := b.([]float32)
		return ok && len(x) > 0 && len(x) == len(y) && &x[0] == &y[0]
	case []float64:
		y, ok := b.([]float64)
		return ok && len(x) > 0 && len(x) == len(y) && &x[0] == &y[0]
	case []int32:
		y, ok := b.([]int32)
		return ok && len(x) > 0 && len(x) == len(y) && &x[0] == &y[0]
	case []int64:
		y, ok := b.([]int64)
		return ok && len(x) > 0 && len(x) == len(y) && &x[0] == &y[0]
	case []uint8:
		y, ok := b.([]uint8)
		return ok && len(x) > 0 && len(x) == len(y) && &x[0] == &y[0]
	case []int8:
		y, ok := b.([]int8)
		return ok && len(x) > 0 && len(x) == len(y) && &x[0] == &y[0]
	case []int16:
		y, ok := b.([]int16)
		return ok && len(x) > 0 && len(x) == len(y) && &x[0] == &y[0]
	case []uint16:
		y, ok := b.([]uint16)
		return ok && len(x) > 0 && len(x) == len(y) && &x[0] == &y[0]
	case []bool:
		y, ok := b.([]bool)
		return ok && len(x) > 0 && len(x) == len(y) && &x[0] == &y[0]
	}
	return false
}

func clearData(data any) { zero(data) }

// dataKey identifies non-empty tensor storage by the address of its first
// element (a pointer in an interface: no allocation).
func dataKey(data any) any {
	switch s := data.(type) {
	case []float32:
		return &s[0]
	case []float64:
		return &s[0]
	case []int32:
		return &s[0]
	case []int64:
		return &s[0]
	case []uint8:
		return &s[0]
	case []int8:
		return &s[0]
	case []int16:
		return &s[0]
	case []uint16:
		return &s[0]
	case []bool:
		return &s[0]
	case []string:
		return &s[0]
	}
	return nil
}

// numElements is shape.NumElements without letting shape escape (which
// the error message would make it do), so that callers' shape literals
// stay on their stacks.
func numElements(shape tensor.Shape) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 || (d != 0 && n > math.MaxInt/d) {
			return shape.Clone().NumElements()
		}
		n *= d
	}
	return n, nil
}
