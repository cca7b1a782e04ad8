package sched

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Runs whose independent branches execute concurrently.
//
// A worker that finishes a node goes on with the ready successor that
// heads the longest remaining path (by the measured times of the nodes),
// and queues the others: a chain of nodes never leaves its worker, and
// only forks hand work over. Idle workers take queued nodes (the highest
// first) and kernels' chunks; a worker that posts work wakes a parked one.
// Whether a plan's runs are worth running so at all is decided once from
// the measured times (memCost.shareFor): with the splitting of long
// kernels, most models run faster in order on one goroutine.

// memDAG is the state of a Runner's concurrent runs.
type memDAG struct {
	on     atomic.Bool  // the run takes helpers in
	done   atomic.Bool  // every node ran, or the run failed
	ndone  atomic.Int32 // nodes run
	gate   memGate
	mu     sync.Mutex
	queue  []int32      // ready nodes no worker went on with; under mu
	queued atomic.Int32 // len(queue)
	rank   []int64      // per node: the measured time of its longest path to the end
	sleep0 atomic.Bool  // worker 0 is parked (or about to)
	wake0  chan struct{}
}

// wants reports whether a concurrent run has queued nodes.
func (d *memDAG) wants() bool { return d.on.Load() && d.queued.Load() > 0 }

// join lets helper w into the run if it has queued nodes, and runs its
// part; it reports whether it went in.
func (d *memDAG) join(r *Runner, w int) bool {
	if !d.wants() || !d.gate.enter() {
		return false
	}
	r.dagLoop(w)
	d.gate.leave()
	return true
}

func (d *memDAG) push(i int32) {
	d.mu.Lock()
	d.queue = append(d.queue, i)
	d.queued.Add(1)
	d.mu.Unlock()
}

// pop takes the queued node of highest rank, or returns -1.
func (d *memDAG) pop() int32 {
	if d.queued.Load() == 0 {
		return -1
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.queue)
	if n == 0 {
		return -1
	}
	best := 0
	for k := 1; k < n; k++ {
		if d.rank[d.queue[k]] > d.rank[d.queue[best]] {
			best = k
		}
	}
	i := d.queue[best]
	d.queue[best] = d.queue[n-1]
	d.queue = d.queue[:n-1]
	d.queued.Add(-1)
	return i
}

// poke wakes worker 0 if it is parked.
func (d *memDAG) poke() {
	if d.sleep0.Load() {
		select {
		case d.wake0 <- struct{}{}:
		default:
		}
	}
}

// stop ends a concurrent run: the workers leave once their nodes are done.
func (d *memDAG) stop() {
	d.done.Store(true)
	d.poke()
}

// runDAG runs the nodes on the caller and the helpers; it returns when
// all have run, or after the first error once the nodes running finish.
func (r *Runner) runDAG() error {
	p := r.p
	d := &r.dag
	for i := range p.nodes {
		r.pending[i].Store(p.nodes[i].npred)
	}
	if d.wake0 == nil {
		d.wake0 = make(chan struct{}, 1)
	}
	d.rank = r.cost.rank
	d.ndone.Store(0)
	d.done.Store(false)
	d.mu.Lock()
	if cap(d.queue) < len(p.nodes) {
		d.queue = make([]int32, 0, len(p.nodes))
	}
	d.queue = append(d.queue[:0], p.sources...)
	d.queued.Store(int32(len(p.sources)))
	d.mu.Unlock()
	c := r.startCrew()
	d.gate.open(r.workers)
	d.on.Store(true)
	c.rouse(len(p.sources) - 1)
	r.dagLoop(0)
	d.on.Store(false)
	d.gate.wait(d.gate.close())
	if r.failed.Load() {
		err := r.err
		var ne *NodeError
		if r.ctx.Err() != nil && !errors.As(err, &ne) {
			return fmt.Errorf("sched: %w: %w", ErrCanceled, r.ctx.Err())
		}
		return err
	}
	return nil
}

