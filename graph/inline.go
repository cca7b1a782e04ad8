package graph

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tfdgo/tfd/tensor"
)

// smMaxCallDepth bounds the nesting of inlined function calls.
const smMaxCallDepth = 64

// smInlineWorkPerNode is how many input edges and bound attrs inlining may
// create per node the limits allow (Limits.MaxNodes), and
// smMinInlineWork the least it may create. The node limit alone does not
// bound the work: a hostile file can call a function whose few nodes
// carry thousands of attrs to bind, or whose inputs name an output list
// a million tensors long, from thousands of call sites.
const (
	smInlineWorkPerNode = 16
	smMinInlineWork     = 1 << 16
)

// InlineFunctions returns a copy of g in which every call of a library
// function is replaced by the function's body: PartitionedCall and
// StatefulPartitionedCall nodes (attr f), nodes whose op type is the name
// of a library function, and TF-TRT's TRTEngineOp nodes, whose native
// segment function (attr segment_func) computes the same outputs. Calls inside inlined bodies are inlined in
// turn; recursion, or nesting deeper than 64 calls, is an error.
//
// Each body node becomes "<call>/<node>" (with a numeric suffix if that
// name is taken). The call node itself becomes an IdentityN node of the
// same name whose inputs are the function's return values, so tensor
// names "<call>:k" keep their meaning; a call of a function without
// outputs becomes a NoOp. Control inputs of the call gate the body;
// control inputs on the call ("^<call>") also wait for the function's
// control outputs. Attr placeholders in the body are bound from the attrs
// of the call (the f attr's, or the node's for a direct call) and then
// from the function's own attrs. Functions that are still referenced (by
// While or If nodes, say) stay in the library; the others are dropped.
// g is not modified.
func InlineFunctions(g *Graph) (*Graph, error) {
	out, err := smInline(g, smOpTable{}, Limits{}.WithDefaults())
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	return out, nil
}

// smInliner carries the state of one InlineFunctions run.
type smInliner struct {
	lib    map[string]*Function
	ops    smOpTable
	maxN   int
	names  map[string]bool   // node names in use
	byName map[string]*Node  // every node created or copied so far
	out    []*Node           // nodes of the result, in order
	ctlMap map[string]string // call name → node that "^call" must now name
	// fnAttrs caches, per function, the attrs of its own that its args
	// and body refer to: the defaults a call's bindings start from.
	fnAttrs map[*Function]tensor.Attrs
	// work counts down the input edges and bound attrs inlining may still
	// create; maxWork is where it started.
	work, maxWork int
}

func smInline(g *Graph, ops smOpTable, lim Limits) (*Graph, error) {
	in := &smInliner{
		lib:    make(map[string]*Function, len(g.Library)),
		ops:    ops,
		maxN:   lim.MaxNodes,
		names:  make(map[string]bool, len(g.Nodes)),
		byName: make(map[string]*Node, len(g.Nodes)),
		ctlMap: map[string]string{},

		fnAttrs: map[*Function]tensor.Attrs{},
	}
	in.maxWork = smMinInlineWork
	if lim.MaxNodes <= (math.MaxInt-smMinInlineWork)/smInlineWorkPerNode {
		in.maxWork = max(in.maxWork, smInlineWorkPerNode*lim.MaxNodes)
	} else {
		in.maxWork = math.MaxInt
	}
	in.work = in.maxWork
	for _, f := range g.Library {
		in.lib[f.Name] = f
	}
	for _, n := range g.Nodes {
		in.names[n.Name] = true
	}
	copies := make([]*Node, len(g.Nodes))
	for i, n := range g.Nodes {
		copies[i] = smCopyNode(n)
		in.byName[n.Name] = copies[i]
	}
	for _, n := range copies {
		if err := in.expand(n, nil); err != nil {
			return nil, err
		}
	}
	for _, n := range in.out {
		for i, c := range n.ControlInputs {
			if r, ok := in.ctlMap[c]; ok && r != n.Name {
				n.ControlInputs[i] = r
			}
		}
		n.ControlInputs = smDedupe(n.ControlInputs)
	}
	res, err := New(in.out)
	if err != nil {
		return nil, err
	}
	res.Versions, res.Source, res.Format = g.Versions, g.Source, g.Format
	res.Library = smUsedFunctions(res.Nodes, g.Library)
	return res, nil
}

