package tfd

import (
	"sort"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/ops"
	"github.com/tfdgo/tfd/sched"
	"github.com/tfdgo/tfd/tensor"
)

// Info summarizes a model file without running it.
type Info struct {
	Path          string                `json:"path"`
	Format        string                `json:"format"`
	Producer      int32                 `json:"producer"`
	TFVersion     string                `json:"tf_version,omitempty"`
	Tags          []string              `json:"tags,omitempty"`        // the MetaGraph loaded
	MetaGraphs    [][]string            `json:"meta_graphs,omitempty"` // tag sets of every MetaGraph
	Signatures    map[string]*Signature `json:"signatures,omitempty"`
	Variables     []VariableInfo        `json:"variables,omitempty"`
	VariableBytes int64                 `json:"variable_bytes,omitempty"`
	// ServingOpCounts counts the op types the signatures need (all of
	// OpCounts for models without signatures).
	ServingOpCounts map[string]int `json:"serving_op_counts,omitempty"`
	Nodes           int            `json:"nodes"`
	Functions       int            `json:"functions"`
	Inputs          []TensorInfo   `json:"inputs"`
	Outputs         []TensorInfo   `json:"outputs"`
	OpCounts        map[string]int `json:"op_counts"`
	Unsupported     []string       `json:"unsupported_ops"`
	Consts          int            `json:"consts"`
	ConstBytes      int64          `json:"const_bytes"`
}

// VariableInfo describes a variable of a SavedModel or checkpoint, frozen
// into a constant at load.
type VariableInfo struct {
	Name  string              `json:"name"`
	Key   string              `json:"checkpoint_key"`
	DType DType               `json:"dtype"`
	Shape tensor.PartialShape `json:"shape"`
	Bytes int64               `json:"bytes"`
	// Live is set for a variable that stays a variable, because a
	// signature or the init op changes it (see Model's state).
	Live bool `json:"live,omitempty"`
}

// Inspect decodes a model in any format Load accepts and describes it.
// Unlike Load it succeeds for graphs with unsupported ops, listing them in
// Info.Unsupported.
func Inspect(path string, opts ...Option) (*Info, error) {
	opt := collect(opts)
	l, err := loadAny(path, opt)
	if err != nil {
		return nil, err
	}
	reg, err := opt.registry()
	if err != nil {
		return nil, err
	}
	info := describe(path, l.graph, reg)
	info.Format = l.format
	if l.producer != 0 {
		info.Producer = l.producer
	}
	info.TFVersion, info.Tags, info.MetaGraphs = l.tfVersion, l.tags, l.allTags
	for _, v := range l.variables {
		info.Variables = append(info.Variables, VariableInfo{Name: v.Name, Key: v.Key, DType: v.DType, Shape: v.Shape, Bytes: v.Bytes, Live: v.Live})
		info.VariableBytes += v.Bytes
	}
	sort.Slice(info.Variables, func(i, j int) bool {
		if info.Variables[i].Bytes != info.Variables[j].Bytes {
			return info.Variables[i].Bytes > info.Variables[j].Bytes
		}
		return info.Variables[i].Name < info.Variables[j].Name
	})
	if len(l.sigs) > 0 {
		info.Signatures = l.sigs
		info.ServingOpCounts = map[string]int{}
		seen := map[string]bool{}
		for _, s := range l.sigs {
			in, out := signatureTensors(s)
			for _, n := range neededNodes(l.graph, in, out) {
				if !seen[n.Name] {
					seen[n.Name] = true
					info.ServingOpCounts[n.Op]++
				}
			}
		}
	}
	return info, nil
}

func describe(path string, g *graph.Graph, reg *ops.Registry) *Info {
	info := &Info{Path: path, Format: g.Format, Producer: g.Versions.Producer, Nodes: len(g.Nodes),
		Functions: len(g.Library), OpCounts: map[string]int{}, Inputs: placeholders(g)}
	unsup := map[string]bool{}
	for _, n := range g.Nodes {
		info.OpCounts[n.Op]++
		if _, ok := reg.Lookup(n.Op); !ok {
			unsup[n.Op] = true
		}
		if n.Op == "Const" {
			info.Consts++
			if t, ok, _ := n.Attrs.Tensor("value"); ok {
				info.ConstBytes += t.Bytes()
			}
		}
	}
	for op := range unsup {
		info.Unsupported = append(info.Unsupported, op)
	}
	sort.Strings(info.Unsupported)
	outs := GraphOutputs(g)
	// Static inference through a compiled plan gives output dtypes and
	// shapes when every op is supported; otherwise fall back to attrs.
	var feeds []string
	for _, in := range info.Inputs {
		feeds = append(feeds, in.Name)
	}
	if len(unsup) == 0 && len(outs) > 0 {
		if p, err := sched.Compile(g, feeds, outs, sched.Options{Registry: reg, FoldBudget: -1, NoFusion: true}); err == nil {
			for i, v := range p.FetchInfo() {
				info.Outputs = append(info.Outputs, TensorInfo{Name: outs[i], DType: v.DType.Base(), Shape: v.Shape})
			}
			return info
		}
	}
	for _, o := range outs {
		ti := TensorInfo{Name: o, Shape: tensor.UnknownShape()}
		if n, ok := g.Node(o); ok {
			for _, a := range []string{"T", "dtype", "out_type"} {
				if dt, ok, _ := n.Attrs.Type(a); ok {
					ti.DType = dt.Base()
					break
				}
			}
		}
		info.Outputs = append(info.Outputs, ti)
	}
	return info
}
