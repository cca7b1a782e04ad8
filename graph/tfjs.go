package graph

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
)

// FormatTFJS is the Format of graphs read from a TensorFlow.js model.json.
const FormatTFJS = "tfjs"

// TFJSModel is a TensorFlow.js graph model ("graph-model" format), as
// written by tensorflowjs_converter: a GraphDef in proto3 JSON whose Const
// values live in binary weight shards.
type TFJSModel struct {
	// Graph is the model's graph. Every Const node listed in the weights
	// manifest holds its weight as its "value" attr, converted to the
	// Const's declared dtype (the converter narrows int64 to int32 and
	// float64 to float32 on export).
	Graph *Graph
	// Initializer is the graph that sets up hash tables ("modelInitializer"),
	// or nil.
	Initializer *Graph
	// Signature gives the model's inputs and outputs, or is nil when
	// model.json has none. InitializerSignature is the initializer's.
	Signature, InitializerSignature *TFJSSignature
	// Format, GeneratedBy and ConvertedBy are copied from model.json, for
	// example "graph-model", "2.19.0" and "TensorFlow.js Converter v4.22.0".
	Format, GeneratedBy, ConvertedBy string
}

// TFJSSignature is the SignatureDef stored in model.json.
type TFJSSignature struct {
	Inputs, Outputs map[string]TFJSTensorInfo
	MethodName      string
}

// TFJSTensorInfo describes one signature input or output.
type TFJSTensorInfo struct {
	Name  string // graph tensor name, such as "x:0"
	DType tensor.DType
	Shape tensor.PartialShape
}

// tfjsFile is model.json.
type tfjsFile struct {
	Format               string          `json:"format"`
	GeneratedBy          *string         `json:"generatedBy"`
	ConvertedBy          *string         `json:"convertedBy"`
	ModelTopology        json.RawMessage `json:"modelTopology"`
	WeightsManifest      []tfjsGroup     `json:"weightsManifest"`
	Signature            json.RawMessage `json:"signature"`
	ModelInitializer     json.RawMessage `json:"modelInitializer"`
	InitializerSignature json.RawMessage `json:"initializerSignature"`
}

type tfjsGroup struct {
	Paths   []string     `json:"paths"`
	Weights []tfjsWeight `json:"weights"`
}

type tfjsWeight struct {
	Name         string            `json:"name"`
	Shape        []json.Number     `json:"shape"`
	DType        string            `json:"dtype"`
	Quantization *tfjsQuantization `json:"quantization"`
}

type tfjsQuantization struct {
	DType string   `json:"dtype"`
	Scale *float64 `json:"scale"`
	Min   *float64 `json:"min"`
}

// ReadTFJS reads a TensorFlow.js graph model: path is its model.json or
// the directory holding it. Weight shards are read from the paths the
// manifest lists, relative to model.json's directory; the weights of a
// group are concatenated across its shards in order, a weight may
// straddle two shards, and the shards must hold exactly the bytes the
// weights need. Quantized weights are dequantized as tfjs-core's
// io_utils.decodeWeights does: uint8/uint16 as q*scale + min (rounded for
// int32 weights), float16 widened to float32.
//
// lim applies to model.json and to each shard (MaxFileBytes), to the
// graphs (MaxNodes, MaxRank, MaxElements), to each weight (MaxElements,
// MaxRank) and to all weights and graph constants together
// (MaxConstBytes). Errors name model.json and, where one is at fault, the
// weight and its shard.
func ReadTFJS(path string, lim Limits) (*TFJSModel, error) {
	if err := lim.check(); err != nil {
		return nil, err
	}
	lim = lim.WithDefaults()
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		dir := path
		path = filepath.Join(dir, "model.json")
		if _, err := os.Stat(path); err != nil {
			for _, sm := range []string{"saved_model.pb", "saved_model.pbtxt"} {
				if _, err := os.Stat(filepath.Join(dir, sm)); err == nil {
					return nil, fmt.Errorf("graph: %s: the directory holds a SavedModel (%s), not a TF.js model.json", dir, sm)
				}
			}
		}
	}
	m, err := tfjsRead(path, lim)
	if err != nil {
		return nil, fmt.Errorf("graph: %s: %w", path, err)
	}
	return m, nil
}