// dagLoop is worker w's part of a concurrent run. Worker 0 returns when
// the run is over; a helper also returns once it has found nothing to do
// for a while (it parks in the crew's loop, where new work wakes it).
func (r *Runner) dagLoop(w int) {
	d := &r.dag
	c := r.crew
	var spin memSpin
	for !d.done.Load() {
		if i := d.pop(); i >= 0 {
			r.dagChain(w, i)
			spin.reset()
			continue
		}
		if c.helpPars(w) {
			spin.reset()
			continue
		}
		if spin.more() {
			continue
		}
		if w != 0 {
			return
		}
		d.sleep0.Store(true)
		if !d.done.Load() && d.queued.Load() == 0 && c.npar.Load() == 0 {
			select {
			case <-d.wake0:
			case <-r.ctx.Done():
				r.fail(r.ctx.Err())
			}
		}
		d.sleep0.Store(false)
		spin.reset()
	}
}

// dagChain runs node i on worker w, then the ready successor of highest
// rank, and so on; it queues the other successors that become ready.
func (r *Runner) dagChain(w int, i int32) {
	p := r.p
	d := &r.dag
	total := int32(len(p.nodes))
	for i >= 0 && !d.done.Load() {
		if err := r.ctx.Err(); err != nil {
			r.fail(p.canceled(int(i), err))
			return
		}
		if err := r.step(w, int(i)); err != nil {
			r.fail(err)
			return
		}
		next, pushed := int32(-1), 0
		for _, s := range p.nodes[i].succ {
			if r.pending[s].Add(-1) != 0 {
				continue
			}
			if next < 0 {
				next = s
				continue
			}
			if d.rank[s] > d.rank[next] {
				next, s = s, next
			}
			d.push(s)
			pushed++
		}
		if pushed > 0 {
			if d.sleep0.Load() {
				d.poke()
				pushed--
			}
			r.crew.rouse(pushed)
		}
		if d.ndone.Add(1) == total {
			d.stop()
			return
		}
		i = next
	}
}

// shareNodes reports whether the run executes independent branches
// concurrently, deciding once per cost decisions and number of workers.
func (r *Runner) shareNodes() bool {
	c := r.cost
	if c == nil {
		return false
	}
	if r.shareOf != c || r.shareW != r.workers {
		r.shareOf, r.shareW = c, r.workers
		r.share = c.shareFor(r.p, r.workers)
	}
	return r.share
}

// Cost model of the sharing decisions (shareFor).
const (
	// memHandNanos is what handing a node to another worker is taken to
	// cost: the wait for a spinning helper, and its cache misses on the
	// node's inputs.
	memHandNanos = 5_000
	// memSplitOverNanos is what splitting a kernel is taken to cost.
	memSplitOverNanos = 3_000
)

// Kernel splits.
const (
	// memTrialRuns is the number of runs that try the splits decided
	// from the measured times before they are kept or dropped.
	memTrialRuns = 3
	// memTrialRefs is the number of trial runs in order, as a reference.
	memTrialRefs = 2
	// memTrialGain is the least gain, in percent of a run's time on one
	// worker, that runs splitting kernels must show for the splits to be
	// kept.
	memTrialGain = 3
	// memRetryNanos is how long the outcome of a trial holds: then runs
	// measure the kernels and try their splits again.
	memRetryNanos = 10 * time.Second
	// memChunkNanos is the least time a chunk of a split should take: a
	// split has one chunk per worker per memChunkNanos of the kernel's
	// time per worker, up to memChunksPerWorker. Chunks are taken up as
	// workers come free, so that one that starts late (a helper waking
	// up) leaves the others at most a chunk to wait for.
	memChunkNanos      = 10_000
	memChunksPerWorker = 8
)

// chunks returns the most chunks a split of node's kernel on workers is
// cut into.
func (m *memCost) chunks(node, workers int) int {
	per := int(m.nanos[node] / int64(workers) / memChunkNanos)
	return workers * min(max(per, 1), memChunksPerWorker)
}