// smCopyNode copies a node's name, op and edges; attrs are shared, since
// nothing here modifies them in place.
func smCopyNode(n *Node) *Node {
	c := *n
	c.Inputs = append([]Input(nil), n.Inputs...)
	c.ControlInputs = append([]string(nil), n.ControlInputs...)
	return &c
}

// smCallee returns the library function a node calls and the attrs that
// bind its placeholders, or nil when the node is not a call.
func (in *smInliner) smCallee(n *Node) (*Function, tensor.Attrs, error) {
	switch n.Op {
	case "PartitionedCall", "StatefulPartitionedCall":
		v, ok := n.Attrs["f"]
		if !ok {
			return nil, nil, fmt.Errorf("node %q (%s) has no attr f", n.Name, n.Op)
		}
		f, isF := v.(tensor.Func)
		if !isF {
			return nil, nil, fmt.Errorf("node %q (%s): attr f is %T, expected a function", n.Name, n.Op, v)
		}
		fn, ok := in.lib[f.Name]
		if !ok {
			return nil, nil, fmt.Errorf("node %q (%s) calls function %q, which is not in the library", n.Name, n.Op, f.Name)
		}
		return fn, f.Attrs, nil
	case "TRTEngineOp":
		// TF-TRT keeps the native TensorFlow segment as a function.
		var f tensor.Func
		switch v := n.Attrs["segment_func"].(type) {
		case tensor.Func:
			f = v
		default:
			name, _, _ := n.Attrs.String("segment_funcdef_name")
			f.Name = name
		}
		if fn, ok := in.lib[f.Name]; ok && f.Name != "" {
			return fn, f.Attrs, nil
		}
		return nil, nil, nil
	}
	if fn, ok := in.lib[n.Op]; ok {
		return fn, n.Attrs, nil
	}
	return nil, nil, nil
}

// expand appends n to the output, inlining it first when it is a call.
// chain lists the functions being inlined around n, outermost first.
func (in *smInliner) expand(n *Node, chain []string) error {
	fn, callAttrs, err := in.smCallee(n)
	if err != nil {
		return err
	}
	if fn == nil {
		if len(in.out) >= in.maxN {
			return limitErr("inlining functions gives more than %d nodes", in.maxN)
		}
		in.out = append(in.out, n)
		return nil
	}
	for _, c := range chain {
		if c == fn.Name {
			return fmt.Errorf("node %q: function %q calls itself (through %s)", n.Name, fn.Name, strings.Join(append(chain, fn.Name), " → "))
		}
	}
	if len(chain) >= smMaxCallDepth {
		return fmt.Errorf("node %q: function calls nested more than %d deep (%s)", n.Name, smMaxCallDepth, strings.Join(chain, " → "))
	}
	body, err := in.instantiate(n, fn, callAttrs)
	if err != nil {
		return fmt.Errorf("inlining node %q (function %q): %w", n.Name, fn.Name, err)
	}
	inner := append(append([]string(nil), chain...), fn.Name)
	for _, b := range body {
		if err := in.expand(b, inner); err != nil {
			return err
		}
	}
	return nil
}

// charge takes n units of work from the budget.
func (in *smInliner) charge(n int) error {
	if n > in.work {
		return limitErr("inlining functions creates more than %d input edges and bound attrs (%d per node of the node limit)", in.maxWork, smInlineWorkPerNode)
	}
	in.work -= n
	return nil
}

// ownAttrs returns the attrs of fn that its args or body refer to by
// name; the others cannot affect an instantiation, and copying them for
// every call would make the work grow with calls times attrs.
func (in *smInliner) ownAttrs(fn *Function) tensor.Attrs {
	if a, ok := in.fnAttrs[fn]; ok {
		return a
	}
	out := tensor.Attrs{}
	note := func(name string) {
		if v, ok := fn.Attrs[name]; ok && name != "" {
			out[name] = v
		}
	}
	for _, args := range [][]Arg{fn.InputArgs, fn.OutputArgs} {
		for _, a := range args {
			note(a.TypeAttr)
			note(a.NumberAttr)
			note(a.TypeListAttr)
		}
	}
	if len(fn.Attrs) > 0 {
		for _, b := range fn.Nodes {
			smPlaceholderRefs(b.Attrs, note)
		}
	}
	in.fnAttrs[fn] = out
	return out
}