func tfjsRead(path string, lim Limits) (*TFJSModel, error) {
	data, err := readLimited(path, lim.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	var f tfjsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parsing model.json: %w", err)
	}
	m := &TFJSModel{Format: f.Format}
	if f.GeneratedBy != nil {
		m.GeneratedBy = *f.GeneratedBy
	}
	if f.ConvertedBy != nil {
		m.ConvertedBy = *f.ConvertedBy
	}
	switch f.Format {
	case "graph-model", "":
	case "layers-model":
		return nil, errors.New(`format "layers-model" (a Keras model) is not supported; convert the model with --output_format=tfjs_graph_model`)
	default:
		return nil, fmt.Errorf("unknown format %q (expected \"graph-model\")", f.Format)
	}
	if tfjsIsNull(f.ModelTopology) {
		return nil, errors.New("model.json has no modelTopology")
	}
	gd := &tfpb.GraphDef{}
	if err := tfjsUnmarshal(f.ModelTopology, gd); err != nil {
		return nil, fmt.Errorf("modelTopology: %w", err)
	}
	if len(gd.GetNode()) == 0 && !tfjsLooksLikeGraphDef(f.ModelTopology) {
		return nil, errors.New("modelTopology is not a GraphDef (a Keras layers model?)")
	}
	var initGD *tfpb.GraphDef
	if !tfjsIsNull(f.ModelInitializer) {
		initGD = &tfpb.GraphDef{}
		if err := tfjsUnmarshal(f.ModelInitializer, initGD); err != nil {
			return nil, fmt.Errorf("modelInitializer: %w", err)
		}
	}
	if m.Signature, err = tfjsSignature(f.Signature, lim); err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	if m.InitializerSignature, err = tfjsSignature(f.InitializerSignature, lim); err != nil {
		return nil, fmt.Errorf("initializerSignature: %w", err)
	}

	consts, err := tfjsConsts(gd, initGD)
	if err != nil {
		return nil, err
	}
	wr := &tfjsWeightReader{dir: filepath.Dir(path), lim: lim, consts: consts, values: map[string]*tensor.Tensor{}}
	for gi, g := range f.WeightsManifest {
		if err := wr.group(gi, g); err != nil {
			return nil, err
		}
	}
	// A Const whose value the converter moved to the manifest has only
	// dtype and shape left; without a weight it would silently be zeros.
	for name, c := range consts {
		if _, ok := wr.values[name]; !ok && c.cleared {
			return nil, fmt.Errorf("Const node %q has no weight in weightsManifest (its value was cleared on export)", name)
		}
	}
	for _, c := range consts {
		if _, ok := wr.values[c.node.GetName()]; ok {
			delete(c.node.Attr, "value") // set from the weight after decoding
		}
	}

	glim := lim
	glim.MaxConstBytes = max(lim.MaxConstBytes-wr.bytes, 1)
	if m.Graph, err = decodeGraphDef(gd, glim); err != nil {
		return nil, err
	}
	m.Graph.Source, m.Graph.Format = path, FormatTFJS
	if initGD != nil {
		if m.Initializer, err = decodeGraphDef(initGD, glim); err != nil {
			return nil, fmt.Errorf("modelInitializer: %w", err)
		}
		m.Initializer.Source, m.Initializer.Format = path, FormatTFJS
	}
	tfjsAttachWeights(m, wr.values)
	return m, nil
}

// tfjsUnmarshal parses proto3 JSON as Python's MessageToDict writes it
// (lowerCamelCase keys, int64 as strings, bytes as base64). Fields and
// enum names tfd does not declare are skipped.
func tfjsUnmarshal(b []byte, m proto.Message) error {
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, m); err != nil {
		return fmt.Errorf("%w: %s", errSyntax, protoMessage(err))
	}
	return nil
}

func tfjsIsNull(b json.RawMessage) bool {
	s := strings.TrimSpace(string(b))
	return s == "" || s == "null"
}

// tfjsLooksLikeGraphDef reports whether a JSON object has only GraphDef
// keys, so that an empty graph is told apart from a Keras topology.
func tfjsLooksLikeGraphDef(b json.RawMessage) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal(b, &keys) != nil {
		return false
	}
	for k := range keys {
		switch k {
		case "node", "library", "versions", "version":
		default:
			return false
		}
	}
	return true
}

