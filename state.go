package tfd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/ops"
	"github.com/tfdgo/tfd/sched"
	"github.com/tfdgo/tfd/tensor"
)

// Model state.
//
// A Model owns an ops.ModelState: the variables its signatures change
// (serving_counter's incr_counter) and the lookup tables its init op
// fills, which outlive a run. Every run of every signature of the model
// shares it, as every Session.Run of a TensorFlow session shares the
// session's resources; two models, even of the same file, never share
// state. Load sets it up once, before the first run, as TensorFlow's
// SavedModel loader does: it restores the variables from the checkpoint,
// then runs the init op with the asset tensors fed with the paths of the
// files under assets/ (graph.Init). Runs may then read and write it from
// any number of goroutines: writes of a variable are serialized, a read
// sees a whole value, and a table, once filled, is read-only.
//
// File-reading ops (ReadFile, InitializeTableFromTextFileV2) may read only
// files under the SavedModel's assets/ directory or Options.AssetsDir, at
// most Limits.MaxFileBytes each.

// newState returns the state of a model loaded from l.
func newState(l *loaded, opt Options) *ops.ModelState {
	var dirs []string
	for _, d := range []string{l.assetsDir, opt.AssetsDir} {
		if d != "" {
			if abs, err := filepath.Abs(d); err == nil {
				d = abs
			}
			dirs = append(dirs, d)
		}
	}
	max := opt.Limits.MaxFileBytes
	if max <= 0 {
		max = graph.DefaultMaxFileBytes
	}
	return ops.NewModelState(ops.FileAccess{Dirs: dirs, MaxBytes: max})
}

// initState runs a SavedModel's Init on the model's state: the restores,
// then the init op.
func (m *Model) initState(in *graph.Init) error {
	if in == nil || in.Graph == nil {
		return nil
	}
	for _, step := range []struct {
		what    string
		targets []string
	}{{"restoring variables", in.Restore}, {"running init op " + strings.Join(in.Ops, ", "), in.Ops}} {
		if len(step.targets) == 0 {
			continue
		}
		g, fetch, err := stateTargetGraph(in.Graph, step.targets)
		if err != nil {
			return fmt.Errorf("tfd: model %q: %s: %w", m.name, step.what, err)
		}
		p, err := sched.Compile(g, nil, []string{fetch}, sched.Options{
			Registry:      m.opt.Registry,
			Model:         m.name,
			Prefer:        m.opt.Prefer,
			Impl:          m.opt.Impl,
			MaxElements:   m.opt.Limits.MaxElements,
			MaxIterations: m.opt.Limits.MaxIterations,
			Pool:          m.pool,
			State:         m.state,
		})
		if err == nil {
			_, err = p.Run(context.Background(), nil, sched.RunOptions{Workers: 1})
		}
		if err != nil {
			var ne *sched.NodeError
			if errors.As(err, &ne) {
				return fmt.Errorf("tfd: %s: %w", step.what, err) // names the model
			}
			return fmt.Errorf("tfd: model %q: %s: %w", m.name, step.what, err)
		}
	}
	return nil
}

// stateTargetGraph returns g plus a node whose output can be fetched once
// the target nodes (which may have no outputs) have run: a Const with a
// control input from each, since plans fetch tensors.
func stateTargetGraph(g *graph.Graph, targets []string) (*graph.Graph, string, error) {
	name := "init_done"
	for k := 1; ; k++ {
		if _, taken := g.Node(name); !taken {
			break
		}
		name = fmt.Sprintf("init_done_%d", k)
	}
	done := &graph.Node{Name: name, Op: "Const", ControlInputs: slices.Clone(targets),
		Attrs: tensor.Attrs{"dtype": tensor.Bool, "value": tensor.Scalar(true)}}
	out, err := graph.New(append(slices.Clone(g.Nodes), done))
	if err != nil {
		return nil, "", err
	}
	out.Library, out.Versions, out.Source, out.Format = g.Library, g.Versions, g.Source, g.Format
	return out, name + ":0", nil
}

