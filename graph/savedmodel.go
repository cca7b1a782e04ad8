package graph

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
)

// Formats of a SavedModel, as SavedModel.Format reports them.
const (
	FormatSavedModelTF1 = "savedmodel-tf1" // TF1 graph: variables are graph nodes, signatures name graph tensors
	FormatSavedModelTF2 = "savedmodel-tf2" // TF2 object graph: the math lives in library functions
	FormatCheckpoint    = "checkpoint"     // TF1 checkpoint: <prefix>.meta and a TensorBundle
)

// initSignatureKey is the signature TF2 uses to name its init op; it is
// not a serving signature.
const initSignatureKey = "__saved_model_init_op"

// SavedModelOptions configures ReadSavedModel. The zero value is valid.
type SavedModelOptions struct {
	// Tags selects the MetaGraph whose tag set equals Tags (in any order).
	// Nil picks the MetaGraph tagged exactly "serve", else the only
	// MetaGraph, else the one with no tags; a non-nil empty slice asks
	// for the MetaGraph with no tags.
	Tags []string
	// Limits bounds the file sizes, nodes and constants (variables
	// included) read.
	Limits Limits
}

// SavedModel is a SavedModel or TF1 checkpoint loaded for inference.
type SavedModel struct {
	// Dir is the SavedModel directory, or the checkpoint prefix.
	Dir string
	// Tags is the tag set of the MetaGraph loaded; AllTags lists the tag
	// sets of every MetaGraph of the file.
	Tags    []string
	AllTags [][]string
	// Producer is the GraphDef producer version; TFVersion the TensorFlow
	// version that wrote the file ("" if not recorded).
	Producer  int32
	TFVersion string
	// Signatures holds the serving signatures by key ("serving_default").
	Signatures map[string]*Signature
	// Graph is ready to run: variables read by the signatures are frozen
	// into Const nodes, function calls on their path are inlined, and the
	// graph is pruned to what the signatures need. Without signatures the
	// whole graph is kept, with every variable the checkpoint holds frozen.
	Graph *Graph
	// Variables lists the model's variables.
	Variables []VariableInfo
	// AssetsDir is the assets/ directory, or "" when there is none.
	AssetsDir string
	// Init, when the signatures need state (variables they change, lookup
	// tables, asset files), says how to set it up before the first run;
	// nil otherwise. See savedmodel_state.go.
	Init *Init
	// Format is FormatSavedModelTF1, FormatSavedModelTF2 or
	// FormatCheckpoint.
	Format string
}

// Signature is a SignatureDef: named input and output tensors.
type Signature struct {
	Key, Method     string
	Inputs, Outputs map[string]TensorInfo
}

// TensorInfo names a graph tensor ("node:k") and its declared dtype and
// shape. Name is "" for sparse and composite tensors, which tfd does not
// support.
type TensorInfo struct {
	Name  string
	DType tensor.DType
	Shape tensor.PartialShape
}

// VariableInfo describes one variable of a model.
type VariableInfo struct {
	// Name is the variable op's name in TF1 graphs and the object path
	// ("child/z") in TF2 SavedModels.
	Name string
	// Node is the graph node of the variable (VariableV2 or VarHandleOp),
	// "" when unknown.
	Node string
	// Key is the checkpoint key of its value.
	Key   string
	DType tensor.DType
	Shape tensor.PartialShape
	// Bytes is the in-memory size of the value (element storage plus the
	// bytes of strings), 0 when Missing.
	Bytes int64
	// Frozen is set when Graph holds the value as Const nodes.
	Frozen bool
	// Missing is set when the checkpoint holds no value for Key.
	Missing bool
	// Live is set when the variable stays a variable, because a signature
	// changes it or the init op sets it to a computed value: Init restores
	// it from the checkpoint (and runs the init op), and runs then read
	// and write it.
	Live bool
}

// InputKeys returns the input keys, sorted.
func (s *Signature) InputKeys() []string { return sortedAttrKeys(s.Inputs) }

