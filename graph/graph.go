package graph

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tfdgo/tfd/tensor"
)

// Graph is a TensorFlow graph as written in its file: every node, in file
// order, with its attrs and edges. Unknown op types are kept as they are.
type Graph struct {
	Nodes    []*Node
	Library  []*Function // function library (TF2 graphs); may be empty
	Versions Versions
	// Source is the file the graph came from, for messages ("" if none).
	Source string
	// Format is "pb" or "pbtxt".
	Format string

	byName map[string]*Node
}

// Versions is TensorFlow's VersionDef.
type Versions struct {
	Producer    int32
	MinConsumer int32
}

// Node is one NodeDef.
type Node struct {
	Name          string
	Op            string
	Device        string
	Inputs        []Input  // data inputs, in order
	ControlInputs []string // names of nodes that must run first ("^name")
	Attrs         tensor.Attrs
}

// Input is a data edge: output Index of node Node.
type Input struct {
	Node  string
	Index int
}

// String prints the input as TensorFlow names tensors: "node" for output 0
// and "node:k" otherwise.
func (in Input) String() string {
	if in.Index == 0 {
		return in.Node
	}
	return in.Node + ":" + strconv.Itoa(in.Index)
}

// Function is one FunctionDef of the library, kept close to the file: its
// signature args, body nodes (whose inputs use the function-body syntax
// "node:out_arg:i", kept verbatim in RawInputs) and return mapping.
type Function struct {
	Name       string
	InputArgs  []Arg
	OutputArgs []Arg
	Attrs      tensor.Attrs
	Nodes      []*Node
	// RawInputs holds each body node's input strings as written, since they
	// name output args rather than output indices.
	RawInputs  map[string][]string
	Ret        map[string]string // output arg name → "node:out:i"
	ControlRet map[string]string
}

// Arg is an OpDef.ArgDef.
type Arg struct {
	Name         string
	Type         tensor.DType // set when the arg has a fixed type
	TypeAttr     string
	NumberAttr   string
	TypeListAttr string
	IsRef        bool
}

// New returns a graph holding nodes, indexed by name. It fails if two nodes
// share a name or a node has no name.
func New(nodes []*Node) (*Graph, error) {
	g := &Graph{Nodes: nodes}
	if err := g.index(); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *Graph) index() error {
	g.byName = make(map[string]*Node, len(g.Nodes))
	for _, n := range g.Nodes {
		if n.Name == "" {
			return fmt.Errorf("graph: node with op %q has no name", n.Op)
		}
		if _, dup := g.byName[n.Name]; dup {
			return fmt.Errorf("graph: duplicate node name %q", n.Name)
		}
		g.byName[n.Name] = n
	}
	return nil
}

// Node returns the node with the given name.
func (g *Graph) Node(name string) (*Node, bool) {
	if g.byName == nil {
		if err := g.index(); err != nil {
			return nil, false
		}
	}
	n, ok := g.byName[name]
	return n, ok
}

// ParseTensorName splits a tensor name "node", "node:k" or "^node" into the
// node name, output index and whether it is a control input.
func ParseTensorName(s string) (node string, index int, control bool, err error) {
	if strings.HasPrefix(s, "^") {
		if len(s) == 1 {
			return "", 0, false, fmt.Errorf("graph: empty control input %q", s)
		}
		return s[1:], 0, true, nil
	}
	if s == "" {
		return "", 0, false, fmt.Errorf("graph: empty tensor name")
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		k, err := strconv.Atoi(s[i+1:])
		// Node names never contain ':' (TF's node name pattern), so
		// "a::0" or "a:b:0" is not a graph tensor name.
		if err != nil || k < 0 || i == 0 || strings.IndexByte(s[:i], ':') >= 0 {
			return "", 0, false, fmt.Errorf("graph: bad tensor name %q (expected node or node:k)", s)
		}
		return s[:i], k, false, nil
	}
	return s, 0, false, nil
}

// Namer returns a function that gives names for new nodes of g: base
// itself when no node of g (nor an earlier result) has it, else base_1,
// base_2, … — the first one free. Each result counts as taken.
func (g *Graph) Namer() func(base string) string {
	taken := make(map[string]bool, len(g.Nodes))
	for _, n := range g.Nodes {
		taken[n.Name] = true
	}
	return func(base string) string {
		name := base
		for k := 1; taken[name]; k++ {
			name = fmt.Sprintf("%s_%d", base, k)
		}
		taken[name] = true
		return name
	}
}
