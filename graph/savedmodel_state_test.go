package graph

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/tfdgo/tfd/graph/bundle"
	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
)

// Tests of the state a SavedModel keeps (savedmodel_state.go) on
// hand-made MetaGraphs: which variables stay live, how TF1 reference
// variables are rewritten, what Init holds.

func smstScalarString(name, v string) *tfpb.NodeDef {
	tp := &tfpb.TensorProto{Dtype: tfpb.DataType(tensor.String), TensorShape: smtShapeProto(), StringVal: [][]byte{[]byte(v)}}
	return smtNode(name, "Const", nil, map[string]*tfpb.AttrValue{"dtype": smtType(tensor.String), "value": {Value: &tfpb.AttrValue_Tensor{Tensor: tp}}})
}

func smstNodeList(v ...string) *tfpb.CollectionDef {
	return &tfpb.CollectionDef{Kind: &tfpb.CollectionDef_NodeList_{NodeList: &tfpb.CollectionDef_NodeList{Value: v}}}
}

func smstOps(g *Graph) map[string]string {
	out := map[string]string{}
	for _, n := range g.Nodes {
		out[n.Name] = n.Op
	}
	return out
}

// smstCounter is TensorFlow Serving's counter: a TF1 variable c that
// signatures read, increment, reset and test for initialization.
func smstCounter(extra ...*tfpb.NodeDef) *tfpb.MetaGraphDef {
	f := map[string]*tfpb.AttrValue{"T": smtType(smtF)}
	nodes := append([]*tfpb.NodeDef{
		smtNode("c", "VariableV2", nil, map[string]*tfpb.AttrValue{"dtype": smtType(smtF), "shape": smtShape()}),
		smtFloatConst("one", 1),
		smtNode("incr", "AssignAdd", []string{"c", "one"}, f),
		smtFloatConst("zero", 0),
		smtNode("reset", "Assign", []string{"c", "zero"}, map[string]*tfpb.AttrValue{"T": smtType(smtF), "validate_shape": {Value: &tfpb.AttrValue_B{B: true}}}),
		smtNode("is_init", "IsVariableInitialized", []string{"c"}, map[string]*tfpb.AttrValue{"dtype": smtType(smtF)}),
		smtNode("double", "Mul", []string{"c", "c"}, f),
	}, extra...)
	out := func(name string) map[string]*tfpb.TensorInfo {
		return map[string]*tfpb.TensorInfo{"output": smtInfo(name, smtF)}
	}
	return &tfpb.MetaGraphDef{
		MetaInfoDef: &tfpb.MetaGraphDef_MetaInfoDef{Tags: []string{"serve"}},
		GraphDef:    &tfpb.GraphDef{Node: nodes, Versions: &tfpb.VersionDef{Producer: 26}},
		SignatureDef: map[string]*tfpb.SignatureDef{
			"get": {Outputs: out("c:0")}, "incr": {Outputs: out("incr:0")}, "reset": {Outputs: out("reset:0")},
			"is_init": {Outputs: map[string]*tfpb.TensorInfo{"output": smtInfo("is_init:0", tensor.Bool)}},
			"double":  {Outputs: out("double:0")},
		},
	}
}