// OutputKeys returns the output keys, sorted.
func (s *Signature) OutputKeys() []string { return sortedAttrKeys(s.Outputs) }

// SignatureKeys returns the signature keys, sorted.
func (sm *SavedModel) SignatureKeys() []string { return sortedAttrKeys(sm.Signatures) }

// Signature returns the signature with the given key; the error lists the
// available keys.
func (sm *SavedModel) Signature(key string) (*Signature, error) {
	s, ok := sm.Signatures[key]
	if !ok {
		return nil, fmt.Errorf("graph: %s: no signature %q (available: %s)", sm.Dir, key, smList(sm.SignatureKeys()))
	}
	return s, nil
}

// SignatureGraph returns the part of Graph one signature needs: pruned to
// its outputs, with each input tensor "node:0" that is not already a
// placeholder's output turned into a Placeholder of the signature's dtype
// and shape (so that, for example, a TF1 serving signature fed at x:0
// no longer pulls in the tf.Example parser behind x). Nodes are shared
// with Graph.
func (sm *SavedModel) SignatureGraph(key string) (*Graph, error) {
	sig, err := sm.Signature(key)
	if err != nil {
		return nil, err
	}
	g, err := smSignatureGraph(sm.Graph, sig)
	if err != nil {
		return nil, fmt.Errorf("graph: %s: signature %q: %w", sm.Dir, key, err)
	}
	return g, nil
}

func smSignatureGraph(g *Graph, sig *Signature) (*Graph, error) {
	repl := map[string]*Node{}
	for _, k := range sig.InputKeys() {
		ti := sig.Inputs[k]
		node, idx, _, err := ParseTensorName(ti.Name)
		if err != nil || ti.Name == "" {
			continue
		}
		n, ok := g.Node(node)
		if !ok {
			return nil, fmt.Errorf("input %q names tensor %q, which is not in the graph", k, ti.Name)
		}
		if idx != 0 || smIsPlaceholder(n.Op) || ti.DType == tensor.Invalid {
			continue
		}
		repl[node] = &Node{Name: node, Op: "Placeholder", Device: n.Device,
			Attrs: tensor.Attrs{"dtype": ti.DType.Base(), "shape": ti.Shape}}
	}
	nodes := make([]*Node, len(g.Nodes))
	for i, n := range g.Nodes {
		if r, ok := repl[n.Name]; ok {
			n = r
		}
		nodes[i] = n
	}
	fed, err := New(nodes)
	if err != nil {
		return nil, err
	}
	fed.Library, fed.Versions, fed.Source, fed.Format = g.Library, g.Versions, g.Source, g.Format
	keep := smSignatureTensors(sig)
	return smPrune(fed, keep)
}

// smSignatureTensors lists a signature's output tensor names and the
// nodes of its inputs.
func smSignatureTensors(sig *Signature) []string {
	var out []string
	for _, k := range sig.OutputKeys() {
		if n := sig.Outputs[k].Name; n != "" {
			out = append(out, n)
		}
	}
	for _, k := range sig.InputKeys() {
		if n := sig.Inputs[k].Name; n != "" {
			out = append(out, n)
		}
	}
	return out
}

func smIsPlaceholder(op string) bool {
	return op == "Placeholder" || op == "PlaceholderV2" || op == "PlaceholderWithDefault"
}

// ReadSavedModel loads the SavedModel in dir (saved_model.pb, or
// saved_model.pbtxt in text format, plus variables/ and assets/). It picks
// a MetaGraph by opt.Tags, inlines the function calls the signatures make,
// replaces every variable they read by a Const holding its value from
// variables/variables.index and .data-*, and prunes the graph to the
// signatures' inputs and outputs (so saver, restore and training nodes
// disappear). Variables a signature or the init op changes, lookup tables
// and asset files are state, which the graph keeps; SavedModel.Init then
// says how to set it up (restore, init op), which graph, knowing no
// kernels, does not do (tfd.Load does). Errors name the directory and the
// file, node or checkpoint key at fault.
func ReadSavedModel(dir string, opt SavedModelOptions) (*SavedModel, error) {
	sm, err := smReadSavedModel(dir, opt)
	if err != nil {
		return nil, fmt.Errorf("graph: %s: %w", dir, err)
	}
	return sm, nil
}

