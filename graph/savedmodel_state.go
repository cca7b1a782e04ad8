package graph

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
)

// State a SavedModel sets up at load and keeps across runs.
//
// Most variables a signature reads are frozen into constants: from the
// checkpoint, or from the init op when it sets them to a value known
// without running it (classifyVariables). Three kinds of state are not:
//
//   - live variables: variables that a signature writes (a counter's
//     AssignAdd), or that the init op sets to a computed value. They stay
//     variables. A TF1
//     reference variable (VariableV2) among them is rewritten into
//     resource form: a VarHandleOp "<v>/handle", v itself a ReadVariableOp
//     of it, Assign into AssignVariableOp plus an Identity of the value,
//     AssignAdd and AssignSub into AssignAdd/SubVariableOp plus a
//     ReadVariableOp after it, so that tensor names keep their meaning
//     (with concurrent runs that read may include other runs' updates, as
//     TensorFlow's read of the updated reference at fetch time may);
//   - lookup tables (HashTableV2, ...), which the init op fills;
//   - whatever those read: asset files, through the asset tensors
//     (AssetFileDef) TensorFlow feeds with the files' paths.
//
// When the signatures need such state, SavedModel.Init says how to set it
// up: as TensorFlow's loader does (tensorflow/cc/saved_model/loader.cc),
// first restore the live variables from the checkpoint, then run the one
// init op (the __saved_model_init_op signature, else collection
// saved_model_main_op, else legacy_init_op) with the asset tensors fed.

// Init is how a SavedModel sets up its state before the first run.
type Init struct {
	// Graph holds the nodes of both steps: a Const and an AssignVariableOp
	// per restored variable, and the init op with what it needs (function
	// calls inlined, variables it only reads frozen). Each asset tensor is
	// a Const holding its file's path.
	Graph *Graph
	// Restore lists the nodes that set live variables to their checkpoint
	// values; run them first.
	Restore []string
	// Ops lists the init op (at most one); run it after Restore.
	Ops []string
	// Assets maps the asset tensors ("node:0") to the paths of their files
	// under the SavedModel's assets/ directory.
	Assets map[string]string
}

// smTableOps create lookup tables.
var smTableOps = map[string]bool{
	"HashTable": true, "HashTableV2": true, "MutableHashTable": true, "MutableHashTableV2": true,
	"MutableHashTableOfTensors": true, "MutableHashTableOfTensorsV2": true,
	"MutableDenseHashTable": true, "MutableDenseHashTableV2": true,
}

// smIsVariable reports ops that are variables.
func smIsVariable(op string) bool {
	return op == "VariableV2" || op == "Variable" || op == "VarHandleOp"
}

