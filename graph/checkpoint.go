package graph

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/tfdgo/tfd/graph/bundle"
	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
)

// ReadCheckpoint loads a TF1 checkpoint for inference: the MetaGraphDef
// in "<prefix>.meta" and the variables in the TensorBundle
// "<prefix>.index" and "<prefix>.data-*". path is the prefix, the path of
// the .meta, .index or a .data-* file, or a directory holding a
// "checkpoint" state file (whose model_checkpoint_path names the prefix;
// an absolute path that does not exist is looked up beside the state file,
// as happens when a checkpoint directory is moved).
//
// Variables are frozen into Consts as ReadSavedModel does. A MetaGraph
// without signatures keeps its whole graph; every variable the bundle
// holds and the graph reads is frozen.
func ReadCheckpoint(path string, lim Limits) (*SavedModel, error) {
	sm, err := smReadCheckpoint(path, lim)
	if err != nil {
		return nil, fmt.Errorf("graph: %s: %w", path, err)
	}
	return sm, nil
}

var smDataSuffix = regexp.MustCompile(`\.data-[0-9]{5}-of-[0-9]{5}$`)

func smReadCheckpoint(path string, lim Limits) (*SavedModel, error) {
	if err := lim.check(); err != nil {
		return nil, err
	}
	lim = lim.WithDefaults()
	prefix, err := smCheckpointPrefix(path, lim)
	if err != nil {
		return nil, err
	}
	meta := prefix + ".meta"
	base := filepath.Base(prefix)
	data, err := readLimited(meta, lim.MaxFileBytes)
	if err != nil {
		if _, ierr := os.Stat(prefix + ".index"); errors.Is(err, fs.ErrNotExist) && ierr == nil {
			return nil, fmt.Errorf("%s.meta: %w (%s.index holds variable values but there is no graph beside it)", base, err, base)
		}
		return nil, fmt.Errorf("%s.meta: %w", base, err)
	}
	mg := &tfpb.MetaGraphDef{}
	if err := smUnmarshal(data, FormatBinary, mg); err != nil {
		return nil, fmt.Errorf("%s.meta: %w", base, err)
	}
	l := &smLoader{src: base + ".meta", path: meta, mg: mg, lim: lim, prefix: prefix, varsDir: base + ".index"}
	sm, err := l.load()
	if err != nil {
		return nil, err
	}
	sm.Dir = prefix
	sm.Format = FormatCheckpoint
	sm.Tags = append([]string{}, mg.GetMetaInfoDef().GetTags()...)
	sm.AllTags = [][]string{sm.Tags}
	return sm, nil
}

// smCheckpointPrefix turns what ReadCheckpoint accepts into a prefix.
func smCheckpointPrefix(path string, lim Limits) (string, error) {
	st, err := os.Stat(path)
	if err == nil && st.IsDir() {
		state := filepath.Join(path, "checkpoint")
		data, err := readLimited(state, min(lim.MaxFileBytes, 1<<20))
		if err != nil {
			return "", fmt.Errorf("directory without a readable checkpoint state file: %w", err)
		}
		p, err := smParseCheckpointState(data)
		if err != nil {
			return "", fmt.Errorf("checkpoint state file: %w", err)
		}
		if !filepath.IsAbs(p) {
			return filepath.Join(path, p), nil
		}
		if _, err := os.Stat(p + ".index"); errors.Is(err, fs.ErrNotExist) {
			return filepath.Join(path, filepath.Base(p)), nil
		}
		return p, nil
	}
	for _, suffix := range []string{".meta", ".index"} {
		if p, ok := strings.CutSuffix(path, suffix); ok {
			return p, nil
		}
	}
	if loc := smDataSuffix.FindStringIndex(path); loc != nil {
		return path[:loc[0]], nil
	}
	return path, nil
}

// smParseCheckpointState reads model_checkpoint_path from a text-format
// CheckpointState.
func smParseCheckpointState(data []byte) (string, error) {
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || strings.TrimSpace(k) != "model_checkpoint_path" {
			continue
		}
		v = strings.TrimSpace(v)
		if s, err := strconv.Unquote(v); err == nil {
			v = s
		} else if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		if v == "" {
			break
		}
		return v, nil
	}
	return "", fmt.Errorf("no model_checkpoint_path entry")
}

