package graph

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tfdgo/tfd/tensor"
)

// Prune returns the part of g that outputs need: the nodes they name
// ("node", "node:k" or "^node") and, transitively, every data and control
// input of those, in g's order, with the library functions they still
// reference. Nodes are shared with g, which is not modified.
func Prune(g *Graph, outputs []string) (*Graph, error) {
	p, err := smPrune(g, outputs)
	if err != nil {
		return nil, fmt.Errorf("graph: pruning: %w", err)
	}
	return p, nil
}

func smPrune(g *Graph, outputs []string) (*Graph, error) {
	keep := make(map[string]bool, len(outputs))
	var stack []*Node
	push := func(name, from string) error {
		if keep[name] {
			return nil
		}
		n, ok := g.Node(name)
		if !ok {
			if from == "" {
				return fmt.Errorf("output %q: no such node in the graph", name)
			}
			return fmt.Errorf("node %q: input %q: no such node in the graph", from, name)
		}
		keep[name] = true
		stack = append(stack, n)
		return nil
	}
	for _, o := range outputs {
		node, _, _, err := ParseTensorName(o)
		if err != nil {
			return nil, err
		}
		if err := push(node, ""); err != nil {
			return nil, err
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, in := range n.Inputs {
			if err := push(in.Node, n.Name); err != nil {
				return nil, err
			}
		}
		for _, c := range n.ControlInputs {
			if err := push(c, n.Name); err != nil {
				return nil, err
			}
		}
	}
	nodes := make([]*Node, 0, len(keep))
	for _, n := range g.Nodes {
		if keep[n.Name] {
			nodes = append(nodes, n)
		}
	}
	res, err := New(nodes)
	if err != nil {
		return nil, err
	}
	res.Versions, res.Source, res.Format = g.Versions, g.Source, g.Format
	res.Library = smUsedFunctions(nodes, g.Library)
	return res, nil
}

// smStatefulOps change or need state a frozen graph cannot hold.
var smStatefulOps = map[string]bool{
	"VariableV2": true, "Variable": true, "VarHandleOp": true, "ReadVariableOp": true,
	"Assign": true, "AssignAdd": true, "AssignSub": true, "AssignVariableOp": true,
	"AssignAddVariableOp": true, "AssignSubVariableOp": true, "ResourceGather": true,
	"ScatterUpdate": true, "ScatterAdd": true, "ScatterSub": true, "ScatterNdUpdate": true,
	"ResourceScatterUpdate": true, "ResourceScatterAdd": true, "ResourceScatterNdUpdate": true,
	"ApplyGradientDescent": true, "ResourceApplyGradientDescent": true, "ApplyAdam": true,
	"ResourceApplyAdam": true, "ApplyMomentum": true, "ResourceApplyMomentum": true,
	"ResourceApplyKerasMomentum": true, "ApplyRMSProp": true, "ResourceApplyRMSProp": true,
	"ApplyAdagrad": true, "ResourceApplyAdagrad": true, "ResourceApplyAdagradV2": true,
}

// Freeze returns a plain frozen graph of sm for the given output tensors
// (all signature outputs when outputs is empty): sm.Graph pruned to
// them, with every function call inlined, library functions kept only
// where nodes still reference them (While and If bodies), and attrs whose
// names start with "_" (TensorFlow's private attrs, such as
// _output_shapes and _class) removed. graph.Encode writes the result as a
// GraphDef TensorFlow imports. It fails if the outputs need a variable
// that is not frozen, an op that changes state, a lookup table whose
// contents are not in the graph (a LookupTableImportV2 of Consts), or an
// op private to TensorFlow (op names starting with "_").
func Freeze(sm *SavedModel, outputs []string) (*Graph, error) {
	g, err := smFreeze(sm, outputs)
	if err != nil {
		return nil, fmt.Errorf("graph: %s: freezing: %w", sm.Dir, err)
	}
	return g, nil
}

func smFreeze(sm *SavedModel, outputs []string) (*Graph, error) {
	if sm.Graph == nil {
		return nil, fmt.Errorf("the saved model has no graph")
	}
	if len(outputs) == 0 {
		for _, k := range sm.SignatureKeys() {
			sig := sm.Signatures[k]
			for _, o := range sig.OutputKeys() {
				if n := sig.Outputs[o].Name; n != "" {
					outputs = append(outputs, n)
				}
			}
		}
		if len(outputs) == 0 {
			return nil, fmt.Errorf("no outputs given and the model has no signatures")
		}
	}
	p, err := smPrune(sm.Graph, outputs)
	if err != nil {
		return nil, err
	}
	in, err := smInline(p, smOpTable{}, Limits{}.WithDefaults())
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, n := range in.Nodes {
		switch {
		case smStatefulOps[n.Op]:
			bad = append(bad, fmt.Sprintf("node %q (%s) reads or changes a variable", n.Name, n.Op))
		case strings.HasPrefix(n.Op, "_"):
			bad = append(bad, fmt.Sprintf("node %q has the private op type %s", n.Name, n.Op))
		}
	}
	if len(bad) == 0 {
		if err := smCheckTables(in); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		if len(bad) > 5 {
			bad = append(bad[:5], fmt.Sprintf("and %d more", len(bad)-5))
		}
		return nil, fmt.Errorf("the outputs cannot be frozen: %s", strings.Join(bad, "; "))
	}
	nodes := make([]*Node, len(in.Nodes))
	for i, n := range in.Nodes {
		c := smCopyNode(n)
		c.Attrs = smPublicAttrs(n.Attrs)
		nodes[i] = c
	}
	res, err := New(nodes)
	if err != nil {
		return nil, err
	}
	res.Versions, res.Format = in.Versions, in.Format
	for _, f := range in.Library {
		c := *f
		c.Attrs = smPublicAttrs(f.Attrs)
		c.Nodes = make([]*Node, len(f.Nodes))
		for i, n := range f.Nodes {
			cn := smCopyNode(n)
			cn.Attrs = smPublicAttrs(n.Attrs)
			c.Nodes[i] = cn
		}
		res.Library = append(res.Library, &c)
	}
	return res, nil
}

// smPublicAttrs returns attrs without those whose names start with "_".
func smPublicAttrs(a tensor.Attrs) tensor.Attrs {
	if len(a) == 0 {
		return a
	}
	out := make(tensor.Attrs, len(a))
	for k, v := range a {
		if !strings.HasPrefix(k, "_") {
			out[k] = v
		}
	}
	return out
}