// smWritesVariable reports ops that change the variable of their first
// input: assignments, scatters and optimizer updates.
func smWritesVariable(op string) bool {
	for _, p := range []string{"Assign", "Scatter", "ResourceScatter", "Apply", "ResourceApply", "SparseApply", "ResourceSparseApply"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// initOp returns the init op TensorFlow's loader runs (GetInitOp in
// loader.cc): the __saved_model_init_op signature's, else the collection
// saved_model_main_op's, else legacy_init_op's; "" when there is none or
// it names no node of the graph.
func (l *smLoader) initOp() string {
	name := ""
	if sd, ok := l.mg.GetSignatureDef()[initSignatureKey]; ok {
		if ti, ok := sd.GetOutputs()[initSignatureKey]; ok {
			name = ti.GetName()
		}
	} else {
		cols := l.mg.GetCollectionDef()
		key := "legacy_init_op"
		if _, ok := cols["saved_model_main_op"]; ok {
			key = "saved_model_main_op"
		}
		if v := cols[key].GetNodeList().GetValue(); len(v) > 0 {
			name = v[0]
		}
	}
	node, _, _, err := ParseTensorName(name)
	if err != nil || name == "" {
		return ""
	}
	if _, ok := l.g.Node(node); !ok {
		return ""
	}
	return node
}

// inCheckpoint reports whether the checkpoint holds variable node v.
func (l *smLoader) inCheckpoint(v *Node) bool {
	key, ok := l.keys[v.Name]
	if !ok || l.ckpt == nil {
		return false
	}
	_, ok = l.ckpt.entry(key)
	return ok
}

// classifyVariables sorts the variables of g (the signatures' and the init
// op's nodes, calls inlined) into l.live and l.initConst. A variable that
// a signature writes is live. One that only the init op writes is live
// too, unless the init op sets it once to a value known without running
// anything (an Assign of a Const, as a TF1 main_op that re-runs the
// variables' initializers does, or of an asset tensor, as a TF2 asset's
// path variable): then its value after loading is that value, which is
// frozen like a checkpoint value. Other variables are frozen from the
// checkpoint.
func (l *smLoader) classifyVariables(g *Graph, keep []string, assets map[string]string) error {
	l.live = map[string]bool{}
	l.initConst = map[string]*tensor.Tensor{}
	serving, err := smPrune(g, keep)
	if err != nil {
		return err
	}
	tr := smNewTracer(g)
	writers := map[string][]*Node{}
	var order []string
	for _, n := range g.Nodes {
		if !smWritesVariable(n.Op) || len(n.Inputs) == 0 {
			continue
		}
		v, ok := tr.input(n.Inputs[0])
		if !ok || !smIsVariable(v.Op) {
			continue
		}
		if _, inServing := serving.Node(n.Name); inServing {
			l.live[v.Name] = true
			continue
		}
		if _, seen := writers[v.Name]; !seen {
			order = append(order, v.Name)
		}
		writers[v.Name] = append(writers[v.Name], n)
	}
	for _, name := range order {
		if l.live[name] {
			continue
		}
		v, _ := g.Node(name)
		if t := smStaticInitValue(tr, v, writers[name], assets); t != nil {
			l.initConst[name] = t
		} else {
			l.live[name] = true
		}
	}
	return nil
}

// smStaticInitValue returns the value variable v holds after the init op
// when its only writers are one Assign or AssignVariableOp of a Const or of
// an asset tensor (whose value is its file's path), of v's dtype; nil
// otherwise.
func smStaticInitValue(tr *smTracer, v *Node, ws []*Node, assets map[string]string) *tensor.Tensor {
	if len(ws) != 1 || (ws[0].Op != "Assign" && ws[0].Op != "AssignVariableOp") || len(ws[0].Inputs) < 2 {
		return nil
	}
	src := tr.output(ws[0].Inputs[1])
	if !src.ok || src.index != 0 {
		return nil
	}
	var t *tensor.Tensor
	if path, ok := assets[src.n.Name+":0"]; ok {
		t = tensor.FromSlice(tensor.Shape{}, []string{path})
	} else if src.n.Op == "Const" {
		if c, ok, err := src.n.Attrs.Tensor("value"); ok && err == nil {
			t = c
		}
	}
	if t == nil {
		return nil
	}
	if dt := smAttrType(v, "dtype"); dt != tensor.Invalid && dt != t.DType() {
		return nil
	}
	if !smAttrShape(v, "shape").Matches(t.Shape()) {
		return nil
	}
	return t
}

// frozenValue is l.value for variable node v, or the value the init op
// gives it (l.initConst).
func (l *smLoader) frozenValue(v *Node, need bool) (*tensor.Tensor, error) {
	if t, ok := l.initConst[v.Name]; ok {
		return t, nil
	}
	return l.value(v, need)
}

// smDropStaticWriters replaces the init op's writes of the variables whose
// value was frozen from it (initConst) by what remains of them once the
// variable is a constant: an Assign by an Identity of its value, an
// AssignVariableOp by a NoOp; both keep the node's name and order.
func smDropStaticWriters(g *Graph, initConst map[string]*tensor.Tensor) (*Graph, error) {
	if len(initConst) == 0 {
		return g, nil
	}
	tr := smNewTracer(g)
	changed := false
	out := make([]*Node, len(g.Nodes))
	for i, n := range g.Nodes {
		out[i] = n
		if (n.Op != "Assign" && n.Op != "AssignVariableOp") || len(n.Inputs) < 2 {
			continue
		}
		v, ok := tr.input(n.Inputs[0])
		if !ok {
			continue
		}
		t, static := initConst[v.Name]
		if !static {
			continue
		}
		changed = true
		if n.Op == "Assign" {
			out[i] = &Node{Name: n.Name, Op: "Identity", Device: n.Device, Inputs: []Input{n.Inputs[1]},
				ControlInputs: n.ControlInputs, Attrs: tensor.Attrs{"T": t.DType()}}
			continue
		}
		ctl := slices.Clone(n.ControlInputs)
		for _, in := range n.Inputs[1:] {
			ctl = append(ctl, in.Node)
		}
		out[i] = &Node{Name: n.Name, Op: "NoOp", Device: n.Device, ControlInputs: ctl, Attrs: tensor.Attrs{}}
	}
	if !changed {
		return g, nil
	}
	res, err := New(out)
	if err != nil {
		return nil, err
	}
	res.Library, res.Versions, res.Source, res.Format = g.Library, g.Versions, g.Source, g.Format
	return res, nil
}

// smNeedsState reports whether a graph uses state set up at load: a live
// variable (a VarHandleOp left after freezing) or a lookup table.
func smNeedsState(g *Graph) bool {
	for _, n := range g.Nodes {
		if n.Op == "VarHandleOp" || smTableOps[n.Op] {
			return true
		}
	}
	return false
}

// smLowerRefVariables rewrites the live TF1 reference variables of g
// (VariableV2, Variable) into resource variables, as described above. It
// returns the new graph and, per rewritten variable, its handle node.
func smLowerRefVariables(g *Graph, live map[string]bool) (*Graph, map[string]string, error) {
	handles := map[string]string{}
	unique := g.Namer()
	vars := map[string]*Node{}
	for _, n := range g.Nodes {
		if (n.Op == "VariableV2" || n.Op == "Variable") && live[n.Name] {
			vars[n.Name] = n
			handles[n.Name] = unique(n.Name + "/handle")
		}
	}
	if len(vars) == 0 {
		return g, handles, nil
	}
	var out []*Node
	for _, n := range g.Nodes {
		if v, ok := vars[n.Name]; ok {
			dt := smAttrType(v, "dtype")
			shared, _, _ := v.Attrs.String("shared_name")
			if shared == "" {
				shared = v.Name
			}
			container, _, _ := v.Attrs.String("container")
			h := &Node{Name: handles[v.Name], Op: "VarHandleOp", Device: v.Device,
				Attrs: tensor.Attrs{"dtype": dt, "shape": smAttrShape(v, "shape"), "container": container, "shared_name": shared}}
			read := &Node{Name: v.Name, Op: "ReadVariableOp", Device: v.Device, Inputs: []Input{{Node: h.Name}},
				ControlInputs: v.ControlInputs, Attrs: tensor.Attrs{"dtype": dt}}
			out = append(out, h, read)
			continue
		}
		var v *Node
		if len(n.Inputs) > 0 && n.Inputs[0].Index == 0 {
			v = vars[n.Inputs[0].Node]
		}
		switch {
		case v != nil && (n.Op == "Assign" || n.Op == "AssignAdd" || n.Op == "AssignSub"):
			if len(n.Inputs) != 2 {
				return nil, nil, fmt.Errorf("node %q (%s) has %d inputs, expected 2", n.Name, n.Op, len(n.Inputs))
			}
			dt := smAttrType(v, "dtype")
			h := handles[v.Name]
			if n.Op == "Assign" {
				validate, _, _ := n.Attrs.Bool("validate_shape")
				set := &Node{Name: unique(n.Name + "/assign"), Op: "AssignVariableOp", Device: n.Device,
					Inputs: []Input{{Node: h}, n.Inputs[1]}, ControlInputs: n.ControlInputs,
					Attrs: tensor.Attrs{"dtype": dt, "validate_shape": validate}}
				out = append(out, set, &Node{Name: n.Name, Op: "Identity", Device: n.Device, Inputs: []Input{n.Inputs[1]},
					ControlInputs: []string{set.Name}, Attrs: tensor.Attrs{"T": dt}})
				continue
			}
			upd := &Node{Name: unique(n.Name + "/update"), Op: n.Op + "VariableOp", Device: n.Device,
				Inputs: []Input{{Node: h}, n.Inputs[1]}, ControlInputs: n.ControlInputs, Attrs: tensor.Attrs{"dtype": dt}}
			out = append(out, upd, &Node{Name: n.Name, Op: "ReadVariableOp", Device: n.Device, Inputs: []Input{{Node: h}},
				ControlInputs: []string{upd.Name}, Attrs: tensor.Attrs{"dtype": dt}})
			continue
		case v != nil && n.Op == "IsVariableInitialized":
			out = append(out, &Node{Name: n.Name, Op: "VarIsInitializedOp", Device: n.Device,
				Inputs: []Input{{Node: handles[v.Name]}}, ControlInputs: n.ControlInputs, Attrs: tensor.Attrs{}})
			continue
		case v != nil && smWritesVariable(n.Op):
			return nil, nil, fmt.Errorf("node %q (%s) changes variable %q: tfd keeps TF1 variables that signatures change only for Assign, AssignAdd and AssignSub", n.Name, n.Op, v.Name)
		}
		out = append(out, n)
	}
	res, err := New(out)
	if err != nil {
		return nil, nil, err
	}
	res.Library, res.Versions, res.Source, res.Format = g.Library, g.Versions, g.Source, g.Format
	return res, handles, nil
}

// assetFiles maps the MetaGraph's asset tensors to their files: the
// AssetFileDefs of the MetaGraph, or (TF1) of collection
// saved_model_assets.
func (l *smLoader) assetFiles() (map[string]string, error) {
	defs := l.mg.GetAssetFileDef()
	if len(defs) == 0 {
		for i, a := range l.mg.GetCollectionDef()["saved_model_assets"].GetAnyList().GetValue() {
			if !strings.HasSuffix(a.GetTypeUrl(), "/tensorflow.AssetFileDef") {
				continue
			}
			d := &tfpb.AssetFileDef{}
			if err := proto.Unmarshal(a.GetValue(), d); err != nil {
				return nil, fmt.Errorf("collection saved_model_assets: entry %d: %w", i, err)
			}
			defs = append(defs, d)
		}
	}
	out := map[string]string{}
	for _, d := range defs {
		name, file := d.GetTensorInfo().GetName(), d.GetFilename()
		if name == "" {
			continue
		}
		if !filepath.IsLocal(file) {
			return nil, fmt.Errorf("asset tensor %q names file %q, which is not inside the assets directory", name, file)
		}
		out[name] = filepath.Join(l.assetsDir, filepath.FromSlash(file))
	}
	return out, nil
}

// smLiveVar is a live variable: its node before reference variables are
// rewritten, and the node of its handle after.
type smLiveVar struct {
	node   *Node
	handle string
}

// liveList lists the live variables of g (before smLowerRefVariables) with
// their handle nodes (handles maps rewritten variables to theirs).
func (l *smLoader) liveList(g *Graph, handles map[string]string) []smLiveVar {
	var out []smLiveVar
	for _, n := range g.Nodes {
		if !smIsVariable(n.Op) || !l.live[n.Name] {
			continue
		}
		h := n.Name
		if hn, ok := handles[n.Name]; ok {
			h = hn
		}
		out = append(out, smLiveVar{node: n, handle: h})
	}
	return out
}

// buildInit returns the Init of a SavedModel whose signatures need state:
// g is the loaded graph (signatures and init op, calls inlined, variables
// frozen or live, reference variables rewritten) and vars its live
// variables. It returns nil when there is nothing to do.
func (l *smLoader) buildInit(g *Graph, initOp string, vars []smLiveVar, assets map[string]string) (*Init, error) {
	in := &Init{Assets: map[string]string{}}
	nodes := slices.Clone(g.Nodes)
	unique := g.Namer()
	// Restore the live variables the checkpoint holds.
	for _, lv := range vars {
		v := lv.node
		if !l.inCheckpoint(v) {
			continue
		}
		t, err := l.value(v, true)
		if err != nil {
			return nil, err
		}
		delete(l.frozen, l.keys[v.Name]) // restored, not frozen
		c := smConst(unique(v.Name+"/restore/value"), v.Device, t)
		set := &Node{Name: unique(v.Name + "/restore"), Op: "AssignVariableOp", Device: v.Device,
			Inputs: []Input{{Node: lv.handle}, {Node: c.Name}}, Attrs: tensor.Attrs{"dtype": t.DType()}}
		nodes = append(nodes, c, set)
		in.Restore = append(in.Restore, set.Name)
	}
	if initOp != "" {
		in.Ops = []string{initOp}
	}
	if len(in.Restore) == 0 && len(in.Ops) == 0 {
		return nil, nil
	}
	all, err := New(nodes)
	if err != nil {
		return nil, err
	}
	all.Library, all.Versions, all.Source, all.Format = g.Library, g.Versions, g.Source, g.Format
	ig, err := smPrune(all, append(slices.Clone(in.Restore), in.Ops...))
	if err != nil {
		return nil, err
	}
	// Feed the asset tensors: each becomes a Const of its file's path.
	for i, n := range ig.Nodes {
		for _, idx := range []string{n.Name + ":0", n.Name} {
			path, ok := assets[idx]
			if !ok {
				continue
			}
			if n.Op != "Const" && !smIsPlaceholder(n.Op) {
				return nil, fmt.Errorf("asset tensor %q is the output of a %s node, expected a Placeholder or Const", idx, n.Op)
			}
			ig.Nodes[i] = smConst(n.Name, n.Device, tensor.FromSlice(tensor.Shape{}, []string{path}))
			in.Assets[n.Name+":0"] = path
			break
		}
	}
	ig.byName = nil
	in.Graph = ig
	return in, nil
}

// smTableFillers are the ops that fill a table from tensors, which a frozen
// graph can hold (TensorFlow's own serialization of an initialized table
// is a LookupTableImportV2 of two Consts).
var smTableFillers = map[string]bool{
	"LookupTableImport": true, "LookupTableImportV2": true, "InitializeTable": true, "InitializeTableV2": true,
}

// smCheckTables fails for a lookup table of g that nothing in g fills
// from tensors: in a SavedModel the init op fills it, which a frozen
// graph does not run.
func smCheckTables(g *Graph) error {
	filled := map[string]bool{}
	tr := smNewTracer(g)
	for _, n := range g.Nodes {
		if smTableFillers[n.Op] && len(n.Inputs) > 0 {
			if t, ok := tr.input(n.Inputs[0]); ok {
				filled[t.Name] = true
			}
		}
	}
	for _, n := range g.Nodes {
		if smTableOps[n.Op] && !filled[n.Name] {
			return fmt.Errorf("node %q (%s) is a lookup table that the init op fills, and a frozen graph runs no init op: freeze the loaded model (tfd Model.Freeze), which folds the table's contents into the graph", n.Name, n.Op)
		}
	}
	return nil
}
