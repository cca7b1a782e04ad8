package conformance

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/tensor"
)

// toFloat64 returns a copy of g computing in float64 wherever g computes
// in float32: every float32 dtype attr and constant becomes float64. It
// makes an independent, more precise reference of a model, to decide
// whose float32 result (tfd's or TensorFlow.js's) a disagreement comes
// from.
func toFloat64(g *graph.Graph) (*graph.Graph, error) {
	conv := func(v any) any {
		switch x := v.(type) {
		case tensor.DType:
			if x == tensor.Float32 {
				return tensor.Float64
			}
		case []tensor.DType:
			out := make([]tensor.DType, len(x))
			for i, d := range x {
				out[i] = d
				if d == tensor.Float32 {
					out[i] = tensor.Float64
				}
			}
			return out
		case *tensor.Tensor:
			if x.DType() == tensor.Float32 {
				f := x.Float64s()
				t, _ := tensor.Wrap(tensor.Float64, x.Shape(), f)
				return t
			}
		}
		return v
	}
	var nodes []*graph.Node
	for _, n := range g.Nodes {
		c := *n
		c.Attrs = tensor.Attrs{}
		for k, v := range n.Attrs {
			c.Attrs[k] = conv(v)
		}
		switch n.Op {
		case "ResizeBilinear", "ResizeBicubic", "ResizeArea":
			// These always output float32 in TensorFlow: cast back to
			// float64 (rounding to float32 there only, ~1e-7 relative).
			inner := c
			inner.Name = n.Name + "/f64_arbiter_inner"
			nodes = append(nodes, &inner, &graph.Node{Name: n.Name, Op: "Cast",
				Inputs: []graph.Input{{Node: inner.Name}},
				Attrs:  tensor.Attrs{"SrcT": tensor.Float32, "DstT": tensor.Float64}})
			continue
		}
		nodes = append(nodes, &c)
	}
	out, err := graph.New(nodes)
	if err != nil {
		return nil, err
	}
	out.Library, out.Versions = g.Library, g.Versions
	return out, nil
}

var hmArbiter = flag.Bool("hm.arbiter", false, "run TestHumanModelsFloat64Arbiter: decide wrong-value failures against a float64 run")

