// Command gen writes the binary files of the malformed-input corpus in
// testdata/malformed (the .pbtxt cases there are written by hand). Run it
// from the repository root:
//
//	go run ./testdata/malformed/gen
//
// Every file is derived from small valid ones by a fixed corruption, so the
// output is the same on every run. cmd/tfdrun/malformed_test.go states the
// error each file must give.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/graph/bundle"
	"github.com/tfdgo/tfd/internal/npy"
	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
	"google.golang.org/protobuf/proto"
)

const dir = "testdata/malformed"

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// at names a file of the corpus.
func at(name string) string { return filepath.Join(dir, name) }

func main() {
	// relu.pbtxt: the valid graph the bad inputs are fed to.
	relu := `# A valid graph: relu(x) for x float32 [-1 4]; the bad .npy inputs are fed to it.
node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } attr { key: "shape" value { shape { dim { size: -1 } dim { size: 4 } } } } }
node { name: "relu" op: "Relu" input: "x" attr { key: "T" value { type: DT_FLOAT } } }
`
	must(os.WriteFile(at("relu.pbtxt"), []byte(relu), 0o644))
	g, err := graph.Decode([]byte(relu), graph.FormatText, graph.Limits{})
	must(err)
	pb, err := graph.Encode(g)
	must(err)
	// truncated.pb: the binary relu graph cut in the middle of its second node.
	must(os.WriteFile(at("truncated.pb"), pb[:len(pb)-7], 0o644))
	// bitflipped.pb: the first single-bit flip (lowest offset, lowest bit)
	// that the decoder rejects.
	done := false
	for i := 0; i < len(pb) && !done; i++ {
		for b := 0; b < 8; b++ {
			c := bytes.Clone(pb)
			c[i] ^= 1 << b
			if _, err := graph.Decode(c, graph.FormatBinary, graph.Limits{}); err != nil {
				must(os.WriteFile(at("bitflipped.pb"), c, 0o644))
				done = true
				break
			}
		}
	}

	var buf bytes.Buffer
	must(npy.Write(&buf, tensor.FromSlice(tensor.Shape{2, 4}, []float32{1, -2, 3, -4, 5, -6, 7, -8})))
	full := buf.Bytes()
	must(os.WriteFile(at("x_2x4.npy"), full, 0o644))
	must(os.WriteFile(at("truncated.npy"), full[:len(full)-5], 0o644))
	buf.Reset()
	must(npy.Write(&buf, tensor.FromSlice(tensor.Shape{2, 4}, []bool{true, false, true, false, true, false, true, false})))
	must(os.WriteFile(at("bool.npy"), buf.Bytes(), 0o644))
	buf.Reset()
	must(npy.Write(&buf, tensor.FromSlice(tensor.Shape{2, 5}, make([]float32, 10))))
	must(os.WriteFile(at("shape_2x5.npy"), buf.Bytes(), 0o644))

	// TF1 checkpoints (prefix.meta + prefix.index + prefix.data-*):
	// y = x * w with w a VariableV2 restored from the bundle; a_pad sorts
	// first so that w lies at offset 64 of the shard.
	for _, name := range []string{"ckpt_offset", "ckpt_crc"} {
		prefix := at(name)
		must(os.WriteFile(prefix+".meta", metaGraph(), 0o644))
		must(bundle.Write(prefix, map[string]*tensor.Tensor{
			"a_pad": tensor.FromSlice(tensor.Shape{16}, make([]float32, 16)),
			"w":     tensor.FromSlice(tensor.Shape{4}, []float32{1, 2, 3, 4}),
		}, bundle.WriteOptions{}))
		r, err := bundle.Open(prefix, bundle.Limits{})
		must(err)
		e, _ := r.Entry("w")
		r.Close()
		data := prefix + ".data-00000-of-00001"
		b, err := os.ReadFile(data)
		must(err)
		// ckpt_offset: the shard is cut in half, so w's extent [64, 80)
		// starts past its end. ckpt_crc: one bit of w's data is flipped.
		if name == "ckpt_offset" {
			b = b[:e.Offset/2]
		} else {
			b[e.Offset+1] ^= 0x40
		}
		must(os.WriteFile(data, b, 0o644))
	}

	payloadFlips()
	truncations()
}

