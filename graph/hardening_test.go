package graph

import (
	"errors"
	"strconv"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// These tests hold hostile shapes of graph that used to take time
// quadratic in the file's size: each runs in well under a second now,
// and took minutes before.

// TestTraceLongIdentityChain reads the restore keys of a graph whose
// 20,000 Assign nodes all read the end of a 20,000-node Identity chain:
// each trace walked the whole chain before traces were remembered
// (80 s for this graph).
func TestTraceLongIdentityChain(t *testing.T) {
	const n = 20000
	nodes := []*Node{
		{Name: "v", Op: "VariableV2"},
		{Name: "names", Op: "Const", Attrs: tensor.Attrs{"value": tensor.FromSlice(tensor.Shape{1}, []string{"key_of_v"})}},
		{Name: "restore", Op: "RestoreV2", Inputs: []Input{{Node: "names"}, {Node: "names"}}},
	}
	prev := "v"
	for i := range n {
		name := "id" + strconv.Itoa(i)
		nodes = append(nodes, &Node{Name: name, Op: "Identity", Inputs: []Input{{Node: prev}}})
		prev = name
	}
	for i := range n {
		nodes = append(nodes, &Node{Name: "assign" + strconv.Itoa(i), Op: "Assign", Inputs: []Input{{Node: prev}, {Node: "restore"}}})
	}
	g, err := New(nodes)
	if err != nil {
		t.Fatal(err)
	}
	keys := smRestoreKeys(g)
	if len(keys) != 1 || keys["v"] != "key_of_v" {
		t.Errorf("restore keys %v, want v → key_of_v", keys)
	}
}

// TestTracerCycles checks that a cycle of Identity nodes, and chains
// leading into it, trace to nothing.
func TestTracerCycles(t *testing.T) {
	g, err := New([]*Node{
		{Name: "a", Op: "Identity", Inputs: []Input{{Node: "b"}}},
		{Name: "b", Op: "Identity", Inputs: []Input{{Node: "a"}}},
		{Name: "c", Op: "Identity", Inputs: []Input{{Node: "a"}}},
		{Name: "v", Op: "VarHandleOp"},
		{Name: "n", Op: "IdentityN", Inputs: []Input{{Node: "c"}, {Node: "v"}}},
		{Name: "m", Op: "IdentityN", Inputs: []Input{{Node: "n", Index: 1}}},
		{Name: "e", Op: "Identity"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tr := smNewTracer(g)
	for _, c := range []struct {
		in   Input
		want string // "" when the trace fails
	}{
		{Input{Node: "c"}, ""},
		{Input{Node: "a"}, ""},
		{Input{Node: "n"}, ""},
		{Input{Node: "n", Index: 1}, "v"},
		{Input{Node: "m"}, "v"},
		{Input{Node: "m", Index: 1}, ""}, // IdentityN m has one input
		{Input{Node: "e"}, ""},           // Identity without input
		{Input{Node: "missing"}, ""},
	} {
		for range 2 { // a second trace answers from the memo
			n, ok := tr.input(c.in)
			got := ""
			if ok {
				got = n.Name
			}
			if got != c.want {
				t.Errorf("trace %v = %q, want %q", c.in, got, c.want)
			}
		}
	}
}

// hardInlineGraph returns a graph of calls nodes calling function f.
func hardInlineGraph(t *testing.T, f *Function, calls int) *Graph {
	t.Helper()
	var nodes []*Node
	for i := range calls {
		nodes = append(nodes, &Node{Name: "call" + strconv.Itoa(i), Op: f.Name})
	}
	g, err := New(nodes)
	if err != nil {
		t.Fatal(err)
	}
	g.Library = []*Function{f}
	return g
}

func TestInlineWorkBounded(t *testing.T) {
	manyAttrs := func(n int, prefix string, val func(i int) any) tensor.Attrs {
		a := tensor.Attrs{}
		for i := range n {
			a[prefix+strconv.Itoa(i)] = val(i)
		}
		return a
	}
	lim := Limits{MaxNodes: 5000}.WithDefaults()
	cases := []struct {
		name    string
		f       *Function
		calls   int
		wantErr bool
	}{
		{
			// 2,000 calls of a function with 50,000 attrs of its own that
			// nothing uses: copying them for every call took 2.5 minutes.
			name: "unused function attrs",
			f: &Function{Name: "f", Attrs: manyAttrs(50000, "a", func(i int) any { return int64(i) }),
				Nodes: []*Node{{Name: "c", Op: "NoOp"}}},
			calls: 2000,
		},
		{
			// Every call binds 5,000 placeholders: 10 million attrs in all.
			name: "placeholders bound at every call",
			f: &Function{Name: "f", Attrs: manyAttrs(50000, "a", func(i int) any { return int64(i) }),
				Nodes: []*Node{{Name: "c", Op: "NoOp", Attrs: manyAttrs(5000, "p", func(i int) any { return tensor.Placeholder("a" + strconv.Itoa(i)) })}}},
			calls:   2000,
			wantErr: true,
		},
		{
			// A body node reads every output of a Split into a million.
			name: "output list a million long",
			f: &Function{Name: "f",
				Nodes: []*Node{
					{Name: "s", Op: "Split", Attrs: tensor.Attrs{"num_split": int64(1 << 20)}},
					{Name: "c", Op: "AddN"},
				},
				RawInputs: map[string][]string{"c": {"s:output", "s:output", "s:output"}}},
			calls:   100,
			wantErr: true,
		},
		{
			name: "within the budget",
			f: &Function{Name: "f", Attrs: tensor.Attrs{"a": int64(1)},
				Nodes: []*Node{{Name: "c", Op: "NoOp", Attrs: tensor.Attrs{"p": tensor.Placeholder("a")}}}},
			calls: 1000,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := smInline(hardInlineGraph(t, c.f, c.calls), smOpTable{}, lim)
			if c.wantErr {
				if !errors.Is(err, tensor.ErrLimit) {
					t.Fatalf("err = %v, want a limit error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n, ok := out.Node("call0/c"); !ok || (c.name == "within the budget" && n.Attrs["p"] != int64(1)) {
				t.Errorf("call0/c = %+v", n)
			}
		})
	}
}