// trialInOrder tells whether the next trial run of m runs in order, as a
// reference for the runs that try the splits: one in three does.
func (p *Plan) trialInOrder(m *memCost) bool {
	c := &p.runners
	c.mu.Lock()
	defer c.mu.Unlock()
	m.turns++
	return m.turns%3 == 1
}

// learnTrial adds the time of a trial run (not one that recorded the
// memory plan), which took total: a reference run in order (r.inOrder),
// or a run that tried the splits, whose kernels' times it also adds. Once
// memTrialRuns of these and memTrialRefs references have run, the splits
// that made their kernels faster by a twentieth in one of the runs are
// kept and the others dropped, in a memCost that replaces r.cost among
// the plan's decisions (a memCost does not change once runs use it); all
// are dropped unless the best run that tried them beat the best reference
// by memTrialGain: a split can make the kernels after it slower (they read
// what other cores wrote), and helpers cost their start. Comparing runs
// made side by side, with the memory plan laid out and caches warm, keeps
// what the first runs pay for out of the comparison.
func (r *Runner) learnTrial(total int64) {
	m := r.cost
	c := &r.p.runners
	c.mu.Lock()
	defer c.mu.Unlock()
	at := -1
	for k, x := range c.costs {
		if x == m {
			at = k
		}
	}
	if at < 0 {
		return // decided by another Runner meanwhile
	}
	if m.tried == nil {
		m.tried = make([]int64, len(m.nanos))
		for i := range m.tried {
			m.tried[i] = math.MaxInt64
		}
		m.triedAll, m.ref = math.MaxInt64, math.MaxInt64
	}
	if r.inOrder {
		m.ref = min(m.ref, total)
		m.refs++
	} else {
		m.triedAll = min(m.triedAll, total)
		for i, ok := range m.cand {
			if ok {
				m.tried[i] = min(m.tried[i], r.nodeNanos[i])
			}
		}
		m.trials++
	}
	if m.trials < memTrialRuns || m.refs < memTrialRefs {
		return
	}
	f := m.measured()
	f.final, f.decided = true, time.Now()
	f.tried, f.triedAll, f.ref = m.tried, m.triedAll, m.ref
	f.split = make([]bool, len(m.cand))
	f.anySplit = false
	if 100*m.triedAll < (100-memTrialGain)*m.ref {
		for i, ok := range m.cand {
			f.split[i] = ok && 20*m.tried[i] <= 19*m.nanos[i]
			f.anySplit = f.anySplit || f.split[i]
		}
	}
	f.inOrder = !f.anySplit
	c.costs[at] = f
}

// measured returns a copy of what m measured, whose runs try the candidate
// splits.
func (m *memCost) measured() *memCost {
	return &memCost{key: m.key, nanos: m.nanos, parts: m.parts, total: m.total, runs: m.runs, rank: m.rank,
		slices: m.slices, cand: m.cand, anyCand: m.anyCand, split: m.cand, anySplit: m.anyCand}
}

// memWatch keeps the times of the last runs that shared work under final
// decisions, so that a Runner notices when sharing stops paying: another
// process took a core, or the cores stopped sharing data cheaply (a
// virtual machine's cores moved).
type memWatch struct {
	of    *memCost
	n     int
	nanos [memWatchRuns]int64
}

// Watched runs.
const (
	// memWatchRuns is the number of runs whose median time is watched.
	memWatchRuns = 8
	// memWatchLoss is the loss, in percent of a run's time on one worker,
	// past which the median time of the watched runs makes the runs of the
	// plan run in order until the next measurement (memRetryNanos).
	memWatchLoss = 10
)

// watchRun adds the time of a run that started at start and shared work
// under r.cost. When the median of the last memWatchRuns is slower than
// the trial's runs in order (without a trial, the measuring runs) by
// memWatchLoss, the plan's runs for the feed shapes run in order from the
// next one on.
func (r *Runner) watchRun(start time.Time) {
	w := &r.watch
	m := r.cost
	if w.of != m {
		w.of, w.n = m, 0
	}
	w.nanos[w.n%memWatchRuns] = int64(time.Since(start))
	if w.n++; w.n < memWatchRuns {
		return
	}
	sorted := w.nanos
	slices.Sort(sorted[:])
	ref := m.ref
	if ref == 0 {
		ref = m.total // no trial: the measuring runs
	}
	if 100*sorted[memWatchRuns/2] <= (100+memWatchLoss)*ref {
		return
	}
	w.of = nil
	c := &r.p.runners
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, x := range c.costs {
		if x == m {
			f := m.measured()
			f.final, f.decided, f.inOrder = true, time.Now(), true
			f.split, f.anySplit = make([]bool, len(m.cand)), false
			c.costs[k] = f
		}
	}
}

