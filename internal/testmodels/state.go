package testmodels

import (
	"os"
	"path/filepath"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/graph/bundle"
	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
)

// Two SavedModels with state, written the way TensorFlow 1's
// SavedModelBuilder lays them out, so that the paths tfd takes for
// stateful models are tested without ../shared:
//
//   - saved_table: a vocabulary lookup. HashTableV2 "table", filled by
//     the legacy_init_op from the asset assets/vocab.txt
//     (InitializeTableFromTextFileV2, key = whole line, value = line
//     number), looked up by serving_default (words string[-1] → ids
//     int64[-1], default -1); signature "size" returns the table's size.
//     The asset tensor is a Const holding the build machine's path, which
//     the loader replaces by the file's real path.
//   - saved_counter: TensorFlow Serving's counter (export_counter.py) plus
//     a resource variable. TF1 variable "counter" (float32 scalar, 10 in
//     the checkpoint) with signatures get_counter, incr_counter (+1),
//     incr_counter_by (+delta) and reset_counter (= 0); resource variable
//     "total" (int64 scalar, 100 in the checkpoint) with get_total and
//     add_total (+n).

// TableVocab is the vocabulary of saved_table, one word per line: word i
// maps to id i.
var TableVocab = []string{"the", "quick", "brown", "fox", "jumps"}

// Checkpoint values of saved_counter.
const (
	CounterStart = 10
	TotalStart   = 100
)

// stateFiles returns the files of both SavedModels.
func stateFiles() ([]File, error) {
	var out []File
	table, err := tableModel()
	if err != nil {
		return nil, err
	}
	out = append(out, table...)
	counter, err := counterModel()
	if err != nil {
		return nil, err
	}
	return append(out, counter...), nil
}

var (
	stateStr = tensor.Attrs{"dtype": tensor.String}
	stateF   = tensor.Attrs{"T": tensor.Float32}
)

func stateStrConst(b *builder, name string, v ...string) string {
	shape := tensor.Shape{len(v)}
	if len(v) == 1 {
		shape = tensor.Shape{}
	}
	return b.add(name, "Const", tensor.Attrs{"dtype": tensor.String, "value": tensor.FromSlice(shape, v)})
}

