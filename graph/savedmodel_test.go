package graph

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/tfdgo/tfd/graph/bundle"
	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
)

// Helpers building protos for hand-made SavedModels.

func smtNode(name, op string, inputs []string, attrs map[string]*tfpb.AttrValue) *tfpb.NodeDef {
	return &tfpb.NodeDef{Name: name, Op: op, Input: inputs, Attr: attrs}
}

func smtType(dt tensor.DType) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: tfpb.DataType(dt)}}
}

func smtTypes(dts ...tensor.DType) *tfpb.AttrValue {
	l := &tfpb.AttrValue_ListValue{}
	for _, d := range dts {
		l.Type = append(l.Type, tfpb.DataType(d))
	}
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: l}}
}

func smtShapeProto(dims ...int64) *tfpb.TensorShapeProto {
	sp := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		sp.Dim = append(sp.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	return sp
}

func smtShape(dims ...int64) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Shape{Shape: smtShapeProto(dims...)}}
}

func smtStr(s string) *tfpb.AttrValue { return &tfpb.AttrValue{Value: &tfpb.AttrValue_S{S: []byte(s)}} }

func smtInt(i int64) *tfpb.AttrValue { return &tfpb.AttrValue{Value: &tfpb.AttrValue_I{I: i}} }

func smtFunc(name string, attrs map[string]*tfpb.AttrValue) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Func{Func: &tfpb.NameAttrList{Name: name, Attr: attrs}}}
}

func smtPlaceholder(name string) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Placeholder{Placeholder: name}}
}

func smtStringConst(name string, vals ...string) *tfpb.NodeDef {
	tp := &tfpb.TensorProto{Dtype: tfpb.DataType(tensor.String), TensorShape: smtShapeProto(int64(len(vals)))}
	for _, v := range vals {
		tp.StringVal = append(tp.StringVal, []byte(v))
	}
	return smtNode(name, "Const", nil, map[string]*tfpb.AttrValue{
		"dtype": smtType(tensor.String), "value": {Value: &tfpb.AttrValue_Tensor{Tensor: tp}}})
}

func smtFloatConst(name string, v float32) *tfpb.NodeDef {
	tp := &tfpb.TensorProto{Dtype: tfpb.DataType(tensor.Float32), TensorShape: smtShapeProto(), FloatVal: []float32{v}}
	return smtNode(name, "Const", nil, map[string]*tfpb.AttrValue{
		"dtype": smtType(tensor.Float32), "value": {Value: &tfpb.AttrValue_Tensor{Tensor: tp}}})
}

func smtInfo(name string, dt tensor.DType, dims ...int64) *tfpb.TensorInfo {
	return &tfpb.TensorInfo{Encoding: &tfpb.TensorInfo_Name{Name: name}, Dtype: tfpb.DataType(dt), TensorShape: smtShapeProto(dims...)}
}

var smtF = tensor.Float32

// smtTF1MetaGraph is a TF1 half-plus-two style graph: y = a*x + b with
// ref variables a and b, y2 = r*x with a resource variable r, and the
// saver's restore subgraph, whose tensor_names give b the checkpoint key
// "bias_key" and r the key "r_key".
func smtTF1MetaGraph() *tfpb.MetaGraphDef {
	f := map[string]*tfpb.AttrValue{"T": smtType(smtF)}
	nodes := []*tfpb.NodeDef{
		smtNode("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": smtType(smtF), "shape": smtShape(-1, 1)}),
		smtNode("a", "VariableV2", nil, map[string]*tfpb.AttrValue{"dtype": smtType(smtF), "shape": smtShape(),
			"_class": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{S: [][]byte{[]byte("loc:@a")}}}}}),
		smtNode("a/read", "Identity", []string{"a"}, f),
		smtNode("mul", "Mul", []string{"a/read", "x"}, f),
		smtNode("b", "VariableV2", nil, map[string]*tfpb.AttrValue{"dtype": smtType(smtF), "shape": smtShape()}),
		smtNode("y", "Add", []string{"mul", "b"}, map[string]*tfpb.AttrValue{"T": smtType(smtF), "_output_shapes": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{Shape: []*tfpb.TensorShapeProto{smtShapeProto(-1, 1)}}}}}),
		smtNode("r", "VarHandleOp", nil, map[string]*tfpb.AttrValue{"dtype": smtType(smtF), "shape": smtShape(), "shared_name": smtStr("r_key")}),
		smtNode("r/Read", "ReadVariableOp", []string{"r"}, map[string]*tfpb.AttrValue{"dtype": smtType(smtF)}),
		smtNode("y2", "Mul", []string{"r/Read", "x"}, f),
		smtStringConst("save/Const", "model"),
		smtStringConst("save/RestoreV2/tensor_names", "a", "bias_key", "r_key"),
		smtStringConst("save/RestoreV2/shape_and_slices", "", "", ""),
		smtNode("save/RestoreV2", "RestoreV2", []string{"save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices"},
			map[string]*tfpb.AttrValue{"dtypes": smtTypes(smtF, smtF, smtF)}),
		smtNode("save/Assign", "Assign", []string{"a", "save/RestoreV2"}, f),
		smtNode("save/Assign_1", "Assign", []string{"b", "save/RestoreV2:1"}, f),
		smtNode("save/Identity", "Identity", []string{"save/RestoreV2:2"}, f),
		smtNode("save/AssignVariableOp", "AssignVariableOp", []string{"r", "save/Identity"}, map[string]*tfpb.AttrValue{"dtype": smtType(smtF)}),
		smtNode("save/restore_all", "NoOp", []string{"^save/Assign", "^save/Assign_1", "^save/AssignVariableOp"}, nil),
	}
	return &tfpb.MetaGraphDef{
		MetaInfoDef: &tfpb.MetaGraphDef_MetaInfoDef{Tags: []string{"serve"}, TensorflowVersion: "1.15.0"},
		GraphDef:    &tfpb.GraphDef{Node: nodes, Versions: &tfpb.VersionDef{Producer: 134}},
		SaverDef:    &tfpb.SaverDef{RestoreOpName: "save/restore_all", FilenameTensorName: "save/Const:0"},
		SignatureDef: map[string]*tfpb.SignatureDef{
			"serving_default": {MethodName: "tensorflow/serving/predict",
				Inputs:  map[string]*tfpb.TensorInfo{"x": smtInfo("x:0", smtF, -1, 1)},
				Outputs: map[string]*tfpb.TensorInfo{"y": smtInfo("y:0", smtF, -1, 1)}},
			"times_r": {MethodName: "tensorflow/serving/predict",
				Inputs:  map[string]*tfpb.TensorInfo{"x": smtInfo("x:0", smtF, -1, 1)},
				Outputs: map[string]*tfpb.TensorInfo{"y2": smtInfo("y2:0", smtF, -1, 1)}},
		},
	}
}