// smPlaceholderRefs calls note with the name of every placeholder in
// attrs, looking inside function attrs.
func smPlaceholderRefs(attrs tensor.Attrs, note func(string)) {
	for _, v := range attrs {
		switch x := v.(type) {
		case tensor.Placeholder:
			note(string(x))
		case tensor.Func:
			smPlaceholderRefs(x.Attrs, note)
		case []tensor.Func:
			for _, f := range x {
				smPlaceholderRefs(f.Attrs, note)
			}
		}
	}
}

// unique returns base, or base with the smallest suffix "_k" that makes
// it unused, and reserves it.
func (in *smInliner) unique(base string) string {
	name := base
	for k := 1; in.names[name]; k++ {
		name = base + "_" + strconv.Itoa(k)
	}
	in.names[name] = true
	return name
}

// instantiate returns the nodes that replace call node c: the body of fn
// with renamed nodes, resolved inputs and bound attrs, and the node that
// takes c's name.
func (in *smInliner) instantiate(c *Node, fn *Function, callAttrs tensor.Attrs) ([]*Node, error) {
	own := in.ownAttrs(fn)
	if err := in.charge(len(own) + len(callAttrs)); err != nil {
		return nil, err
	}
	bind := make(tensor.Attrs, len(own)+len(callAttrs))
	for k, v := range own {
		bind[k] = v
	}
	for k, v := range callAttrs {
		bind[k] = v
	}

	// Bind the args to the call's inputs, in order.
	args := make(map[string][]Input, len(fn.InputArgs))
	pos := 0
	for _, a := range fn.InputArgs {
		k, err := smArgCount(a, bind)
		if err != nil {
			return nil, fmt.Errorf("input arg %q: %w", a.Name, err)
		}
		if pos+k > len(c.Inputs) {
			return nil, fmt.Errorf("the function takes more inputs than the call's %d", len(c.Inputs))
		}
		args[a.Name] = c.Inputs[pos : pos+k]
		pos += k
	}
	if pos != len(c.Inputs) {
		return nil, fmt.Errorf("the function takes %d inputs, the call passes %d", pos, len(c.Inputs))
	}

	// Rename the body nodes and bind their attrs.
	rename := make(map[string]string, len(fn.Nodes))
	byName := make(map[string]*Node, len(fn.Nodes))
	for _, b := range fn.Nodes {
		rename[b.Name] = in.unique(c.Name + "/" + b.Name)
		byName[b.Name] = b
	}
	body := make([]*Node, 0, len(fn.Nodes)+2)
	newNodes := make(map[string]*Node, len(fn.Nodes))
	for _, b := range fn.Nodes {
		attrs, err := smBindAttrs(b.Attrs, bind, in.charge)
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", b.Name, err)
		}
		nn := &Node{Name: rename[b.Name], Op: b.Op, Attrs: attrs}
		newNodes[b.Name] = nn
		in.byName[nn.Name] = nn
		body = append(body, nn)
	}
	r := &smRefResolver{in: in, fn: fn, args: args, rename: rename, body: byName, nodes: newNodes}
	for _, b := range fn.Nodes {
		nn := newNodes[b.Name]
		for _, raw := range fn.RawInputs[b.Name] {
			if name, ok := strings.CutPrefix(raw, "^"); ok {
				ctl, err := r.control(name)
				if err != nil {
					return nil, fmt.Errorf("node %q: control input %q: %w", b.Name, raw, err)
				}
				if err := in.charge(len(ctl)); err != nil {
					return nil, err
				}
				nn.ControlInputs = append(nn.ControlInputs, ctl...)
				continue
			}
			ins, err := r.data(raw)
			if err != nil {
				return nil, fmt.Errorf("node %q: input %q: %w", b.Name, raw, err)
			}
			if err := in.charge(len(ins)); err != nil {
				return nil, err
			}
			nn.Inputs = append(nn.Inputs, ins...)
		}
		if _, hasRaw := fn.RawInputs[b.Name]; !hasRaw {
			// Decoded control inputs are kept when RawInputs lacks the node.
			for _, ctl := range b.ControlInputs {
				more, err := r.control(ctl)
				if err != nil {
					return nil, fmt.Errorf("node %q: control input %q: %w", b.Name, ctl, err)
				}
				if err := in.charge(len(more)); err != nil {
					return nil, err
				}
				nn.ControlInputs = append(nn.ControlInputs, more...)
			}
		}
	}

	// The call's control inputs gate every body node that depends on no
	// other body node.
	if len(c.ControlInputs) > 0 {
		gate := &Node{Name: in.unique(c.Name + "/input_control_node"), Op: "NoOp", ControlInputs: c.ControlInputs}
		inBody := make(map[string]bool, len(body))
		for _, nn := range body {
			inBody[nn.Name] = true
		}
		for _, nn := range body {
			internal := false
			for _, x := range nn.Inputs {
				internal = internal || inBody[x.Node]
			}
			for _, x := range nn.ControlInputs {
				internal = internal || inBody[x]
			}
			if !internal {
				nn.ControlInputs = append(nn.ControlInputs, gate.Name)
			}
		}
		body = append([]*Node{gate}, body...)
	}

	// Outputs.
	var rets []Input
	var types []tensor.DType
	for _, a := range fn.OutputArgs {
		ref, ok := fn.Ret[a.Name]
		if !ok {
			return nil, fmt.Errorf("output arg %q has no ret entry", a.Name)
		}
		ins, err := r.data(ref)
		if err != nil {
			return nil, fmt.Errorf("output arg %q = %q: %w", a.Name, ref, err)
		}
		if err := in.charge(len(ins)); err != nil {
			return nil, err
		}
		ts, err := smArgTypes(a, bind, len(ins))
		if err != nil {
			return nil, fmt.Errorf("output arg %q: %w", a.Name, err)
		}
		rets = append(rets, ins...)
		types = append(types, ts...)
	}
	for _, attr := range []string{"Tout", "OutT"} {
		if tout, ok, err := c.Attrs.Types(attr); err == nil && ok && len(tout) == len(rets) {
			types = tout
		}
	}
	var controlRet []string
	for _, k := range sortedAttrKeys(fn.ControlRet) {
		target := fn.ControlRet[k]
		name, ok := rename[target]
		if !ok {
			return nil, fmt.Errorf("control output %q names %q, which is not a node of the body", k, target)
		}
		controlRet = append(controlRet, name)
	}
	in.names[c.Name] = true
	if len(rets) == 0 {
		body = append(body, &Node{Name: c.Name, Op: "NoOp", Device: c.Device, ControlInputs: controlRet})
		return body, nil
	}
	for _, t := range types {
		if t == tensor.Invalid {
			return nil, fmt.Errorf("cannot tell the type of every output (%v)", types)
		}
	}
	body = append(body, &Node{
		Name:   c.Name,
		Op:     "IdentityN",
		Device: c.Device,
		Inputs: rets,
		Attrs:  tensor.Attrs{"T": types},
	})
	if len(controlRet) > 0 {
		done := &Node{Name: in.unique(c.Name + "/output_control_node"), Op: "NoOp", ControlInputs: append([]string{c.Name}, controlRet...)}
		in.ctlMap[c.Name] = done.Name
		body = append(body, done)
	}
	return body, nil
}