// smCheckpoint reads variable values from a TensorBundle.
type smCheckpoint struct {
	r     *bundle.Reader
	name  string // how messages name the index file
	cache map[string]*tensor.Tensor
}

func smOpenCheckpoint(prefix, name string, lim Limits) (*smCheckpoint, error) {
	r, err := bundle.Open(prefix, bundle.Limits{MaxElements: lim.MaxElements, MaxBytes: lim.MaxConstBytes, MaxRank: lim.MaxRank})
	if err != nil {
		var be *bundle.Error
		if errors.As(err, &be) {
			return nil, err // names the file already
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &smCheckpoint{r: r, name: name, cache: map[string]*tensor.Tensor{}}, nil
}

func (c *smCheckpoint) close() {
	if c != nil {
		c.r.Close()
	}
}

func (c *smCheckpoint) entry(key string) (bundle.Entry, bool) {
	if c == nil {
		return bundle.Entry{}, false
	}
	return c.r.Entry(key)
}

// tensor reads the value under key once; repeated reads share it.
func (c *smCheckpoint) tensor(key string) (*tensor.Tensor, error) {
	if t, ok := c.cache[key]; ok {
		return t, nil
	}
	t, err := c.r.Tensor(key)
	if err != nil {
		return nil, err
	}
	c.cache[key] = t
	return t, nil
}

// trackable returns the TF2 object graph the bundle holds under
// "_CHECKPOINTABLE_OBJECT_GRAPH", or nil.
func (c *smCheckpoint) trackable() (*tfpb.TrackableObjectGraph, error) {
	const key = "_CHECKPOINTABLE_OBJECT_GRAPH"
	if _, ok := c.entry(key); !ok {
		return nil, nil
	}
	s, err := c.r.String(key)
	if err != nil {
		return nil, err
	}
	if len(s) != 1 {
		return nil, fmt.Errorf("%s: key %q holds %d strings, expected 1", c.name, key, len(s))
	}
	tog := &tfpb.TrackableObjectGraph{}
	if err := protoUnmarshal([]byte(s[0]), tog); err != nil {
		return nil, fmt.Errorf("%s: key %q: %w", c.name, key, err)
	}
	return tog, nil
}

// smEscapeName escapes one object-graph name for a checkpoint key as
// tensorflow/python/checkpoint/util.py escape_local_name does.
func smEscapeName(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, ".", ".."), "/", ".S")
}

// smVariableSuffix ends the checkpoint key of a variable's value.
const smVariableSuffix = "/.ATTRIBUTES/VARIABLE_VALUE"

// variableKeys maps the graph's variable nodes to checkpoint keys (in
// l.keys) and returns the model's variables, values not yet known.
func (l *smLoader) variableKeys() ([]VariableInfo, error) {
	l.keys = map[string]string{}
	restore := smRestoreKeys(l.g)
	if rg := smRestoreGraph(l.g, l.mg, l.ops, l.lim); rg != nil {
		for k, v := range smRestoreKeys(rg) {
			if _, ok := restore[k]; !ok {
				restore[k] = v
			}
		}
	}
	if l.format == FormatSavedModelTF2 {
		return l.variableKeysTF2(restore)
	}
	var vars []VariableInfo
	for _, n := range l.g.Nodes {
		switch n.Op {
		case "VariableV2", "Variable", "VarHandleOp":
		default:
			continue
		}
		key, ok := restore[n.Name]
		if !ok {
			key = n.Name
			if sn, _, _ := n.Attrs.String("shared_name"); sn != "" && n.Op == "VarHandleOp" {
				key = sn
			}
		}
		l.keys[n.Name] = key
		vars = append(vars, VariableInfo{Name: n.Name, Node: n.Name, Key: key, DType: smAttrType(n, "dtype"), Shape: smAttrShape(n, "shape")})
	}
	return vars, nil
}

func smAttrType(n *Node, name string) tensor.DType {
	t, _, _ := n.Attrs.Type(name)
	return t.Base()
}