func TestSavedModelLiveRefVariable(t *testing.T) {
	dir := t.TempDir()
	smtWriteSavedModel(t, dir, []*tfpb.MetaGraphDef{smstCounter()}, map[string]*tensor.Tensor{"c": tensor.Scalar[float32](7)}, bundle.WriteOptions{}, false)
	sm, err := ReadSavedModel(dir, SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ops := smstOps(sm.Graph)
	for name, op := range map[string]string{
		"c/handle": "VarHandleOp", "c": "ReadVariableOp", // tensor "c:0" still reads the value
		"incr/update": "AssignAddVariableOp", "incr": "ReadVariableOp",
		"reset/assign": "AssignVariableOp", "reset": "Identity",
		"is_init": "VarIsInitializedOp", "double": "Mul",
	} {
		if ops[name] != op {
			t.Errorf("node %q is %q, want %s (nodes: %v)", name, ops[name], op, ops)
		}
	}
	h, _ := sm.Graph.Node("c/handle")
	if sn, _, _ := h.Attrs.String("shared_name"); sn != "c" {
		t.Errorf("handle shared_name %q, want the variable's name", sn)
	}
	incr, _ := sm.Graph.Node("incr")
	if strings.Join(incr.ControlInputs, ",") != "incr/update" {
		t.Errorf("the read of incr waits for %v", incr.ControlInputs)
	}
	// Init restores the checkpoint value; there is no init op.
	if sm.Init == nil || strings.Join(sm.Init.Restore, ",") != "c/restore" || len(sm.Init.Ops) != 0 {
		t.Fatalf("Init = %+v", sm.Init)
	}
	smtWantScalar(t, sm.Init.Graph, "c/restore/value", 7)
	if len(sm.Variables) != 1 || !sm.Variables[0].Live || sm.Variables[0].Frozen {
		t.Errorf("Variables = %+v", sm.Variables)
	}

	// A scatter into the variable is refused, naming node and variable.
	dir2 := t.TempDir()
	mg := smstCounter(smtNode("scatter", "ScatterUpdate", []string{"c", "one", "one"}, map[string]*tfpb.AttrValue{"T": smtType(smtF)}))
	mg.SignatureDef["scatter"] = &tfpb.SignatureDef{Outputs: map[string]*tfpb.TensorInfo{"output": smtInfo("scatter:0", smtF)}}
	smtWriteSavedModel(t, dir2, []*tfpb.MetaGraphDef{mg}, map[string]*tensor.Tensor{"c": tensor.Scalar[float32](7)}, bundle.WriteOptions{}, false)
	_, err = ReadSavedModel(dir2, SavedModelOptions{})
	if err == nil || !strings.Contains(err.Error(), `node "scatter" (ScatterUpdate) changes variable "c"`) {
		t.Errorf("scatter: %v", err)
	}
}

// smstTable is a TF1 vocabulary table filled by an init op from an asset,
// whose asset tensor is a Placeholder named in collection
// saved_model_assets (TF1 before AssetFileDef moved into the MetaGraph).
func smstTable(initCollection, asset string) *tfpb.MetaGraphDef {
	anyDef, err := proto.Marshal(&tfpb.AssetFileDef{TensorInfo: smtInfo("asset_path:0", tensor.String), Filename: asset})
	if err != nil {
		panic(err)
	}
	nodes := []*tfpb.NodeDef{
		smtNode("asset_path", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": smtType(tensor.String), "shape": smtShape()}),
		smtNode("table", "HashTableV2", nil, map[string]*tfpb.AttrValue{"key_dtype": smtType(tensor.String), "value_dtype": smtType(tensor.Int64), "shared_name": smtStr("t")}),
		smtNode("table_init", "InitializeTableFromTextFileV2", []string{"table", "asset_path"}, map[string]*tfpb.AttrValue{"key_index": smtInt(-2), "value_index": smtInt(-1)}),
		smtNode("main", "NoOp", []string{"^table_init"}, nil),
		smtNode("legacy", "NoOp", nil, nil),
		smtNode("words", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": smtType(tensor.String), "shape": smtShape(-1)}),
		smtNode("default", "Const", nil, map[string]*tfpb.AttrValue{"dtype": smtType(tensor.Int64), "value": {Value: &tfpb.AttrValue_Tensor{Tensor: &tfpb.TensorProto{Dtype: tfpb.DataType(tensor.Int64), TensorShape: smtShapeProto(), Int64Val: []int64{-1}}}}}),
		smtNode("ids", "LookupTableFindV2", []string{"table", "words", "default"}, map[string]*tfpb.AttrValue{"Tin": smtType(tensor.String), "Tout": smtType(tensor.Int64)}),
	}
	return &tfpb.MetaGraphDef{
		MetaInfoDef: &tfpb.MetaGraphDef_MetaInfoDef{Tags: []string{"serve"}},
		GraphDef:    &tfpb.GraphDef{Node: nodes, Versions: &tfpb.VersionDef{Producer: 26}},
		CollectionDef: map[string]*tfpb.CollectionDef{
			initCollection:   smstNodeList("main"),
			"legacy_init_op": smstNodeList("legacy"),
			"saved_model_assets": {Kind: &tfpb.CollectionDef_AnyList_{AnyList: &tfpb.CollectionDef_AnyList{
				Value: []*anypb.Any{{TypeUrl: "type.googleapis.com/tensorflow.AssetFileDef", Value: anyDef}}}}},
		},
		SignatureDef: map[string]*tfpb.SignatureDef{"serving_default": {
			Inputs: map[string]*tfpb.TensorInfo{"words": smtInfo("words:0", tensor.String, -1)}, Outputs: map[string]*tfpb.TensorInfo{"ids": smtInfo("ids:0", tensor.Int64, -1)}}},
	}
}

func TestSavedModelTableInit(t *testing.T) {
	dir := t.TempDir()
	smtWriteSavedModel(t, dir, []*tfpb.MetaGraphDef{smstTable("saved_model_main_op", "vocab.txt")}, nil, bundle.WriteOptions{}, false)
	sm, err := ReadSavedModel(dir, SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ops := smstOps(sm.Graph); ops["table"] != "HashTableV2" || ops["ids"] != "LookupTableFindV2" || ops["table_init"] != "" {
		t.Errorf("serving graph %v", ops)
	}
	in := sm.Init
	// main_op wins over legacy_init_op (GetInitOp in loader.cc).
	if in == nil || strings.Join(in.Ops, ",") != "main" || len(in.Restore) != 0 {
		t.Fatalf("Init = %+v", in)
	}
	abs, _ := filepath.Abs(filepath.Join(dir, "assets", "vocab.txt"))
	if in.Assets["asset_path:0"] != abs {
		t.Errorf("assets %v, want asset_path:0 -> %s", in.Assets, abs)
	}
	// The asset placeholder is fed: a Const of the file's path.
	if v := smtConstValue(t, in.Graph, "asset_path"); tensor.As[string](v)[0] != abs || v.Rank() != 0 {
		t.Errorf("asset tensor %v", v)
	}
	if ops := smstOps(in.Graph); ops["table_init"] != "InitializeTableFromTextFileV2" || ops["ids"] != "" {
		t.Errorf("init graph %v", ops)
	}

	// Without main_op, legacy_init_op is the init op.
	dir2 := t.TempDir()
	smtWriteSavedModel(t, dir2, []*tfpb.MetaGraphDef{smstTable("unused", "vocab.txt")}, nil, bundle.WriteOptions{}, false)
	sm2, err := ReadSavedModel(dir2, SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sm2.Init == nil || strings.Join(sm2.Init.Ops, ",") != "legacy" {
		t.Errorf("Init = %+v", sm2.Init)
	}

	// An asset file name must stay inside assets/.
	dir3 := t.TempDir()
	smtWriteSavedModel(t, dir3, []*tfpb.MetaGraphDef{smstTable("saved_model_main_op", "../../etc/passwd")}, nil, bundle.WriteOptions{}, false)
	_, err = ReadSavedModel(dir3, SavedModelOptions{})
	if err == nil || !strings.Contains(err.Error(), `asset tensor "asset_path:0" names file "../../etc/passwd", which is not inside the assets directory`) {
		t.Errorf("escaping asset: %v", err)
	}
}

// TestSavedModelStaticInitValues covers variables that only the init op
// sets, to a value known at load: a TF1 main_op that re-runs a
// variable's initializer (the checkpoint value is then overwritten, as in
// TensorFlow), and a TF2 asset path variable. Both are frozen, and no
// Init is needed; a variable the init op sets to a computed value stays
// live.
func TestSavedModelStaticInitValues(t *testing.T) {
	f := map[string]*tfpb.AttrValue{"T": smtType(smtF)}
	nodes := []*tfpb.NodeDef{
		smtNode("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": smtType(smtF), "shape": smtShape(-1)}),
		smtNode("a", "VariableV2", nil, map[string]*tfpb.AttrValue{"dtype": smtType(smtF), "shape": smtShape()}),
		smtFloatConst("a/initial_value", 5),
		smtNode("a/Assign", "Assign", []string{"a", "a/initial_value"}, f),
		smtNode("y", "Mul", []string{"a", "x"}, f),
		smtNode("path", "VarHandleOp", nil, map[string]*tfpb.AttrValue{"dtype": smtType(tensor.String), "shape": smtShape(), "shared_name": smtStr("path")}),
		smtNode("asset_path_initializer", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": smtType(tensor.String), "shape": smtShape()}),
		smtNode("path/Assign", "AssignVariableOp", []string{"path", "asset_path_initializer"}, map[string]*tfpb.AttrValue{"dtype": smtType(tensor.String)}),
		smtNode("path/Read", "ReadVariableOp", []string{"path"}, map[string]*tfpb.AttrValue{"dtype": smtType(tensor.String)}),
		smtNode("contents", "ReadFile", []string{"path/Read"}, nil),
		smtNode("s", "VarHandleOp", nil, map[string]*tfpb.AttrValue{"dtype": smtType(smtF), "shape": smtShape(), "shared_name": smtStr("s")}),
		smtNode("s/value", "Add", []string{"a/initial_value", "a/initial_value"}, f),
		smtNode("s/Assign", "AssignVariableOp", []string{"s", "s/value"}, map[string]*tfpb.AttrValue{"dtype": smtType(smtF)}),
		smtNode("s/Read", "ReadVariableOp", []string{"s"}, map[string]*tfpb.AttrValue{"dtype": smtType(smtF)}),
		smtNode("init", "NoOp", []string{"^a/Assign", "^path/Assign", "^s/Assign"}, nil),
	}
	mg := &tfpb.MetaGraphDef{
		MetaInfoDef:   &tfpb.MetaGraphDef_MetaInfoDef{Tags: []string{"serve"}},
		GraphDef:      &tfpb.GraphDef{Node: nodes, Versions: &tfpb.VersionDef{Producer: 26}},
		CollectionDef: map[string]*tfpb.CollectionDef{"saved_model_main_op": smstNodeList("init")},
		AssetFileDef:  []*tfpb.AssetFileDef{{TensorInfo: smtInfo("asset_path_initializer:0", tensor.String), Filename: "a.txt"}},
		SignatureDef: map[string]*tfpb.SignatureDef{
			"y":    {Inputs: map[string]*tfpb.TensorInfo{"x": smtInfo("x:0", smtF, -1)}, Outputs: map[string]*tfpb.TensorInfo{"y": smtInfo("y:0", smtF, -1)}},
			"file": {Outputs: map[string]*tfpb.TensorInfo{"contents": smtInfo("contents:0", tensor.String)}},
		},
	}
	dir := t.TempDir()
	smtWriteSavedModel(t, dir, []*tfpb.MetaGraphDef{mg}, map[string]*tensor.Tensor{"a": tensor.Scalar[float32](0.5)}, bundle.WriteOptions{}, false)
	sm, err := ReadSavedModel(dir, SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	smtWantScalar(t, sm.Graph, "a", 5) // the initializer's value, not the checkpoint's 0.5
	abs, _ := filepath.Abs(filepath.Join(dir, "assets", "a.txt"))
	if v := smtConstValue(t, sm.Graph, "path/Read"); tensor.As[string](v)[0] != abs {
		t.Errorf("path variable frozen to %v, want %s", v, abs)
	}
	if sm.Init != nil {
		t.Errorf("Init = %+v, want none", sm.Init)
	}

	// A signature reading s (set to a computed value) keeps it live and
	// needs the init op.
	mg.SignatureDef["s"] = &tfpb.SignatureDef{Outputs: map[string]*tfpb.TensorInfo{"s": smtInfo("s/Read:0", smtF)}}
	dir2 := t.TempDir()
	smtWriteSavedModel(t, dir2, []*tfpb.MetaGraphDef{mg}, map[string]*tensor.Tensor{"a": tensor.Scalar[float32](0.5)}, bundle.WriteOptions{}, false)
	sm2, err := ReadSavedModel(dir2, SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ops := smstOps(sm2.Graph); ops["s/Read"] != "ReadVariableOp" || ops["s"] != "VarHandleOp" {
		t.Errorf("serving graph %v", ops)
	}
	if sm2.Init == nil || strings.Join(sm2.Init.Ops, ",") != "init" {
		t.Fatalf("Init = %+v", sm2.Init)
	}
	// In the init graph the statically known writes are gone: a/Assign
	// became an Identity (a is a constant now), path/Assign a NoOp.
	ops := smstOps(sm2.Init.Graph)
	if ops["a/Assign"] != "Identity" || ops["path/Assign"] != "NoOp" || ops["s/Assign"] != "AssignVariableOp" {
		t.Errorf("init graph %v", ops)
	}
	if _, err := os.Stat(filepath.Join(dir2, "assets")); err == nil {
		t.Error("the test wrote an assets directory")
	}
}