// smRefResolver resolves the input strings of one function body.
type smRefResolver struct {
	in     *smInliner
	fn     *Function
	args   map[string][]Input
	rename map[string]string
	body   map[string]*Node // body nodes by their name in the function
	nodes  map[string]*Node // the renamed copies, by name in the function
}

// control resolves "^name": a body node, or an arg (whose producers must
// then run first). Waiting for a placeholder orders nothing, so such
// edges are dropped; they would also stop the placeholder being fed.
func (r *smRefResolver) control(name string) ([]string, error) {
	if nn, ok := r.rename[name]; ok {
		return []string{nn}, nil
	}
	if ins, ok := r.args[name]; ok {
		out := make([]string, 0, len(ins))
		for _, x := range ins {
			if p, ok := r.in.byName[x.Node]; ok && smIsPlaceholder(p.Op) {
				continue
			}
			out = append(out, x.Node)
		}
		return out, nil
	}
	return nil, fmt.Errorf("no node or arg %q in the function", name)
}

// data resolves a data reference: "arg", "arg:i", "node:out", "node:out:i"
// (and, leniently, "node" and "node:k" for output k).
func (r *smRefResolver) data(ref string) ([]Input, error) {
	parts := strings.Split(ref, ":")
	if len(parts) > 3 || parts[0] == "" {
		return nil, fmt.Errorf("malformed reference (expected arg, arg:i, node:out or node:out:i)")
	}
	if ins, ok := r.args[parts[0]]; ok {
		switch len(parts) {
		case 1:
			return ins, nil
		case 2:
			i, err := strconv.Atoi(parts[1])
			if err != nil || i < 0 || i >= len(ins) {
				return nil, fmt.Errorf("arg %q holds %d tensors, index %q is out of range", parts[0], len(ins), parts[1])
			}
			return ins[i : i+1], nil
		}
		return nil, fmt.Errorf("arg %q takes at most one index", parts[0])
	}
	b, ok := r.body[parts[0]]
	if !ok {
		return nil, fmt.Errorf("no node or arg %q in the function", parts[0])
	}
	node := r.rename[parts[0]]
	if len(parts) == 1 {
		return []Input{{Node: node}}, nil
	}
	if k, err := strconv.Atoi(parts[1]); err == nil && len(parts) == 2 {
		if k < 0 {
			return nil, fmt.Errorf("negative output index")
		}
		return []Input{{Node: node, Index: k}}, nil
	}
	offset, count, err := r.outputRange(b, parts[1])
	if err != nil {
		return nil, err
	}
	if len(parts) == 2 {
		// Charged here as well as by the caller, since the list is
		// allocated before the caller sees it.
		if err := r.in.charge(count); err != nil {
			return nil, err
		}
		out := make([]Input, count)
		for i := range out {
			out[i] = Input{Node: node, Index: offset + i}
		}
		return out, nil
	}
	i, err := strconv.Atoi(parts[2])
	if err != nil || i < 0 || i >= count {
		return nil, fmt.Errorf("output %q of node %q (%s) holds %d tensors, index %q is out of range", parts[1], b.Name, b.Op, count, parts[2])
	}
	return []Input{{Node: node, Index: offset + i}}, nil
}