// smtTF1Values are the checkpoint values of smtTF1MetaGraph.
func smtTF1Values() map[string]*tensor.Tensor {
	return map[string]*tensor.Tensor{
		"a": tensor.Scalar[float32](0.5), "bias_key": tensor.Scalar[float32](2), "r_key": tensor.Scalar[float32](3),
	}
}

// smtWriteSavedModel writes a SavedModel directory: saved_model.pb (or
// .pbtxt when text), and the bundle when values is not nil.
func smtWriteSavedModel(t *testing.T, dir string, mgs []*tfpb.MetaGraphDef, values map[string]*tensor.Tensor, opt bundle.WriteOptions, text bool) {
	t.Helper()
	sm := &tfpb.SavedModel{SavedModelSchemaVersion: 1, MetaGraphs: mgs}
	var data []byte
	var err error
	name := "saved_model.pb"
	if text {
		name = "saved_model.pbtxt"
		data, err = prototext.Marshal(sm)
	} else {
		data, err = proto.Marshal(sm)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if values == nil {
		return
	}
	if err := os.MkdirAll(filepath.Join(dir, "variables"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := bundle.Write(filepath.Join(dir, "variables", "variables"), values, opt); err != nil {
		t.Fatal(err)
	}
}

// smtConstValue returns the value of Const node name of g.
func smtConstValue(t *testing.T, g *Graph, name string) *tensor.Tensor {
	t.Helper()
	n, ok := g.Node(name)
	if !ok {
		t.Fatalf("no node %q in the graph", name)
	}
	if n.Op != "Const" {
		t.Fatalf("node %q is %s, want Const", name, n.Op)
	}
	v, ok, err := n.Attrs.Tensor("value")
	if !ok || err != nil {
		t.Fatalf("node %q: value attr: %v", name, err)
	}
	return v
}

func smtWantScalar(t *testing.T, g *Graph, name string, want float32) {
	t.Helper()
	v := smtConstValue(t, g, name)
	if v.DType() != tensor.Float32 || v.Len() != 1 || tensor.As[float32](v)[0] != want {
		t.Errorf("node %q holds %v, want float32 %v", name, v, want)
	}
}

func TestReadSavedModelTF1(t *testing.T) {
	for _, text := range []bool{false, true} {
		dir := t.TempDir()
		smtWriteSavedModel(t, dir, []*tfpb.MetaGraphDef{smtTF1MetaGraph()}, smtTF1Values(), bundle.WriteOptions{}, text)
		sm, err := ReadSavedModel(dir, SavedModelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if sm.Format != FormatSavedModelTF1 || sm.Producer != 134 || sm.TFVersion != "1.15.0" || strings.Join(sm.Tags, ",") != "serve" {
			t.Errorf("got format %q producer %d version %q tags %v", sm.Format, sm.Producer, sm.TFVersion, sm.Tags)
		}
		if got := strings.Join(sm.SignatureKeys(), ","); got != "serving_default,times_r" {
			t.Errorf("signatures %s", got)
		}
		sig := sm.Signatures["serving_default"]
		if sig.Method != "tensorflow/serving/predict" || sig.Inputs["x"].Name != "x:0" || sig.Outputs["y"].DType != tensor.Float32 ||
			sig.Outputs["y"].Shape.String() != (tensor.PartialShape{Dims: []int{-1, 1}}).String() {
			t.Errorf("serving_default = %+v", *sig)
		}
		g := sm.Graph
		// Variables become Consts of the same name; the read of r becomes
		// a Const named as the read.
		smtWantScalar(t, g, "a", 0.5)
		smtWantScalar(t, g, "b", 2)
		smtWantScalar(t, g, "r/Read", 3)
		if y, _ := g.Node("y"); y == nil || y.Inputs[1] != (Input{Node: "b"}) {
			t.Errorf("y lost its input b: %+v", y)
		}
		for _, n := range g.Nodes {
			if strings.HasPrefix(n.Name, "save/") || n.Op == "VarHandleOp" {
				t.Errorf("node %q (%s) survived pruning", n.Name, n.Op)
			}
		}
		want := map[string]string{"a": "a", "b": "bias_key", "r": "r_key"}
		if len(sm.Variables) != 3 {
			t.Fatalf("variables %+v", sm.Variables)
		}
		for _, v := range sm.Variables {
			if want[v.Name] != v.Key || !v.Frozen || v.Missing || v.Bytes != 4 || v.DType != tensor.Float32 {
				t.Errorf("variable %+v, want key %q, frozen, 4 bytes", v, want[v.Name])
			}
		}

		// One signature's graph: only what y needs.
		sg, err := sm.SignatureGraph("serving_default")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, n := range sg.Nodes {
			names = append(names, n.Name)
		}
		if got := strings.Join(names, ","); got != "x,a,a/read,mul,b,y" {
			t.Errorf("serving_default graph holds %s", got)
		}
	}
}

// TestSignatureGraphFeedsPlaceholders checks that a signature input fed
// at a non-placeholder node becomes a Placeholder, cutting off what
// feeds that node.
func TestSignatureGraphFeedsPlaceholders(t *testing.T) {
	mg := smtTF1MetaGraph()
	gd := mg.GraphDef
	gd.Node = append(gd.Node,
		smtNode("examples", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": smtType(tensor.String)}),
		smtNode("parse", "ParseExample", []string{"examples"}, nil),
		smtNode("x_parsed", "Identity", []string{"parse"}, map[string]*tfpb.AttrValue{"T": smtType(smtF)}),
		smtNode("y3", "Mul", []string{"x_parsed", "a"}, map[string]*tfpb.AttrValue{"T": smtType(smtF)}))
	mg.SignatureDef["from_x"] = &tfpb.SignatureDef{
		Inputs:  map[string]*tfpb.TensorInfo{"x": smtInfo("x_parsed:0", smtF, -1, 1)},
		Outputs: map[string]*tfpb.TensorInfo{"y": smtInfo("y3:0", smtF, -1, 1)}}
	mg.SignatureDef["from_examples"] = &tfpb.SignatureDef{
		Inputs:  map[string]*tfpb.TensorInfo{"examples": smtInfo("examples:0", tensor.String, -1)},
		Outputs: map[string]*tfpb.TensorInfo{"y": smtInfo("y3:0", smtF, -1, 1)}}
	dir := t.TempDir()
	smtWriteSavedModel(t, dir, []*tfpb.MetaGraphDef{mg}, smtTF1Values(), bundle.WriteOptions{}, false)
	sm, err := ReadSavedModel(dir, SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sm.Graph.Node("parse"); !ok {
		t.Fatal("the full graph must keep the parser for signature from_examples")
	}
	g, err := sm.SignatureGraph("from_x")
	if err != nil {
		t.Fatal(err)
	}
	n, ok := g.Node("x_parsed")
	if !ok || n.Op != "Placeholder" || len(n.Inputs) != 0 {
		t.Fatalf("x_parsed = %+v, want a Placeholder", n)
	}
	if dt, _, _ := n.Attrs.Type("dtype"); dt != tensor.Float32 {
		t.Errorf("placeholder dtype %v", dt)
	}
	if _, ok := g.Node("parse"); ok {
		t.Error("the parser survived in the signature graph")
	}
}

func TestReadSavedModelErrors(t *testing.T) {
	write := func(t *testing.T, values map[string]*tensor.Tensor, opt bundle.WriteOptions) string {
		dir := t.TempDir()
		smtWriteSavedModel(t, dir, []*tfpb.MetaGraphDef{smtTF1MetaGraph()}, values, opt, false)
		return dir
	}
	cases := []struct {
		name  string
		setup func(t *testing.T) (dir string, opt SavedModelOptions)
		want  []string
	}{
		{name: "no saved_model.pb", setup: func(t *testing.T) (string, SavedModelOptions) {
			return t.TempDir(), SavedModelOptions{}
		}, want: []string{"no saved_model.pb or saved_model.pbtxt"}},
		{name: "unknown tag set", setup: func(t *testing.T) (string, SavedModelOptions) {
			return write(t, smtTF1Values(), bundle.WriteOptions{}), SavedModelOptions{Tags: []string{"serve", "gpu"}}
		}, want: []string{"saved_model.pb", "no MetaGraph with tags [serve,gpu]", "available tag sets: [serve]"}},
		{name: "no variables directory", setup: func(t *testing.T) (string, SavedModelOptions) {
			return write(t, nil, bundle.WriteOptions{}), SavedModelOptions{}
		}, want: []string{`variable "a"`, "variables/variables.index"}},
		{name: "key absent", setup: func(t *testing.T) (string, SavedModelOptions) {
			v := smtTF1Values()
			delete(v, "bias_key")
			return write(t, v, bundle.WriteOptions{}), SavedModelOptions{}
		}, want: []string{"variables/variables.index", `variable "b"`, `checkpoint key "bias_key" is not in the checkpoint`}},
		{name: "missing shard", setup: func(t *testing.T) (string, SavedModelOptions) {
			dir := write(t, smtTF1Values(), bundle.WriteOptions{NumShards: 3})
			if err := os.Remove(filepath.Join(dir, "variables", "variables.data-00001-of-00003")); err != nil {
				t.Fatal(err)
			}
			return dir, SavedModelOptions{}
		}, want: []string{"variables.data-00001-of-00003"}},
		{name: "dtype mismatch", setup: func(t *testing.T) (string, SavedModelOptions) {
			v := smtTF1Values()
			v["a"] = tensor.Scalar[int32](1)
			return write(t, v, bundle.WriteOptions{}), SavedModelOptions{}
		}, want: []string{`variable "a"`, `checkpoint key "a" holds int32[]`, "declares dtype float32"}},
		{name: "limit on variable bytes", setup: func(t *testing.T) (string, SavedModelOptions) {
			// The graph's string constants take 131 bytes, the three
			// variables 12 more.
			return write(t, smtTF1Values(), bundle.WriteOptions{}), SavedModelOptions{Limits: Limits{MaxConstBytes: 140}}
		}, want: []string{"variables need more than 140 bytes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, opt := c.setup(t)
			_, err := ReadSavedModel(dir, opt)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "graph: "+dir+": ") {
				t.Errorf("error is not one line starting with the package: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}

	dir := write(t, smtTF1Values(), bundle.WriteOptions{})
	sm, err := ReadSavedModel(dir, SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.Signature("predict"); err == nil || !strings.Contains(err.Error(), "available: serving_default, times_r") {
		t.Errorf("unknown signature: %v", err)
	}
}

func TestSelectMetaGraph(t *testing.T) {
	mg := func(tags ...string) *tfpb.MetaGraphDef {
		return &tfpb.MetaGraphDef{MetaInfoDef: &tfpb.MetaGraphDef_MetaInfoDef{Tags: tags}}
	}
	cases := []struct {
		name string
		mgs  []*tfpb.MetaGraphDef
		tags []string
		want int // index, -1 for an error
	}{
		{name: "serve by default", mgs: []*tfpb.MetaGraphDef{mg("train"), mg("serve")}, want: 1},
		{name: "only one", mgs: []*tfpb.MetaGraphDef{mg("train", "serve")}, want: 0},
		{name: "empty tag set", mgs: []*tfpb.MetaGraphDef{mg("train"), mg()}, want: 1},
		{name: "no default", mgs: []*tfpb.MetaGraphDef{mg("train"), mg("gpu")}, want: -1},
		{name: "tags in any order", mgs: []*tfpb.MetaGraphDef{mg("serve"), mg("serve", "gpu")}, tags: []string{"gpu", "serve"}, want: 1},
		{name: "explicit empty", mgs: []*tfpb.MetaGraphDef{mg("serve"), mg()}, tags: []string{}, want: 1},
		{name: "absent", mgs: []*tfpb.MetaGraphDef{mg("serve")}, tags: []string{"tpu"}, want: -1},
		{name: "no MetaGraph", want: -1},
	}
	for _, c := range cases {
		got, _, _, err := smSelectMetaGraph(c.mgs, c.tags)
		switch {
		case c.want < 0 && err == nil:
			t.Errorf("%s: no error", c.name)
		case c.want >= 0 && (err != nil || got != c.mgs[c.want]):
			t.Errorf("%s: got %v, %v; want MetaGraph %d", c.name, got.GetMetaInfoDef().GetTags(), err, c.want)
		}
	}
}

// smtTF2MetaGraph is a TF2-style export: the top-level graph calls the
// signature function, which calls __inference_call (reading the captured
// variable) and, through PartitionedCall with a bound type attr, a
// generic helper. The variable's object path needs escaping.
func smtTF2MetaGraph() *tfpb.MetaGraphDef {
	res := tensor.Resource
	nodes := []*tfpb.NodeDef{
		smtNode("serving_default_x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": smtType(smtF), "shape": smtShape()}),
		smtNode("Variable", "VarHandleOp", nil, map[string]*tfpb.AttrValue{"dtype": smtType(smtF), "shape": smtShape(), "shared_name": smtStr("Variable_77")}),
		smtNode("StatefulPartitionedCall", "StatefulPartitionedCall", []string{"serving_default_x", "Variable"}, map[string]*tfpb.AttrValue{
			"Tin": smtTypes(smtF, res), "Tout": smtTypes(smtF), "f": smtFunc("__inference_signature_wrapper_1", nil)}),
		smtNode("NoOp", "NoOp", nil, nil),
	}
	wrapper := &tfpb.FunctionDef{
		Signature: &tfpb.OpDef{Name: "__inference_signature_wrapper_1",
			InputArg:  []*tfpb.OpDef_ArgDef{{Name: "x", Type: tfpb.DataType(smtF)}, {Name: "unknown", Type: tfpb.DataType(res)}},
			OutputArg: []*tfpb.OpDef_ArgDef{{Name: "identity", Type: tfpb.DataType(smtF)}}},
		NodeDef: []*tfpb.NodeDef{
			smtNode("StatefulPartitionedCall", "StatefulPartitionedCall", []string{"x", "unknown"}, map[string]*tfpb.AttrValue{
				"Tin": smtTypes(smtF, res), "Tout": smtTypes(smtF), "f": smtFunc("__inference_call_2", nil)}),
			smtNode("Identity", "Identity", []string{"StatefulPartitionedCall:output:0", "^StatefulPartitionedCall"}, map[string]*tfpb.AttrValue{"T": smtType(smtF)}),
		},
		Ret: map[string]string{"identity": "Identity:output:0"},
	}
	call := &tfpb.FunctionDef{
		Signature: &tfpb.OpDef{Name: "__inference_call_2",
			InputArg:  []*tfpb.OpDef_ArgDef{{Name: "x", Type: tfpb.DataType(smtF)}, {Name: "mul_readvariableop_resource", Type: tfpb.DataType(res)}},
			OutputArg: []*tfpb.OpDef_ArgDef{{Name: "identity", Type: tfpb.DataType(smtF)}}},
		NodeDef: []*tfpb.NodeDef{
			smtNode("mul/ReadVariableOp", "ReadVariableOp", []string{"mul_readvariableop_resource"}, map[string]*tfpb.AttrValue{"dtype": smtType(smtF)}),
			smtNode("twice", "PartitionedCall", []string{"x"}, map[string]*tfpb.AttrValue{
				"Tin": smtTypes(smtF), "Tout": smtTypes(smtF), "f": smtFunc("helper_3", map[string]*tfpb.AttrValue{"T": smtType(smtF)})}),
			smtNode("mul", "Mul", []string{"twice:output:0", "mul/ReadVariableOp:value:0"}, map[string]*tfpb.AttrValue{"T": smtType(smtF)}),
			smtNode("Identity", "Identity", []string{"mul:z:0", "^mul/ReadVariableOp"}, map[string]*tfpb.AttrValue{"T": smtType(smtF)}),
		},
		Ret:        map[string]string{"identity": "Identity:output:0"},
		ControlRet: map[string]string{"mul/ReadVariableOp": "mul/ReadVariableOp"},
	}
	helper := &tfpb.FunctionDef{
		Signature: &tfpb.OpDef{Name: "helper_3",
			InputArg:  []*tfpb.OpDef_ArgDef{{Name: "v", TypeAttr: "T"}},
			OutputArg: []*tfpb.OpDef_ArgDef{{Name: "sum", TypeAttr: "T"}},
			Attr:      []*tfpb.OpDef_AttrDef{{Name: "T", Type: "type"}}},
		NodeDef: []*tfpb.NodeDef{
			smtNode("add", "AddV2", []string{"v", "v"}, map[string]*tfpb.AttrValue{"T": smtPlaceholder("T")}),
		},
		Ret: map[string]string{"sum": "add:z:0"},
	}
	og := &tfpb.SavedObjectGraph{
		Nodes: []*tfpb.SavedObject{
			{Children: []*tfpb.TrackableObjectGraph_TrackableObject_ObjectReference{{NodeId: 1, LocalName: "net"}, {NodeId: 3, LocalName: "signatures"}},
				Kind: &tfpb.SavedObject_UserObject{UserObject: &tfpb.SavedUserObject{Identifier: "_generic_user_object"}}},
			{Children: []*tfpb.TrackableObjectGraph_TrackableObject_ObjectReference{{NodeId: 2, LocalName: "w.x/y"}, {NodeId: 0, LocalName: "loop"}},
				Kind: &tfpb.SavedObject_UserObject{UserObject: &tfpb.SavedUserObject{Identifier: "_generic_user_object"}}},
			{Kind: &tfpb.SavedObject_Variable{Variable: &tfpb.SavedVariable{Dtype: tfpb.DataType(smtF), Shape: smtShapeProto(), Name: "Variable"}}},
			{Kind: &tfpb.SavedObject_UserObject{UserObject: &tfpb.SavedUserObject{Identifier: "signature_map"}}},
		},
		ConcreteFunctions: map[string]*tfpb.SavedConcreteFunction{"__inference_signature_wrapper_1": {BoundInputs: []int32{2}}},
	}
	return &tfpb.MetaGraphDef{
		MetaInfoDef: &tfpb.MetaGraphDef_MetaInfoDef{Tags: []string{"serve"}, StrippedDefaultAttrs: true},
		GraphDef: &tfpb.GraphDef{Node: nodes, Versions: &tfpb.VersionDef{Producer: 1500},
			Library: &tfpb.FunctionDefLibrary{Function: []*tfpb.FunctionDef{wrapper, call, helper}}},
		SignatureDef: map[string]*tfpb.SignatureDef{
			"serving_default": {MethodName: "tensorflow/serving/predict",
				Inputs:  map[string]*tfpb.TensorInfo{"x": smtInfo("serving_default_x:0", smtF)},
				Outputs: map[string]*tfpb.TensorInfo{"output_0": smtInfo("StatefulPartitionedCall:0", smtF)}},
			initSignatureKey: {Outputs: map[string]*tfpb.TensorInfo{initSignatureKey: smtInfo("NoOp", tensor.Invalid)}},
		},
		ObjectGraphDef: og,
	}
}

// smtTF2Key is the checkpoint key of the fixture's variable: object path
// "net" / "w.x/y", escaped.
const smtTF2Key = "net/w..x.Sy/.ATTRIBUTES/VARIABLE_VALUE"

func TestReadSavedModelTF2(t *testing.T) {
	dir := t.TempDir()
	smtWriteSavedModel(t, dir, []*tfpb.MetaGraphDef{smtTF2MetaGraph()},
		map[string]*tensor.Tensor{smtTF2Key: tensor.Scalar[float32](3)}, bundle.WriteOptions{}, false)
	sm, err := ReadSavedModel(dir, SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sm.Format != FormatSavedModelTF2 || len(sm.Signatures) != 1 {
		t.Fatalf("format %q signatures %v", sm.Format, sm.SignatureKeys())
	}
	g := sm.Graph
	if len(g.Library) != 0 {
		t.Errorf("library still holds %d functions", len(g.Library))
	}
	call, ok := g.Node("StatefulPartitionedCall")
	if !ok || call.Op != "IdentityN" || len(call.Inputs) != 1 {
		t.Fatalf("call node = %+v, want an IdentityN with one input", call)
	}
	if ts, _, _ := call.Attrs.Types("T"); len(ts) != 1 || ts[0] != tensor.Float32 {
		t.Errorf("IdentityN T = %v", ts)
	}
	const inner = "StatefulPartitionedCall/StatefulPartitionedCall/"
	smtWantScalar(t, g, inner+"mul/ReadVariableOp", 3)
	mul, ok := g.Node(inner + "mul")
	if !ok || mul.Inputs[0] != (Input{Node: inner + "twice"}) || mul.Inputs[1] != (Input{Node: inner + "mul/ReadVariableOp"}) {
		t.Errorf("mul = %+v", mul)
	}
	add, ok := g.Node(inner + "twice/add")
	if !ok || add.Inputs[0] != (Input{Node: "serving_default_x"}) {
		t.Fatalf("helper body = %+v", add)
	}
	if dt, _, _ := add.Attrs.Type("T"); dt != tensor.Float32 {
		t.Errorf("placeholder T bound to %v", dt)
	}
	for _, n := range g.Nodes {
		if n.Op == "VarHandleOp" || n.Op == "ReadVariableOp" || n.Op == "StatefulPartitionedCall" {
			t.Errorf("node %q (%s) left in the graph", n.Name, n.Op)
		}
	}
	if len(sm.Variables) != 1 {
		t.Fatalf("variables %+v", sm.Variables)
	}
	v := sm.Variables[0]
	if v.Name != "net/w.x/y" || v.Key != smtTF2Key || v.Node != "Variable" || !v.Frozen {
		t.Errorf("variable %+v", v)
	}

	// Without the object-path key the TrackableObjectGraph in the bundle
	// names the key.
	tog := &tfpb.TrackableObjectGraph{Nodes: []*tfpb.TrackableObjectGraph_TrackableObject{
		{}, {}, {Attributes: []*tfpb.TrackableObjectGraph_TrackableObject_SerializedTensor{{Name: "VARIABLE_VALUE", CheckpointKey: "other/.ATTRIBUTES/VARIABLE_VALUE"}}}}}
	raw, err := proto.Marshal(tog)
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	smtWriteSavedModel(t, dir, []*tfpb.MetaGraphDef{smtTF2MetaGraph()}, map[string]*tensor.Tensor{
		"other/.ATTRIBUTES/VARIABLE_VALUE": tensor.Scalar[float32](4),
		"_CHECKPOINTABLE_OBJECT_GRAPH":     tensor.FromSlice(tensor.Shape{}, []string{string(raw)}),
	}, bundle.WriteOptions{}, false)
	sm, err = ReadSavedModel(dir, SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	smtWantScalar(t, sm.Graph, inner+"mul/ReadVariableOp", 4)

	// A variable absent from the checkpoint is an error naming it.
	dir = t.TempDir()
	smtWriteSavedModel(t, dir, []*tfpb.MetaGraphDef{smtTF2MetaGraph()}, map[string]*tensor.Tensor{"unrelated": tensor.Scalar[float32](1)}, bundle.WriteOptions{}, false)
	_, err = ReadSavedModel(dir, SavedModelOptions{})
	if err == nil || !strings.Contains(err.Error(), smtTF2Key) || !strings.Contains(err.Error(), `init op "NoOp"`) {
		t.Errorf("missing variable: %v", err)
	}
}

func TestReadCheckpoint(t *testing.T) {
	dir := t.TempDir()
	mg := smtTF1MetaGraph()
	mg.SignatureDef = nil
	data, err := proto.Marshal(mg)
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, "model.ckpt-7")
	if err := os.WriteFile(prefix+".meta", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := bundle.Write(prefix, smtTF1Values(), bundle.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	state := "model_checkpoint_path: \"model.ckpt-7\"\nall_model_checkpoint_paths: \"model.ckpt-7\"\n"
	if err := os.WriteFile(filepath.Join(dir, "checkpoint"), []byte(state), 0o644); err != nil {
		t.Fatal(err)
	}
	moved := t.TempDir()
	for _, f := range []string{".meta", ".index", ".data-00000-of-00001"} {
		b, err := os.ReadFile(prefix + f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(moved, "model.ckpt-7"+f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	absState := "model_checkpoint_path: \"/nonexistent/train/model.ckpt-7\"\n"
	if err := os.WriteFile(filepath.Join(moved, "checkpoint"), []byte(absState), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{prefix, prefix + ".meta", prefix + ".index", prefix + ".data-00000-of-00001", dir, moved} {
		sm, err := ReadCheckpoint(p, Limits{})
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if sm.Format != FormatCheckpoint || len(sm.Signatures) != 0 {
			t.Errorf("%s: format %q signatures %v", p, sm.Format, sm.SignatureKeys())
		}
		// Without signatures the whole graph is kept, variables frozen.
		smtWantScalar(t, sm.Graph, "a", 0.5)
		smtWantScalar(t, sm.Graph, "b", 2)
		smtWantScalar(t, sm.Graph, "r/Read", 3)
		if _, ok := sm.Graph.Node("save/RestoreV2"); !ok {
			t.Errorf("%s: the graph was pruned", p)
		}
	}
	_, err = ReadCheckpoint(filepath.Join(dir, "model.ckpt-8"), Limits{})
	if err == nil || !strings.Contains(err.Error(), "model.ckpt-8.meta") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing checkpoint: %v", err)
	}
}

func TestParseCheckpointState(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{in: "model_checkpoint_path: \"model\"\n", want: "model", ok: true},
		{in: "all_model_checkpoint_paths: \"a\"\nmodel_checkpoint_path: \"b/c\"\n", want: "b/c", ok: true},
		{in: "model_checkpoint_path:   'x y'  \r\n", want: "x y", ok: true},
		{in: "all_model_checkpoint_paths: \"a\"\n", ok: false},
		{in: "model_checkpoint_path: \"\"\n", ok: false},
		{in: "", ok: false},
	}
	for _, c := range cases {
		got, err := smParseCheckpointState([]byte(c.in))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%q: got %q, %v; want %q (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestEscapeName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"kernel", "kernel"},
		{"layer.0", "layer..0"},
		{"a/b", "a.Sb"},
		{"./.", "...S.."},
		{"", ""},
	}
	for _, c := range cases {
		if got := smEscapeName(c.in); got != c.want {
			t.Errorf("smEscapeName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestFillDefaults checks both sources of defaults: the file's stripped
// op list and, for ops it lacks, the built-in table.
func TestFillDefaults(t *testing.T) {
	ops := smOpTableFromList(&tfpb.OpList{Op: []*tfpb.OpDef{{
		Name:      "MatMul",
		OutputArg: []*tfpb.OpDef_ArgDef{{Name: "product", TypeAttr: "T"}},
		Attr: []*tfpb.OpDef_AttrDef{
			{Name: "transpose_a", Type: "bool", DefaultValue: &tfpb.AttrValue{Value: &tfpb.AttrValue_B{B: true}}},
			{Name: "T", Type: "type"},
		},
	}}}, Limits{})
	g, err := New([]*Node{
		{Name: "m", Op: "MatMul", Attrs: tensor.Attrs{"T": tensor.Float32}},
		{Name: "c", Op: "Conv2D", Attrs: tensor.Attrs{"data_format": "NCHW"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	g.Library = []*Function{{Name: "f", Nodes: []*Node{{Name: "bn", Op: "FusedBatchNormV3"}}}}
	smFillDefaults(g, ops)
	m, _ := g.Node("m")
	if v, _, _ := m.Attrs.Bool("transpose_a"); !v {
		t.Error("MatMul transpose_a: the file's default (true, on purpose) was not used")
	}
	if _, ok := m.Attrs["transpose_b"]; ok {
		t.Error("MatMul transpose_b: the file's op list wins over the built-in table")
	}
	c, _ := g.Node("c")
	if f, _, _ := c.Attrs.String("data_format"); f != "NCHW" {
		t.Errorf("Conv2D data_format overwritten: %q", f)
	}
	if d, _, _ := c.Attrs.Ints("dilations"); len(d) != 4 {
		t.Errorf("Conv2D dilations = %v", d)
	}
	bn := g.Library[0].Nodes[0]
	if eps, _, _ := bn.Attrs.Float("epsilon"); eps != 0.0001 {
		t.Errorf("FusedBatchNormV3 epsilon = %v", eps)
	}
	if tr, _, _ := bn.Attrs.Bool("is_training"); !tr {
		t.Error("FusedBatchNormV3 is_training defaults to true")
	}
}

// smtSharedSavedModels lists the SavedModel directories of the shared
// collection, relative to its root.
func smtSharedSavedModels(t testing.TB, root string) []string {
	t.Helper()
	var dirs []string
	for _, pat := range []string{"*/saved_model.pb*", "*/*/saved_model.pb*"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			rel, _ := filepath.Rel(root, filepath.Dir(f))
			dirs = append(dirs, filepath.ToSlash(rel))
		}
	}
	if len(dirs) < 30 {
		t.Fatalf("found only %d SavedModels", len(dirs))
	}
	return dirs
}

// TestSharedSavedModels loads every SavedModel of ../shared/tfmodels. The
// ones TensorFlow itself refuses (the tf_fuzz_* rows of MANIFEST) must
// fail with a one-line message naming the file and the node or key; all
// others must load with no function call, variable handle or variable
// read left on the serving path (signatures that train or count aside),
// and freeze (those with lookup tables only through tfd, which fills
// them).
func TestSharedSavedModels(t *testing.T) {
	root := decSharedDir(t)
	wantErr := map[string][]string{
		"tf_fuzz_negative_shape":      {"saved_model.pb", `node "b/initial_value"`, "dimension 0 is -1"},
		"tf_fuzz_const_with_no_value": {"saved_model.pb", `node "Assign/value" (Const) has no value attr`},
		"tf_fuzz_bad_node_attr":       {"saved_model.pb", `node "RestoreV2/tensor_names" (Const) has no value attr`},
	}
	// Signatures that train or count keep their variable ops.
	stateful := map[string]bool{"rust_regression_savedmodel": true, "serving_counter/00000123": true}
	// Lookup tables, which the init op fills (SavedModel.Init): a frozen
	// graph can hold them only with their contents, which graph does not
	// compute (tfd.Model.Freeze does).
	tables := map[string]bool{"tf_static_hashtable": true, "tfx_estimator_chicago_taxi": true}
	for _, rel := range smtSharedSavedModels(t, root) {
		t.Run(rel, func(t *testing.T) {
			sm, err := ReadSavedModel(filepath.Join(root, rel), SavedModelOptions{})
			if want, ok := wantErr[strings.Split(rel, "/")[0]]; ok {
				if err == nil {
					t.Fatal("loaded, want an error")
				}
				for _, w := range append(want, "graph: "+filepath.Join(root, rel)+": ") {
					if !strings.Contains(err.Error(), w) || strings.Contains(err.Error(), "\n") {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(sm.Signatures) == 0 {
				return
			}
			for _, n := range sm.Graph.Nodes {
				switch n.Op {
				case "PartitionedCall", "StatefulPartitionedCall", "TRTEngineOp":
					t.Errorf("node %q (%s) was not inlined", n.Name, n.Op)
				case "VariableV2", "VarHandleOp", "ReadVariableOp":
					if !stateful[rel] {
						t.Errorf("node %q (%s) was not frozen", n.Name, n.Op)
					}
				}
			}
			for _, k := range sm.SignatureKeys() {
				if _, err := sm.SignatureGraph(k); err != nil {
					t.Errorf("signature %s: %v", k, err)
				}
			}
			if stateful[rel] {
				return
			}
			if tables[rel] {
				if sm.Init == nil || len(sm.Init.Ops) != 1 {
					t.Errorf("Init = %+v, want the init op that fills the tables", sm.Init)
				}
				if _, err := Freeze(sm, nil); err == nil || !strings.Contains(err.Error(), "(HashTableV2) is a lookup table that the init op fills") {
					t.Errorf("Freeze: %v", err)
				}
				return
			}
			g, err := Freeze(sm, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Encode(g); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSharedTF2CheckpointKeys cross-checks the two ways to find a TF2
// variable's checkpoint key: its object path in the SavedObjectGraph and
// the key the TrackableObjectGraph in the bundle records for the same
// node id.
func TestSharedTF2CheckpointKeys(t *testing.T) {
	root := decSharedDir(t)
	checked := 0
	for _, rel := range smtSharedSavedModels(t, root) {
		dir := filepath.Join(root, rel)
		data, err := os.ReadFile(filepath.Join(dir, "saved_model.pb"))
		if err != nil {
			continue
		}
		smp := &tfpb.SavedModel{}
		if err := proto.Unmarshal(data, smp); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		mg := smp.GetMetaGraphs()[0]
		if len(mg.GetObjectGraphDef().GetNodes()) == 0 {
			continue
		}
		ck, err := smOpenCheckpoint(filepath.Join(dir, "variables", "variables"), "variables.index", Limits{}.WithDefaults())
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		tog, err := ck.trackable()
		ck.close()
		if err != nil || tog == nil {
			t.Fatalf("%s: trackable object graph: %v", rel, err)
		}
		l := &smLoader{src: rel, mg: mg, lim: Limits{}.WithDefaults(), g: &Graph{}, format: FormatSavedModelTF2}
		vars, err := l.variableKeysTF2(nil)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		nodes := mg.GetObjectGraphDef().GetNodes()
		for id, obj := range nodes {
			if obj.GetVariable() == nil || id >= len(tog.GetNodes()) {
				continue
			}
			for _, a := range tog.GetNodes()[id].GetAttributes() {
				if a.GetName() != "VARIABLE_VALUE" {
					continue
				}
				found := false
				for _, v := range vars {
					found = found || v.Key == a.GetCheckpointKey()
				}
				if !found {
					t.Errorf("%s: object %d: trackable key %q is not among the path keys", rel, id, a.GetCheckpointKey())
				}
				checked++
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d variables cross-checked", checked)
	}
}

// TestSharedCheckpointErrors covers the checkpoints ReadCheckpoint cannot
// load: a V1 (tensor-slice) checkpoint and a bundle without a .meta.
func TestSharedCheckpointErrors(t *testing.T) {
	root := decSharedDir(t)
	cases := []struct {
		path string
		want []string
	}{
		{"serving_session_bundle_half_plus_two/00000123/export", []string{"export-00000-of-00001", "V1 checkpoint format is not supported"}},
		{"tf_feature_column_embedding_ckpt/embedding.ckpt", []string{"embedding.ckpt.meta", "no graph beside it"}},
		{"tf_table_legacy_ckpt", []string{"checkpoint state file"}},
	}
	for _, c := range cases {
		_, err := ReadCheckpoint(filepath.Join(root, c.path), Limits{})
		if err == nil {
			t.Errorf("%s: loaded", c.path)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.path, err, w)
			}
		}
	}
}

// FuzzReadSavedModel reads arbitrary bytes as saved_model.pb beside a
// small valid bundle, under small limits; whatever loads must freeze and
// encode.
func FuzzReadSavedModel(f *testing.F) {
	dir := smFuzzSetup(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		smFuzzOne(t, dir, data)
	})
}

// smFuzzLimits are small so that fuzzing never allocates much.
var smFuzzLimits = Limits{MaxFileBytes: 1 << 20, MaxNodes: 2000, MaxElements: 1 << 16, MaxConstBytes: 1 << 20, MaxRank: 8}

// smFuzzSetup adds the seeds of FuzzReadSavedModel and returns a
// directory holding the variables bundle they read. The inputs of one
// fuzzing process run one at a time, so they share that directory and
// only rewrite its saved_model.pb: a fresh directory per input made file
// system calls the bulk of the work.
func smFuzzSetup(f *testing.F) string {
	for _, mg := range []*tfpb.MetaGraphDef{smtTF1MetaGraph(), smtTF2MetaGraph()} {
		b, err := proto.Marshal(&tfpb.SavedModel{MetaGraphs: []*tfpb.MetaGraphDef{mg}})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	root := filepath.Join("..", "..", "shared", "tfmodels")
	for _, rel := range []string{"serving_matrix_half_plus_two/1", "tf_x_plus_y_v2", "tfjs_times_three_float"} {
		if b, err := os.ReadFile(filepath.Join(root, rel, "saved_model.pb")); err == nil {
			f.Add(b)
		}
	}
	values := smtTF1Values()
	values[smtTF2Key] = tensor.Scalar[float32](3)
	dir := f.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "variables"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := bundle.Write(filepath.Join(dir, "variables", "variables"), values, bundle.WriteOptions{}); err != nil {
		f.Fatal(err)
	}
	return dir
}

// smFuzzOne loads data as the saved_model.pb of dir.
func smFuzzOne(t *testing.T, dir string, data []byte) {
	if err := os.WriteFile(filepath.Join(dir, "saved_model.pb"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	sm, err := ReadSavedModel(dir, SavedModelOptions{Limits: smFuzzLimits})
	if err != nil {
		return
	}
	if len(sm.Graph.Nodes) > smFuzzLimits.MaxNodes {
		t.Fatalf("graph has %d nodes, limit %d", len(sm.Graph.Nodes), smFuzzLimits.MaxNodes)
	}
	g, err := Freeze(sm, nil)
	if err != nil {
		return
	}
	if _, err := Encode(g); err != nil {
		t.Fatalf("encode: %v", err)
	}
}

// TestLegacyPlaceholderShape checks TensorFlow's rule that before
// GraphDef version 22 a rank-0 Placeholder shape means "any shape".
func TestLegacyPlaceholderShape(t *testing.T) {
	for _, c := range []struct {
		producer int32
		unknown  bool
	}{{21, true}, {0, true}, {22, false}} {
		g := smtGraph(t, []*Node{
			{Name: "p", Op: "Placeholder", Attrs: tensor.Attrs{"shape": tensor.PartialShape{Dims: []int{}}}},
			{Name: "q", Op: "Placeholder", Attrs: tensor.Attrs{"shape": tensor.PartialShape{Dims: []int{2}}}},
		})
		g.Versions.Producer = c.producer
		smLegacyPlaceholders(g)
		p, _ := g.Node("p")
		q, _ := g.Node("q")
		ps, _, _ := p.Attrs.Shape("shape")
		qs, _, _ := q.Attrs.Shape("shape")
		if ps.UnknownRank != c.unknown || qs.UnknownRank {
			t.Errorf("producer %d: shapes %v, %v", c.producer, ps, qs)
		}
	}
}

func TestBaseTypes(t *testing.T) {
	ref := tensor.Float32 + 100
	n := &Node{Name: "i", Op: "Identity", Attrs: tensor.Attrs{"T": ref, "Tl": []tensor.DType{ref, tensor.Int32}, "k": int64(1)}}
	c := smBaseTypes(n)
	if dt, _, _ := c.Attrs.Type("T"); dt != tensor.Float32 {
		t.Errorf("T = %v", dt)
	}
	if l, _, _ := c.Attrs.Types("Tl"); l[0] != tensor.Float32 || l[1] != tensor.Int32 {
		t.Errorf("Tl = %v", l)
	}
	if dt, _, _ := n.Attrs.Type("T"); dt != ref {
		t.Error("the input node was modified")
	}
	plain := &Node{Name: "j", Op: "Identity", Attrs: tensor.Attrs{"T": tensor.Float32}}
	if smBaseTypes(plain) != plain {
		t.Error("a node without reference types was copied")
	}
}

// TestSharedNoSignatureModels checks the models of MANIFEST rows 21-23,
// which have no serving signature: the whole graph is kept and each
// variable read is frozen to the value the MANIFEST lists.
func TestSharedNoSignatureModels(t *testing.T) {
	root := decSharedDir(t)
	cases := []struct {
		dir  string
		want map[string]float64 // variable Name → value
	}{
		{"tf_simple_v1_model", map[string]float64{"Variable": 1}},
		{"tf_cyclic_module", map[string]float64{"child/my_variable": 3}},
		{"tf_optimizer_slot_variable", map[string]float64{"v": 4.999, "v/.OPTIMIZER_SLOT/opt/m": 0.3,
			"v/.OPTIMIZER_SLOT/opt/v": 0.009, "opt/iter": 1}},
	}
	for _, c := range cases {
		sm, err := ReadSavedModel(filepath.Join(root, c.dir), SavedModelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, v := range sm.Variables {
			want, ok := c.want[v.Name]
			if !ok {
				continue
			}
			found++
			// TensorFlow names a variable's read "<variable>/Read/ReadVariableOp".
			got := smtConstValue(t, sm.Graph, v.Node+"/Read/ReadVariableOp").Float64s()
			if !v.Frozen || len(got) != 1 || math.Abs(got[0]-want) > 1e-6 {
				t.Errorf("%s: variable %+v holds %v, want %v", c.dir, v, got, want)
			}
		}
		if found != len(c.want) {
			t.Errorf("%s: found %d of the variables %v in %+v", c.dir, found, c.want, sm.Variables)
		}
	}
}
