package tfd

import (
	"fmt"
	"sort"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/tensor"
)

// FreezeOptions says what to keep when freezing a model.
type FreezeOptions struct {
	// Signature names the signature whose outputs to keep ("" means the
	// default signature). Ignored when Outputs is set.
	Signature string
	// Outputs lists tensor names to keep instead of a signature's outputs.
	Outputs []string
}

// Frozen is a model frozen into a plain GraphDef: variables are constants,
// function calls on the path are inlined, the graph is pruned to the
// outputs and carries no private attrs.
type Frozen struct {
	Graph *graph.Graph
	// Inputs and Outputs map the signature's keys to the tensor names of
	// the frozen graph. When freezing a signature, input placeholders are
	// renamed to their keys and each output gets an Identity node named
	// after its key, where those names are free, so the frozen graph reads
	// like the signature: feed "x", fetch "y".
	Inputs, Outputs map[string]string
}

// Encode writes the frozen graph as a binary GraphDef.
func (f *Frozen) Encode() ([]byte, error) { return graph.Encode(f.Graph) }

// EncodeText writes the frozen graph as a text GraphDef.
func (f *Frozen) EncodeText() ([]byte, error) { return graph.EncodeText(f.Graph) }

// Freeze freezes the model for a signature or a list of output tensors.
// The model's state is captured as it is now: a variable a run has
// changed (a counter) becomes a constant of its current value, a lookup
// table its current contents (two Consts and a LookupTableImportV2 that
// the table's users wait for, which is how TensorFlow serializes an
// initialized table), and a file an op reads (ReadFile of an asset) its
// contents. Outputs that change a variable cannot be frozen.
func (m *Model) Freeze(opt FreezeOptions) (*Frozen, error) {
	fr := &Frozen{Inputs: map[string]string{}, Outputs: map[string]string{}}
	var sig *Signature
	outputs := opt.Outputs
	if len(outputs) == 0 {
		s, err := m.Signature(opt.Signature)
		if err != nil {
			return nil, err
		}
		sig = s
		for _, k := range sig.OutputKeys() {
			outputs = append(outputs, sig.Outputs[k].Name)
		}
	} else {
		for _, o := range outputs {
			fr.Outputs[o] = o
		}
	}
	src := m.graph
	keep := outputs
	if sig != nil {
		// Cut the graph at the signature's inputs (an input fed at an
		// intermediate tensor becomes a placeholder) and keep every input,
		// used or not, so the frozen graph takes what the signature takes.
		gsig := &graph.Signature{Key: sig.Key, Method: sig.Method, Inputs: map[string]graph.TensorInfo{}, Outputs: map[string]graph.TensorInfo{}}
		for k, v := range sig.Inputs {
			gsig.Inputs[k] = graph.TensorInfo{Name: v.Name, DType: v.DType, Shape: v.Shape}
			keep = append(keep, v.Name)
		}
		for k, v := range sig.Outputs {
			gsig.Outputs[k] = graph.TensorInfo{Name: v.Name, DType: v.DType, Shape: v.Shape}
		}
		sm := &graph.SavedModel{Dir: m.path, Graph: m.graph, Signatures: map[string]*graph.Signature{sig.Key: gsig}}
		cut, err := sm.SignatureGraph(sig.Key)
		if err != nil {
			return nil, err
		}
		src = cut
	}
	// The model's state (variables, tables) becomes constants.
	pruned, err := graph.Prune(src, keep)
	if err != nil {
		return nil, err
	}
	if src, err = m.foldState(pruned); err != nil {
		return nil, err
	}
	g, err := graph.Freeze(&graph.SavedModel{Dir: m.path, Graph: src}, keep)
	if err != nil {
		return nil, err
	}
	if sig != nil {
		if g, err = nameAfterSignature(g, sig, fr); err != nil {
			return nil, err
		}
	}
	fr.Graph = g
	return fr, nil
}

// nameAfterSignature renames input placeholders to their signature keys and
// adds an Identity per output named after its key, where the names are free.
func nameAfterSignature(g *graph.Graph, sig *Signature, fr *Frozen) (*graph.Graph, error) {
	used := map[string]bool{}
	for _, n := range g.Nodes {
		used[n.Name] = true
	}
	rename := map[string]string{}
	for _, k := range sig.InputKeys() {
		name := sig.Inputs[k].Name
		node, idx, _, err := graph.ParseTensorName(name)
		if err != nil {
			return nil, err
		}
		fr.Inputs[k] = name
		n, ok := g.Node(node)
		if !ok {
			continue // not needed by the outputs
		}
		if idx == 0 && (n.Op == "Placeholder" || n.Op == "PlaceholderWithDefault") && !used[k] && node != k {
			rename[node] = k
			used[k] = true
			fr.Inputs[k] = k
		} else if node == k {
			fr.Inputs[k] = k
		}
	}
	nodes := make([]*graph.Node, 0, len(g.Nodes)+len(sig.Outputs))
	for _, n := range g.Nodes {
		c := *n
		if to, ok := rename[c.Name]; ok {
			c.Name = to
		}
		c.Inputs = append([]graph.Input(nil), n.Inputs...)
		for i, in := range c.Inputs {
			if to, ok := rename[in.Node]; ok {
				c.Inputs[i].Node = to
			}
		}
		c.ControlInputs = append([]string(nil), n.ControlInputs...)
		for i, ci := range c.ControlInputs {
			if to, ok := rename[ci]; ok {
				c.ControlInputs[i] = to
			}
		}
		nodes = append(nodes, &c)
	}
	keys := sig.OutputKeys()
	sort.Strings(keys)
	for _, k := range keys {
		out := sig.Outputs[k]
		node, idx, _, err := graph.ParseTensorName(out.Name)
		if err != nil {
			return nil, err
		}
		if to, ok := rename[node]; ok {
			node = to
		}
		src := graph.Input{Node: node, Index: idx}
		if used[k] {
			fr.Outputs[k] = src.String()
			continue
		}
		used[k] = true
		attrs := tensor.Attrs{}
		if out.DType != tensor.Invalid {
			attrs["T"] = out.DType
		} else if n, ok := g.Node(node); ok {
			for _, a := range []string{"T", "dtype"} {
				if dt, ok, _ := n.Attrs.Type(a); ok {
					attrs["T"] = dt.Base()
					break
				}
			}
		}
		if _, ok := attrs["T"]; !ok {
			return nil, fmt.Errorf("tfd: freeze: cannot tell the dtype of output %q (%s)", k, out.Name)
		}
		nodes = append(nodes, &graph.Node{Name: k, Op: "Identity", Inputs: []graph.Input{src}, Attrs: attrs})
		fr.Outputs[k] = k
	}
	res, err := graph.New(nodes)
	if err != nil {
		return nil, err
	}
	res.Versions, res.Library, res.Format = g.Versions, g.Library, g.Format
	return res, nil
}