// flipAt returns b with bit k of byte i flipped.
func flipAt(b []byte, i int, k uint) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1 << k
	return c
}

// index returns where sub starts in b, which must hold it exactly once.
func index(b, sub []byte) int {
	if bytes.Count(b, sub) != 1 {
		panic(fmt.Sprintf("%q occurs %d times", sub, bytes.Count(b, sub)))
	}
	return bytes.Index(b, sub)
}

// weightGraph is y = x * w for x float32 [-1, 4] and a Const w float32
// [4] (its bytes in tensor_content).
func weightGraph() *tfpb.GraphDef {
	f := tfpb.DataType_DT_FLOAT
	w := weightTensor()
	return &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		{Name: "x", Op: "Placeholder", Attr: map[string]*tfpb.AttrValue{"dtype": tyAttr(f), "shape": shapeAttr(-1, 4)}},
		{Name: "w", Op: "Const", Attr: map[string]*tfpb.AttrValue{"dtype": tyAttr(f), "value": {Value: &tfpb.AttrValue_Tensor{Tensor: w}}}},
		{Name: "y", Op: "Mul", Input: []string{"x", "w"}, Attr: map[string]*tfpb.AttrValue{"T": tyAttr(f)}},
	}, Versions: &tfpb.VersionDef{Producer: 134}}
}

// weightTensor is w = [1 2 3 4] as a TensorProto.
func weightTensor() *tfpb.TensorProto {
	return &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: &tfpb.TensorShapeProto{Dim: []*tfpb.TensorShapeProto_Dim{{Size: 4}}},
		TensorContent: []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40}}
}

// weightDim returns the offset in b of the size of w's dimension.
func weightDim(b []byte) int {
	tp := marshal(weightTensor())
	return index(b, tp) + index(tp, shapeDim4) + 3
}

func marshal(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	must(err)
	return b
}

// shapeDim4 is how a TensorShapeProto encodes dim { size: 4 }: field 2
// (dim), 2 bytes, field 1 (size) varint 4. Flipping bit 0 of its last
// byte, the size itself, makes the dimension 5.
var shapeDim4 = []byte{0x12, 0x02, 0x08, 0x04}

// payloadFlips writes, for each format, a file with one bit flipped
// inside a payload (a size, a key, a digit) rather than a tag byte, so
// that the file still parses but what it says no longer adds up.
func payloadFlips() {
	// GraphDef: w's shape becomes [5] while its content holds 4 floats.
	pb := marshal(weightGraph())
	i := weightDim(pb)
	must(os.WriteFile(at("bitflip_payload.pb"), flipAt(pb, i, 0), 0o644))

	// .npy: the header's shape (2, 4) becomes (3, 4); the data holds 2 rows.
	x, err := os.ReadFile(at("x_2x4.npy"))
	must(err)
	i = index(x, []byte("(2, 4)")) + 1
	must(os.WriteFile(at("bitflip_payload.npy"), flipAt(x, i, 0), 0o644))

	// Checkpoint index: a bit of the key "w" in the index's data block
	// ("w" becomes "v"), which the block's crc32c no longer matches.
	prefix := at("ckpt_indexflip")
	writeCheckpoint(prefix)
	idx, err := os.ReadFile(prefix + ".index")
	must(err)
	i = bytes.LastIndex(idx[:len(idx)-48], []byte("w"))
	must(os.WriteFile(prefix+".index", flipAt(idx, i, 0), 0o644))

	// TF.js: the weights manifest gives w the shape [5]; its shard holds 4
	// floats.
	dir := at("tfjs_bitflip")
	model, shard := tfjsModel()
	i = index(model, []byte(`"shape":[4]`)) + len(`"shape":[`)
	writeTFJS(dir, flipAt(model, i, 0), shard)

	// SavedModel: as for the GraphDef, w's shape becomes [5].
	sm := marshal(savedModel(weightGraph()))
	i = weightDim(sm)
	must(os.MkdirAll(at("sm_bitflip"), 0o755))
	must(os.WriteFile(filepath.Join(at("sm_bitflip"), "saved_model.pb"), flipAt(sm, i, 0), 0o644))
}