// tfjsSignature converts a SignatureDef in JSON; nil when absent.
func tfjsSignature(raw json.RawMessage, lim Limits) (*TFJSSignature, error) {
	if tfjsIsNull(raw) {
		return nil, nil
	}
	var sd tfpb.SignatureDef
	if err := tfjsUnmarshal(raw, &sd); err != nil {
		return nil, err
	}
	d := &decoder{lim: lim}
	conv := func(m map[string]*tfpb.TensorInfo) (map[string]TFJSTensorInfo, error) {
		out := make(map[string]TFJSTensorInfo, len(m))
		for _, k := range sortedAttrKeys(m) {
			ti := m[k]
			info := TFJSTensorInfo{Name: ti.GetName(), DType: tensor.DType(ti.GetDtype()), Shape: tensor.UnknownShape()}
			if ti.GetTensorShape() != nil {
				s, err := d.partialShape(ti.GetTensorShape())
				if err != nil {
					return nil, fmt.Errorf("%q: %w", k, err)
				}
				info.Shape = s
			}
			out[k] = info
		}
		return out, nil
	}
	sig := &TFJSSignature{MethodName: sd.GetMethodName()}
	var err error
	if sig.Inputs, err = conv(sd.GetInputs()); err != nil {
		return nil, fmt.Errorf("input %w", err)
	}
	if sig.Outputs, err = conv(sd.GetOutputs()); err != nil {
		return nil, fmt.Errorf("output %w", err)
	}
	return sig, nil
}

// tfjsConst is a Const node of the topology, as parsed.
type tfjsConst struct {
	node     *tfpb.NodeDef
	dtype    tensor.DType // from the "dtype" attr, else the value's dtype; Invalid if neither
	shape    tensor.Shape // the value's shape; nil if it has none
	cleared  bool         // the value has elements but no value field
	function string       // the library function holding it, "" for the graph
}

