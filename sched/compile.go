package sched

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/ops"
	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
)

// Options configures Compile. The zero value compiles against
// ops.Default() with default limits.
type Options struct {
	// Registry supplies kernels; nil means ops.Default().
	Registry *ops.Registry
	// Model names the model in errors and profiles.
	Model string
	// Prefer lists implementation names to use for every op that has them,
	// in order of preference (for example "gonum").
	Prefer []string
	// Impl chooses an implementation per op type ("MatMul" → "gonum"); it
	// takes precedence over Prefer.
	Impl map[string]string
	// MaxElements bounds every tensor a kernel allocates (0: DefaultMaxElements).
	MaxElements int
	// FoldBudget bounds the bytes of constants created by constant folding
	// at compile time (0: 64 MiB; negative: no folding).
	FoldBudget int64
	// Pool supplies buffers for runs; nil means a new pool per plan.
	Pool *pool.Pool
	// MaxIterations bounds the iterations of every while-loop frame in a
	// run of a plan with control flow (0: DefaultMaxIterations).
	MaxIterations int
	// MaxRunBytes bounds the bytes that the tensors of one run (its
	// intermediate values, kernels' scratch and its outputs; not feeds or
	// constants) may hold at once (0: DefaultMaxRunBytes; negative: no
	// bound). See runner.go.
	MaxRunBytes int64
	// NoFusion turns off the fusion of products with their epilogues and
	// of element-wise chains (fuse.go).
	NoFusion bool
	// State holds the variables and lookup tables that outlive a run
	// (tfd.Model owns one per model; see ops.ModelState). Every run of the
	// plan, and of the function bodies it calls, shares it. Nil gives each
	// run a state of its own.
	State *ops.ModelState
}

// Default limits.
const (
	DefaultMaxElements = 1 << 28
	DefaultFoldBudget  = 64 << 20
	maxFoldElements    = 1 << 22
	maxUnsupportedList = 20
)

// DefaultMaxIterations bounds the iterations of one while-loop frame.
const DefaultMaxIterations = 10_000_000

// Feed describes one fed tensor of a plan.
type Feed struct {
	Name    string              // tensor name as given to Compile
	DType   tensor.DType        // expected dtype (Invalid: any)
	Shape   tensor.PartialShape // expected shape
	Batched bool                // axis 0 is the batch axis of a sliceable plan
}

// Plan is a compiled graph: immutable and safe for concurrent use.
type Plan struct {
	graph      *graph.Graph // for the function library of While/If bodies
	copt       Options      // compile options, reused for function bodies
	funcs      funcCache
	model      string
	nodes      []pnode
	nvalues    int
	consts     []*tensor.Tensor // by value; nil unless constant
	feedVals   []int32          // value index of each feed
	feeds      []Feed
	fetches    []int32
	fetchNames []string
	fetchInfo  []ops.Value
	uses       []int32 // kernel reads of each value
	pinned     []bool  // never released during a run: feeds, constants, fetches
	sources    []int32 // nodes with no predecessors
	sliceable  bool
	stateful   bool // some op is Stateful: runs get a resource store
	width      int  // most nodes on one topological level
	pool       *pool.Pool
	maxElems   int
	folded     int
	unusedOut  [][]int32 // per node: outputs nobody reads (released at once)
	// dyn is set for plans with control-flow ops, which run on the dynamic
	// executor (dynamic.go) instead of the static schedule.
	dyn *dynPlan

	// Memory plan and budget (runner.go).
	maxRunBytes int64       // Options.MaxRunBytes resolved (0: none)
	runners     runnerCache // idle Runners for Run
}

// pnode is one node of the plan.
type pnode struct {
	name, op string
	kernel   ops.Kernel
	in       []int32 // value index of each data input
	out      []int32 // value index of each output
	outTypes []tensor.DType
	succ     []int32 // nodes waiting on this one
	npred    int32
	impl     string
	inNames  []string // input tensor names, for inspection
	fused    []string // names of the graph nodes a fused node replaces
}

// NodeInfo describes a compiled node, for inspection.
type NodeInfo struct {
	Name, Op, Impl string
	Inputs         []string
	// Fused lists, in order, the graph nodes a fused node replaces (its
	// own name among them); nil for other nodes.
	Fused []string `json:",omitempty"`
}