// rankNodes sets m.rank: per node, the measured time of the longest path
// from its start to the end of the run.
func (m *memCost) rankNodes(p *Plan) {
	m.rank = make([]int64, len(p.nodes))
	for i := len(p.nodes) - 1; i >= 0; i-- {
		var tail int64
		for _, s := range p.nodes[i].succ {
			tail = max(tail, m.rank[s])
		}
		m.rank[i] = m.nanos[i] + tail
	}
}

// shareFor decides whether runs on workers execute independent branches
// concurrently: only if a schedule of the measured node times on the
// workers (list scheduling by rank, each hand-over between workers
// charged memHandNanos) beats running the nodes in order, with the
// kernels that split taken as split evenly, by a tenth.
func (m *memCost) shareFor(p *Plan, workers int) bool {
	workers = min(workers, p.width)
	if workers < 2 || len(m.rank) != len(p.nodes) || m.inOrder {
		return false
	}
	var seq int64
	for i, ns := range m.nanos {
		if m.split[i] {
			ns = ns/int64(workers) + memSplitOverNanos
		}
		seq += ns
	}
	return 10*memListSchedule(p, m.nanos, m.rank, workers) < 9*seq
}

// memListSchedule returns the makespan of a list schedule of the plan's
// nodes, of times nanos, on workers: ready nodes are placed by rank,
// each on the worker where it can start first, paying memHandNanos for
// every input made on another worker.
func memListSchedule(p *Plan, nanos, rank []int64, workers int) int64 {
	n := len(p.nodes)
	preds := make([][]int32, n)
	for i := range p.nodes {
		for _, s := range p.nodes[i].succ {
			preds[s] = append(preds[s], int32(i))
		}
	}
	pending := make([]int32, n)
	for i := range p.nodes {
		pending[i] = p.nodes[i].npred
	}
	fin := make([]int64, n)
	on := make([]int, n)
	free := make([]int64, workers)
	q := &memRankHeap{rank: rank}
	for _, s := range p.sources {
		heap.Push(q, s)
	}
	var end int64
	for q.Len() > 0 {
		i := heap.Pop(q).(int32)
		bw, bs := 0, int64(-1)
		for w := range free {
			s := free[w]
			for _, pr := range preds[i] {
				t := fin[pr]
				if on[pr] != w {
					t += memHandNanos
				}
				s = max(s, t)
			}
			if bs < 0 || s < bs {
				bw, bs = w, s
			}
		}
		on[i], fin[i] = bw, bs+nanos[i]
		free[bw] = fin[i]
		end = max(end, fin[i])
		for _, s := range p.nodes[i].succ {
			if pending[s]--; pending[s] == 0 {
				heap.Push(q, s)
			}
		}
	}
	return end
}

// memRankHeap is a max-heap of nodes by rank.
type memRankHeap struct {
	rank  []int64
	nodes []int32
}

func (h *memRankHeap) Len() int           { return len(h.nodes) }
func (h *memRankHeap) Less(a, b int) bool { return h.rank[h.nodes[a]] > h.rank[h.nodes[b]] }
func (h *memRankHeap) Swap(a, b int)      { h.nodes[a], h.nodes[b] = h.nodes[b], h.nodes[a] }
func (h *memRankHeap) Push(x any)         { h.nodes = append(h.nodes, x.(int32)) }
func (h *memRankHeap) Pop() any {
	x := h.nodes[len(h.nodes)-1]
	h.nodes = h.nodes[:len(h.nodes)-1]
	return x
}
