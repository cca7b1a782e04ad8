// Package sched compiles a graph into an immutable Plan and runs plans on a
// pool of workers.
//
// Compile takes a graph, the names of the tensors that will be fed and the
// names of the tensors to fetch, and does all the work that does not depend
// on data once: it prunes the graph to what the fetches need, orders it
// topologically (reporting cycles), reports every unsupported op type at
// once, infers dtypes and static shapes, folds constant subgraphs, binds and
// builds kernels, fuses products with their bias and activation and chains
// of element-wise ops into single nodes (fuse.go; Options.NoFusion turns
// it off), counts each value's consumers so that buffers return to the pool
// at their last use, and decides whether the plan may be run in slices
// along the batch axis.
//
// A Runner (runner.go) runs a plan again and again, keeping what runs need
// between them: the values table, kernel contexts, helper goroutines, and
// a memory plan (pool.Arena) laid out once per feed shapes from the
// allocations and releases of a run, so that intermediate tensors whose
// lifetimes do not overlap share memory and steady-state runs allocate
// nothing of the scheduler's own. Run draws Runners from the plan's idle
// ones. With one worker the nodes run in topological order. With more,
// the first runs for given feed shapes measure every node on one worker
// and decide how to share the work (runner.go, share.go): a batch whose
// plan is sliceable, and whose run is long enough to share, is cut into
// row slices that run through the plan side by side and are joined in
// order; otherwise the nodes run in order on the calling goroutine, and
// kernels long enough to split divide their rows between it and the
// helpers, which keep looking for work between kernels rather than sleep
// (the next runs try each split and keep those that made their kernels
// faster); only where independent branches save more than splitting alone
// do ready nodes run concurrently (the first error stops the rest). A run
// that starts while another run of the plan is under way shares nothing:
// concurrent runs keep the machine busy already.
// Results are bit-identical for any number of workers: kernels split only
// disjoint output ranges with fixed accumulation order, and batch slicing
// is only used when every op on the batch path declares rows independent
// (ops.Spec.Batch).
//
// Every allocation of a run is charged to a budget (Options.MaxRunBytes):
// a run whose tensors would hold more bytes at once fails with an error
// wrapping ErrLimit that names the node.
//
// Plans whose graph holds TF1 control flow (Switch, Merge, Enter, Exit,
// NextIteration, LoopCond) run on a dynamic executor instead (dynamic.go):
// one task per (node, frame, iteration), dead tensors propagated as
// TensorFlow's executor does, loops bounded by Options.MaxIterations and the
// run's context. Such plans are never batch-sliced, and nothing downstream
// of a control-flow op is constant-folded.
//
// Each run of a plan with stateful ops gets its own ops.Resources store
// (TensorArrays and the like), so concurrent runs never share that state.
// Variables and lookup tables that outlive a run live in the
// ops.ModelState given as Options.State, which every run of the plan
// shares (it serializes its own writes).
//
// Imports: tensor, graph, ops, pool, tracing. This is the only package of
// tfd that starts goroutines. Concurrency: a Plan is immutable and safe for
// concurrent use; each Run has its own state; a Runner serves one run at a
// time.
package sched