func smAttrShape(n *Node, name string) tensor.PartialShape {
	s, ok, err := n.Attrs.Shape(name)
	if !ok || err != nil {
		return tensor.UnknownShape()
	}
	return s
}

// variableKeysTF2 maps variables through the SavedObjectGraph: the path of
// each SavedVariable from the root names its key, the TrackableObjectGraph
// in the bundle gives the exact key (its node ids match), and the
// functions' bound inputs say which graph node is which object.
func (l *smLoader) variableKeysTF2(restore map[string]string) ([]VariableInfo, error) {
	og := l.mg.GetObjectGraphDef()
	nodes := og.GetNodes()
	paths := make([][]string, len(nodes))
	seen := make([]bool, len(nodes))
	seen[0] = true
	queue := []int{0}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, ch := range nodes[id].GetChildren() {
			c := int(ch.GetNodeId())
			if c < 0 || c >= len(nodes) {
				return nil, fmt.Errorf("%s: object graph node %d has child %d, but there are %d nodes", l.src, id, c, len(nodes))
			}
			if seen[c] {
				continue
			}
			seen[c] = true
			paths[c] = append(append([]string(nil), paths[id]...), ch.GetLocalName())
			queue = append(queue, c)
		}
	}
	escape := func(path []string) string {
		escaped := make([]string, len(path))
		for i, p := range path {
			escaped[i] = smEscapeName(p)
		}
		return strings.Join(escaped, "/")
	}
	objPath := make([]string, len(nodes)) // escaped, as keys spell it
	for id := range nodes {
		if seen[id] {
			objPath[id] = escape(paths[id])
		}
	}
	// Optimizer slots hang off the optimizer, not the object tree:
	// "<variable path>/.OPTIMIZER_SLOT/<optimizer path>/<slot name>".
	for opt, obj := range nodes {
		for _, sr := range obj.GetSlotVariables() {
			v, s := int(sr.GetOriginalVariableNodeId()), int(sr.GetSlotVariableNodeId())
			if !seen[opt] || v < 0 || v >= len(nodes) || !seen[v] || s < 0 || s >= len(nodes) || seen[s] {
				continue
			}
			seen[s] = true
			paths[s] = append(append(append([]string(nil), paths[v]...), ".OPTIMIZER_SLOT"), append(append([]string(nil), paths[opt]...), sr.GetSlotName())...)
			objPath[s] = objPath[v] + "/.OPTIMIZER_SLOT/" + objPath[opt] + "/" + smEscapeName(sr.GetSlotName())
		}
	}
	tog, err := l.ckpt.trackableGraph()
	if err != nil {
		return nil, err
	}
	objKey := map[int]string{}
	var vars []VariableInfo
	for id, obj := range nodes {
		sv := obj.GetVariable()
		if sv == nil || !seen[id] {
			continue
		}
		key := objPath[id] + smVariableSuffix
		if _, ok := l.ckpt.entry(key); !ok && tog != nil && id < len(tog.GetNodes()) {
			for _, a := range tog.GetNodes()[id].GetAttributes() {
				if a.GetName() == "VARIABLE_VALUE" {
					if _, ok := l.ckpt.entry(a.GetCheckpointKey()); ok {
						key = a.GetCheckpointKey()
					}
				}
			}
		}
		objKey[id] = key
		shape := tensor.UnknownShape()
		if sv.GetShape() != nil {
			if s, err := (&decoder{lim: l.lim}).partialShape(sv.GetShape()); err == nil {
				shape = s
			}
		}
		vars = append(vars, VariableInfo{Name: strings.Join(paths[id], "/"), Key: key, DType: tensor.DType(sv.GetDtype()).Base(), Shape: shape})
	}

	// Calls of concrete functions pass the captured objects last.
	nodeObj := map[string]int{}
	tr := smNewTracer(l.g)
	for _, n := range l.g.Nodes {
		if n.Op != "StatefulPartitionedCall" && n.Op != "PartitionedCall" {
			continue
		}
		f, ok := n.Attrs["f"].(tensor.Func)
		if !ok {
			continue
		}
		cf, ok := og.GetConcreteFunctions()[f.Name]
		if !ok {
			continue
		}
		bound := cf.GetBoundInputs()
		first := len(n.Inputs) - len(bound)
		if first < 0 {
			return nil, fmt.Errorf("%s: node %q calls %q with %d inputs, but it captures %d objects", l.src, n.Name, f.Name, len(n.Inputs), len(bound))
		}
		for j, id := range bound {
			src, ok := tr.input(n.Inputs[first+j])
			if !ok || src.Op != "VarHandleOp" {
				continue
			}
			if _, dup := nodeObj[src.Name]; !dup {
				nodeObj[src.Name] = int(id)
			}
		}
	}
	for _, n := range l.g.Nodes {
		if n.Op != "VarHandleOp" {
			continue
		}
		if id, ok := nodeObj[n.Name]; ok {
			if key, ok := objKey[id]; ok {
				l.keys[n.Name] = key
				continue
			}
		}
		if key, ok := restore[n.Name]; ok {
			l.keys[n.Name] = key
			continue
		}
		if sn, _, _ := n.Attrs.String("shared_name"); sn != "" {
			l.keys[n.Name] = sn
		}
	}
	for i := range vars {
		for node, key := range l.keys {
			if key == vars[i].Key && (vars[i].Node == "" || node < vars[i].Node) {
				vars[i].Node = node
			}
		}
	}
	return vars, nil
}