// truncations writes a TF.js model whose weight shard is cut short, a
// SavedModel whose variables/ directory is missing and a checkpoint whose
// .index is cut short.
func truncations() {
	model, shard := tfjsModel()
	writeTFJS(at("tfjs_truncated"), model, shard[:len(shard)-6])

	mg := &tfpb.MetaGraphDef{}
	must(proto.Unmarshal(metaGraph(), mg))
	must(os.MkdirAll(at("sm_novars"), 0o755))
	must(os.WriteFile(filepath.Join(at("sm_novars"), "saved_model.pb"), marshal(savedModel(mg.GetGraphDef())), 0o644))

	prefix := at("ckpt_index_trunc")
	writeCheckpoint(prefix)
	idx, err := os.ReadFile(prefix + ".index")
	must(err)
	must(os.WriteFile(prefix+".index", idx[:len(idx)-20], 0o644))
}

// writeCheckpoint writes the TF1 checkpoint of metaGraph at prefix.
func writeCheckpoint(prefix string) {
	must(os.WriteFile(prefix+".meta", metaGraph(), 0o644))
	must(bundle.Write(prefix, map[string]*tensor.Tensor{
		"a_pad": tensor.FromSlice(tensor.Shape{16}, make([]float32, 16)),
		"w":     tensor.FromSlice(tensor.Shape{4}, []float32{1, 2, 3, 4}),
	}, bundle.WriteOptions{}))
}

// savedModel wraps a graph as a SavedModel with the tag "serve" and a
// signature x → y.
func savedModel(g *tfpb.GraphDef) *tfpb.SavedModel {
	info := func(name string) *tfpb.TensorInfo {
		return &tfpb.TensorInfo{Encoding: &tfpb.TensorInfo_Name{Name: name}, Dtype: tfpb.DataType_DT_FLOAT,
			TensorShape: shapeAttr(-1, 4).GetShape()}
	}
	return &tfpb.SavedModel{SavedModelSchemaVersion: 1, MetaGraphs: []*tfpb.MetaGraphDef{{
		MetaInfoDef: &tfpb.MetaGraphDef_MetaInfoDef{Tags: []string{"serve"}, TensorflowVersion: "1.15.0"},
		GraphDef:    g,
		SignatureDef: map[string]*tfpb.SignatureDef{"serving_default": {MethodName: "tensorflow/serving/predict",
			Inputs: map[string]*tfpb.TensorInfo{"x": info("x:0")}, Outputs: map[string]*tfpb.TensorInfo{"y": info("y:0")}}},
	}}}
}

// tfjsModel returns the model.json and weight shard of a TF.js graph
// model computing y = x * w, w = [1 2 3 4] a weight.
func tfjsModel() (model, shard []byte) {
	model = []byte(`{"format":"graph-model","generatedBy":"2.19.0","convertedBy":"TensorFlow.js Converter v4.22.0",` +
		`"modelTopology":{"node":[` +
		`{"name":"x","op":"Placeholder","attr":{"dtype":{"type":"DT_FLOAT"},"shape":{"shape":{"dim":[{"size":"-1"},{"size":"4"}]}}}},` +
		`{"name":"w","op":"Const","attr":{"dtype":{"type":"DT_FLOAT"},"value":{"tensor":{"dtype":"DT_FLOAT","tensorShape":{"dim":[{"size":"4"}]}}}}},` +
		`{"name":"y","op":"Mul","input":["x","w"],"attr":{"T":{"type":"DT_FLOAT"}}}],"versions":{"producer":1569}},` +
		`"weightsManifest":[{"paths":["group1-shard1of1.bin"],"weights":[{"name":"w","shape":[4],"dtype":"float32"}]}]}`)
	var b bytes.Buffer
	for _, v := range []float32{1, 2, 3, 4} {
		must(binary.Write(&b, binary.LittleEndian, v))
	}
	return model, b.Bytes()
}

