package sched

import (
	"math"
	"reflect"
	"sort"

	"github.com/tfdgo/tfd/ops"
	"github.com/tfdgo/tfd/tensor"
)

// Graph-level fusion. After the plan's nodes are built (pruned, constants
// folded, kernels bound) and before the plan is finished, Compile replaces
// chains of nodes by one fused node each:
//
//   - a product with its epilogue: MatMul, Conv2D or DepthwiseConv2dNative,
//     then BiasAdd (or Add of a constant vector over the last axis), then
//     one activation (Relu, Relu6, Elu, LeakyRelu, Sigmoid, Tanh), becomes
//     _FusedMatMul, _FusedConv2D or FusedDepthwiseConv2dNative with the
//     matching fused_ops. A convolution's FusedBatchNorm in inference mode
//     with constant parameters is folded into a new constant filter and
//     bias (which rounds differently from the unfused ops; every other
//     fusion gives the same bits). A fused product that only adds a bias
//     (as TF.js writes them) takes in a following residual Add of the same
//     fully known shape and an activation;
//   - a chain of element-wise ops (unary math, and binary ops whose other
//     operand is a scalar, a vector over the trailing axes or a tensor of
//     the value's shape, on either side: Mul→Add→Relu, Sub→Square,
//     Sigmoid→Mul(x, ·)) becomes one _TfdFusedElementwise node that
//     evaluates the chain in one pass. Where static shapes leave it open
//     whether an operand would broadcast the value to a larger shape, the
//     fused kernel checks at run time and runs the ops one by one if so.
//
// A node joins a chain only if its output goes to the next node of the
// chain alone: no other consumer, not fetched, no control edge from it, no
// other output in use. A chain is fused only when every node in it runs
// the implementation ops.Default() would choose (a user's kernel or a
// chosen alternative is never replaced) and the fused op's Build accepts
// the result. The fused node produces the chain's output value; it takes
// the name of the product for a product chain and of the last node for an
// element-wise chain, and lists the names of all the nodes it replaced in
// NodeInfo.Fused. Plans with control flow and Options.NoFusion are left
// alone.

// fuser is the state of the fusion pass over the built plan.
type fuser struct {
	c       *compiler
	readers [][]int32 // per value: the plan nodes reading it, once per input slot
	fetched []bool    // per value
	ctlSucc []bool    // per node: some node has a control edge from it
	group   []int32   // per node: index of the fused group holding it, or -1
	groups  []fuseGroup
	nvalues int // values before the pass
	// constNames names the constants the pass adds (values from nvalues on).
	constNames []string
}

// fuseGroup is one fused node and the plan nodes it replaces.
type fuseGroup struct {
	members []int32 // in chain order; the last produces the output
	node    pnode
	on      *ops.Node
	spec    ops.Spec
}

// fuse runs the fusion pass (see above) on the built plan.
func (c *compiler) fuse() {
	if c.opt.NoFusion || c.hasCtl || len(c.nodes) < 2 {
		return
	}
	f := &fuser{
		c:       c,
		readers: make([][]int32, len(c.info)),
		fetched: make([]bool, len(c.info)),
		ctlSucc: make([]bool, len(c.nodes)),
		group:   make([]int32, len(c.nodes)),
	}
	f.nvalues = len(c.info)
	for i := range c.nodes {
		f.group[i] = -1
		for _, v := range c.nodes[i].in {
			if v >= 0 {
				f.readers[v] = append(f.readers[v], int32(i))
			}
		}
		if gn, ok := c.g.Node(c.nodes[i].name); ok {
			for _, ci := range gn.ControlInputs {
				if p, ok := c.nodeOf[ci]; ok {
					f.ctlSucc[p] = true
				}
			}
		}
	}
	for _, k := range c.fetchK {
		if v, ok := c.values[k]; ok {
			f.fetched[v] = true
		}
	}
	for i := range c.nodes {
		switch c.nodes[i].op {
		case "MatMul", "Conv2D", "DepthwiseConv2dNative":
			f.product(int32(i))
		case "_FusedMatMul", "_FusedConv2D", "FusedDepthwiseConv2dNative":
			f.extend(int32(i))
		}
	}
	for i := range c.nodes {
		f.elementwise(int32(i))
	}
	if len(f.groups) > 0 {
		f.apply()
	}
}