func stateInfo(name string, dt tensor.DType, dims ...int64) *tfpb.TensorInfo {
	ti := &tfpb.TensorInfo{Encoding: &tfpb.TensorInfo_Name{Name: name}, Dtype: tfpb.DataType(dt)}
	if dims != nil {
		sh := &tfpb.TensorShapeProto{}
		for _, d := range dims {
			sh.Dim = append(sh.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
		}
		ti.TensorShape = sh
	}
	return ti
}

func stateSig(in, out map[string]*tfpb.TensorInfo) *tfpb.SignatureDef {
	return &tfpb.SignatureDef{MethodName: "tensorflow/serving/predict", Inputs: in, Outputs: out}
}

// stateSavedModel encodes a one-MetaGraph SavedModel deterministically.
func stateSavedModel(g *graph.Graph, mg *tfpb.MetaGraphDef) ([]byte, error) {
	gd, err := graph.ToGraphDef(g)
	if err != nil {
		return nil, err
	}
	mg.GraphDef = gd
	if mg.MetaInfoDef == nil {
		mg.MetaInfoDef = &tfpb.MetaGraphDef_MetaInfoDef{}
	}
	mg.MetaInfoDef.Tags = []string{"serve"}
	mg.MetaInfoDef.TensorflowVersion = "1.15.0"
	sm := &tfpb.SavedModel{SavedModelSchemaVersion: 1, MetaGraphs: []*tfpb.MetaGraphDef{mg}}
	return proto.MarshalOptions{Deterministic: true}.Marshal(sm)
}

func tableModel() ([]File, error) {
	var b builder
	path := stateStrConst(&b, "vocab_path", "/tmp/build/assets/vocab.txt")
	table := b.add("table", "HashTableV2", tensor.Attrs{"container": "", "shared_name": "hash_table_vocab", "use_node_name_sharing": false,
		"key_dtype": tensor.String, "value_dtype": tensor.Int64})
	initTable := b.add("table_init", "InitializeTableFromTextFileV2", tensor.Attrs{"key_index": int64(-2), "value_index": int64(-1),
		"vocab_size": int64(-1), "delimiter": "\t"}, table, path)
	b.add("init_all_tables", "NoOp", nil, "^"+initTable)
	b.add("legacy_init_op", "NoOp", nil, "^init_all_tables")
	words := b.add("words", "Placeholder", tensor.Attrs{"dtype": tensor.String, "shape": tensor.PartialShape{Dims: []int{-1}}})
	def := b.add("default", "Const", tensor.Attrs{"dtype": tensor.Int64, "value": tensor.Scalar(int64(-1))})
	b.add("ids", "LookupTableFindV2", tensor.Attrs{"Tin": tensor.String, "Tout": tensor.Int64}, table, words, def)
	b.add("vocab_size", "LookupTableSizeV2", nil, table)
	mg := &tfpb.MetaGraphDef{
		CollectionDef: map[string]*tfpb.CollectionDef{
			"legacy_init_op": {Kind: &tfpb.CollectionDef_NodeList_{NodeList: &tfpb.CollectionDef_NodeList{Value: []string{"legacy_init_op"}}}},
		},
		SignatureDef: map[string]*tfpb.SignatureDef{
			"serving_default": stateSig(map[string]*tfpb.TensorInfo{"words": stateInfo("words:0", tensor.String, -1)},
				map[string]*tfpb.TensorInfo{"ids": stateInfo("ids:0", tensor.Int64, -1)}),
			"size": stateSig(nil, map[string]*tfpb.TensorInfo{"size": stateInfo("vocab_size:0", tensor.Int64)}),
		},
		AssetFileDef: []*tfpb.AssetFileDef{{TensorInfo: stateInfo("vocab_path:0", tensor.String), Filename: "vocab.txt"}},
	}
	pb, err := stateSavedModel(b.graph(), mg)
	if err != nil {
		return nil, err
	}
	var vocab []byte
	for _, w := range TableVocab {
		vocab = append(vocab, w+"\n"...)
	}
	return []File{{"saved_table/saved_model.pb", pb}, {"saved_table/assets/vocab.txt", vocab}}, nil
}

func counterModel() ([]File, error) {
	var b builder
	counter := b.add("counter", "VariableV2", tensor.Attrs{"dtype": tensor.Float32, "shape": tensor.PartialShape{Dims: []int{}},
		"container": "", "shared_name": ""})
	b.constF("counter/initial_value", tensor.Shape{}, []float32{0})
	b.add("counter/Assign", "Assign", tensor.Attrs{"T": tensor.Float32, "use_locking": true, "validate_shape": true}, counter, "counter/initial_value")
	b.add("counter/read", "Identity", stateF, counter)
	one := b.constF("incr_counter_op/AssignAdd/value", tensor.Shape{}, []float32{1})
	b.add("incr_counter_op/AssignAdd", "AssignAdd", tensor.Attrs{"T": tensor.Float32, "use_locking": false}, counter, one)
	delta := b.add("delta", "Placeholder", tensor.Attrs{"dtype": tensor.Float32, "shape": tensor.UnknownShape()})
	b.add("incr_counter_by_op/AssignAdd", "AssignAdd", tensor.Attrs{"T": tensor.Float32, "use_locking": false}, counter, delta)
	zero := b.constF("reset_counter_op/Assign/value", tensor.Shape{}, []float32{0})
	b.add("reset_counter_op/Assign", "Assign", tensor.Attrs{"T": tensor.Float32, "use_locking": false, "validate_shape": true}, counter, zero)

	total := b.add("total", "VarHandleOp", tensor.Attrs{"dtype": tensor.Int64, "shape": tensor.PartialShape{Dims: []int{}},
		"container": "", "shared_name": "total"})
	b.add("total/Read/ReadVariableOp", "ReadVariableOp", tensor.Attrs{"dtype": tensor.Int64}, total)
	n := b.add("n", "Placeholder", tensor.Attrs{"dtype": tensor.Int64, "shape": tensor.PartialShape{Dims: []int{}}})
	add := b.add("add_total/AssignAddVariableOp", "AssignAddVariableOp", tensor.Attrs{"dtype": tensor.Int64}, total, n)
	b.add("add_total/ReadVariableOp", "ReadVariableOp", tensor.Attrs{"dtype": tensor.Int64}, total, "^"+add)

	// The saver's restore subgraph, which names each variable's key.
	b.add("save/Const", "Const", tensor.Attrs{"dtype": tensor.String, "value": tensor.Scalar("model")})
	b.add("save/RestoreV2/tensor_names", "Const", tensor.Attrs{"dtype": tensor.String, "value": tensor.FromSlice(tensor.Shape{2}, []string{"counter", "total"})})
	b.add("save/RestoreV2/shape_and_slices", "Const", tensor.Attrs{"dtype": tensor.String, "value": tensor.FromSlice(tensor.Shape{2}, []string{"", ""})})
	b.add("save/RestoreV2", "RestoreV2", tensor.Attrs{"dtypes": []tensor.DType{tensor.Float32, tensor.Int64}},
		"save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices")
	b.add("save/Assign", "Assign", tensor.Attrs{"T": tensor.Float32, "use_locking": true, "validate_shape": true}, counter, "save/RestoreV2")
	b.add("save/AssignVariableOp", "AssignVariableOp", tensor.Attrs{"dtype": tensor.Int64}, total, "save/RestoreV2:1")
	b.add("save/restore_all", "NoOp", nil, "^save/Assign", "^save/AssignVariableOp")

	scalarF := func(name string) map[string]*tfpb.TensorInfo {
		return map[string]*tfpb.TensorInfo{"output": stateInfo(name, tensor.Float32, []int64{}...)}
	}
	scalarI := func(name string) map[string]*tfpb.TensorInfo {
		return map[string]*tfpb.TensorInfo{"output": stateInfo(name, tensor.Int64, []int64{}...)}
	}
	mg := &tfpb.MetaGraphDef{
		SaverDef: &tfpb.SaverDef{FilenameTensorName: "save/Const:0", RestoreOpName: "save/restore_all"},
		SignatureDef: map[string]*tfpb.SignatureDef{
			"get_counter":     stateSig(nil, scalarF("counter:0")),
			"incr_counter":    stateSig(nil, scalarF("incr_counter_op/AssignAdd:0")),
			"incr_counter_by": stateSig(map[string]*tfpb.TensorInfo{"delta": stateInfo("delta:0", tensor.Float32)}, scalarF("incr_counter_by_op/AssignAdd:0")),
			"reset_counter":   stateSig(nil, scalarF("reset_counter_op/Assign:0")),
			"get_total":       stateSig(nil, scalarI("total/Read/ReadVariableOp:0")),
			"add_total":       stateSig(map[string]*tfpb.TensorInfo{"n": stateInfo("n:0", tensor.Int64, []int64{}...)}, scalarI("add_total/ReadVariableOp:0")),
		},
	}
	pb, err := stateSavedModel(b.graph(), mg)
	if err != nil {
		return nil, err
	}
	files := []File{{"saved_counter/saved_model.pb", pb}}
	vars, err := stateBundle(map[string]*tensor.Tensor{
		"counter": tensor.Scalar(float32(CounterStart)),
		"total":   tensor.Scalar(int64(TotalStart)),
	})
	if err != nil {
		return nil, err
	}
	for _, f := range vars {
		files = append(files, File{"saved_counter/variables/" + f.Name, f.Data})
	}
	return files, nil
}

// stateBundle writes a TensorBundle (variables.index and its data file)
// and returns its files.
func stateBundle(values map[string]*tensor.Tensor) ([]File, error) {
	dir, err := os.MkdirTemp("", "testmodels-bundle")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := bundle.Write(filepath.Join(dir, "variables"), values, bundle.WriteOptions{}); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []File
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, File{e.Name(), data})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
