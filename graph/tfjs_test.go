package graph

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/graph/bundle"
	"github.com/tfdgo/tfd/tensor"
)

// tfjsFixture is a model.json (as a JSON value) and its shard files.
type tfjsFixture struct {
	model  map[string]any
	shards map[string][]byte
}

func (f tfjsFixture) write(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	b, err := json.Marshal(f.model)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range f.shards {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tfjsDims writes a TensorShapeProto in proto3 JSON (int64 as strings).
func tfjsDims(dims ...int) map[string]any {
	var d []any
	for _, v := range dims {
		d = append(d, map[string]any{"size": fmt.Sprint(v)})
	}
	if d == nil {
		return map[string]any{}
	}
	return map[string]any{"dim": d}
}

// tfjsConstNode is a Const as the converter leaves it: dtype and shape,
// no values.
func tfjsConstNode(name, dtype string, dims ...int) map[string]any {
	return map[string]any{
		"name": name, "op": "Const",
		"attr": map[string]any{
			"value": map[string]any{"tensor": map[string]any{"dtype": dtype, "tensorShape": tfjsDims(dims...)}},
			"dtype": map[string]any{"type": dtype},
		},
	}
}

func tfjsLE32(vals ...uint32) []byte {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func tfjsLE16(vals ...uint16) []byte {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

func tfjsF32(vals ...float32) []byte {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func tfjsCat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// tfjsSample builds a model in the converter's layout: two weight groups,
// the first split into shards of 16 bytes so that "w" straddles two
// shards; uint8/uint16/float16 quantization; int64 and float64 Consts
// written narrowed; a Const inside a library function (renamed with the
// function's name); an initializer graph; a signature; quirks of
// MessageToDict (base64 bytes, int64 strings, unknown fields).
func tfjsSample() tfjsFixture {
	group1 := tfjsCat(
		tfjsF32(1, 2, 3, 4, 5, 6),                // w float32[3,2], 24 bytes: spans shards 1 and 2
		[]byte{0, 1, 4},                          // b uint8-quantized float32[3]
		tfjsLE16(0, 1000, 65535),                 // q16 uint16-quantized float32[3]
		tfjsLE16(0x3c00, 0xc000, 0x7bff, 0x0001), // h float16-quantized float32[4]
		[]byte{0, 1, 3, 4, 6},                    // qi uint8-quantized int32[5]
		[]byte{3},                                // r uint8-quantized float32[1]
	)
	group2 := tfjsCat(
		tfjsLE32(uint32(0xfffffffd), 0x7fffffff),                             // i64: int64 Const written as int32 [-3, 2^31-1]
		tfjsF32(0.5),                                                         // d: float64 Const written as float32
		tfjsLE16(0x3555),                                                     // hf: float16 weight of a DT_HALF Const
		tfjsLE32(2), []byte("ab"), tfjsLE32(0), tfjsLE32(6), []byte("héllo"), // s string[3]
		[]byte{1, 0, 2},            // bl bool[3]
		tfjsF32(7),                 // fn/c: Const of library function fn
		tfjsLE32(3), []byte("key"), // init/k: initializer Const
	)
	shards := map[string][]byte{"group2-shard1of1.bin": group2}
	var paths []any
	for i := 0; i*16 < len(group1); i++ {
		name := fmt.Sprintf("group1-shard%dof%d.bin", i+1, (len(group1)+15)/16)
		shards[name] = group1[i*16 : min(len(group1), (i+1)*16)]
		paths = append(paths, name)
	}
	model := map[string]any{
		"format":      "graph-model",
		"generatedBy": "2.19.0",
		"convertedBy": "TensorFlow.js Converter v4.22.0",
		"signature": map[string]any{
			"inputs": map[string]any{"x": map[string]any{"name": "x:0", "dtype": "DT_FLOAT", "tensorShape": tfjsDims(-1, 3)}},
			"outputs": map[string]any{
				"y":   map[string]any{"name": "y:0", "dtype": "DT_FLOAT", "tensorShape": tfjsDims(-1, 2)},
				"any": map[string]any{"name": "z:0", "dtype": "DT_INT64", "tensorShape": map[string]any{"unknownRank": true}},
			},
			"methodName": "tensorflow/serving/predict",
		},
		"modelTopology": map[string]any{
			"node": []any{
				map[string]any{"name": "x", "op": "Placeholder", "attr": map[string]any{
					"shape": map[string]any{"shape": tfjsDims(-1, 3)}, "dtype": map[string]any{"type": "DT_FLOAT"}}},
				tfjsConstNode("w", "DT_FLOAT", 3, 2),
				tfjsConstNode("b", "DT_FLOAT", 3),
				tfjsConstNode("q16", "DT_FLOAT", 3),
				tfjsConstNode("h", "DT_FLOAT", 4),
				tfjsConstNode("qi", "DT_INT32", 5),
				tfjsConstNode("r", "DT_FLOAT", 1),
				tfjsConstNode("i64", "DT_INT64", 2),
				tfjsConstNode("d", "DT_DOUBLE"),
				tfjsConstNode("hf", "DT_HALF", 1),
				tfjsConstNode("s", "DT_STRING", 3),
				tfjsConstNode("bl", "DT_BOOL", 3),
				// A Const keeping its value inline is not in the manifest.
				map[string]any{"name": "inline", "op": "Const", "attr": map[string]any{
					"value": map[string]any{"tensor": map[string]any{"dtype": "DT_INT32", "tensorShape": tfjsDims(2), "intVal": []any{7, 8}}},
					"dtype": map[string]any{"type": "DT_INT32"}}},
				map[string]any{"name": "y", "op": "_FusedMatMul", "input": []any{"x", "w", "b:0"}, "device": "/device:CPU:0",
					"attr": map[string]any{
						"transpose_a": map[string]any{"b": false},
						"fused_ops":   map[string]any{"list": map[string]any{"s": []any{"Qmlhc0FkZA=="}}}, // "BiasAdd"
						"num_args":    map[string]any{"i": "1"},
						"epsilon":     map[string]any{"f": 0.0},
						"T":           map[string]any{"type": "DT_FLOAT"},
					},
					"experimentalDebugInfo": map[string]any{"originalNodeNames": []any{"dense/MatMul"}}},
				map[string]any{"name": "z", "op": "StatefulPartitionedCall", "input": []any{"x", "^y"},
					"attr": map[string]any{"f": map[string]any{"func": map[string]any{"name": "fn"}},
						"Tin": map[string]any{"list": map[string]any{"type": []any{"DT_FLOAT"}}}}},
			},
			"library": map[string]any{"function": []any{map[string]any{
				"signature": map[string]any{"name": "fn",
					"inputArg":  []any{map[string]any{"name": "a", "type": "DT_FLOAT"}},
					"outputArg": []any{map[string]any{"name": "out", "type": "DT_FLOAT"}}},
				"nodeDef": []any{
					tfjsConstNode("fn/c", "DT_FLOAT"),
					map[string]any{"name": "m", "op": "Mul", "input": []any{"a", "fn/c:output:0"}, "attr": map[string]any{"T": map[string]any{"type": "DT_FLOAT"}}},
				},
				"ret":     map[string]any{"out": "m:z:0"},
				"argAttr": map[string]any{"0": map[string]any{"attr": map[string]any{}}},
			}}},
			"versions": map[string]any{"producer": 1569},
		},
		"modelInitializer": map[string]any{"node": []any{
			tfjsConstNode("init/k", "DT_STRING", 1),
			map[string]any{"name": "table", "op": "HashTableV2", "attr": map[string]any{
				"key_dtype": map[string]any{"type": "DT_STRING"}, "value_dtype": map[string]any{"type": "DT_INT64"}}},
		}, "versions": map[string]any{}},
		"weightsManifest": []any{
			map[string]any{"paths": paths, "weights": []any{
				map[string]any{"name": "w", "shape": []any{3, 2}, "dtype": "float32"},
				map[string]any{"name": "b", "shape": []any{3}, "dtype": "float32",
					"quantization": map[string]any{"dtype": "uint8", "min": -1.0, "scale": 0.5, "original_dtype": "float32"}},
				map[string]any{"name": "q16", "shape": []any{3}, "dtype": "float32",
					"quantization": map[string]any{"dtype": "uint16", "min": -10.0, "scale": 0.25}},
				map[string]any{"name": "h", "shape": []any{4}, "dtype": "float32", "quantization": map[string]any{"dtype": "float16"}},
				map[string]any{"name": "qi", "shape": []any{5}, "dtype": "int32",
					"quantization": map[string]any{"dtype": "uint8", "min": -0.5, "scale": 0.5}},
				map[string]any{"name": "r", "shape": []any{1}, "dtype": "float32",
					"quantization": map[string]any{"dtype": "uint8", "min": 0.2, "scale": 0.1}},
			}},
			map[string]any{"paths": []any{"group2-shard1of1.bin"}, "weights": []any{
				map[string]any{"name": "i64", "shape": []any{2}, "dtype": "int32"},
				map[string]any{"name": "d", "shape": []any{}, "dtype": "float32"},
				map[string]any{"name": "hf", "shape": []any{1}, "dtype": "float16"},
				map[string]any{"name": "s", "shape": []any{3}, "dtype": "string"},
				map[string]any{"name": "bl", "shape": []any{3}, "dtype": "bool"},
				map[string]any{"name": "fn/c", "shape": []any{}, "dtype": "float32"},
				map[string]any{"name": "init/k", "shape": []any{1}, "dtype": "string"},
			}},
		},
	}
	return tfjsFixture{model: model, shards: shards}
}

func tfjsFmt(v any) string { return fmt.Sprintf("%T%v", v, v) }

func TestReadTFJS(t *testing.T) {
	f := tfjsSample()
	if len(f.shards) != 4 {
		t.Fatalf("fixture has %d shards, want 3 of group 1 and 1 of group 2", len(f.shards))
	}
	dir := f.write(t)
	for _, path := range []string{dir, filepath.Join(dir, "model.json")} {
		m, err := ReadTFJS(path, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Format != "graph-model" || m.GeneratedBy != "2.19.0" || m.ConvertedBy != "TensorFlow.js Converter v4.22.0" {
			t.Errorf("format fields %q %q %q", m.Format, m.GeneratedBy, m.ConvertedBy)
		}
		g := m.Graph
		if g.Format != FormatTFJS || g.Source != filepath.Join(dir, "model.json") || g.Versions.Producer != 1569 {
			t.Errorf("graph Format %q Source %q producer %d", g.Format, g.Source, g.Versions.Producer)
		}
		// Expected weights, by hand from the fixture bytes and tfjs-core's
		// io_utils.decodeWeight formulas.
		cases := []struct {
			node string
			fn   bool // inside library function fn
			dt   tensor.DType
			want any
		}{
			{node: "w", dt: tensor.Float32, want: []float32{1, 2, 3, 4, 5, 6}},
			{node: "b", dt: tensor.Float32, want: []float32{-1, -0.5, 1}},                 // q*0.5 - 1 for q = 0, 1, 4
			{node: "q16", dt: tensor.Float32, want: []float32{-10, 240, 16373.75}},        // q*0.25 - 10 for q = 0, 1000, 65535
			{node: "h", dt: tensor.Float32, want: []float32{1, -2, 65504, 5.9604645e-08}}, // binary16 0x3c00, 0xc000, 0x7bff, 0x0001
			// Math.round(q*0.5 - 0.5) for q = 0, 1, 3, 4, 6: Math.round(-0.5) is 0
			// and Math.round(1.5), Math.round(2.5) round up.
			{node: "qi", dt: tensor.Int32, want: []int32{0, 0, 1, 2, 3}},
			// 3*0.1 + 0.2 is 0.5000000000000001 in float64, stored as 0.5f.
			{node: "r", dt: tensor.Float32, want: []float32{0.5}},
			{node: "i64", dt: tensor.Int64, want: []int64{-3, math.MaxInt32}},
			{node: "d", dt: tensor.Float64, want: []float64{0.5}},
			{node: "hf", dt: tensor.Half, want: []float32{0.333251953125}}, // binary16 0x3555
			{node: "s", dt: tensor.String, want: []string{"ab", "", "héllo"}},
			{node: "bl", dt: tensor.Bool, want: []bool{true, false, true}},
			{node: "inline", dt: tensor.Int32, want: []int32{7, 8}},
			{node: "fn/c", fn: true, dt: tensor.Float32, want: []float32{7}},
		}
		for _, c := range cases {
			var n *Node
			if c.fn {
				for _, fn := range g.Library {
					for _, fnode := range fn.Nodes {
						if fnode.Name == c.node {
							n = fnode
						}
					}
				}
			} else {
				n, _ = g.Node(c.node)
			}
			if n == nil {
				t.Errorf("node %q missing", c.node)
				continue
			}
			v, ok := n.Attrs["value"].(*tensor.Tensor)
			if !ok {
				t.Errorf("node %q: value attr is %T", c.node, n.Attrs["value"])
				continue
			}
			if v.DType() != c.dt || tfjsFmt(v.Data()) != tfjsFmt(c.want) {
				t.Errorf("node %q: value %s %s, want %s %s", c.node, v.DType(), tfjsFmt(v.Data()), c.dt, tfjsFmt(c.want))
			}
		}
		w, _ := g.Node("w")
		if v := w.Attrs["value"].(*tensor.Tensor); !v.Shape().Equal(tensor.Shape{3, 2}) {
			t.Errorf("w has shape %v", v.Shape())
		}
		y, _ := g.Node("y")
		if fo, _ := y.Attrs["fused_ops"].([]string); len(fo) != 1 || fo[0] != "BiasAdd" || y.Attrs["num_args"] != int64(1) ||
			len(y.Inputs) != 3 || y.Inputs[2] != (Input{Node: "b"}) || y.Device != "/device:CPU:0" {
			t.Errorf("node y decoded as %+v", y)
		}
		z, _ := g.Node("z")
		if f, _ := z.Attrs["f"].(tensor.Func); f.Name != "fn" || len(z.ControlInputs) != 1 {
			t.Errorf("node z decoded as %+v", z)
		}
		if m.Initializer == nil {
			t.Fatal("no initializer graph")
		}
		k, _ := m.Initializer.Node("init/k")
		if v, _ := k.Attrs["value"].(*tensor.Tensor); v == nil || tfjsFmt(v.Data()) != tfjsFmt([]string{"key"}) {
			t.Errorf("initializer Const init/k = %v", k.Attrs["value"])
		}
		sig := m.Signature
		if sig == nil || sig.MethodName != "tensorflow/serving/predict" {
			t.Fatalf("signature %+v", sig)
		}
		if in := sig.Inputs["x"]; in.Name != "x:0" || in.DType != tensor.Float32 || in.Shape.String() != "[? 3]" {
			t.Errorf("input x = %+v", in)
		}
		if out := sig.Outputs["any"]; out.Name != "z:0" || out.DType != tensor.Int64 || !out.Shape.UnknownRank {
			t.Errorf("output any = %+v", out)
		}
		if m.InitializerSignature != nil {
			t.Errorf("initializer signature %+v, want nil", m.InitializerSignature)
		}
	}
}

// tfjsMutate applies edit to a fresh sample fixture, writes it and reads
// it, returning the error.
func tfjsMutate(t *testing.T, edit func(f *tfjsFixture), lim Limits) (string, error) {
	t.Helper()
	f := tfjsSample()
	edit(&f)
	dir := f.write(t)
	_, err := ReadTFJS(dir, lim)
	return filepath.Join(dir, "model.json"), err
}

func tfjsManifest(f *tfjsFixture, group int) map[string]any {
	return f.model["weightsManifest"].([]any)[group].(map[string]any)
}

func tfjsWeightSpec(f *tfjsFixture, group, i int) map[string]any {
	return tfjsManifest(f, group)["weights"].([]any)[i].(map[string]any)
}

func TestReadTFJSErrors(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(f *tfjsFixture)
		lim    Limits
		is     error
		substr []string
	}{
		{"missing shard", func(f *tfjsFixture) { delete(f.shards, "group1-shard2of3.bin") }, Limits{},
			fs.ErrNotExist, []string{`weights group 1: shard "group1-shard2of3.bin"`}},
		{"short shard", func(f *tfjsFixture) {
			f.shards["group2-shard1of1.bin"] = f.shards["group2-shard1of1.bin"][:len(f.shards["group2-shard1of1.bin"])-1]
		}, Limits{}, nil, []string{`weight "init/k" (group 2, from shard "group2-shard1of1.bin")`, "follow"}},
		{"short straddled shard", func(f *tfjsFixture) {
			f.shards["group1-shard3of3.bin"] = nil
		}, Limits{}, nil, []string{`weight "q16" (group 1, from shard "group1-shard2of3.bin")`, "shards hold only 32 bytes"}},
		{"long shard", func(f *tfjsFixture) {
			f.shards["group2-shard1of1.bin"] = append(f.shards["group2-shard1of1.bin"], 0)
		}, Limits{}, nil, []string{"weights group 2: its weights take", "hold"}},
		{"weight with no Const", func(f *tfjsFixture) { tfjsWeightSpec(f, 1, 4)["name"] = "nothing" }, Limits{},
			nil, []string{`weight "nothing"`, "no Const node of that name"}},
		{"Const with no weight", func(f *tfjsFixture) {
			g := tfjsManifest(f, 0)
			g["weights"] = g["weights"].([]any)[:5]
			f.shards["group1-shard3of3.bin"] = f.shards["group1-shard3of3.bin"][:len(f.shards["group1-shard3of3.bin"])-1]
		}, Limits{}, nil, []string{`Const node "r" has no weight`}},
		{"duplicate weight", func(f *tfjsFixture) { tfjsWeightSpec(f, 1, 1)["name"] = "i64" }, Limits{},
			nil, []string{`weight "i64"`, "appears twice"}},
		{"shape mismatch", func(f *tfjsFixture) { tfjsWeightSpec(f, 0, 0)["shape"] = []any{2, 3} }, Limits{},
			nil, []string{`weight "w"`, "does not match the Const's shape [3 2]"}},
		{"negative dim", func(f *tfjsFixture) { tfjsWeightSpec(f, 0, 0)["shape"] = []any{-3, 2} }, Limits{},
			nil, []string{`weight "w"`, "shape dimension 0 is -3"}},
		{"fractional dim", func(f *tfjsFixture) { tfjsWeightSpec(f, 0, 0)["shape"] = []any{1.5, 2} }, Limits{},
			nil, []string{`weight "w"`, "shape dimension 0 is 1.5"}},
		{"1e15 elements", func(f *tfjsFixture) { tfjsWeightSpec(f, 0, 0)["shape"] = []any{int64(1e15)} }, Limits{},
			tensor.ErrLimit, []string{`weight "w"`}},
		{"dtype mismatch", func(f *tfjsFixture) { tfjsWeightSpec(f, 1, 4)["dtype"] = "uint8" }, Limits{},
			nil, []string{`weight "bl"`, "weight dtype uint8 does not match the Const's dtype bool"}},
		{"unknown dtype", func(f *tfjsFixture) { tfjsWeightSpec(f, 0, 0)["dtype"] = "complex64" }, Limits{},
			nil, []string{`weight "w"`, `dtype "complex64" not supported`}},
		{"quantization without scale", func(f *tfjsFixture) {
			delete(tfjsWeightSpec(f, 0, 1)["quantization"].(map[string]any), "scale")
		}, Limits{}, nil, []string{`weight "b"`, "needs both min and scale"}},
		{"unknown quantization", func(f *tfjsFixture) {
			tfjsWeightSpec(f, 0, 1)["quantization"].(map[string]any)["dtype"] = "int4"
		}, Limits{}, nil, []string{`weight "b"`, `unknown quantization dtype "int4"`}},
		{"float16 quantization of int32", func(f *tfjsFixture) {
			tfjsWeightSpec(f, 0, 4)["quantization"] = map[string]any{"dtype": "float16"}
		}, Limits{}, nil, []string{`weight "qi"`, "quantization float16 of a int32 weight"}},
		{"string length past the end", func(f *tfjsFixture) {
			b := f.shards["group2-shard1of1.bin"]
			binary.LittleEndian.PutUint32(b[14:], 1<<30) // length of "ab"
		}, Limits{}, nil, []string{`weight "s"`, "string 0 has length 1073741824"}},
		{"escaping path", func(f *tfjsFixture) { tfjsManifest(f, 1)["paths"] = []any{"../group2-shard1of1.bin"} }, Limits{},
			nil, []string{`shard path "../group2-shard1of1.bin" is not a relative path`}},
		{"directory as shard", func(f *tfjsFixture) { tfjsManifest(f, 1)["paths"] = []any{"."} }, Limits{},
			nil, []string{`shard "."`, "not a regular file"}},
		{"absolute path", func(f *tfjsFixture) { tfjsManifest(f, 1)["paths"] = []any{"/etc/passwd"} }, Limits{},
			nil, []string{`shard path "/etc/passwd"`}},
		{"layers model", func(f *tfjsFixture) { f.model["format"] = "layers-model" }, Limits{},
			nil, []string{`format "layers-model"`}},
		{"keras topology", func(f *tfjsFixture) {
			f.model["format"] = ""
			f.model["modelTopology"] = map[string]any{"class_name": "Sequential", "config": map[string]any{}}
		}, Limits{}, nil, []string{"modelTopology is not a GraphDef"}},
		{"no topology", func(f *tfjsFixture) { delete(f.model, "modelTopology") }, Limits{},
			nil, []string{"no modelTopology"}},
		{"bad topology", func(f *tfjsFixture) { f.model["modelTopology"] = map[string]any{"node": "x"} }, Limits{},
			nil, []string{"modelTopology: malformed protobuf"}},
		{"bad signature", func(f *tfjsFixture) { f.model["signature"] = []any{1} }, Limits{},
			nil, []string{"signature: malformed protobuf"}},
		{"weights over budget", func(f *tfjsFixture) {}, Limits{MaxConstBytes: 40}, tensor.ErrLimit, []string{"weights need more than 40 bytes"}},
		{"elements over limit", func(f *tfjsFixture) {}, Limits{MaxElements: 5}, tensor.ErrLimit, []string{`weight "w"`}},
		{"shard over file limit", func(f *tfjsFixture) {
			f.shards["group2-shard1of1.bin"] = append(f.shards["group2-shard1of1.bin"], make([]byte, 20000)...)
		}, Limits{MaxFileBytes: 15000}, tensor.ErrLimit, []string{`shard "group2-shard1of1.bin" has 20`, "more than the limit 15000"}},
		{"model.json over file limit", func(f *tfjsFixture) {}, Limits{MaxFileBytes: 100}, tensor.ErrLimit, []string{"more than the limit 100"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path, err := tfjsMutate(t, c.edit, c.lim)
			if c.substr == nil && c.is == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("graph: %s: ", path)) {
				t.Errorf("error %q does not name model.json", err)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q is not %v", err, c.is)
			}
			for _, s := range c.substr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestReadTFJSBadJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.json")
	for _, data := range []string{"", "{", `{"format": 3}`, `{"weightsManifest": {}}`, "[]"} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadTFJS(path, Limits{})
		if err == nil || !strings.Contains(err.Error(), "parsing model.json") || !strings.Contains(err.Error(), path) {
			t.Errorf("ReadTFJS(%q) = %v", data, err)
		}
	}
	if _, err := ReadTFJS(filepath.Join(dir, "none.json"), Limits{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ReadTFJS(path, Limits{MaxNodes: -1}); err == nil {
		t.Error("negative limit accepted")
	}
}

// TestReadTFJSEmpty checks a model without weights and an unknown enum
// name in its topology (skipped like an unknown field).
func TestReadTFJSEmpty(t *testing.T) {
	f := tfjsFixture{model: map[string]any{
		"format": "graph-model",
		"modelTopology": map[string]any{"node": []any{
			map[string]any{"name": "x", "op": "Placeholder", "attr": map[string]any{"dtype": map[string]any{"type": "DT_SOME_FUTURE_TYPE"}}},
		}},
		"convertedBy": nil,
	}}
	m, err := ReadTFJS(f.write(t), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Graph.Nodes) != 1 || m.Signature != nil || m.ConvertedBy != "" {
		t.Errorf("model %+v", m)
	}
}

// TestTFJSRoundToInt32 checks JavaScript's Math.round and ToInt32.
func TestTFJSRoundToInt32(t *testing.T) {
	cases := []struct {
		in   float64
		want int32
	}{
		{in: 0.49999999999999994, want: 0}, // Math.round gives 0; floor(x+0.5) would give 1
		{in: -0.5, want: 0},
		{in: -1.5, want: -1},
		{in: 2.5, want: 3},
		{in: -2.6, want: -3},
		{in: math.NaN(), want: 0},
		{in: math.Inf(1), want: 0},
		{in: 4294967296 + 5, want: 5},         // wraps modulo 2^32
		{in: 2147483648, want: math.MinInt32}, // 2^31 wraps to -2^31
		{in: -2147483649, want: math.MaxInt32},
	}
	for _, c := range cases {
		if got := tfjsRoundToInt32(c.in); got != c.want {
			t.Errorf("tfjsRoundToInt32(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

// TestReadTFJSFromBundle converts the variable of the shared
// tfjs_times_three_float SavedModel (v = 3, MANIFEST row 9) into a TF.js
// weight shard, as tensorflowjs_converter freezes it into a Const, and
// checks that the Const reads back as the bundle's value.
func TestReadTFJSFromBundle(t *testing.T) {
	root := decSharedDir(t)
	r, err := bundle.Open(filepath.Join(root, "tfjs_times_three_float", "variables", "variables"), bundle.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v, err := r.Tensor("v/.ATTRIBUTES/VARIABLE_VALUE")
	if err != nil {
		t.Fatal(err)
	}
	f := tfjsFixture{
		model: map[string]any{
			"format": "graph-model",
			"modelTopology": map[string]any{"node": []any{
				map[string]any{"name": "x", "op": "Placeholder", "attr": map[string]any{"dtype": map[string]any{"type": "DT_FLOAT"},
					"shape": map[string]any{"shape": tfjsDims()}}},
				tfjsConstNode("mul/ReadVariableOp", "DT_FLOAT"),
				map[string]any{"name": "Identity", "op": "Mul", "input": []any{"x", "mul/ReadVariableOp"},
					"attr": map[string]any{"T": map[string]any{"type": "DT_FLOAT"}}},
			}},
			"weightsManifest": []any{map[string]any{"paths": []any{"group1-shard1of1.bin"},
				"weights": []any{map[string]any{"name": "mul/ReadVariableOp", "shape": []any{}, "dtype": "float32"}}}},
		},
		shards: map[string][]byte{"group1-shard1of1.bin": tfjsF32(v.Data().([]float32)...)},
	}
	m, err := ReadTFJS(f.write(t), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := m.Graph.Node("mul/ReadVariableOp")
	if got := n.Attrs["value"].(*tensor.Tensor); tfjsFmt(got.Data()) != tfjsFmt([]float32{3}) || got.Rank() != 0 {
		t.Errorf("Const value %s%v", tfjsFmt(got.Data()), got.Shape())
	}
	// A SavedModel directory is not a TF.js model.
	if _, err := ReadTFJS(filepath.Join(root, "tfjs_times_three_float"), Limits{}); err == nil || !strings.Contains(err.Error(), "saved_model.pb") {
		t.Errorf("ReadTFJS on a SavedModel directory: %v", err)
	}
}

// tfjsFuzzLimits are small so that fuzzing never allocates much.
var tfjsFuzzLimits = Limits{MaxFileBytes: 1 << 20, MaxNodes: 1000, MaxElements: 1 << 16, MaxConstBytes: 1 << 20, MaxRank: 8}

// FuzzReadTFJS reads arbitrary model.json bytes next to the shards of
// the sample model. Properties: no panic, errors name model.json, and
// every weight attached to a Const is within the limits.
func FuzzReadTFJS(f *testing.F) {
	sample := tfjsSample()
	dir := sample.write(f)
	seed, err := json.Marshal(sample.model)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"format":"graph-model","modelTopology":{"node":[{"name":"c","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_FLOAT","tensorShape":{"dim":[{"size":"2"}]}}}}}]},` +
		`"weightsManifest":[{"paths":["group2-shard1of1.bin"],"weights":[{"name":"c","shape":[2],"dtype":"float32"}]}]}`))
	f.Add([]byte(`{"modelTopology":{},"weightsManifest":[]}`))
	path := filepath.Join(dir, "model.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := ReadTFJS(path, tfjsFuzzLimits)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "graph: "+path+": ") {
				t.Fatalf("error %q does not name the model", err)
			}
			return
		}
		var total int64
		for _, n := range m.Graph.Nodes {
			if v, ok := n.Attrs["value"].(*tensor.Tensor); ok {
				if v.Len() > tfjsFuzzLimits.MaxElements {
					t.Fatalf("Const %q has %d elements", n.Name, v.Len())
				}
				total += v.Bytes()
			}
		}
		if total > 2*tfjsFuzzLimits.MaxConstBytes {
			t.Fatalf("constants take %d bytes", total)
		}
	})
}