// trackableGraph is trackable for a possibly absent checkpoint.
func (c *smCheckpoint) trackableGraph() (*tfpb.TrackableObjectGraph, error) {
	if c == nil {
		return nil, nil
	}
	return c.trackable()
}

// smTracer follows Identity and IdentityN edges back from a tensor to the
// node that produces it. It remembers every tensor it has resolved, so
// that tracing all the inputs of a graph takes time linear in its size
// even when a hostile file chains many Identity nodes before many readers.
type smTracer struct {
	g    *Graph
	memo map[Input]smTraced
}

// smTraced is where a tensor leads: output index of node n, or !ok when
// the chain ends at a missing node, a bad index or a cycle.
type smTraced struct {
	n     *Node
	index int
	ok    bool
}

func smNewTracer(g *Graph) *smTracer { return &smTracer{g: g, memo: map[Input]smTraced{}} }

// input returns the node producing tensor in, looking through Identity
// and IdentityN nodes.
func (tr *smTracer) input(in Input) (*Node, bool) {
	r := tr.output(in)
	return r.n, r.ok
}

// output is input that also returns the output index.
func (tr *smTracer) output(in Input) smTraced {
	var path []Input
	var res smTraced
	for {
		if r, seen := tr.memo[in]; seen {
			res = r // a tensor still on path (a cycle) is recorded as !ok
			break
		}
		tr.memo[in] = smTraced{}
		path = append(path, in)
		n, ok := tr.g.Node(in.Node)
		if !ok {
			break
		}
		next := in
		switch n.Op {
		case "Identity":
			if len(n.Inputs) == 0 {
				next.Node = ""
			} else {
				next = n.Inputs[0]
			}
		case "IdentityN":
			if in.Index >= len(n.Inputs) {
				next.Node = ""
			} else {
				next = n.Inputs[in.Index]
			}
		default:
			res = smTraced{n: n, index: in.Index, ok: true}
		}
		if res.ok || next.Node == "" {
			break
		}
		in = next
	}
	for _, p := range path {
		tr.memo[p] = res
	}
	return res
}

// smRestoreKeys reads the saver's restore subgraph: each Assign or
// AssignVariableOp whose value is output i of a RestoreV2 names its
// variable's checkpoint key, element i of the RestoreV2's tensor_names.
func smRestoreKeys(g *Graph) map[string]string {
	keys := map[string]string{}
	tr := smNewTracer(g)
	for _, n := range g.Nodes {
		if (n.Op != "Assign" && n.Op != "AssignVariableOp") || len(n.Inputs) < 2 {
			continue
		}
		v, ok := tr.input(n.Inputs[0])
		if !ok || (v.Op != "VariableV2" && v.Op != "Variable" && v.Op != "VarHandleOp") {
			continue
		}
		ro := tr.output(n.Inputs[1])
		r, idx := ro.n, ro.index
		if !ro.ok || r.Op != "RestoreV2" || len(r.Inputs) < 2 {
			continue
		}
		c, ok := tr.input(r.Inputs[1])
		if !ok || c.Op != "Const" {
			continue
		}
		t, ok, _ := c.Attrs.Tensor("value")
		if !ok || t.DType() != tensor.String || idx >= t.Len() {
			continue
		}
		if _, dup := keys[v.Name]; !dup {
			keys[v.Name] = tensor.As[string](t)[idx]
		}
	}
	return keys
}