// defaultImpl tells whether the plan's registry runs op with the
// implementation ops.Default() would choose, the one fused kernels use.
func (c *compiler) defaultImpl(op, impl string) bool {
	d, err := ops.Default().Choose(op)
	if err != nil || d.Name != impl {
		return false
	}
	if c.reg == ops.Default() {
		return true
	}
	for _, im := range c.reg.Impls(op) {
		if im.Name == impl {
			return reflect.ValueOf(im.Build).Pointer() == reflect.ValueOf(d.Build).Pointer()
		}
	}
	return false
}

// next returns the node that alone reads node p's only live output, and
// the input slot it reads it in, when that edge may be fused away.
func (f *fuser) next(p int32) (q int32, slot int, ok bool) {
	c := f.c
	if f.ctlSucc[p] {
		return 0, 0, false
	}
	n := &c.nodes[p]
	for k, v := range n.out {
		if k > 0 && (len(f.readers[v]) > 0 || f.fetched[v]) {
			return 0, 0, false
		}
	}
	v := n.out[0]
	if f.fetched[v] || len(f.readers[v]) != 1 {
		return 0, 0, false
	}
	q = f.readers[v][0]
	if f.group[q] >= 0 || !c.defaultImpl(c.nodes[q].op, c.nodes[q].impl) {
		return 0, 0, false
	}
	for j, w := range c.nodes[q].in {
		if w == v {
			return q, j, true
		}
	}
	return 0, 0, false
}

// fuseActs maps activation ops to their fused_ops names.
var fuseActs = map[string]bool{"Relu": true, "Relu6": true, "Elu": true, "LeakyRelu": true, "Sigmoid": true, "Tanh": true}

// fusedProductOp names the fused op of each product.
var fusedProductOp = map[string]string{
	"MatMul":                "_FusedMatMul",
	"Conv2D":                "_FusedConv2D",
	"DepthwiseConv2dNative": "FusedDepthwiseConv2dNative",
}

// product fuses the product node i with the BiasAdd, FusedBatchNorm and
// activation that follow it.
func (f *fuser) product(i int32) {
	c := f.c
	n := &c.nodes[i]
	on := c.opNodes[i]
	if f.group[i] >= 0 || !c.defaultImpl(n.op, n.impl) || len(n.in) != 2 {
		return
	}
	dt := c.info[n.out[0]].DType.Base()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return
	}
	if n.op != "MatMul" {
		if df, err := ops.AttrString(on, "data_format", "NHWC"); err != nil || df != "NHWC" {
			return
		}
	}
	members := []int32{i}
	args := []int32{n.in[0], n.in[1]}
	var fusedOps []string
	attrs := tensor.Attrs{}
	for k, v := range on.Attrs {
		attrs[k] = v
	}
	cur := i
	bias := int32(-1)
	if q, slot, ok := f.next(cur); ok {
		qn := &c.nodes[q]
		switch qn.op {
		case "BiasAdd":
			if df, err := ops.AttrString(c.opNodes[q], "data_format", "NHWC"); err == nil && df == "NHWC" && slot == 0 {
				bias = qn.in[1]
			}
		case "Add", "AddV2":
			if w := qn.in[1-slot]; f.channelConst(w, n.out[0], dt) {
				bias = w
			}
		}
		if bias >= 0 {
			members = append(members, q)
			cur = q
		}
	}
	var bn int32 = -1
	if n.op != "MatMul" && dt == tensor.Float32 && c.consts[n.in[1]] != nil && (bias < 0 || c.consts[bias] != nil) && c.budget > 0 {
		if q, slot, ok := f.next(cur); ok && slot == 0 && f.foldableBatchNorm(q) {
			bn = q
			members = append(members, q)
			cur = q
		}
	}
	if bias >= 0 || bn >= 0 {
		fusedOps = append(fusedOps, "BiasAdd")
	}
	if q, slot, ok := f.next(cur); ok && slot == 0 && fuseActs[c.nodes[q].op] {
		qn := &c.nodes[q]
		fusedOps = append(fusedOps, qn.op)
		if qn.op == "LeakyRelu" {
			alpha, err := ops.AttrFloat(c.opNodes[q], "alpha", 0.2)
			if err != nil {
				return
			}
			attrs["leakyrelu_alpha"] = alpha
		}
		members = append(members, q)
	}
	if len(members) == 1 {
		return
	}
	mark := len(c.info)
	switch {
	case bn >= 0:
		filter, b, ok := f.foldBatchNorm(n.op, c.consts[n.in[1]], bias, bn)
		if !ok {
			return
		}
		args = []int32{n.in[0], f.newConst(filter, n.name+"/fused_filter"), f.newConst(b, n.name+"/fused_bias")}
	case bias >= 0:
		args = append(args, bias)
	}
	attrs["fused_ops"] = fusedOps
	attrs["num_args"] = int64(len(args) - 2)
	if _, ok := attrs["T"]; !ok {
		attrs["T"] = dt
	}
	if !f.add(members, n.name, fusedProductOp[n.op], attrs, args) {
		f.dropConsts(mark)
	}
}