// valueKey identifies a tensor of the graph.
type valueKey struct {
	node  string
	index int
}

// Compile compiles g for the given feeds and fetches (tensor names "node"
// or "node:k").
func Compile(g *graph.Graph, feeds, fetches []string, opt Options) (*Plan, error) {
	reg := opt.Registry
	if reg == nil {
		reg = ops.Default()
	}
	reg.Freeze()
	c := &compiler{g: g, opt: opt, reg: reg, values: map[valueKey]int32{}, feedIdx: map[valueKey]int{}, fedNode: map[string]bool{}}
	if c.opt.MaxElements <= 0 {
		c.opt.MaxElements = DefaultMaxElements
	}
	switch {
	case c.opt.FoldBudget == 0:
		c.budget = DefaultFoldBudget
	case c.opt.FoldBudget > 0:
		c.budget = c.opt.FoldBudget
	}
	if len(fetches) == 0 {
		return nil, fmt.Errorf("sched: nothing to fetch")
	}
	if err := c.parseFeeds(feeds); err != nil {
		return nil, err
	}
	order, err := c.prune(fetches)
	if err != nil {
		return nil, err
	}
	if err := c.checkSupported(order); err != nil {
		return nil, err
	}
	if err := c.build(order); err != nil {
		return nil, err
	}
	c.fuse()
	return c.finish()
}

type compiler struct {
	g       *graph.Graph
	opt     Options
	reg     *ops.Registry
	budget  int64
	feeds   []Feed
	feedIdx map[valueKey]int
	fedNode map[string]bool // nodes with a fed output
	fetchK  []valueKey
	fetchN  []string

	values  map[valueKey]int32
	info    []ops.Value      // static info per value
	consts  []*tensor.Tensor // per value
	nodes   []pnode
	opNodes []*ops.Node // per plan node, for the batch analysis
	specs   []ops.Spec
	nodeOf  map[string]int32 // graph node name → plan node index
	folded  map[string]bool
	nfolded int

	// Control flow: whether the plan has control-flow ops, nodes that
	// depend on one (never folded), and Merge inputs that are back edges
	// from NextIteration, patched once their producers are built.
	hasCtl  bool
	tainted map[string]bool
	backs   []backEdge
}

// backEdge is input `input` of plan node `node`, a Merge, fed by the
// NextIteration output key.
type backEdge struct {
	node  int32
	input int
	key   valueKey
}

func (c *compiler) nodeErr(n *graph.Node, err error) error {
	return &NodeError{Model: c.opt.Model, Node: n.Name, Op: n.Op, Err: err}
}

func parseName(s string) (valueKey, error) {
	node, idx, ctl, err := graph.ParseTensorName(s)
	if err != nil {
		return valueKey{}, err
	}
	if ctl {
		return valueKey{}, fmt.Errorf("sched: %q names a control input, not a tensor", s)
	}
	return valueKey{node, idx}, nil
}

func (c *compiler) parseFeeds(feeds []string) error {
	for _, f := range feeds {
		k, err := parseName(f)
		if err != nil {
			return err
		}
		n, ok := c.g.Node(k.node)
		if !ok {
			return fmt.Errorf("sched: feed %q: no node %q in the graph", f, k.node)
		}
		if _, dup := c.feedIdx[k]; dup {
			return fmt.Errorf("sched: tensor %q fed twice", f)
		}
		fd := Feed{Name: f, Shape: tensor.UnknownShape()}
		switch n.Op {
		case "Placeholder", "PlaceholderV2", "PlaceholderWithDefault":
			if dt, ok, _ := n.Attrs.Type("dtype"); ok {
				fd.DType = dt.Base()
			}
			if sh, ok, _ := n.Attrs.Shape("shape"); ok {
				fd.Shape = sh
			}
		default:
			for _, a := range []string{"T", "dtype"} {
				if dt, ok, _ := n.Attrs.Type(a); ok {
					fd.DType = dt.Base()
					break
				}
			}
		}
		c.feedIdx[k] = len(c.feeds)
		c.fedNode[k.node] = true
		c.feeds = append(c.feeds, fd)
	}
	return nil
}

