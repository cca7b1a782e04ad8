package sched

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/ops"
	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
)

// Functional control flow (While, If, ...) evaluates bodies from the
// graph's function library. Each distinct (function, attrs) is compiled
// once into a plan of its own, cached in the calling plan, and run inline
// on the caller's goroutine with the caller's resource store.

// maxCallDepth bounds nested function calls (a While in a While ...).
const maxCallDepth = 64

type nestKey struct{}

// nest is what a function-body run inherits from the run that called it.
type nest struct {
	res    *ops.Resources
	depth  int
	budget *pool.Budget // the enclosing run's memory budget
}

func nestOf(ctx context.Context) *nest {
	n, _ := ctx.Value(nestKey{}).(*nest)
	return n
}

// funcCache holds the compiled function bodies of a plan.
type funcCache struct {
	mu sync.Mutex
	m  map[string]*funcEntry
}

type funcEntry struct {
	once sync.Once
	plan *Plan
	err  error
}

// caller returns the Ctx.Call hook of a run.
func (p *Plan) caller(ctx context.Context, res *ops.Resources) func(tensor.Func, []*tensor.Tensor) ([]*tensor.Tensor, error) {
	depth := 0
	if n := nestOf(ctx); n != nil {
		depth = n.depth
	}
	return func(f tensor.Func, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if depth >= maxCallDepth {
			return nil, fmt.Errorf("function calls nested more than %d deep (at %q)", maxCallDepth, f.Name)
		}
		sub, err := p.function(f)
		if err != nil {
			return nil, err
		}
		cctx := context.WithValue(ctx, nestKey{}, &nest{res: res, depth: depth + 1})
		outs, err := sub.Run(cctx, in, RunOptions{Workers: 1, SliceRows: -1})
		if err != nil {
			return nil, fmt.Errorf("in function %q: %w", f.Name, err)
		}
		return outs, nil
	}
}

// function returns the compiled plan of a library function.
func (p *Plan) function(f tensor.Func) (*Plan, error) {
	key := f.Name + "\x00" + attrsKey(f.Attrs)
	p.funcs.mu.Lock()
	if p.funcs.m == nil {
		p.funcs.m = map[string]*funcEntry{}
	}
	e, ok := p.funcs.m[key]
	if !ok {
		e = &funcEntry{}
		p.funcs.m[key] = e
	}
	p.funcs.mu.Unlock()
	e.once.Do(func() {
		if p.graph == nil {
			e.err = fmt.Errorf("function %q: the plan has no graph library", f.Name)
			return
		}
		fg, inputs, outputs, err := graph.FunctionGraph(p.graph, f.Name, f.Attrs)
		if err != nil {
			e.err = err
			return
		}
		opt := p.copt
		opt.Pool = p.pool
		if len(outputs) == 0 {
			e.err = fmt.Errorf("function %q has no outputs", f.Name)
			return
		}
		e.plan, e.err = Compile(fg, inputs, outputs, opt)
	})
	return e.plan, e.err
}

// attrsKey is a deterministic text form of attrs, for the cache key.
func attrsKey(a tensor.Attrs) string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v;", k, a[k])
	}
	return b.String()
}

// dynCtx returns the kernel context of a run on the control-flow executor.
func (p *Plan) dynCtx(ctx context.Context) *ops.Ctx {
	res := ops.NewResources()
	res.SetModel(p.copt.State)
	if n := nestOf(ctx); n != nil && n.res != nil {
		res = n.res
	}
	k := &ops.Ctx{Context: ctx, MaxElements: p.maxElems, Resources: res}
	k.Call = p.caller(ctx, res)
	return k
}