// value returns the checkpoint value of variable node v (VariableV2 or
// VarHandleOp), checked against its declared dtype and shape. It returns
// nil without error when need is false and the value is absent.
func (l *smLoader) value(v *Node, need bool) (*tensor.Tensor, error) {
	key, ok := l.keys[v.Name]
	if !ok {
		if !need {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: variable %q: no checkpoint key is known for it", l.src, v.Name)
	}
	if l.ckpt == nil {
		if !need {
			return nil, nil
		}
		return nil, fmt.Errorf("the serving graph reads variable %q (checkpoint key %q), but there is no %s", v.Name, key, l.varsDir)
	}
	e, ok := l.ckpt.entry(key)
	if !ok {
		if !need {
			return nil, nil
		}
		hint := ""
		if len(l.initOps) > 0 {
			hint = fmt.Sprintf(" and init op %q does not set it", l.initOps[0])
		}
		return nil, fmt.Errorf("%s: variable %q: checkpoint key %q is not in the checkpoint%s", l.varsDir, v.Name, key, hint)
	}
	if _, cached := l.ckpt.cache[key]; !cached {
		n, err := e.Shape.NumElements()
		if err != nil {
			return nil, limitErr("%s: key %q: shape %v has too many elements", l.varsDir, key, e.Shape)
		}
		mem := int64(n) * int64(e.DType.StorageSize())
		if e.DType == tensor.String {
			mem += e.Size
		}
		if mem > l.lim.MaxConstBytes-l.constBytes {
			return nil, limitErr("%s: key %q: variables need more than %d bytes of constants", l.varsDir, key, l.lim.MaxConstBytes)
		}
		l.constBytes += mem
	}
	t, err := l.ckpt.tensor(key)
	if err != nil {
		return nil, fmt.Errorf("variable %q: %w", v.Name, err)
	}
	if dt := smAttrType(v, "dtype"); dt != tensor.Invalid && dt != t.DType() {
		return nil, fmt.Errorf("%s: variable %q: checkpoint key %q holds %s%v, the graph declares dtype %s", l.varsDir, v.Name, key, t.DType(), t.Shape(), dt)
	}
	if s := smAttrShape(v, "shape"); !s.Matches(t.Shape()) {
		return nil, fmt.Errorf("%s: variable %q: checkpoint key %q holds %s%v, the graph declares shape %v", l.varsDir, v.Name, key, t.DType(), t.Shape(), s)
	}
	l.frozen[key] = true
	return t, nil
}

// variableList fills in sizes and states of the variables found by
// variableKeys.
func (l *smLoader) variableList(vars []VariableInfo) []VariableInfo {
	for i := range vars {
		v := &vars[i]
		e, ok := l.ckpt.entry(v.Key)
		if !ok {
			v.Missing = true
			continue
		}
		if n, err := e.Shape.NumElements(); err == nil {
			v.Bytes = int64(n) * int64(e.DType.StorageSize())
			if e.DType == tensor.String {
				v.Bytes += e.Size
			}
		}
		v.Frozen = l.frozen[v.Key]
	}
	return vars
}

// smRestoreGraph returns the restore subgraph named by the SaverDef with
// its function calls inlined, for smRestoreKeys; nil if there is none.
func smRestoreGraph(g *Graph, mg *tfpb.MetaGraphDef, ops smOpTable, lim Limits) *Graph {
	name := mg.GetSaverDef().GetRestoreOpName()
	node, _, _, err := ParseTensorName(name)
	if err != nil {
		return nil
	}
	if _, ok := g.Node(node); !ok {
		return nil
	}
	p, err := Prune(g, []string{node})
	if err != nil {
		return nil
	}
	in, err := smInline(p, ops, lim)
	if err != nil {
		return nil
	}
	return in
}
