package tfd

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// DefaultSignature is the signature key TensorFlow Serving uses when a
// request names none.
const DefaultSignature = "serving_default"

// Signature is a named entry point of a model: inputs and outputs
// addressed by key, each bound to a tensor of the graph.
type Signature struct {
	Key     string                `json:"key"`
	Method  string                `json:"method_name,omitempty"`
	Inputs  map[string]TensorInfo `json:"inputs"`  // key → tensor (TensorInfo.Name is the graph tensor name)
	Outputs map[string]TensorInfo `json:"outputs"` // key → tensor
}

// InputKeys returns the input keys, sorted.
func (s *Signature) InputKeys() []string { return sortedKeys(s.Inputs) }

// OutputKeys returns the output keys, sorted.
func (s *Signature) OutputKeys() []string { return sortedKeys(s.Outputs) }

func sortedKeys(m map[string]TensorInfo) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// signatures holds a model's signatures, computed once.
type signatures struct {
	once sync.Once
	m    map[string]*Signature
}

// Signatures returns the model's signatures by key: a SavedModel's or TF.js
// model's own. A frozen GraphDef has no signatures of its own; tfd gives it
// one, "serving_default", whose inputs are the placeholders and whose
// outputs are the graph's outputs (nodes nothing consumes), each keyed by
// its node name.
func (m *Model) Signatures() map[string]*Signature {
	m.sigs.once.Do(func() {
		if m.sigs.m != nil {
			return
		}
		info := describe(m.path, m.graph, m.opt.Registry)
		s := &Signature{Key: DefaultSignature, Method: "tensorflow/serving/predict",
			Inputs: map[string]TensorInfo{}, Outputs: map[string]TensorInfo{}}
		for _, in := range info.Inputs {
			s.Inputs[in.Name] = in
		}
		for _, out := range info.Outputs {
			s.Outputs[out.Name] = out
		}
		m.sigs.m = map[string]*Signature{DefaultSignature: s}
	})
	return m.sigs.m
}

// Signature returns the signature with the given key ("" means
// DefaultSignature), or an error listing the keys the model has.
func (m *Model) Signature(key string) (*Signature, error) {
	if key == "" {
		key = DefaultSignature
	}
	sigs := m.Signatures()
	if s, ok := sigs[key]; ok {
		return s, nil
	}
	keys := make([]string, 0, len(sigs))
	for k := range sigs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return nil, fmt.Errorf("tfd: %s: no signature %q (has: %s)", m.where(), key, strings.Join(keys, ", "))
}

// RunSignature evaluates a signature: feeds and results are keyed by the
// signature's input and output keys. outputs selects output keys (none:
// all of them).
func (m *Model) RunSignature(ctx context.Context, key string, opt RunOptions, feeds map[string]*Tensor, outputs ...string) (map[string]*Tensor, error) {
	sig, err := m.Signature(key)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*Tensor, len(feeds))
	for k, v := range feeds {
		in, ok := sig.Inputs[k]
		if !ok {
			return nil, fmt.Errorf("tfd: %s: signature %q has no input %q (inputs: %s)", m.where(), sig.Key, k, strings.Join(sig.InputKeys(), ", "))
		}
		byName[in.Name] = v
	}
	for _, k := range sig.InputKeys() {
		if _, ok := feeds[k]; !ok && !sig.Inputs[k].Optional {
			return nil, fmt.Errorf("tfd: %s: signature %q: input %q is missing", m.where(), sig.Key, k)
		}
	}
	if len(outputs) == 0 {
		outputs = sig.OutputKeys()
	}
	names := make([]string, len(outputs))
	for i, k := range outputs {
		out, ok := sig.Outputs[k]
		if !ok {
			return nil, fmt.Errorf("tfd: %s: signature %q has no output %q (outputs: %s)", m.where(), sig.Key, k, strings.Join(sig.OutputKeys(), ", "))
		}
		names[i] = out.Name
	}
	vals, err := m.RunWith(ctx, opt, byName, names...)
	if err != nil {
		return nil, err
	}
	res := make(map[string]*Tensor, len(outputs))
	for i, k := range outputs {
		res[k] = vals[i]
	}
	return res, nil
}