// outputRange returns the flat index of the first tensor of output arg
// out of body node b, and how many tensors it holds.
func (r *smRefResolver) outputRange(b *Node, out string) (offset, count int, err error) {
	attrs := r.nodes[b.Name].Attrs // bound attrs
	var outs []smOutArg
	if f, ok := r.in.lib[b.Op]; ok {
		for _, a := range f.OutputArgs {
			outs = append(outs, smOutArg{name: a.Name, number: a.NumberAttr, typeList: a.TypeListAttr})
		}
	} else {
		info, known := r.in.ops.lookup(b.Op)
		if !known {
			return 0, 0, fmt.Errorf("op %s of node %q is unknown to tfd, so its output %q cannot be located (function %q)", b.Op, b.Name, out, r.fn.Name)
		}
		outs = info.outs
	}
	counts, err := smOutputCounts(outs, attrs)
	if err != nil {
		return 0, 0, fmt.Errorf("node %q (%s): %w", b.Name, b.Op, err)
	}
	for i, a := range outs {
		if a.name == out {
			return offset, counts[i], nil
		}
		offset += counts[i]
	}
	names := make([]string, len(outs))
	for i, a := range outs {
		names[i] = a.name
	}
	return 0, 0, fmt.Errorf("op %s of node %q has no output %q (outputs: %v)", b.Op, b.Name, out, names)
}

// smArgCount returns how many tensors an input or output arg holds.
func smArgCount(a Arg, bind tensor.Attrs) (int, error) {
	counts, err := smOutputCounts([]smOutArg{{name: a.Name, number: a.NumberAttr, typeList: a.TypeListAttr}}, bind)
	if err != nil {
		return 0, err
	}
	return counts[0], nil
}

// smArgTypes returns the dtypes of the n tensors of an arg, Invalid where
// the bindings do not tell.
func smArgTypes(a Arg, bind tensor.Attrs, n int) ([]tensor.DType, error) {
	out := make([]tensor.DType, n)
	switch {
	case a.TypeListAttr != "":
		ts, _, err := bind.Types(a.TypeListAttr)
		if err != nil {
			return nil, err
		}
		copy(out, ts)
	default:
		t := a.Type
		if a.TypeAttr != "" {
			if bt, ok, err := bind.Type(a.TypeAttr); err == nil && ok {
				t = bt
			}
		}
		for i := range out {
			out[i] = t
		}
	}
	return out, nil
}