// tfjsConsts indexes the Const nodes of the graph, of its library
// functions (whose Consts the converter renamed "<function>/<name>") and
// of the initializer graph, by node name.
func tfjsConsts(gd, initGD *tfpb.GraphDef) (map[string]*tfjsConst, error) {
	out := map[string]*tfjsConst{}
	add := func(nd *tfpb.NodeDef, fn string) error {
		if nd.GetOp() != "Const" {
			return nil
		}
		name := nd.GetName()
		if _, dup := out[name]; dup {
			return fmt.Errorf("Const node name %q is used twice (weights are matched by name)", name)
		}
		c := &tfjsConst{node: nd, function: fn}
		if av, ok := nd.GetAttr()["dtype"]; ok {
			if t, ok := av.GetValue().(*tfpb.AttrValue_Type); ok {
				c.dtype = tensor.DType(t.Type).Base()
			}
		}
		if tp := nd.GetAttr()["value"].GetTensor(); tp != nil {
			if c.dtype == tensor.Invalid {
				c.dtype = tensor.DType(tp.GetDtype())
			}
			if sp := tp.GetTensorShape(); !sp.GetUnknownRank() {
				c.shape = make(tensor.Shape, len(sp.GetDim()))
				n := int64(1)
				for i, d := range sp.GetDim() {
					if d.GetSize() < 0 || d.GetSize() > math.MaxInt32 {
						c.shape = nil
						break
					}
					c.shape[i] = int(d.GetSize())
					if n > 0 {
						n = min(n*d.GetSize(), math.MaxInt32)
					}
				}
				c.cleared = n > 0 && tfjsNoValues(tp)
			}
		}
		out[name] = c
		return nil
	}
	for _, nd := range gd.GetNode() {
		if err := add(nd, ""); err != nil {
			return nil, err
		}
	}
	for _, f := range gd.GetLibrary().GetFunction() {
		for _, nd := range f.GetNodeDef() {
			if err := add(nd, f.GetSignature().GetName()); err != nil {
				return nil, err
			}
		}
	}
	for _, nd := range initGD.GetNode() {
		if err := add(nd, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// tfjsNoValues reports whether every value field of tp is empty, as the
// converter leaves them (CLEARED_TENSOR_FIELDS).
func tfjsNoValues(tp *tfpb.TensorProto) bool {
	return len(tp.GetTensorContent()) == 0 && len(tp.GetHalfVal()) == 0 && len(tp.GetFloatVal()) == 0 &&
		len(tp.GetDoubleVal()) == 0 && len(tp.GetIntVal()) == 0 && len(tp.GetStringVal()) == 0 &&
		len(tp.GetScomplexVal()) == 0 && len(tp.GetInt64Val()) == 0 && len(tp.GetBoolVal()) == 0 &&
		len(tp.GetDcomplexVal()) == 0 && len(tp.GetResourceHandleVal()) == 0 && len(tp.GetVariantVal()) == 0 &&
		len(tp.GetUint32Val()) == 0 && len(tp.GetUint64Val()) == 0
}

// tfjsAttachWeights stores each weight as the "value" attr of its Const.
func tfjsAttachWeights(m *TFJSModel, values map[string]*tensor.Tensor) {
	set := func(n *Node) {
		if v, ok := values[n.Name]; ok && n.Op == "Const" {
			if n.Attrs == nil {
				n.Attrs = tensor.Attrs{}
			}
			n.Attrs["value"] = v
		}
	}
	for _, g := range []*Graph{m.Graph, m.Initializer} {
		if g == nil {
			continue
		}
		for _, n := range g.Nodes {
			set(n)
		}
		for _, f := range g.Library {
			for _, n := range f.Nodes {
				set(n)
			}
		}
	}
}

// tfjsWeightReader decodes the weights of the manifest's groups.
type tfjsWeightReader struct {
	dir    string
	lim    Limits
	consts map[string]*tfjsConst
	values map[string]*tensor.Tensor
	bytes  int64 // memory of the weights decoded so far
}

// tfjsShards reads a group's shard files as one stream, holding each to
// the size it had when opened.
type tfjsShards struct {
	paths  []string
	sizes  []int64
	files  []*os.File
	total  int64
	pos    int64 // bytes consumed
	r      *bufio.Reader
	starts []int64 // group offset of each shard
}

func (s *tfjsShards) close() {
	for _, f := range s.files {
		f.Close()
	}
}

// shardAt names the shard holding group byte off.
func (s *tfjsShards) shardAt(off int64) string {
	for i := len(s.starts) - 1; i >= 0; i-- {
		if off >= s.starts[i] {
			return s.paths[i]
		}
	}
	return ""
}

// read fills p with the next bytes of the group.
func (s *tfjsShards) read(p []byte) error {
	if int64(len(p)) > s.total-s.pos {
		return fmt.Errorf("needs bytes [%d, %d) of the group, but its shards hold only %d bytes", s.pos, s.pos+int64(len(p)), s.total)
	}
	if _, err := io.ReadFull(s.r, p); err != nil {
		return fmt.Errorf("reading shard %q: %w", s.shardAt(s.pos), err)
	}
	s.pos += int64(len(p))
	return nil
}

func (w *tfjsWeightReader) openShards(gi int, g tfjsGroup) (*tfjsShards, error) {
	s := &tfjsShards{}
	var readers []io.Reader
	for _, p := range g.Paths {
		local := filepath.FromSlash(p)
		if !filepath.IsLocal(local) {
			s.close()
			return nil, fmt.Errorf("weights group %d: shard path %q is not a relative path inside the model directory", gi+1, p)
		}
		f, size, err := tfjsOpenRegular(filepath.Join(w.dir, local))
		if err != nil {
			s.close()
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the message names the shard already
			}
			return nil, fmt.Errorf("weights group %d: shard %q: %w", gi+1, p, err)
		}
		s.files = append(s.files, f)
		if size > w.lim.MaxFileBytes {
			s.close()
			return nil, limitErr("weights group %d: shard %q has %d bytes, more than the limit %d", gi+1, p, size, w.lim.MaxFileBytes)
		}
		s.paths = append(s.paths, p)
		s.sizes = append(s.sizes, size)
		s.starts = append(s.starts, s.total)
		s.total += size
		readers = append(readers, io.LimitReader(f, size))
	}
	s.r = bufio.NewReaderSize(io.MultiReader(readers...), 64<<10)
	return s, nil
}

// tfjsOpenRegular opens a regular file and returns its size. Other kinds
// of file (directories, devices, named pipes, which could block) are
// refused before they are opened.
func tfjsOpenRegular(path string) (*os.File, int64, error) {
	if st, err := os.Stat(path); err != nil {
		return nil, 0, err
	} else if !st.Mode().IsRegular() {
		return nil, 0, errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, errors.New("not a regular file")
	}
	return f, st.Size(), nil
}

// group decodes the weights of group gi (0-based; messages count from 1,
// as the shard names do).
func (w *tfjsWeightReader) group(gi int, g tfjsGroup) error {
	s, err := w.openShards(gi, g)
	if err != nil {
		return err
	}
	defer s.close()
	for _, spec := range g.Weights {
		start := s.pos
		t, err := w.weight(s, spec)
		if err != nil {
			where := ""
			if sh := s.shardAt(start); sh != "" {
				where = fmt.Sprintf(", from shard %q", sh)
			}
			return fmt.Errorf("weight %q (group %d%s): %w", spec.Name, gi+1, where, err)
		}
		w.values[spec.Name] = t
	}
	if s.pos != s.total {
		return fmt.Errorf("weights group %d: its weights take %d bytes, but its shards (%s) hold %d", gi+1, s.pos, strings.Join(s.paths, ", "), s.total)
	}
	return nil
}

// tfjsElemSize is the stored size of each manifest dtype.
var tfjsElemSize = map[string]int{"float32": 4, "int32": 4, "float16": 2, "uint16": 2, "uint8": 1, "bool": 1}

// weight validates one manifest entry against its Const, reads its bytes
// and converts it to the Const's dtype.
func (w *tfjsWeightReader) weight(s *tfjsShards, spec tfjsWeight) (*tensor.Tensor, error) {
	if spec.Name == "" {
		return nil, errors.New("weight has no name")
	}
	if _, dup := w.values[spec.Name]; dup {
		return nil, errors.New("weight name appears twice in the manifest")
	}
	c := w.consts[spec.Name]
	if c == nil {
		return nil, errors.New("no Const node of that name in the graph, its functions or the initializer")
	}
	if len(spec.Shape) > w.lim.MaxRank {
		return nil, limitErr("rank %d, more than the limit %d", len(spec.Shape), w.lim.MaxRank)
	}
	shape := make(tensor.Shape, len(spec.Shape))
	for i, d := range spec.Shape {
		v, err := strconv.ParseInt(string(d), 10, 64)
		if err != nil || v < 0 || uint64(v) > math.MaxInt {
			return nil, fmt.Errorf("shape dimension %d is %s (expected an integer >= 0)", i, d)
		}
		shape[i] = int(v)
	}
	n, err := shape.NumElements()
	if err != nil || n > w.lim.MaxElements {
		return nil, limitErr("shape %v has more elements than the limit %d", shape, w.lim.MaxElements)
	}
	if c.shape != nil && !c.shape.Equal(shape) {
		return nil, fmt.Errorf("shape %v does not match the Const's shape %v", shape, c.shape)
	}

	var t *tensor.Tensor
	switch q := spec.Quantization; {
	case q != nil:
		t, err = w.quantized(s, spec, q, shape, n)
	case spec.DType == "string":
		t, err = w.stringWeight(s, shape, n)
	default:
		t, err = w.plain(s, spec.DType, shape, n)
	}
	if err != nil {
		return nil, err
	}
	return tfjsConvert(t, c.dtype)
}

// charge takes n bytes from the weights' memory budget.
func (w *tfjsWeightReader) charge(n int64) error {
	if n < 0 || n > w.lim.MaxConstBytes-w.bytes {
		return limitErr("weights need more than %d bytes in total (%d already used, %d more requested)", w.lim.MaxConstBytes, w.bytes, n)
	}
	w.bytes += n
	return nil
}

// readChunks reads n elements of size bytes each, calling fn on chunks.
func (w *tfjsWeightReader) readChunks(s *tfjsShards, n, size int, fn func(at int, b []byte)) error {
	want, ok := tensor.CheckedMul(n, size)
	if !ok || int64(want) > s.total-s.pos {
		return fmt.Errorf("needs %d elements of %d bytes from byte %d of the group, but its shards hold only %d bytes", n, size, s.pos, s.total)
	}
	buf := make([]byte, min(want, 1<<16)) // 1<<16 is a multiple of every element size
	for done := 0; done < want; {
		k := min(len(buf), want-done)
		if err := s.read(buf[:k]); err != nil {
			return err
		}
		fn(done/size, buf[:k])
		done += k
	}
	return nil
}

func (w *tfjsWeightReader) plain(s *tfjsShards, dtype string, shape tensor.Shape, n int) (*tensor.Tensor, error) {
	size, ok := tfjsElemSize[dtype]
	if !ok {
		return nil, fmt.Errorf("dtype %q not supported (supported: float32, float16, int32, uint8, uint16, bool, string)", dtype)
	}
	le := binary.LittleEndian
	var dt tensor.DType
	var data any
	var fn func(at int, b []byte)
	switch dtype {
	case "float32", "float16":
		out := make([]float32, n)
		dt, data = tensor.Float32, out
		fn = func(at int, b []byte) {
			for i := range len(b) / 4 {
				out[at+i] = math.Float32frombits(le.Uint32(b[4*i:]))
			}
		}
		if dtype == "float16" {
			dt = tensor.Half
			fn = func(at int, b []byte) {
				for i := range len(b) / 2 {
					out[at+i] = halfToFloat32(le.Uint16(b[2*i:]))
				}
			}
		}
	case "int32":
		out := make([]int32, n)
		dt, data = tensor.Int32, out
		fn = func(at int, b []byte) {
			for i := range len(b) / 4 {
				out[at+i] = int32(le.Uint32(b[4*i:]))
			}
		}
	case "uint16":
		out := make([]uint16, n)
		dt, data = tensor.Uint16, out
		fn = func(at int, b []byte) {
			for i := range len(b) / 2 {
				out[at+i] = le.Uint16(b[2*i:])
			}
		}
	case "uint8":
		out := make([]uint8, n)
		dt, data = tensor.Uint8, out
		fn = func(at int, b []byte) { copy(out[at:], b) }
	case "bool":
		out := make([]bool, n)
		dt, data = tensor.Bool, out
		fn = func(at int, b []byte) {
			for i, v := range b {
				out[at+i] = v != 0
			}
		}
	}
	if err := w.charge(int64(n) * int64(dt.StorageSize())); err != nil {
		return nil, err
	}
	if err := w.readChunks(s, n, size, fn); err != nil {
		return nil, err
	}
	return tensor.Wrap(dt, shape, data)
}

// quantized dequantizes a weight as tfjs-core's decodeWeight does.
func (w *tfjsWeightReader) quantized(s *tfjsShards, spec tfjsWeight, q *tfjsQuantization, shape tensor.Shape, n int) (*tensor.Tensor, error) {
	le := binary.LittleEndian
	switch q.DType {
	case "uint8", "uint16":
		if q.Scale == nil || q.Min == nil {
			return nil, fmt.Errorf("quantization %s needs both min and scale", q.DType)
		}
		scale, lo := *q.Scale, *q.Min
		size := 1
		if q.DType == "uint16" {
			size = 2
		}
		quant := func(b []byte, i int) float64 {
			if size == 1 {
				return float64(b[i])
			}
			return float64(le.Uint16(b[2*i:]))
		}
		switch spec.DType {
		case "float32":
			if err := w.charge(int64(n) * 4); err != nil {
				return nil, err
			}
			out := make([]float32, n)
			err := w.readChunks(s, n, size, func(at int, b []byte) {
				for i := range len(b) / size {
					// The conversion rounds the product, so that no fused
					// multiply-add changes the result from JavaScript's.
					out[at+i] = float32(float64(quant(b, i)*scale) + lo)
				}
			})
			if err != nil {
				return nil, err
			}
			return tensor.Wrap(tensor.Float32, shape, out)
		case "int32":
			if err := w.charge(int64(n) * 4); err != nil {
				return nil, err
			}
			out := make([]int32, n)
			err := w.readChunks(s, n, size, func(at int, b []byte) {
				for i := range len(b) / size {
					out[at+i] = tfjsRoundToInt32(float64(quant(b, i)*scale) + lo)
				}
			})
			if err != nil {
				return nil, err
			}
			return tensor.Wrap(tensor.Int32, shape, out)
		}
		return nil, fmt.Errorf("quantization %s of a %s weight is not supported (expected float32 or int32)", q.DType, spec.DType)
	case "float16":
		if spec.DType != "float32" {
			return nil, fmt.Errorf("quantization float16 of a %s weight is not supported (expected float32)", spec.DType)
		}
		if err := w.charge(int64(n) * 4); err != nil {
			return nil, err
		}
		out := make([]float32, n)
		err := w.readChunks(s, n, 2, func(at int, b []byte) {
			for i := range len(b) / 2 {
				out[at+i] = halfToFloat32(le.Uint16(b[2*i:]))
			}
		})
		if err != nil {
			return nil, err
		}
		return tensor.Wrap(tensor.Float32, shape, out)
	}
	return nil, fmt.Errorf("unknown quantization dtype %q (expected uint8, uint16 or float16)", q.DType)
}

// tfjsRoundToInt32 is JavaScript's Math.round (halves round up) followed
// by the Int32Array store (ToInt32: NaN and infinities give 0, other
// values wrap modulo 2^32).
func tfjsRoundToInt32(x float64) int32 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	r := math.Floor(x)
	if x-r >= 0.5 {
		r++
	}
	r = math.Mod(r, 1<<32)
	return int32(uint32(int64(r)))
}

// stringWeight reads a string weight: each element is a 4-byte little-endian
// length followed by its bytes.
func (w *tfjsWeightReader) stringWeight(s *tfjsShards, shape tensor.Shape, n int) (*tensor.Tensor, error) {
	if int64(n) > (s.total-s.pos)/4 {
		return nil, fmt.Errorf("needs at least %d bytes for %d string lengths from byte %d of the group, but its shards hold only %d bytes", 4*int64(n), n, s.pos, s.total)
	}
	if err := w.charge(int64(n) * int64(tensor.String.StorageSize())); err != nil {
		return nil, err
	}
	out := make([]string, n)
	var lb [4]byte
	for i := range out {
		if err := s.read(lb[:]); err != nil {
			return nil, fmt.Errorf("string %d: %w", i, err)
		}
		l := int64(binary.LittleEndian.Uint32(lb[:]))
		if l > s.total-s.pos {
			return nil, fmt.Errorf("string %d has length %d, but only %d bytes of the group follow", i, l, s.total-s.pos)
		}
		if err := w.charge(l); err != nil {
			return nil, err
		}
		b := make([]byte, l)
		if err := s.read(b); err != nil {
			return nil, fmt.Errorf("string %d: %w", i, err)
		}
		out[i] = string(b)
	}
	return tensor.Wrap(tensor.String, shape, out)
}

// tfjsConvert returns t as the Const's declared dtype. The converter
// writes int64 constants as int32 and float64 ones as float32; those are
// widened back. Half and bfloat16 Consts written as float32 are rounded
// to their precision. want == Invalid keeps t.
func tfjsConvert(t *tensor.Tensor, want tensor.DType) (*tensor.Tensor, error) {
	have := t.DType()
	if want == tensor.Invalid || want == have {
		return t, nil
	}
	switch d := t.Data().(type) {
	case []int32:
		if want == tensor.Int64 {
			out := make([]int64, len(d))
			for i, v := range d {
				out[i] = int64(v)
			}
			return tensor.Wrap(want, t.Shape(), out)
		}
	case []float32:
		switch want {
		case tensor.Float64:
			out := make([]float64, len(d))
			for i, v := range d {
				out[i] = float64(v)
			}
			return tensor.Wrap(want, t.Shape(), out)
		case tensor.Float32:
			return tensor.Wrap(want, t.Shape(), d) // float16 weight of a float32 Const: exact
		case tensor.Half:
			out := make([]float32, len(d))
			for i, v := range d {
				out[i] = halfToFloat32(float32ToHalf(v))
			}
			return tensor.Wrap(want, t.Shape(), out)
		case tensor.BFloat16:
			out := make([]float32, len(d))
			for i, v := range d {
				out[i] = bfloat16ToFloat32(float32ToBFloat16(v))
			}
			return tensor.Wrap(want, t.Shape(), out)
		}
	}
	return nil, fmt.Errorf("weight dtype %s does not match the Const's dtype %s", have, want)
}