// foldState returns g with the model's current state folded in, for
// Freeze: a read of a variable becomes a Const of its value; a lookup
// table gets its contents as two Consts and a LookupTableImportV2 that
// every node using the table waits for (TensorFlow serializes an
// initialized table the same way, InitializableLookupTable's
// InitializerSerializer); a ReadFile of a constant path becomes a Const of
// the file's contents. A node that changes a variable cannot be frozen.
func (m *Model) foldState(g *graph.Graph) (*graph.Graph, error) {
	unique := g.Namer()
	// trace follows Identity and IdentityN back to the producing node.
	trace := func(in graph.Input) (*graph.Node, bool) {
		for steps := 0; steps <= len(g.Nodes); steps++ {
			n, ok := g.Node(in.Node)
			if !ok {
				return nil, false
			}
			switch {
			case n.Op == "Identity" && len(n.Inputs) > 0:
				in = n.Inputs[0]
			case n.Op == "IdentityN" && in.Index < len(n.Inputs):
				in = n.Inputs[in.Index]
			default:
				return n, true
			}
		}
		return nil, false
	}
	consts := map[string]*tensor.Tensor{} // folded nodes' values, for ReadFile
	imports := map[string]string{}        // table node → its import node
	filled := map[string]bool{}           // tables g already fills from tensors (a frozen graph)
	for _, n := range g.Nodes {
		switch n.Op {
		case "LookupTableImport", "LookupTableImportV2", "InitializeTable", "InitializeTableV2":
			if t, ok := stateHandleNode(trace, n, ""); ok {
				filled[t.Name] = true
			}
		}
	}
	var out []*graph.Node
	for _, n := range g.Nodes {
		switch {
		case n.Op == "ReadVariableOp" || n.Op == "VarIsInitializedOp":
			h, ok := stateHandleNode(trace, n, "VarHandleOp")
			if !ok {
				break
			}
			v, set := m.state.Variable(ops.VariableHandle(h.Name, h.Attrs))
			var t *tensor.Tensor
			switch {
			case n.Op == "VarIsInitializedOp":
				t = tensor.Scalar(set)
			case !set:
				return nil, fmt.Errorf("tfd: freeze: node %q reads variable %q, which holds no value", n.Name, h.Name)
			default:
				t = v.Clone()
			}
			consts[n.Name] = t
			out = append(out, &graph.Node{Name: n.Name, Op: "Const", Device: n.Device, ControlInputs: n.ControlInputs,
				Attrs: tensor.Attrs{"dtype": t.DType(), "value": t}})
			continue
		case stateWrites(n.Op):
			if h, ok := stateHandleNode(trace, n, "VarHandleOp"); ok {
				return nil, fmt.Errorf("tfd: freeze: node %q (%s) changes variable %q: a frozen graph holds no state (freeze a signature that only reads the variable; its current value becomes a constant)", n.Name, n.Op, h.Name)
			}
		case stateTableOps[n.Op] && !filled[n.Name]:
			keys, values, ok := m.state.Table(ops.TableHandle(n.Name, n.Attrs))
			if !ok {
				return nil, fmt.Errorf("tfd: freeze: lookup table %q (node %q) is not initialized", ops.TableHandle(n.Name, n.Attrs), n.Name)
			}
			kc := &graph.Node{Name: unique(n.Name + "/keys"), Op: "Const", Device: n.Device, Attrs: tensor.Attrs{"dtype": keys.DType(), "value": keys}}
			vc := &graph.Node{Name: unique(n.Name + "/values"), Op: "Const", Device: n.Device, Attrs: tensor.Attrs{"dtype": values.DType(), "value": values}}
			op := "LookupTableImportV2"
			if n.Op == "HashTable" || n.Op == "MutableHashTable" {
				op = "LookupTableImport"
			}
			imp := &graph.Node{Name: unique(n.Name + "/import"), Op: op, Device: n.Device,
				Inputs: []graph.Input{{Node: n.Name}, {Node: kc.Name}, {Node: vc.Name}},
				Attrs:  tensor.Attrs{"Tin": keys.DType(), "Tout": values.DType()}}
			imports[n.Name] = imp.Name
			out = append(out, n, kc, vc, imp)
			continue
		}
		out = append(out, n)
	}
	// Nodes that use a table wait for its import; ReadFile of a constant
	// path becomes the file's contents.
	for i, n := range out {
		if n.Op == "ReadFile" && len(n.Inputs) == 1 {
			if src, ok := trace(n.Inputs[0]); ok {
				path, known := consts[src.Name]
				if !known && src.Op == "Const" {
					path, _, _ = src.Attrs.Tensor("value")
				}
				if path != nil && path.DType() == tensor.String && path.Len() == 1 {
					data, err := m.state.ReadFile(tensor.As[string](path)[0])
					if err != nil {
						return nil, fmt.Errorf("tfd: freeze: node %q: %w", n.Name, err)
					}
					out[i] = &graph.Node{Name: n.Name, Op: "Const", Device: n.Device, ControlInputs: n.ControlInputs,
						Attrs: tensor.Attrs{"dtype": tensor.String, "value": tensor.FromSlice(tensor.Shape{}, []string{string(data)})}}
					continue
				}
			}
		}
		if strings := stateImportsFor(trace, n, imports); len(strings) > 0 {
			c := *n
			c.ControlInputs = append(slices.Clone(n.ControlInputs), strings...)
			out[i] = &c
		}
	}
	res, err := graph.New(out)
	if err != nil {
		return nil, err
	}
	res.Library, res.Versions, res.Source, res.Format = g.Library, g.Versions, g.Source, g.Format
	return res, nil
}

// stateTableOps create lookup tables.
var stateTableOps = map[string]bool{
	"HashTable": true, "HashTableV2": true, "MutableHashTable": true, "MutableHashTableV2": true,
}

// stateWrites reports ops that change the variable of their first input.
func stateWrites(op string) bool {
	switch op {
	case "AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp":
		return true
	}
	return false
}

// stateHandleNode returns the node of type op (any type when op is "")
// that n's first input traces to.
func stateHandleNode(trace func(graph.Input) (*graph.Node, bool), n *graph.Node, op string) (*graph.Node, bool) {
	if len(n.Inputs) == 0 {
		return nil, false
	}
	h, ok := trace(n.Inputs[0])
	if !ok || (op != "" && h.Op != op) {
		return nil, false
	}
	return h, true
}

// stateImportsFor returns the import nodes n must wait for: those of the
// tables its inputs trace to (the import itself aside).
func stateImportsFor(trace func(graph.Input) (*graph.Node, bool), n *graph.Node, imports map[string]string) []string {
	if len(imports) == 0 {
		return nil
	}
	var out []string
	for _, in := range n.Inputs {
		src, ok := trace(in)
		if !ok {
			continue
		}
		if imp, ok := imports[src.Name]; ok && imp != n.Name && !slices.Contains(out, imp) && !slices.Contains(n.ControlInputs, imp) {
			out = append(out, imp)
		}
	}
	return out
}