// extend fuses a fused product that has only a BiasAdd (as the TF.js
// converter writes them) with the residual Add and the activation that
// follow it. The Add's other operand must have the same fully known
// static shape, since the fused Add does not broadcast.
func (f *fuser) extend(i int32) {
	c := f.c
	n := &c.nodes[i]
	on := c.opNodes[i]
	if f.group[i] >= 0 || !c.defaultImpl(n.op, n.impl) || len(n.in) != 3 {
		return
	}
	if fo, _, err := on.Attrs.Strings("fused_ops"); err != nil || len(fo) != 1 || fo[0] != "BiasAdd" {
		return
	}
	out := c.info[n.out[0]]
	dt := out.DType.Base()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return
	}
	members := []int32{i}
	args := append([]int32(nil), n.in...)
	fusedOps := []string{"BiasAdd"}
	attrs := tensor.Attrs{}
	for k, v := range on.Attrs {
		attrs[k] = v
	}
	cur := i
	if q, slot, ok := f.next(cur); ok && (c.nodes[q].op == "Add" || c.nodes[q].op == "AddV2") {
		w := c.nodes[q].in[1-slot]
		if wi := c.info[w]; out.Shape.IsFullyKnown() && fuseSameShape(wi.Shape, out.Shape) && wi.DType.Base() == dt {
			fusedOps = append(fusedOps, "Add")
			args = append(args, w)
			members = append(members, q)
			cur = q
		}
	}
	if q, slot, ok := f.next(cur); ok && slot == 0 && fuseActs[c.nodes[q].op] {
		qn := &c.nodes[q]
		fusedOps = append(fusedOps, qn.op)
		if qn.op == "LeakyRelu" {
			alpha, err := ops.AttrFloat(c.opNodes[q], "alpha", 0.2)
			if err != nil {
				return
			}
			attrs["leakyrelu_alpha"] = alpha
		}
		members = append(members, q)
	}
	if len(members) == 1 {
		return
	}
	attrs["fused_ops"] = fusedOps
	attrs["num_args"] = int64(len(args) - 2)
	f.add(members, n.name, n.op, attrs, args)
}

// channelConst tells whether value w is a constant vector over the last
// axis of value x of dtype dt, so that x + w is a BiasAdd.
func (f *fuser) channelConst(w, x int32, dt tensor.DType) bool {
	t := f.c.consts[w]
	if t == nil || t.DType() != dt || t.Rank() != 1 {
		return false
	}
	s := f.c.info[x].Shape
	if s.UnknownRank || len(s.Dims) < 1 {
		return false
	}
	return s.Dims[len(s.Dims)-1] == t.Shape()[0]
}

// foldableBatchNorm tells whether node q is a FusedBatchNorm in inference
// mode on NHWC float32 data with constant float32 parameters.
func (f *fuser) foldableBatchNorm(q int32) bool {
	c := f.c
	qn := &c.nodes[q]
	switch qn.op {
	case "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3":
	default:
		return false
	}
	on := c.opNodes[q]
	if training, err := ops.AttrBool(on, "is_training", true); err != nil || training {
		return false
	}
	if df, err := ops.AttrString(on, "data_format", "NHWC"); err != nil || df != "NHWC" {
		return false
	}
	if _, err := ops.AttrFloat(on, "epsilon", 0.0001); err != nil || len(qn.in) != 5 {
		return false
	}
	if c.info[qn.out[0]].DType.Base() != tensor.Float32 {
		return false
	}
	for _, v := range qn.in[1:] {
		t := c.consts[v]
		if t == nil || t.DType() != tensor.Float32 || t.Rank() != 1 {
			return false
		}
	}
	return true
}

