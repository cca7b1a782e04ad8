// Package tfd runs trained TensorFlow models in pure Go, with no TensorFlow
// installed.
//
// Load a frozen GraphDef (binary .pb or text .pbtxt) and evaluate any
// tensor in it by name:
//
//	m, err := tfd.Load("model.pb")
//	if err != nil { ... }
//	h := m.Get("input", "output")
//	x, y := h[0], h[1]
//	out, err := y.Eval(x.Feed(batch))
//
// Run evaluates several tensors at once with a context, and RunWith adds
// per-call options: the number of workers, batch slicing and profiling.
//
//	outs, err := m.RunWith(ctx, tfd.RunOptions{Workers: 4, Profile: prof},
//		map[string]*tfd.Tensor{"input": batch}, "output", "dense/Relu")
//
// A Model compiles each distinct (feeds, fetches) combination once into an
// immutable plan and caches it; a Model is safe for concurrent use, and
// several models load side by side in one process without sharing any
// mutable state except the read-only default op registry. What a model's
// runs do share is its own state: lookup tables its init op filled at
// load, and variables its signatures change (a counter's increments
// persist from one run to the next); writes to a variable are serialized.
//
// Profiles: pass a *Profiler in RunOptions and write it with WritePprof
// (read it with `go tool pprof -top file`) or WriteTrace (Chrome/Perfetto
// trace JSON, one lane per worker).
//
// Stability: this package is tfd's stable API. The subpackages (graph, ops,
// sched, pool, tracing, tensor) are reachable for advanced uses such as
// registering kernels, but may change between versions.
//
// Imports: graph, ops, sched, pool, tracing, tensor and internal/npy.
package tfd