// prune walks back from the fetches and returns the needed nodes in
// topological order, stopping at fed tensors.
func (c *compiler) prune(fetches []string) ([]*graph.Node, error) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var order []*graph.Node
	type frame struct {
		n    *graph.Node
		next int // index into deps
		deps []string
	}
	// A Merge's input from a NextIteration is a loop's back edge: it is not
	// a dependency (so loops are not cycles), and the NextIteration is
	// visited as a further root once the current walk is done, which
	// places it after the Merge.
	var later []*graph.Node
	depsOf := func(n *graph.Node) ([]string, error) {
		deps := make([]string, 0, len(n.Inputs)+len(n.ControlInputs))
		for _, in := range n.Inputs {
			if _, fed := c.feedIdx[valueKey{in.Node, in.Index}]; fed {
				continue
			}
			if src, ok := c.g.Node(in.Node); ok && isBackEdge(n.Op, src.Op) {
				later = append(later, src)
				continue
			}
			deps = append(deps, in.Node)
		}
		for _, ci := range n.ControlInputs {
			// A control edge from a fed node is satisfied by the feed, as
			// in TensorFlow, where feeding replaces the node.
			if !c.fedNode[ci] {
				deps = append(deps, ci)
			}
		}
		for _, d := range deps {
			if _, ok := c.g.Node(d); !ok {
				return nil, c.nodeErr(n, fmt.Errorf("input %q: no such node in the graph", d))
			}
		}
		return deps, nil
	}
	visit := func(root *graph.Node) error {
		if color[root.Name] != white {
			return nil
		}
		deps, err := depsOf(root)
		if err != nil {
			return err
		}
		stack := []frame{{n: root, deps: deps}}
		color[root.Name] = grey
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next == len(top.deps) {
				color[top.n.Name] = black
				order = append(order, top.n)
				stack = stack[:len(stack)-1]
				continue
			}
			d, _ := c.g.Node(top.deps[top.next])
			top.next++
			switch color[d.Name] {
			case black:
				continue
			case grey:
				var path []string
				for i := range stack {
					path = append(path, stack[i].n.Name)
				}
				for i, p := range path {
					if p == d.Name {
						path = path[i:]
						break
					}
				}
				path = append(path, d.Name)
				return fmt.Errorf("sched: %w: %s (only a loop's edge from NextIteration into Merge may close a cycle)", ErrCycle, strings.Join(path, " -> "))
			}
			dd, err := depsOf(d)
			if err != nil {
				return err
			}
			color[d.Name] = grey
			stack = append(stack, frame{n: d, deps: dd})
		}
		return nil
	}
	for _, f := range fetches {
		k, err := parseName(f)
		if err != nil {
			return nil, err
		}
		n, ok := c.g.Node(k.node)
		if !ok {
			return nil, fmt.Errorf("sched: fetch %q: no node %q in the graph", f, k.node)
		}
		c.fetchK = append(c.fetchK, k)
		c.fetchN = append(c.fetchN, f)
		if _, fed := c.feedIdx[k]; fed {
			continue
		}
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	for len(later) > 0 {
		n := later[len(later)-1]
		later = later[:len(later)-1]
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// checkSupported reports every op type without a kernel, at once.
func (c *compiler) checkSupported(order []*graph.Node) error {
	first := map[string]string{}
	count := map[string]int{}
	for _, n := range order {
		if _, ok := c.reg.Lookup(n.Op); !ok {
			if _, seen := first[n.Op]; !seen {
				first[n.Op] = n.Name
			}
			count[n.Op]++
		}
	}
	if len(first) == 0 {
		return nil
	}
	return UnsupportedError(c.opt.Model, first, count)
}

// UnsupportedError formats the error for unsupported op types: first maps
// each op type to the first node using it, count to the number of nodes.
func UnsupportedError(model string, first map[string]string, count map[string]int) error {
	types := make([]string, 0, len(first))
	for t := range first {
		types = append(types, t)
	}
	sort.Strings(types)
	var b strings.Builder
	if model != "" {
		fmt.Fprintf(&b, "model %q: ", model)
	}
	fmt.Fprintf(&b, "%d unsupported op type", len(types))
	if len(types) != 1 {
		b.WriteByte('s')
	}
	b.WriteString(": ")
	for i, t := range types {
		if i == maxUnsupportedList {
			fmt.Fprintf(&b, ", and %d more", len(types)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%d node", t, count[t])
		if count[t] != 1 {
			b.WriteByte('s')
		}
		fmt.Fprintf(&b, ", e.g. %q)", first[t])
	}
	return &unsupportedErr{msg: b.String()}
}

type unsupportedErr struct{ msg string }

func (e *unsupportedErr) Error() string { return e.msg }
func (e *unsupportedErr) Unwrap() error { return ops.ErrUnsupportedOp }

func (c *compiler) newValue(k valueKey, v ops.Value) int32 {
	idx := int32(len(c.info))
	c.values[k] = idx
	c.info = append(c.info, v)
	c.consts = append(c.consts, v.Const)
	return idx
}

// build infers, folds and builds kernels in topological order.
func (c *compiler) build(order []*graph.Node) error {
	for k, i := range c.feedIdx {
		fd := c.feeds[i]
		c.newValue(k, ops.Value{DType: fd.DType, Shape: fd.Shape})
	}
	c.nodeOf = map[string]int32{}
	c.folded = map[string]bool{}
	c.tainted = map[string]bool{}
	for _, n := range order {
		spec, _ := c.reg.Lookup(n.Op)
		on := &ops.Node{Name: n.Name, Op: n.Op, Attrs: n.Attrs, Inputs: make([]ops.Value, len(n.Inputs))}
		in := make([]int32, len(n.Inputs))
		allConst := true
		// A control-flow op, and everything downstream of one, may run in
		// a loop frame or be dead: it is never folded.
		tainted := isControlFlow(n.Op)
		c.hasCtl = c.hasCtl || tainted
		for _, ci := range n.ControlInputs {
			tainted = tainted || c.tainted[ci]
		}
		for i, e := range n.Inputs {
			key := valueKey{e.Node, e.Index}
			vi, ok := c.values[key]
			if !ok {
				if src, found := c.g.Node(e.Node); found && isBackEdge(n.Op, src.Op) {
					// Built later: patched in c.patchBackEdges.
					c.backs = append(c.backs, backEdge{node: int32(len(c.nodes)), input: i, key: key})
					in[i] = -1
					on.Inputs[i] = ops.Value{Shape: tensor.UnknownShape()}
					allConst = false
					continue
				}
				return c.nodeErr(n, fmt.Errorf("input %d %q: node %q has no output %d", i, e, e.Node, e.Index))
			}
			in[i] = vi
			on.Inputs[i] = c.info[vi]
			if c.consts[vi] == nil {
				allConst = false
			}
			tainted = tainted || c.tainted[e.Node]
		}
		if tainted {
			c.tainted[n.Name] = true
		}
		outs, err := spec.Infer(on)
		if err != nil {
			return c.nodeErr(n, err)
		}
		if n.Op == "Placeholder" || n.Op == "PlaceholderV2" {
			return c.nodeErr(n, fmt.Errorf("placeholder must be fed (feed %q)", n.Name))
		}
		ctlFolded := true
		for _, ci := range n.ControlInputs {
			if !c.folded[ci] {
				ctlFolded = false
			}
		}
		if !spec.Stateful && ctlFolded && !tainted {
			folded, err := c.tryFold(n, spec, on, outs, allConst)
			if err != nil {
				return err
			}
			if folded != nil {
				for i, t := range folded {
					v := outs[i]
					v.Const = t
					v.DType = t.DType()
					v.Shape = tensor.Known(t.Shape())
					c.newValue(valueKey{n.Name, i}, v)
				}
				c.folded[n.Name] = true
				c.nfolded++
				continue
			}
		}
		impl, err := c.chooseImpl(n.Op)
		if err != nil {
			return c.nodeErr(n, err)
		}
		k, err := impl.Build(on)
		if err != nil {
			return c.nodeErr(n, err)
		}
		pn := pnode{name: n.Name, op: n.Op, kernel: k, in: in, impl: impl.Name}
		for _, e := range n.Inputs {
			pn.inNames = append(pn.inNames, e.String())
		}
		for i, v := range outs {
			v.Const = nil
			pn.out = append(pn.out, c.newValue(valueKey{n.Name, i}, v))
			pn.outTypes = append(pn.outTypes, v.DType.Base())
		}
		c.nodeOf[n.Name] = int32(len(c.nodes))
		c.nodes = append(c.nodes, pn)
		c.opNodes = append(c.opNodes, on)
		c.specs = append(c.specs, spec)
	}
	if err := c.patchBackEdges(); err != nil {
		return err
	}
	// Edges between plan nodes: distinct producers of data and control
	// inputs, leaving out loops' back edges.
	for i := range c.nodes {
		gn, _ := c.g.Node(c.nodes[i].name)
		preds := map[int32]bool{}
		for _, e := range gn.Inputs {
			if _, fed := c.feedIdx[valueKey{e.Node, e.Index}]; fed {
				continue
			}
			if p, ok := c.nodeOf[e.Node]; ok && !isBackEdge(gn.Op, c.nodes[p].op) {
				preds[p] = true
			}
		}
		for _, ci := range gn.ControlInputs {
			if p, ok := c.nodeOf[ci]; ok {
				preds[p] = true
			}
		}
		ps := make([]int32, 0, len(preds))
		for p := range preds {
			ps = append(ps, p)
		}
		sort.Slice(ps, func(a, b int) bool { return ps[a] < ps[b] })
		for _, p := range ps {
			c.nodes[p].succ = append(c.nodes[p].succ, int32(i))
		}
		c.nodes[i].npred = int32(len(ps))
	}
	return nil
}

func (c *compiler) chooseImpl(op string) (ops.Impl, error) {
	return ChooseImpl(c.reg, op, c.opt.Impl, c.opt.Prefer)
}

// tryFold evaluates n at compile time when its value does not depend on
// feeds. It returns nil when n is not folded.
func (c *compiler) tryFold(n *graph.Node, spec ops.Spec, on *ops.Node, outs []ops.Value, allConst bool) ([]*tensor.Tensor, error) {
	if len(outs) == 0 {
		return nil, nil
	}
	known := true
	for _, v := range outs {
		if v.Const == nil {
			known = false
		}
	}
	if known {
		res := make([]*tensor.Tensor, len(outs))
		for i, v := range outs {
			res[i] = v.Const
		}
		return res, nil
	}
	if !allConst || len(n.Inputs) == 0 || c.budget <= 0 {
		return nil, nil
	}
	for _, v := range outs {
		if s, ok := v.Shape.Shape(); ok {
			if ne, err := s.NumElements(); err != nil || ne > maxFoldElements {
				return nil, nil
			}
		}
	}
	impl, err := c.chooseImpl(n.Op)
	if err != nil {
		return nil, c.nodeErr(n, err)
	}
	k, err := impl.Build(on)
	if err != nil {
		return nil, c.nodeErr(n, err)
	}
	in := make([]*tensor.Tensor, len(on.Inputs))
	for i, v := range on.Inputs {
		in[i] = v.Const
	}
	res, err := safeRun(k, &ops.Ctx{MaxElements: maxFoldElements}, in)
	if err != nil {
		if errors.Is(err, ops.ErrLimit) {
			return nil, nil // too big to fold: evaluate at run time
		}
		return nil, c.nodeErr(n, err)
	}
	if len(res) != len(outs) {
		return nil, c.nodeErr(n, fmt.Errorf("kernel returned %d outputs, expected %d", len(res), len(outs)))
	}
	var bytes int64
	for _, t := range res {
		bytes += t.Bytes()
	}
	if bytes > c.budget {
		return nil, nil
	}
	c.budget -= bytes
	for i, t := range res {
		if t.Pooled() {
			res[i] = t.Detach()
		}
	}
	return res, nil
}

func (c *compiler) finish() (*Plan, error) {
	p := &Plan{
		graph:      c.g,
		copt:       c.opt,
		model:      c.opt.Model,
		nodes:      c.nodes,
		nvalues:    len(c.info),
		consts:     c.consts,
		feeds:      c.feeds,
		fetchNames: c.fetchN,
		uses:       make([]int32, len(c.info)),
		pinned:     make([]bool, len(c.info)),
		pool:       c.opt.Pool,
		maxElems:   c.opt.MaxElements,
		folded:     c.nfolded,
	}
	p.maxRunBytes = runBytesLimit(c.opt.MaxRunBytes)
	if p.pool == nil {
		p.pool = pool.New()
	}
	for _, sp := range c.specs {
		if sp.Stateful {
			p.stateful = true
		}
	}
	p.feedVals = make([]int32, len(c.feeds))
	for k, i := range c.feedIdx {
		v := c.values[k]
		p.feedVals[i] = v
		p.pinned[v] = true
	}
	for i, k := range c.fetchK {
		v, ok := c.values[k]
		if !ok {
			return nil, fmt.Errorf("sched: fetch %q: node %q has no output %d", c.fetchN[i], k.node, k.index)
		}
		p.fetches = append(p.fetches, v)
		p.fetchInfo = append(p.fetchInfo, c.info[v])
		p.pinned[v] = true
	}
	for v, t := range c.consts {
		if t != nil {
			p.pinned[v] = true
		}
	}
	p.unusedOut = make([][]int32, len(c.nodes))
	for i, n := range c.nodes {
		for _, v := range n.in {
			p.uses[v]++
		}
		if n.npred == 0 {
			p.sources = append(p.sources, int32(i))
		}
	}
	for i, n := range c.nodes {
		for _, v := range n.out {
			if p.uses[v] == 0 && !p.pinned[v] {
				p.unusedOut[i] = append(p.unusedOut[i], v)
			}
		}
	}
	if c.hasCtl {
		// Loops and conditionals run on the dynamic executor, unsliced.
		if err := c.buildDynamic(p); err != nil {
			return nil, err
		}
	} else {
		p.sliceable = c.batchAnalysis(p)
	}
	p.width = levelWidth(p.nodes)
	return p, nil
}

// patchBackEdges sets the Merge inputs that come from NextIteration nodes,
// which are built after the Merge.
func (c *compiler) patchBackEdges() error {
	for _, b := range c.backs {
		vi, ok := c.values[b.key]
		if !ok {
			n := &c.nodes[b.node]
			return &NodeError{Model: c.opt.Model, Node: n.name, Op: n.op,
				Err: fmt.Errorf("input %d: node %q has no output %d", b.input, b.key.node, b.key.index)}
		}
		c.nodes[b.node].in[b.input] = vi
	}
	return nil
}

// batchAnalysis decides whether the plan may run in row slices: every feed
// whose declared shape has an unknown leading dimension carries the batch
// on axis 0; the batch must reach every fetch, and every op it passes
// through must declare (ops.Spec.Batch) that it keeps rows independent.
func (c *compiler) batchAnalysis(p *Plan) bool {
	batched := make([]bool, len(c.info))
	anyFeed := false
	for i, fd := range c.feeds {
		if !fd.Shape.UnknownRank && len(fd.Shape.Dims) > 0 && fd.Shape.Dims[0] < 0 {
			batched[p.feedVals[i]] = true
			p.feeds[i].Batched = true
			anyFeed = true
		}
	}
	if !anyFeed {
		return false
	}
	for i, n := range c.nodes {
		inb := make([]bool, len(n.in))
		hit := false
		for j, v := range n.in {
			inb[j] = batched[v]
			hit = hit || inb[j]
		}
		if !hit {
			continue
		}
		rule := c.specs[i].Batch
		if rule == nil {
			return false
		}
		out, ok := rule(c.opNodes[i], inb)
		if !ok || len(out) != len(n.out) {
			return false
		}
		for j, v := range n.out {
			batched[v] = out[j]
		}
	}
	for _, v := range p.fetches {
		if !batched[v] {
			return false
		}
	}
	return true
}

// levelWidth returns the largest number of nodes that share a topological
// level (longest path from a source): an upper bound on how many nodes can
// ever run at once. A chain has width 1 and gains nothing from running
// nodes concurrently.
func levelWidth(nodes []pnode) int {
	level := make([]int, len(nodes))
	count := map[int]int{}
	width := 0
	for i := range nodes { // nodes are in topological order
		count[level[i]]++
		width = max(width, count[level[i]])
		for _, s := range nodes[i].succ {
			level[s] = max(level[s], level[i]+1)
		}
	}
	return width
}