// foldBatchNorm returns the filter and bias of a convolution (op, filter
// w, optional constant bias value) followed by the FusedBatchNorm node bn:
// with factor = scale / sqrt(variance + epsilon) per output channel, as the
// FusedBatchNorm kernel computes it, filter' = filter · factor and bias' =
// (bias - mean) · factor + offset.
func (f *fuser) foldBatchNorm(op string, w *tensor.Tensor, bias, bn int32) (*tensor.Tensor, *tensor.Tensor, bool) {
	c := f.c
	ws := w.Shape()
	if w.DType() != tensor.Float32 || len(ws) != 4 {
		return nil, nil, false
	}
	ch := ws[3]
	if op == "DepthwiseConv2dNative" {
		ch = ws[2] * ws[3]
	}
	eps, _ := ops.AttrFloat(c.opNodes[bn], "epsilon", 0.0001)
	in := c.nodes[bn].in
	var p [4][]float32 // scale, offset, mean, variance
	for j := range p {
		t := c.consts[in[1+j]]
		if t.Len() != ch {
			return nil, nil, false
		}
		p[j] = tensor.As[float32](t)
	}
	var b []float32
	if bias >= 0 {
		t := c.consts[bias]
		if t.DType() != tensor.Float32 || t.Len() != ch {
			return nil, nil, false
		}
		b = tensor.As[float32](t)
	}
	bytes := w.Bytes() + int64(4*ch)
	if bytes > c.budget {
		return nil, nil, false
	}
	c.budget -= bytes
	factor := make([]float32, ch)
	nb := make([]float32, ch)
	for j := range factor {
		s := float32(math.Sqrt(float64(p[3][j] + eps)))
		factor[j] = 1 / s * p[0][j]
		x := float32(0)
		if b != nil {
			x = b[j]
		}
		nb[j] = (x-p[2][j])*factor[j] + p[1][j]
	}
	src := tensor.As[float32](w)
	nw := make([]float32, len(src))
	for k, x := range src {
		nw[k] = x * factor[k%ch]
	}
	return tensor.FromSlice(ws.Clone(), nw), tensor.FromSlice(tensor.Shape{ch}, nb), true
}

// newConst adds a constant value that no graph node produces, named name
// in the plan's listing.
func (f *fuser) newConst(t *tensor.Tensor, name string) int32 {
	c := f.c
	v := int32(len(c.info))
	c.info = append(c.info, ops.Value{DType: t.DType(), Shape: tensor.Known(t.Shape()), Const: t})
	c.consts = append(c.consts, t)
	f.readers = append(f.readers, nil)
	f.fetched = append(f.fetched, false)
	f.constNames = append(f.constNames, name)
	return v
}

// dropConsts removes the constants added from value mark on, giving back
// their bytes to the folding budget.
func (f *fuser) dropConsts(mark int) {
	c := f.c
	for _, t := range c.consts[mark:] {
		c.budget += t.Bytes()
	}
	f.constNames = f.constNames[:mark-f.nvalues]
	c.info, c.consts = c.info[:mark], c.consts[:mark]
	f.readers, f.fetched = f.readers[:mark], f.fetched[:mark]
}