func smReadSavedModel(dir string, opt SavedModelOptions) (*SavedModel, error) {
	if err := opt.Limits.check(); err != nil {
		return nil, err
	}
	lim := opt.Limits.WithDefaults()
	file, format := "saved_model.pb", FormatBinary
	path := filepath.Join(dir, file)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		file, format = "saved_model.pbtxt", FormatText
		path = filepath.Join(dir, file)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no saved_model.pb or saved_model.pbtxt in the directory")
		}
	}
	data, err := readLimited(path, lim.MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	smp := &tfpb.SavedModel{}
	if err := smUnmarshal(data, format, smp); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	mg, tags, all, err := smSelectMetaGraph(smp.GetMetaGraphs(), opt.Tags)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	prefix := filepath.Join(dir, "variables", "variables")
	if _, err := os.Stat(prefix + ".index"); err != nil {
		prefix = ""
	}
	l := &smLoader{src: file, path: path, mg: mg, lim: lim, prefix: prefix, varsDir: filepath.Join("variables", "variables.index"), assetsDir: filepath.Join(dir, "assets")}
	if abs, err := filepath.Abs(l.assetsDir); err == nil {
		l.assetsDir = abs
	}
	sm, err := l.load()
	if err != nil {
		return nil, err
	}
	sm.Dir, sm.Tags, sm.AllTags = dir, tags, all
	if st, err := os.Stat(filepath.Join(dir, "assets")); err == nil && st.IsDir() {
		sm.AssetsDir = filepath.Join(dir, "assets")
	}
	return sm, nil
}

// smUnmarshal parses a binary or text message; binary input that fails
// to parse but looks like text is retried as text.
func smUnmarshal(data []byte, format string, m proto.Message) error {
	if format == FormatText {
		return textUnmarshal(data, m)
	}
	err := protoUnmarshal(data, m)
	if err != nil && looksLikeText(data) {
		proto.Reset(m)
		if terr := textUnmarshal(data, m); terr == nil {
			return nil
		}
	}
	return err
}

// smSelectMetaGraph picks the MetaGraph for tags (see SavedModelOptions).
func smSelectMetaGraph(mgs []*tfpb.MetaGraphDef, tags []string) (*tfpb.MetaGraphDef, []string, [][]string, error) {
	if len(mgs) == 0 {
		return nil, nil, nil, fmt.Errorf("the file holds no MetaGraph")
	}
	all := make([][]string, len(mgs))
	for i, mg := range mgs {
		all[i] = append([]string{}, mg.GetMetaInfoDef().GetTags()...)
	}
	match := func(want []string) int {
		w := slices.Clone(want)
		sort.Strings(w)
		w = slices.Compact(w)
		for i, t := range all {
			have := slices.Clone(t)
			sort.Strings(have)
			have = slices.Compact(have)
			if slices.Equal(have, w) {
				return i
			}
		}
		return -1
	}
	i := -1
	switch {
	case tags != nil:
		i = match(tags)
	case match([]string{"serve"}) >= 0:
		i = match([]string{"serve"})
	case len(mgs) == 1:
		i = 0
	default:
		i = match([]string{})
	}
	if i < 0 {
		avail := make([]string, len(all))
		for k, t := range all {
			avail[k] = "[" + strings.Join(t, ",") + "]"
		}
		want := "serve, the only MetaGraph or no tags"
		if tags != nil {
			want = "[" + strings.Join(tags, ",") + "]"
		}
		return nil, nil, nil, fmt.Errorf("no MetaGraph with tags %s (available tag sets: %s)", want, strings.Join(avail, " "))
	}
	return mgs[i], all[i], all, nil
}