func writeTFJS(dir string, model, shard []byte) {
	must(os.MkdirAll(dir, 0o755))
	must(os.WriteFile(filepath.Join(dir, "model.json"), model, 0o644))
	must(os.WriteFile(filepath.Join(dir, "group1-shard1of1.bin"), shard, 0o644))
}

func tyAttr(dt tfpb.DataType) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: dt}}
}

func shapeAttr(dims ...int64) *tfpb.AttrValue {
	s := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		s.Dim = append(s.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Shape{Shape: s}}
}

// metaGraph returns the binary MetaGraphDef of the checkpoints.
func metaGraph() []byte {
	ty := func(dt tfpb.DataType) *tfpb.AttrValue { return &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: dt}} }
	shape := func(dims ...int64) *tfpb.AttrValue {
		s := &tfpb.TensorShapeProto{}
		for _, d := range dims {
			s.Dim = append(s.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
		}
		return &tfpb.AttrValue{Value: &tfpb.AttrValue_Shape{Shape: s}}
	}
	strs := func(ss ...string) *tfpb.AttrValue {
		t := &tfpb.TensorProto{Dtype: tfpb.DataType_DT_STRING}
		if len(ss) != 1 {
			t.TensorShape = &tfpb.TensorShapeProto{Dim: []*tfpb.TensorShapeProto_Dim{{Size: int64(len(ss))}}}
		} else {
			t.TensorShape = &tfpb.TensorShapeProto{}
		}
		for _, s := range ss {
			t.StringVal = append(t.StringVal, []byte(s))
		}
		return &tfpb.AttrValue{Value: &tfpb.AttrValue_Tensor{Tensor: t}}
	}
	node := func(name, op string, in []string, attrs map[string]*tfpb.AttrValue) *tfpb.NodeDef {
		return &tfpb.NodeDef{Name: name, Op: op, Input: in, Attr: attrs}
	}
	f := tfpb.DataType_DT_FLOAT
	tf := map[string]*tfpb.AttrValue{"T": ty(f)}
	nodes := []*tfpb.NodeDef{
		node("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": ty(f), "shape": shape(-1, 4)}),
		node("w", "VariableV2", nil, map[string]*tfpb.AttrValue{"dtype": ty(f), "shape": shape(4)}),
		node("w/read", "Identity", []string{"w"}, tf),
		node("y", "Mul", []string{"x", "w/read"}, tf),
		node("save/Const", "Const", nil, map[string]*tfpb.AttrValue{"dtype": ty(tfpb.DataType_DT_STRING), "value": strs("model")}),
		node("save/RestoreV2/tensor_names", "Const", nil, map[string]*tfpb.AttrValue{"dtype": ty(tfpb.DataType_DT_STRING), "value": strs("w", "a_pad")}),
		node("save/RestoreV2/shape_and_slices", "Const", nil, map[string]*tfpb.AttrValue{"dtype": ty(tfpb.DataType_DT_STRING), "value": strs("", "")}),
		node("save/RestoreV2", "RestoreV2", []string{"save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices"},
			map[string]*tfpb.AttrValue{"dtypes": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{Type: []tfpb.DataType{f, f}}}}}),
		node("save/Assign", "Assign", []string{"w", "save/RestoreV2"}, tf),
		node("save/restore_all", "NoOp", []string{"^save/Assign"}, nil),
	}
	mg := &tfpb.MetaGraphDef{
		MetaInfoDef: &tfpb.MetaGraphDef_MetaInfoDef{Tags: []string{"serve"}, TensorflowVersion: "1.15.0"},
		GraphDef:    &tfpb.GraphDef{Node: nodes, Versions: &tfpb.VersionDef{Producer: 134}},
		SaverDef:    &tfpb.SaverDef{RestoreOpName: "save/restore_all", FilenameTensorName: "save/Const:0"},
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mg)
	must(err)
	return b
}