// elementwise fuses the longest chain of element-wise nodes starting at
// node head.
func (f *fuser) elementwise(head int32) {
	c := f.c
	if f.group[head] >= 0 || !f.ewNode(head) {
		return
	}
	hn := &c.nodes[head]
	dt := c.info[hn.out[0]].DType.Base()
	// The running value enters as input 0: the head's only input, or the
	// operand with the output's static shape (a non-constant one first),
	// or failing that a non-constant one the other may not grow.
	acc := 0
	if len(hn.in) == 2 && hn.op != "BiasAdd" {
		acc = -1
		outShape := c.info[hn.out[0]].Shape
		for pass := 0; pass < 3 && acc < 0; pass++ {
			for j, v := range hn.in {
				s, w := c.info[v].Shape, c.info[hn.in[1-j]].Shape
				if (pass < 2 && fuseSameShape(s, outShape) || pass == 2 && fuseNoGrow(s, w)) && (pass == 1 || c.consts[v] == nil) {
					acc = j
					break
				}
			}
		}
		if acc < 0 {
			return
		}
	}
	args := []int32{hn.in[acc]}
	argIndex := func(v int32) int64 {
		for k, a := range args {
			if a == v {
				return int64(k)
			}
		}
		args = append(args, v)
		return int64(len(args) - 1)
	}
	members := []int32{head}
	steps := []tensor.Func{{Name: hn.op, Attrs: c.opNodes[head].Attrs}}
	var operands []int64
	if len(hn.in) == 1 {
		operands = append(operands, -1, -2)
	} else {
		for j, v := range hn.in {
			if j == acc {
				operands = append(operands, -1)
			} else {
				operands = append(operands, argIndex(v))
			}
		}
	}
	for cur := head; ; {
		q, slot, ok := f.next(cur)
		if !ok || !f.ewNode(q) {
			break
		}
		qn := &c.nodes[q]
		if c.info[qn.out[0]].DType.Base() != dt {
			break
		}
		if len(qn.in) == 1 {
			operands = append(operands, -1, -2)
		} else {
			w := qn.in[1-slot]
			if (qn.op == "BiasAdd" && slot != 0) || !fuseNoGrow(c.info[c.nodes[cur].out[0]].Shape, c.info[w].Shape) {
				break
			}
			if slot == 0 {
				operands = append(operands, -1, argIndex(w))
			} else {
				operands = append(operands, argIndex(w), -1)
			}
		}
		steps = append(steps, tensor.Func{Name: qn.op, Attrs: c.opNodes[q].Attrs})
		members = append(members, q)
		cur = q
	}
	// A chain whose fused node does not build is cut short until it does.
	for len(members) >= 2 {
		last := members[len(members)-1]
		attrs := tensor.Attrs{"T": dt, "steps": steps, "operands": operands}
		if f.add(members, c.nodes[last].name, "_TfdFusedElementwise", attrs, fuseUsedArgs(args, operands)) {
			return
		}
		members = members[:len(members)-1]
		steps = steps[:len(steps)-1]
		operands = operands[:len(operands)-2]
	}
}

// fuseUsedArgs drops the inputs that only steps cut from a chain read;
// since inputs are numbered in order of first use, they are the last ones.
func fuseUsedArgs(args []int32, operands []int64) []int32 {
	n := int64(1)
	for _, o := range operands {
		n = max(n, o+1)
	}
	return args[:n]
}

// ewNode tells whether node i may be a step of an element-wise chain.
func (f *fuser) ewNode(i int32) bool {
	c := f.c
	n := &c.nodes[i]
	if a := ops.ElementwiseArity(n.kernel); a == 0 || len(n.in) != a || len(n.out) != 1 || !c.defaultImpl(n.op, n.impl) {
		return false
	}
	switch c.info[n.out[0]].DType.Base() {
	case tensor.Float32, tensor.Float64, tensor.Half, tensor.BFloat16:
		return true
	}
	return false
}

// fuseSameShape tells whether two static shapes are known to be equal up
// to unknown dimensions (of known rank).
func fuseSameShape(a, b tensor.PartialShape) bool {
	if a.UnknownRank || b.UnknownRank || len(a.Dims) != len(b.Dims) {
		return false
	}
	for i, d := range a.Dims {
		if d != b.Dims[i] {
			return false
		}
	}
	return true
}

// fuseNoGrow tells whether broadcasting a value of static shape acc with
// an operand of static shape w may leave acc's shape unchanged. Unknown
// dimensions are given the benefit of the doubt: the fused kernel checks
// the real shapes and runs the ops one by one when they do not fit.
func fuseNoGrow(acc, w tensor.PartialShape) bool {
	if acc.UnknownRank || w.UnknownRank {
		return true
	}
	if len(w.Dims) > len(acc.Dims) {
		return false
	}
	off := len(acc.Dims) - len(w.Dims)
	for i, d := range w.Dims {
		a := acc.Dims[off+i]
		if d == 1 || d < 0 || a < 0 || d == a {
			continue
		}
		return false
	}
	return true
}