// smList prints names for messages, at most 20 of them.
func smList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	const max = 20
	if len(names) > max {
		return strings.Join(names[:max], ", ") + fmt.Sprintf(" and %d more", len(names)-max)
	}
	return strings.Join(names, ", ")
}

// smLoader builds a SavedModel from one MetaGraphDef and its checkpoint.
type smLoader struct {
	src       string // file of the MetaGraphDef, for messages
	path      string // its path, for Graph.Source
	mg        *tfpb.MetaGraphDef
	lim       Limits
	prefix    string // TensorBundle prefix, "" when there is none
	varsDir   string // how messages name the bundle's index file
	assetsDir string // where asset files are (absolute), "" for checkpoints

	ckpt   *smCheckpoint
	ops    smOpTable
	g      *Graph
	format string
	// keys maps variable nodes (VariableV2, VarHandleOp) of the loaded
	// graph to their checkpoint keys.
	keys map[string]string
	// initOps names the init ops of the MetaGraph.
	initOps []string
	// frozen holds the keys of the variables frozen into the graph, and
	// constBytes the memory of their values.
	frozen     map[string]bool
	constBytes int64
	// live holds the variable nodes that stay variables, initConst the
	// values of those the init op sets to constants (savedmodel_state.go).
	live      map[string]bool
	initConst map[string]*tensor.Tensor
}

func (l *smLoader) load() (*SavedModel, error) {
	l.frozen = map[string]bool{}
	if l.prefix != "" {
		ck, err := smOpenCheckpoint(l.prefix, l.varsDir, l.lim)
		if err != nil {
			return nil, err
		}
		defer ck.close()
		l.ckpt = ck
	}
	g, err := decodeGraphDef(l.mg.GetGraphDef(), l.lim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.src, err)
	}
	l.g = g
	l.constBytes = smConstBytes(g)
	l.ops = smOpTableFromList(l.mg.GetMetaInfoDef().GetStrippedOpList(), l.lim)
	smFillDefaults(g, l.ops)
	smLegacyPlaceholders(g)
	if err := smCheckConsts(g); err != nil {
		return nil, fmt.Errorf("%s: %w", l.src, err)
	}
	sm := &SavedModel{
		Producer:   g.Versions.Producer,
		TFVersion:  l.mg.GetMetaInfoDef().GetTensorflowVersion(),
		Signatures: map[string]*Signature{},
	}
	l.format = FormatSavedModelTF1
	if len(l.mg.GetObjectGraphDef().GetNodes()) > 0 {
		l.format = FormatSavedModelTF2
	}
	sm.Format = l.format
	if err := l.signatures(sm); err != nil {
		return nil, fmt.Errorf("%s: %w", l.src, err)
	}
	l.findInitOps()
	vars, err := l.variableKeys()
	if err != nil {
		return nil, err
	}

	var keep []string
	for _, k := range sm.SignatureKeys() {
		keep = append(keep, smSignatureTensors(sm.Signatures[k])...)
	}
	work := g
	initOp := ""
	var assets map[string]string
	if len(keep) > 0 {
		// The init op is loaded with the signatures, so that both name the
		// nodes of inlined functions (tables, variables) alike.
		roots := keep
		if initOp = l.initOp(); initOp != "" {
			roots = append(slices.Clone(keep), initOp)
		}
		if work, err = smPrune(g, roots); err != nil {
			return nil, fmt.Errorf("%s: %w", l.src, err)
		}
		if work, err = smInline(work, l.ops, l.lim); err != nil {
			return nil, fmt.Errorf("%s: %w", l.src, err)
		}
		if assets, err = l.assetFiles(); err != nil {
			return nil, fmt.Errorf("%s: %w", l.src, err)
		}
		if err := l.classifyVariables(work, keep, assets); err != nil {
			return nil, fmt.Errorf("%s: %w", l.src, err)
		}
	}
	frozen, err := l.freeze(work, len(keep) > 0)
	if err != nil {
		return nil, err
	}
	if len(keep) > 0 {
		full, handles, err := smLowerRefVariables(frozen, l.live)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.src, err)
		}
		if full, err = smDropStaticWriters(full, l.initConst); err != nil {
			return nil, fmt.Errorf("%s: %w", l.src, err)
		}
		if frozen, err = smPrune(full, keep); err != nil {
			return nil, fmt.Errorf("%s: %w", l.src, err)
		}
		if smNeedsState(frozen) {
			if sm.Init, err = l.buildInit(full, initOp, l.liveList(work, handles), assets); err != nil {
				return nil, fmt.Errorf("%s: init: %w", l.src, err)
			}
		}
	}
	frozen.Source = l.path
	sm.Graph = frozen
	sm.Variables = l.variableList(vars)
	for i := range sm.Variables {
		sm.Variables[i].Live = l.live[sm.Variables[i].Node]
	}
	return sm, nil
}

