package graph

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
)

// Format names accepted by Decode.
const (
	FormatBinary = "pb"    // binary GraphDef
	FormatText   = "pbtxt" // text-format GraphDef
)

// ReadFile decodes the GraphDef in the file at path. Files named *.pbtxt
// or *.txt are read as text format and all others as binary; a file that
// fails to parse as binary but looks like text is then read as text. The
// file size is checked against lim.MaxFileBytes before it is read. Errors
// name the file.
func ReadFile(path string, lim Limits) (*Graph, error) {
	g, err := readFile(path, lim)
	if err != nil {
		return nil, fmt.Errorf("graph: %s: %w", path, err)
	}
	g.Source = path
	return g, nil
}

func readFile(path string, lim Limits) (*Graph, error) {
	if err := lim.check(); err != nil {
		return nil, err
	}
	lim = lim.WithDefaults()
	data, err := readLimited(path, lim.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	format := ""
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pbtxt", ".txt":
		format = FormatText
	}
	return decode(data, format, lim)
}

// readLimited reads a whole file after checking its size, and never reads
// more than maxBytes even if the file grows meanwhile.
func readLimited(path string, maxBytes int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxBytes {
		return nil, limitErr("file has %d bytes, more than the limit %d", st.Size(), maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxBytes {
		return nil, limitErr("file has more than %d bytes", maxBytes)
	}
	return data, nil
}

// Decode decodes a GraphDef held in data. format is FormatBinary,
// FormatText, or "" to try binary and then, if data looks like text, text.
func Decode(data []byte, format string, lim Limits) (*Graph, error) {
	if err := lim.check(); err != nil {
		return nil, err
	}
	g, err := decode(data, format, lim.WithDefaults())
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	return g, nil
}

func decode(data []byte, format string, lim Limits) (*Graph, error) {
	if int64(len(data)) > lim.MaxFileBytes {
		return nil, limitErr("input has %d bytes, more than the limit %d", len(data), lim.MaxFileBytes)
	}
	gd := &tfpb.GraphDef{}
	switch format {
	case FormatText:
		if err := textUnmarshal(data, gd); err != nil {
			return nil, fmt.Errorf("parsing text GraphDef: %w", err)
		}
	case FormatBinary, "":
		err := protoUnmarshal(data, gd)
		switch {
		case err == nil:
			format = FormatBinary
		case format == "" && looksLikeText(data):
			gd.Reset()
			if terr := textUnmarshal(data, gd); terr != nil {
				return nil, fmt.Errorf("parsing GraphDef: neither binary (%v) nor text (%v)", err, terr)
			}
			format = FormatText
		default:
			return nil, fmt.Errorf("parsing binary GraphDef: %w", err)
		}
	default:
		return nil, fmt.Errorf("unknown GraphDef format %q (expected %q or %q)", format, FormatBinary, FormatText)
	}
	g, err := decodeGraphDef(gd, lim)
	if err != nil {
		return nil, err
	}
	g.Format = format
	return g, nil
}

// errSyntax wraps parser errors, whose text comes from protobuf.
var errSyntax = errors.New("malformed protobuf")

// protoMessage returns the text of a protobuf error with its spaces made
// plain: the protobuf module writes a non-breaking space after "proto:"
// in some builds, on purpose, so that callers do not match its messages;
// tfd's own messages must stay the same from one build to the next.
func protoMessage(err error) string { return strings.ReplaceAll(err.Error(), "\u00a0", " ") }

func protoUnmarshal(data []byte, m proto.Message) error {
	if err := (proto.UnmarshalOptions{}).Unmarshal(data, m); err != nil {
		return fmt.Errorf("%w: %s", errSyntax, protoMessage(err))
	}
	return nil
}

// textUnmarshal parses TensorFlow's text format. Fields tfd does not
// declare are skipped, as the binary decoder keeps them as unknown fields.
func textUnmarshal(data []byte, m proto.Message) error {
	if err := (prototext.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, m); err != nil {
		return fmt.Errorf("%w: %s", errSyntax, protoMessage(err))
	}
	return nil
}

// looksLikeText reports whether data is plausibly a text-format proto:
// valid UTF-8 with no control characters other than white space.
func looksLikeText(data []byte) bool {
	if len(bytes.TrimSpace(data)) == 0 || !utf8.Valid(data) {
		return false
	}
	for _, c := range data {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

// DecodeGraphDef converts a parsed GraphDef (for example the graph_def of
// a MetaGraphDef) into a Graph, applying lim to its nodes, attrs and
// tensors. The file size limit does not apply here. Errors are not
// prefixed with a file name.
func DecodeGraphDef(gd *tfpb.GraphDef, lim Limits) (*Graph, error) {
	if err := lim.check(); err != nil {
		return nil, err
	}
	g, err := decodeGraphDef(gd, lim.WithDefaults())
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	return g, nil
}

// decoder carries the limits and the budgets used so far across a whole
// graph and its function library.
type decoder struct {
	lim        Limits
	nodeCount  int   // nodes decoded so far, graph and functions
	constBytes int64 // constant memory charged so far
}

func decodeGraphDef(gd *tfpb.GraphDef, lim Limits) (*Graph, error) {
	d := &decoder{lim: lim}
	total := len(gd.GetNode())
	for _, f := range gd.GetLibrary().GetFunction() {
		total += len(f.GetNodeDef())
	}
	if total > lim.MaxNodes {
		return nil, limitErr("graph has %d nodes (functions included), more than the limit %d", total, lim.MaxNodes)
	}
	nodes, err := d.nodes(gd.GetNode(), false)
	if err != nil {
		return nil, err
	}
	g, err := New(nodes)
	if err != nil {
		return nil, err
	}
	g.Versions = Versions{Producer: gd.GetVersions().GetProducer(), MinConsumer: gd.GetVersions().GetMinConsumer()}
	seen := make(map[string]bool)
	for _, fd := range gd.GetLibrary().GetFunction() {
		f, err := d.function(fd)
		if err != nil {
			return nil, err
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("function %q is defined twice", f.Name)
		}
		seen[f.Name] = true
		g.Library = append(g.Library, f)
	}
	return g, nil
}

// nodes converts NodeDefs, checking names. In a function body (inFunc),
// inputs use the body syntax and are kept verbatim by the caller; only
// control inputs are parsed.
func (d *decoder) nodes(nds []*tfpb.NodeDef, inFunc bool) ([]*Node, error) {
	out := make([]*Node, 0, len(nds))
	names := make(map[string]bool, len(nds))
	for i, nd := range nds {
		name := nd.GetName()
		if name == "" {
			return nil, fmt.Errorf("node %d (op %q) has no name", i, nd.GetOp())
		}
		if names[name] {
			return nil, fmt.Errorf("node %q: name used twice", name)
		}
		names[name] = true
		n, err := d.node(nd, inFunc)
		if err != nil {
			if nd.GetOp() == "" {
				return nil, fmt.Errorf("node %q: %w", name, err)
			}
			return nil, fmt.Errorf("node %q (%s): %w", name, nd.GetOp(), err)
		}
		out = append(out, n)
	}
	return out, nil
}

func (d *decoder) node(nd *tfpb.NodeDef, inFunc bool) (*Node, error) {
	d.nodeCount++
	if d.nodeCount > d.lim.MaxNodes {
		return nil, limitErr("more than %d nodes", d.lim.MaxNodes)
	}
	if nd.GetOp() == "" {
		return nil, fmt.Errorf("node has no op")
	}
	n := &Node{Name: nd.GetName(), Op: nd.GetOp(), Device: nd.GetDevice()}
	for i, in := range nd.GetInput() {
		if inFunc && !strings.HasPrefix(in, "^") {
			if len(n.ControlInputs) > 0 {
				return nil, fmt.Errorf("input %d %q follows a control input (data inputs must come first)", i, in)
			}
			if in == "" {
				return nil, fmt.Errorf("input %d is empty", i)
			}
			continue
		}
		src, idx, control, err := ParseTensorName(in)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		if control {
			n.ControlInputs = append(n.ControlInputs, src)
			continue
		}
		if len(n.ControlInputs) > 0 {
			return nil, fmt.Errorf("input %d %q follows a control input (data inputs must come first)", i, in)
		}
		n.Inputs = append(n.Inputs, Input{Node: src, Index: idx})
	}
	attrs, err := d.attrs(nd.GetAttr())
	if err != nil {
		return nil, err
	}
	n.Attrs = attrs
	return n, nil
}

func (d *decoder) function(fd *tfpb.FunctionDef) (*Function, error) {
	sig := fd.GetSignature()
	name := sig.GetName()
	if name == "" {
		return nil, fmt.Errorf("library function with %d nodes has no name", len(fd.GetNodeDef()))
	}
	f, err := d.functionBody(name, fd)
	if err != nil {
		return nil, fmt.Errorf("function %q: %w", name, err)
	}
	return f, nil
}

func (d *decoder) functionBody(name string, fd *tfpb.FunctionDef) (*Function, error) {
	sig := fd.GetSignature()
	f := &Function{Name: name}
	var err error
	if f.InputArgs, err = argsFromProto(sig.GetInputArg()); err != nil {
		return nil, fmt.Errorf("input args: %w", err)
	}
	if f.OutputArgs, err = argsFromProto(sig.GetOutputArg()); err != nil {
		return nil, fmt.Errorf("output args: %w", err)
	}
	if f.Attrs, err = d.attrs(fd.GetAttr()); err != nil {
		return nil, err
	}
	if f.Nodes, err = d.nodes(fd.GetNodeDef(), true); err != nil {
		return nil, err
	}
	f.RawInputs = make(map[string][]string, len(fd.GetNodeDef()))
	for _, nd := range fd.GetNodeDef() {
		if len(nd.GetInput()) > 0 {
			f.RawInputs[nd.GetName()] = append([]string(nil), nd.GetInput()...)
		}
	}
	f.Ret = copyStringMap(fd.GetRet())
	f.ControlRet = copyStringMap(fd.GetControlRet())
	return f, nil
}

func argsFromProto(defs []*tfpb.OpDef_ArgDef) ([]Arg, error) {
	if len(defs) == 0 {
		return nil, nil
	}
	out := make([]Arg, len(defs))
	for i, a := range defs {
		if a.GetName() == "" {
			return nil, fmt.Errorf("arg %d has no name", i)
		}
		out[i] = Arg{
			Name:         a.GetName(),
			Type:         tensor.DType(a.GetType()),
			TypeAttr:     a.GetTypeAttr(),
			NumberAttr:   a.GetNumberAttr(),
			TypeListAttr: a.GetTypeListAttr(),
			IsRef:        a.GetIsRef(),
		}
	}
	return out, nil
}

func copyStringMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// sortedAttrKeys returns the keys of m in order.
func sortedAttrKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