// TestHumanModelsFloat64Arbiter (with -hm.arbiter) runs every model that
// the suite lists as a wrong-value failure in float64 and checks that
// tfd's float32 result is closer to that reference than TensorFlow.js's
// is: the disagreement is then TensorFlow.js's rounding, not a tfd bug. It
// logs both errors. It is a diagnosis tool, run by hand when a model
// fails on values; conformance/README.md records what it found.
func TestHumanModelsFloat64Arbiter(t *testing.T) {
	if !*hmArbiter {
		t.Skip("diagnosis tool: run with -hm.arbiter")
	}
	dir := hmCacheDir
	idx, err := hmReadIndex(dir)
	if err != nil {
		if os.Getenv(hmEnv) == "" {
			t.Skipf("no TensorFlow.js references (%v)", err)
		}
		t.Fatal(err)
	}
	known, _, err := hmReadKnown(filepath.Join("testdata", "humanmodels_known_failures.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range known {
		if r.class != hmWrongValue {
			continue
		}
		t.Run(name, func(t *testing.T) {
			man, err := hmReadManifest(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			tm, err := graph.ReadTFJS(filepath.Join(dir, filepath.FromSlash(idx.ModelDir), man.File), graph.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			g64, err := toFloat64(tm.Graph)
			if err != nil {
				t.Fatal(err)
			}
			m32, err := tfd.FromGraph(tm.Graph, tfd.Options{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			m64, err := tfd.FromGraph(g64, tfd.Options{Name: name + "-f64"})
			if err != nil {
				t.Fatal(err)
			}
			feeds, err := hmFeeds(filepath.Join(dir, name), man, m32.Inputs())
			if err != nil {
				t.Fatal(err)
			}
			feeds64 := map[string]*tfd.Tensor{}
			for k, v := range feeds {
				if v.DType() == tensor.Float32 {
					w, _ := tensor.Wrap(tensor.Float64, v.Shape(), v.Float64s())
					v = w
				}
				feeds64[k] = v
			}
			var fetches []string
			for _, o := range man.Outputs {
				node, k, _, _ := graph.ParseTensorName(o.Tensor)
				fetches = append(fetches, graph.Input{Node: node, Index: k}.String())
			}
			got32, err := m32.Run(context.Background(), feeds, fetches...)
			if err != nil {
				t.Fatal(err)
			}
			got64, err := m64.Run(context.Background(), feeds64, fetches...)
			if err != nil {
				t.Skipf("the model does not run in float64: %v", err)
			}
			want, err := hmReadRefs(filepath.Join(dir, name), man)
			if err != nil {
				t.Fatal(err)
			}
			for i := range fetches {
				if got32[i].DType() != tensor.Float32 {
					continue
				}
				ref := got64[i].Float64s()
				eTfd, _ := hmRelL2(got32[i].Float64s(), ref)
				eJS, _ := hmRelL2(want[i].Float64s(), ref)
				t.Logf("%s output %s: rel L2 to the float64 reference: tfd %.3g, TensorFlow.js %.3g", name, fetches[i], eTfd, eJS)
				if eTfd > eJS {
					t.Errorf("%s output %s: tfd (%.3g) is further from float64 than TensorFlow.js (%.3g): a tfd precision problem", name, fetches[i], eTfd, eJS)
					hmPrecisionByOp(t, tm.Graph, feeds, fetches[i], ref)
				}
			}
		})
	}
}

// hmPrecisionByOp logs, for each op type of g, the error of output fetch
// (against the float64 reference ref) when only the nodes of that op
// type compute in float64: the op type whose float64 run removes most of
// the error is the one whose float32 accumulation loses the most. Op
// types with a node read at an output other than 0 are left out.
func hmPrecisionByOp(t *testing.T, g *graph.Graph, feeds map[string]*tfd.Tensor, fetch string, ref []float64) {
	t.Helper()
	g64, err := toFloat64(g)
	if err != nil {
		t.Fatal(err)
	}
	by64 := map[string]*graph.Node{}
	for _, n := range g64.Nodes {
		by64[n.Name] = n
	}
	// The dtype of every tensor a node reads, from one float32 run.
	m32, err := tfd.FromGraph(g, tfd.Options{Name: "dtypes"})
	if err != nil {
		t.Fatal(err)
	}
	var inputs []string
	seen := map[string]bool{}
	types := map[string]bool{}
	multi := map[string]bool{} // nodes read at an output other than 0
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in.Index > 0 {
				multi[in.Node] = true
			}
		}
	}
	for _, n := range g.Nodes {
		if multi[n.Name] {
			types[n.Op] = false
		}
	}
	for _, n := range g.Nodes {
		if n.Op == "Const" || n.Op == "Placeholder" || n.Op == "ResizeBilinear" || n.Op == "ResizeBicubic" || n.Op == "ResizeArea" {
			continue
		}
		if _, ok := types[n.Op]; !ok {
			types[n.Op] = true
		}
		for _, in := range n.Inputs {
			if !seen[in.String()] {
				seen[in.String()] = true
				inputs = append(inputs, in.String())
			}
		}
	}
	vals, err := m32.Run(context.Background(), feeds, inputs...)
	if err != nil {
		t.Logf("per-op attribution skipped: %v", err)
		return
	}
	isFloat := map[string]bool{}
	for i, in := range inputs {
		isFloat[in] = vals[i].DType() == tensor.Float32
	}
	var opTypes []string
	for op, ok := range types {
		if ok {
			opTypes = append(opTypes, op)
		}
	}
	sort.Strings(opTypes)
	for _, op := range opTypes {
		var nodes []*graph.Node
		for _, n := range g.Nodes {
			if n.Op != op {
				c := *n
				nodes = append(nodes, &c)
				continue
			}
			wide := *by64[n.Name]
			wide.Name = n.Name + "/f64_op"
			wide.Inputs = nil
			for i, in := range n.Inputs {
				if !isFloat[in.String()] {
					wide.Inputs = append(wide.Inputs, in)
					continue
				}
				cast := fmt.Sprintf("%s/f64_in%d", n.Name, i)
				nodes = append(nodes, &graph.Node{Name: cast, Op: "Cast", Inputs: []graph.Input{in},
					Attrs: tensor.Attrs{"SrcT": tensor.Float32, "DstT": tensor.Float64}})
				wide.Inputs = append(wide.Inputs, graph.Input{Node: cast})
			}
			nodes = append(nodes, &wide, &graph.Node{Name: n.Name, Op: "Cast", Inputs: []graph.Input{{Node: wide.Name}},
				Attrs: tensor.Attrs{"SrcT": tensor.Float64, "DstT": tensor.Float32}})
		}
		mixed, err := graph.New(nodes)
		if err != nil {
			t.Logf("%s in float64: %v", op, err)
			continue
		}
		m, err := tfd.FromGraph(mixed, tfd.Options{Name: op + "-f64"})
		if err != nil {
			t.Logf("%s in float64: %v", op, err)
			continue
		}
		got, err := m.Run(context.Background(), feeds, fetch)
		if err != nil {
			t.Logf("%s in float64: %v", op, err)
			continue
		}
		e, _ := hmRelL2(got[0].Float64s(), ref)
		t.Logf("only %s in float64: rel L2 to float64 %.3g", op, e)
	}
}