// smLegacyPlaceholders applies TensorFlow's rule for graphs written before
// GraphDef version 22: a Placeholder whose shape attr has rank 0 accepts
// any shape (the Placeholder shape function in
// tensorflow/core/ops/array_ops.cc).
func smLegacyPlaceholders(g *Graph) {
	if g.Versions.Producer > 21 {
		return
	}
	for i, n := range g.Nodes {
		if n.Op != "Placeholder" && n.Op != "PlaceholderV2" {
			continue
		}
		if s, ok, err := n.Attrs.Shape("shape"); ok && err == nil && !s.UnknownRank && len(s.Dims) == 0 {
			c := *n
			c.Attrs = make(tensor.Attrs, len(n.Attrs))
			for k, v := range n.Attrs {
				c.Attrs[k] = v
			}
			c.Attrs["shape"] = tensor.UnknownShape()
			g.Nodes[i] = &c
		}
	}
	g.byName = nil
}

// smCheckConsts reports Const nodes without a value, which TensorFlow
// refuses to load, in the graph and its functions.
func smCheckConsts(g *Graph) error {
	check := func(n *Node) error {
		if n.Op != "Const" {
			return nil
		}
		if _, ok := n.Attrs["value"]; !ok {
			return fmt.Errorf("node %q (Const) has no value attr", n.Name)
		}
		if _, ok := n.Attrs["dtype"]; !ok {
			return fmt.Errorf("node %q (Const) has no dtype attr", n.Name)
		}
		return nil
	}
	for _, n := range g.Nodes {
		if err := check(n); err != nil {
			return err
		}
	}
	for _, f := range g.Library {
		for _, n := range f.Nodes {
			if err := check(n); err != nil {
				return fmt.Errorf("function %q: %w", f.Name, err)
			}
		}
	}
	return nil
}

// signatures converts the SignatureDefs and checks that their tensors
// exist.
func (l *smLoader) signatures(sm *SavedModel) error {
	defs := l.mg.GetSignatureDef()
	for _, key := range sortedAttrKeys(defs) {
		if key == initSignatureKey {
			continue
		}
		sd := defs[key]
		sig := &Signature{Key: key, Method: sd.GetMethodName(), Inputs: map[string]TensorInfo{}, Outputs: map[string]TensorInfo{}}
		for _, side := range []struct {
			what string
			in   map[string]*tfpb.TensorInfo
			out  map[string]TensorInfo
		}{{"input", sd.GetInputs(), sig.Inputs}, {"output", sd.GetOutputs(), sig.Outputs}} {
			for _, k := range sortedAttrKeys(side.in) {
				ti, err := l.tensorInfo(side.in[k])
				if err != nil {
					return fmt.Errorf("signature %q: %s %q: %w", key, side.what, k, err)
				}
				side.out[k] = ti
			}
		}
		sm.Signatures[key] = sig
	}
	return nil
}