// add builds the fused node replacing members (in chain order) and
// records it; it reports false, leaving the plan as it is, when the
// registry lacks the op or its Build fails.
func (f *fuser) add(members []int32, name, op string, attrs tensor.Attrs, args []int32) bool {
	c := f.c
	spec, ok := c.reg.Lookup(op)
	if !ok {
		return false
	}
	on := &ops.Node{Name: name, Op: op, Attrs: attrs, Inputs: make([]ops.Value, len(args))}
	for j, v := range args {
		on.Inputs[j] = c.info[v]
	}
	impl, err := c.chooseImpl(op)
	if err != nil {
		return false
	}
	k, err := impl.Build(on)
	if err != nil {
		return false
	}
	last := &c.nodes[members[len(members)-1]]
	pn := pnode{name: name, op: op, kernel: k, in: args, out: last.out, outTypes: last.outTypes, impl: impl.Name}
	for _, m := range members {
		pn.fused = append(pn.fused, c.nodes[m].name)
	}
	g := int32(len(f.groups))
	for _, m := range members {
		f.group[m] = g
	}
	f.groups = append(f.groups, fuseGroup{members: members, node: pn, on: on, spec: spec})
	return true
}

// apply replaces each group's members by its fused node, placed where its
// last member was (all its inputs are computed before that), and rebuilds
// the edges between plan nodes.
func (f *fuser) apply() {
	c := f.c
	names := make([]string, len(c.info))
	for _, n := range c.nodes {
		for j, v := range n.in {
			if v >= 0 && j < len(n.inNames) {
				names[v] = n.inNames[j]
			}
		}
	}
	copy(names[f.nvalues:], f.constNames)
	newIdx := make([]int32, len(c.nodes))
	var nodes []pnode
	var opNodes []*ops.Node
	var specs []ops.Spec
	for i := range c.nodes {
		g := f.group[i]
		if g < 0 {
			newIdx[i] = int32(len(nodes))
			nodes = append(nodes, c.nodes[i])
			opNodes = append(opNodes, c.opNodes[i])
			specs = append(specs, c.specs[i])
			continue
		}
		gr := &f.groups[g]
		if gr.members[len(gr.members)-1] != int32(i) {
			continue
		}
		for _, v := range gr.node.in {
			gr.node.inNames = append(gr.node.inNames, names[v])
		}
		for _, m := range gr.members {
			newIdx[m] = int32(len(nodes))
		}
		nodes = append(nodes, gr.node)
		opNodes = append(opNodes, gr.on)
		specs = append(specs, gr.spec)
	}
	// Edges: each old edge between nodes that are not now the same node.
	succ := make([]map[int32]bool, len(nodes))
	npred := make([]int32, len(nodes))
	for i := range c.nodes {
		a := newIdx[i]
		for _, s := range c.nodes[i].succ {
			b := newIdx[s]
			if a == b {
				continue
			}
			if succ[a] == nil {
				succ[a] = map[int32]bool{}
			}
			if !succ[a][b] {
				succ[a][b] = true
				npred[b]++
			}
		}
	}
	for i := range nodes {
		nodes[i].succ = nil
		for s := range succ[i] {
			nodes[i].succ = append(nodes[i].succ, s)
		}
		sort.Slice(nodes[i].succ, func(x, y int) bool { return nodes[i].succ[x] < nodes[i].succ[y] })
		nodes[i].npred = npred[i]
	}
	for name, i := range c.nodeOf {
		c.nodeOf[name] = newIdx[i]
	}
	// Constants only the replaced nodes read (a filter a batch norm was
	// folded into) are dropped from the plan.
	read := make([]bool, len(c.info))
	for _, n := range nodes {
		for _, v := range n.in {
			if v >= 0 {
				read[v] = true
			}
		}
	}
	for v, t := range c.consts {
		if t != nil && !read[v] && !f.fetched[v] && len(f.readers[v]) > 0 {
			c.consts[v] = nil
			c.info[v].Const = nil
		}
	}
	c.nodes, c.opNodes, c.specs = nodes, opNodes, specs
}
