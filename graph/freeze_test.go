package graph

import (
	"strings"
	"testing"

	"github.com/tfdgo/tfd/graph/bundle"
	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
)

func smtNames(g *Graph) string {
	var names []string
	for _, n := range g.Nodes {
		names = append(names, n.Name)
	}
	return strings.Join(names, ",")
}

func TestPrune(t *testing.T) {
	g := smtGraph(t, []*Node{
		{Name: "a", Op: "Placeholder"},
		{Name: "f", Op: "NoOp"},
		{Name: "b", Op: "Neg", Inputs: []Input{{Node: "a"}}},
		{Name: "d", Op: "Neg", Inputs: []Input{{Node: "a"}}},
		{Name: "c", Op: "Split", Inputs: []Input{{Node: "b", Index: 1}}},
		{Name: "e", Op: "NoOp", ControlInputs: []string{"f"}},
		{Name: "fn", Op: "StatelessIf", Attrs: tensor.Attrs{"then_branch": tensor.Func{Name: "t"}}},
	}, &Function{Name: "t"}, &Function{Name: "u"})
	cases := []struct {
		outputs []string
		want    string
		lib     int
		err     string
	}{
		{outputs: []string{"c:1", "^e"}, want: "a,f,b,c,e"},
		{outputs: []string{"d"}, want: "a,d"},
		{outputs: []string{"fn"}, want: "fn", lib: 1},
		{outputs: nil, want: ""},
		{outputs: []string{"zz:0"}, err: `output "zz": no such node`},
		{outputs: []string{"c:x"}, err: "bad tensor name"},
	}
	for _, c := range cases {
		p, err := Prune(g, c.outputs)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: error %v, want %q", c.outputs, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", c.outputs, err)
			continue
		}
		if got := smtNames(p); got != c.want || len(p.Library) != c.lib {
			t.Errorf("%v: kept %s and %d functions, want %s and %d", c.outputs, got, len(p.Library), c.want, c.lib)
		}
	}
	dangling := smtGraph(t, []*Node{{Name: "x", Op: "Neg", Inputs: []Input{{Node: "gone"}}}})
	if _, err := Prune(dangling, []string{"x"}); err == nil || !strings.Contains(err.Error(), `node "x": input "gone"`) {
		t.Errorf("dangling input: %v", err)
	}
}

func TestFreeze(t *testing.T) {
	dir := t.TempDir()
	smtWriteSavedModel(t, dir, []*tfpb.MetaGraphDef{smtTF1MetaGraph()}, smtTF1Values(), bundle.WriteOptions{}, false)
	sm, err := ReadSavedModel(dir, SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := Freeze(sm, []string{"y:0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := smtNames(g); got != "x,a,a/read,mul,b,y" {
		t.Errorf("frozen graph holds %s", got)
	}
	data, err := Encode(g)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data, FormatBinary, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range back.Nodes {
		for k := range n.Attrs {
			if strings.HasPrefix(k, "_") {
				t.Errorf("node %q keeps private attr %q", n.Name, k)
			}
		}
	}
	smtWantScalar(t, back, "a", 0.5)
	smtWantScalar(t, back, "b", 2)
	if y, _ := sm.Graph.Node("y"); y == nil || y.Attrs["_output_shapes"] == nil {
		t.Error("Freeze changed the attrs of sm.Graph")
	}

	all, err := Freeze(sm, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := all.Node("y2"); !ok {
		t.Error("freezing every signature dropped y2")
	}

	// TF2: the result holds no functions.
	dir = t.TempDir()
	smtWriteSavedModel(t, dir, []*tfpb.MetaGraphDef{smtTF2MetaGraph()},
		map[string]*tensor.Tensor{smtTF2Key: tensor.Scalar[float32](3)}, bundle.WriteOptions{}, false)
	sm2, err := ReadSavedModel(dir, SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := Freeze(sm2, nil)
	if err != nil {
		t.Fatal(err)
	}
	gd, err := ToGraphDef(g2)
	if err != nil {
		t.Fatal(err)
	}
	if gd.GetLibrary() != nil {
		t.Error("the frozen TF2 graph keeps a library")
	}
}

func TestFreezeErrors(t *testing.T) {
	cases := []struct {
		name  string
		nodes []*Node
		want  string
	}{
		{"unfrozen variable", []*Node{
			{Name: "v", Op: "VarHandleOp"},
			{Name: "r", Op: "ReadVariableOp", Inputs: []Input{{Node: "v"}}},
		}, `node "r" (ReadVariableOp) reads or changes a variable`},
		{"state change", []*Node{
			{Name: "v", Op: "Const"},
			{Name: "r", Op: "AssignAdd", Inputs: []Input{{Node: "v"}, {Node: "v"}}},
		}, `node "r" (AssignAdd)`},
		{"private op", []*Node{{Name: "r", Op: "_Retval"}}, "private op type _Retval"},
	}
	for _, c := range cases {
		sm := &SavedModel{Dir: "m", Graph: smtGraph(t, c.nodes)}
		_, err := Freeze(sm, []string{"r"})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), `graph: m: freezing: `) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := Freeze(&SavedModel{Graph: smtGraph(t, nil)}, nil); err == nil {
		t.Error("no outputs and no signatures: no error")
	}
}