func (l *smLoader) tensorInfo(tp *tfpb.TensorInfo) (TensorInfo, error) {
	d := &decoder{lim: l.lim}
	ti := TensorInfo{DType: tensor.DType(tp.GetDtype()).Base(), Shape: tensor.UnknownShape()}
	if tp.GetTensorShape() != nil {
		s, err := d.partialShape(tp.GetTensorShape())
		if err != nil {
			return ti, err
		}
		ti.Shape = s
	}
	name := tp.GetName()
	if name == "" {
		return ti, nil // sparse or composite: not supported, not checked
	}
	node, _, ctl, err := ParseTensorName(name)
	if err != nil || ctl {
		return ti, fmt.Errorf("bad tensor name %q", name)
	}
	if _, ok := l.g.Node(node); !ok {
		return ti, fmt.Errorf("tensor %q: no node %q in the graph", name, node)
	}
	ti.Name = name
	return ti, nil
}

// findInitOps records the MetaGraph's init ops.
func (l *smLoader) findInitOps() {
	if sd, ok := l.mg.GetSignatureDef()[initSignatureKey]; ok {
		for _, k := range sortedAttrKeys(sd.GetOutputs()) {
			if node, _, _, err := ParseTensorName(sd.GetOutputs()[k].GetName()); err == nil {
				l.initOps = append(l.initOps, node)
			}
		}
	}
	for _, c := range []string{"saved_model_main_op", "legacy_init_op", "table_initializer"} {
		for _, v := range l.mg.GetCollectionDef()[c].GetNodeList().GetValue() {
			if node, _, _, err := ParseTensorName(v); err == nil && !slices.Contains(l.initOps, node) {
				l.initOps = append(l.initOps, node)
			}
		}
	}
}

// smConstBytes sums the memory of the graph's constants as the decoder
// charges it: element storage plus the bytes of strings.
func smConstBytes(g *Graph) int64 {
	var total int64
	add := func(ns []*Node) {
		for _, n := range ns {
			if t, ok, err := n.Attrs.Tensor("value"); ok && err == nil {
				total += int64(t.Len()) * int64(t.DType().StorageSize())
				if t.DType() == tensor.String {
					total += t.Bytes()
				}
			}
		}
	}
	add(g.Nodes)
	for _, f := range g.Library {
		add(f.Nodes)
	}
	return total
}

// smConst returns a Const node holding t.
func smConst(name, device string, t *tensor.Tensor) *Node {
	return &Node{Name: name, Op: "Const", Device: device, Attrs: tensor.Attrs{"dtype": t.DType(), "value": t}}
}

// smVarWriters are the ops that only write or save a variable; a variable
// that feeds nothing else need not be loaded.
var smVarWriters = map[string]bool{
	"Assign": true, "AssignAdd": true, "AssignSub": true, "SaveV2": true, "Save": true, "SaveSlices": true,
	"IsVariableInitialized": true, "AssignVariableOp": true, "VarIsInitializedOp": true,
}

// freeze replaces variables by their checkpoint values: VariableV2 nodes
// become Consts of the same name, and ReadVariableOp nodes whose handle
// traces to a VarHandleOp become Consts named as the read; ResourceGather
// and VariableShape of such handles become GatherV2 and Shape of a
// Const. With need set (signature mode), every variable the graph still
// reads must be in the checkpoint; otherwise variables the checkpoint
// lacks, or that only feed writers and savers, stay as they are.
func (l *smLoader) freeze(g *Graph, need bool) (*Graph, error) {
	readers := map[string]bool{}
	if !need {
		for _, n := range g.Nodes {
			if smVarWriters[n.Op] {
				continue
			}
			for _, in := range n.Inputs {
				readers[in.Node] = true
			}
		}
	}
	unique := g.Namer()
	var out []*Node
	tr := smNewTracer(g)
	for _, n := range g.Nodes {
		switch n.Op {
		case "VariableV2", "Variable":
			if (!need && !readers[n.Name]) || l.live[n.Name] {
				break
			}
			t, err := l.frozenValue(n, need)
			if err != nil {
				return nil, err
			}
			if t == nil {
				break
			}
			out = append(out, smConst(n.Name, n.Device, t))
			continue
		case "ReadVariableOp", "ResourceGather", "VariableShape":
			if len(n.Inputs) == 0 {
				break
			}
			v, ok := tr.input(n.Inputs[0])
			if !ok || v.Op != "VarHandleOp" {
				if need && n.Op == "ReadVariableOp" {
					return nil, fmt.Errorf("%s: node %q (ReadVariableOp): its resource input does not lead to a variable (VarHandleOp)", l.src, n.Name)
				}
				break
			}
			if l.live[v.Name] {
				break
			}
			t, err := l.frozenValue(v, need)
			if err != nil {
				return nil, err
			}
			if t == nil {
				break
			}
			repl, err := smReplaceRead(n, t, unique)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", l.src, err)
			}
			out = append(out, repl...)
			continue
		}
		out = append(out, smBaseTypes(n))
	}
	res, err := New(out)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.src, err)
	}
	res.Library, res.Versions, res.Source, res.Format = g.Library, g.Versions, g.Source, g.Format
	return res, nil
}