// smBindAttrs returns attrs with every placeholder replaced by its
// binding, recursing into function attrs. Every attrs map it copies is
// charged, by its length, to charge.
func smBindAttrs(attrs tensor.Attrs, bind tensor.Attrs, charge func(int) error) (tensor.Attrs, error) {
	if !smHasPlaceholder(attrs) {
		return attrs, nil
	}
	if err := charge(len(attrs)); err != nil {
		return nil, err
	}
	out := make(tensor.Attrs, len(attrs))
	for k, v := range attrs {
		b, err := smBindValue(v, bind, charge)
		if err != nil {
			return nil, fmt.Errorf("attr %q: %w", k, err)
		}
		out[k] = b
	}
	return out, nil
}

func smHasPlaceholder(attrs tensor.Attrs) bool {
	for _, v := range attrs {
		switch x := v.(type) {
		case tensor.Placeholder:
			return true
		case tensor.Func:
			if smHasPlaceholder(x.Attrs) {
				return true
			}
		case []tensor.Func:
			for _, f := range x {
				if smHasPlaceholder(f.Attrs) {
					return true
				}
			}
		}
	}
	return false
}

func smBindValue(v any, bind tensor.Attrs, charge func(int) error) (any, error) {
	switch x := v.(type) {
	case tensor.Placeholder:
		b, ok := bind[string(x)]
		if !ok {
			return nil, fmt.Errorf("placeholder %q is not bound by the call", string(x))
		}
		if _, still := b.(tensor.Placeholder); still {
			return nil, fmt.Errorf("placeholder %q is bound to another placeholder %q", string(x), b)
		}
		return b, nil
	case tensor.Func:
		attrs, err := smBindAttrs(x.Attrs, bind, charge)
		if err != nil {
			return nil, fmt.Errorf("func %q: %w", x.Name, err)
		}
		return tensor.Func{Name: x.Name, Attrs: attrs}, nil
	case []tensor.Func:
		out := make([]tensor.Func, len(x))
		for i, f := range x {
			attrs, err := smBindAttrs(f.Attrs, bind, charge)
			if err != nil {
				return nil, fmt.Errorf("func %q: %w", f.Name, err)
			}
			out[i] = tensor.Func{Name: f.Name, Attrs: attrs}
		}
		return out, nil
	}
	return v, nil
}

// smDedupe removes repeated names, keeping the first.
func smDedupe(s []string) []string {
	if len(s) < 2 {
		return s
	}
	seen := make(map[string]bool, len(s))
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// smUsedFunctions returns the functions of lib that nodes reference
// (through func attrs or as op types), directly or through other
// functions, in library order.
func smUsedFunctions(nodes []*Node, lib []*Function) []*Function {
	if len(lib) == 0 {
		return nil
	}
	byName := make(map[string]*Function, len(lib))
	for _, f := range lib {
		byName[f.Name] = f
	}
	used := map[string]bool{}
	var queue []string
	note := func(name string) {
		if _, ok := byName[name]; ok && !used[name] {
			used[name] = true
			queue = append(queue, name)
		}
	}
	visit := func(ns []*Node) {
		for _, n := range ns {
			note(n.Op)
			for _, v := range n.Attrs {
				smFuncRefs(v, note)
			}
		}
	}
	visit(nodes)
	for len(queue) > 0 {
		f := byName[queue[0]]
		queue = queue[1:]
		visit(f.Nodes)
		for _, v := range f.Attrs {
			smFuncRefs(v, note)
		}
	}
	var out []*Function
	for _, f := range lib {
		if used[f.Name] {
			out = append(out, f)
		}
	}
	return out
}

func smFuncRefs(v any, note func(string)) {
	switch x := v.(type) {
	case tensor.Func:
		note(x.Name)
		for _, a := range x.Attrs {
			smFuncRefs(a, note)
		}
	case []tensor.Func:
		for _, f := range x {
			smFuncRefs(f, note)
		}
	}
}
