package tfd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/tfdgo/tfd/graph"
)

// Model file formats, as reported by Model.Format and Info.Format.
const (
	FormatGraphDef   = "graphdef"
	FormatSavedModel = "savedmodel"
	FormatCheckpoint = "checkpoint"
	FormatTFJS       = "tfjs"
)

// loaded is what a format loader returns to Load.
type loaded struct {
	graph     *graph.Graph
	format    string
	sigs      map[string]*Signature
	variables []graph.VariableInfo
	tags      []string
	allTags   [][]string
	tfVersion string
	producer  int32
	dir       string
	init      *graph.Init // state to set up before the first run (state.go)
	assetsDir string
}

// WithTags selects the MetaGraph of a SavedModel by its tag set (default
// "serve", then the only MetaGraph, then the empty tag set).
func WithTags(tags ...string) Option {
	return optionFunc(func(o *Options) { o.Tags = append([]string(nil), tags...) })
}

// detect returns the format of path and the path to hand its loader.
func detect(path string) (string, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		// A checkpoint prefix names no file of its own.
		if _, err2 := os.Stat(path + ".index"); err2 == nil {
			return FormatCheckpoint, path, nil
		}
		return "", "", fmt.Errorf("tfd: %w", err)
	}
	if st.IsDir() {
		has := func(name string) bool { _, err := os.Stat(filepath.Join(path, name)); return err == nil }
		switch {
		case has("saved_model.pb") || has("saved_model.pbtxt"):
			return FormatSavedModel, path, nil
		case has("model.json"):
			return FormatTFJS, filepath.Join(path, "model.json"), nil
		case has("checkpoint"):
			return FormatCheckpoint, path, nil
		}
		if v, ok := latestVersion(path); ok {
			return detect(filepath.Join(path, v))
		}
		return "", "", fmt.Errorf("tfd: %s: directory holds no saved_model.pb, saved_model.pbtxt, model.json, checkpoint or numbered version subdirectory", path)
	}
	switch {
	case strings.HasSuffix(path, ".json"):
		return FormatTFJS, path, nil
	case strings.HasSuffix(path, ".meta") || strings.HasSuffix(path, ".index"):
		return FormatCheckpoint, path, nil
	}
	return FormatGraphDef, path, nil
}

// latestVersion returns the highest numbered subdirectory of dir (TF
// Serving's layout base/<version>/saved_model.pb).
func latestVersion(dir string) (string, bool) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	best, bestV := "", int64(-1)
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		v, err := strconv.ParseInt(e.Name(), 10, 64)
		if err == nil && v > bestV {
			best, bestV = e.Name(), v
		}
	}
	return best, bestV >= 0
}

// loadAny reads a model in any supported format.
func loadAny(path string, opt Options) (*loaded, error) {
	format, p, err := detect(path)
	if err != nil {
		return nil, err
	}
	lim := opt.Limits.graph()
	switch format {
	case FormatSavedModel:
		sm, err := graph.ReadSavedModel(p, graph.SavedModelOptions{Tags: opt.Tags, Limits: lim})
		if err != nil {
			return nil, err
		}
		return fromSavedModel(sm, sm.Format), nil
	case FormatCheckpoint:
		sm, err := graph.ReadCheckpoint(p, lim)
		if err != nil {
			return nil, err
		}
		return fromSavedModel(sm, FormatCheckpoint), nil
	case FormatTFJS:
		tm, err := graph.ReadTFJS(p, lim)
		if err != nil {
			return nil, err
		}
		l := &loaded{graph: tm.Graph, format: FormatTFJS, tfVersion: tm.GeneratedBy}
		if tm.Signature != nil {
			s := &Signature{Key: DefaultSignature, Method: tm.Signature.MethodName, Inputs: map[string]TensorInfo{}, Outputs: map[string]TensorInfo{}}
			for k, v := range tm.Signature.Inputs {
				s.Inputs[k] = TensorInfo{Name: v.Name, DType: v.DType, Shape: v.Shape}
			}
			for k, v := range tm.Signature.Outputs {
				s.Outputs[k] = TensorInfo{Name: v.Name, DType: v.DType, Shape: v.Shape}
			}
			l.sigs = map[string]*Signature{DefaultSignature: s}
		}
		return l, nil
	}
	g, err := graph.ReadFile(p, lim)
	if err != nil {
		return nil, err
	}
	return &loaded{graph: g, format: FormatGraphDef, producer: g.Versions.Producer}, nil
}

func fromSavedModel(sm *graph.SavedModel, format string) *loaded {
	assets := sm.AssetsDir
	if assets == "" && format != FormatCheckpoint && sm.Dir != "" {
		assets = filepath.Join(sm.Dir, "assets") // absent: reads fail naming the file
	}
	l := &loaded{graph: sm.Graph, format: format, variables: sm.Variables, tags: sm.Tags, allTags: sm.AllTags,
		tfVersion: sm.TFVersion, producer: sm.Producer, dir: sm.Dir, sigs: map[string]*Signature{}, init: sm.Init, assetsDir: assets}
	for key, s := range sm.Signatures {
		l.sigs[key] = &Signature{Key: key, Method: s.Method, Inputs: convertInfos(s.Inputs), Outputs: convertInfos(s.Outputs)}
	}
	return l
}

func convertInfos(m map[string]graph.TensorInfo) map[string]TensorInfo {
	out := make(map[string]TensorInfo, len(m))
	for k, v := range m {
		out[k] = TensorInfo{Name: v.Name, DType: v.DType, Shape: v.Shape}
	}
	return out
}

// neededNodes returns the nodes that computing outputs needs when inputs
// are fed: a walk back over data and control inputs that stops at fed
// tensors' nodes.
func neededNodes(g *graph.Graph, inputs, outputs []string) []*graph.Node {
	fed := map[string]bool{}
	for _, in := range inputs {
		node, _, _, err := graph.ParseTensorName(in)
		if err == nil {
			fed[node] = true
		}
	}
	seen := map[string]bool{}
	var out []*graph.Node
	var stack []string
	for _, o := range outputs {
		if node, _, _, err := graph.ParseTensorName(o); err == nil {
			stack = append(stack, node)
		}
	}
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[name] {
			continue
		}
		seen[name] = true
		n, ok := g.Node(name)
		if !ok {
			continue
		}
		out = append(out, n)
		if fed[name] {
			continue
		}
		for _, in := range n.Inputs {
			stack = append(stack, in.Node)
		}
		stack = append(stack, n.ControlInputs...)
	}
	return out
}

// signatureTensors returns the tensor names of a signature's inputs and
// outputs.
func signatureTensors(s *Signature) (in, out []string) {
	for _, k := range s.InputKeys() {
		in = append(in, s.Inputs[k].Name)
	}
	for _, k := range s.OutputKeys() {
		out = append(out, s.Outputs[k].Name)
	}
	return in, out
}

// defaultSignatureKey returns the signature a model is judged by at load:
// serving_default, else the first key in sorted order.
func defaultSignatureKey(sigs map[string]*Signature) string {
	if _, ok := sigs[DefaultSignature]; ok {
		return DefaultSignature
	}
	keys := make([]string, 0, len(sigs))
	for k := range sigs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

var errNoGraph = errors.New("tfd: model has no graph")