// smBaseTypes returns n with reference dtypes in its attrs (T:
// DT_FLOAT_REF on a TF1 node reading a variable) folded to their base
// types, since the variables it read are now constants; n itself when it
// has none.
func smBaseTypes(n *Node) *Node {
	has := false
	for _, v := range n.Attrs {
		switch x := v.(type) {
		case tensor.DType:
			has = has || x.IsRef()
		case []tensor.DType:
			for _, t := range x {
				has = has || t.IsRef()
			}
		}
	}
	if !has {
		return n
	}
	c := *n
	c.Attrs = make(tensor.Attrs, len(n.Attrs))
	for k, v := range n.Attrs {
		switch x := v.(type) {
		case tensor.DType:
			v = x.Base()
		case []tensor.DType:
			ts := make([]tensor.DType, len(x))
			for i, t := range x {
				ts[i] = t.Base()
			}
			v = ts
		}
		c.Attrs[k] = v
	}
	return &c
}

// smReplaceRead returns the nodes that replace a read n of a variable
// whose value is t.
func smReplaceRead(n *Node, t *tensor.Tensor, unique func(string) string) ([]*Node, error) {
	switch n.Op {
	case "ReadVariableOp":
		return []*Node{smConst(n.Name, n.Device, t)}, nil
	case "VariableShape":
		params := smConst(unique(n.Name+"/frozen_value"), n.Device, t)
		outType := tensor.Int32
		if dt, ok, _ := n.Attrs.Type("out_type"); ok {
			outType = dt
		}
		return []*Node{params, {Name: n.Name, Op: "Shape", Device: n.Device, Inputs: []Input{{Node: params.Name}},
			ControlInputs: n.ControlInputs, Attrs: tensor.Attrs{"T": t.DType(), "out_type": outType}}}, nil
	}
	// ResourceGather(resource, indices) = GatherV2(value, indices, 0).
	if len(n.Inputs) != 2 {
		return nil, fmt.Errorf("node %q (ResourceGather) has %d inputs, expected 2", n.Name, len(n.Inputs))
	}
	params := smConst(unique(n.Name+"/frozen_value"), n.Device, t)
	axis := smConst(unique(n.Name+"/axis"), n.Device, tensor.Scalar[int32](0))
	tind := tensor.Int32
	if dt, ok, _ := n.Attrs.Type("Tindices"); ok {
		tind = dt
	}
	batch, _, _ := n.Attrs.Int("batch_dims")
	gather := &Node{Name: n.Name, Op: "GatherV2", Device: n.Device,
		Inputs:        []Input{{Node: params.Name}, n.Inputs[1], {Node: axis.Name}},
		ControlInputs: n.ControlInputs,
		Attrs:         tensor.Attrs{"Tparams": t.DType(), "Tindices": tind, "Taxis": tensor.Int32, "batch_dims": batch}}
	return []*Node{params, axis, gather}, nil
}
