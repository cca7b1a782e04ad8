package tfd

import (
	"context"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/tensor"
)

// smOut is one expected output: a signature output key (or a graph tensor
// name for models without signatures), its dtype, shape and values.
type smOut struct {
	key   string
	dt    tensor.DType
	shape []int
	want  []float64
}

// smValueCase runs one SavedModel signature or checkpoint fetch.
type smValueCase struct {
	name string // MANIFEST short name, and what is checked
	path string // under ../shared/tfmodels
	ckpt bool   // ReadCheckpoint instead of ReadSavedModel
	tags []string
	sig  string // signature key; "" feeds and fetches graph tensors
	in   map[string]*Tensor
	outs []smOut
	tol  float64
	// provenance of the expected values
	from string
}

func smF32(shape []int, v ...float32) *Tensor { return FromSlice(shape, v) }

// TestSharedSavedModelValues loads the SavedModels and TF1 checkpoints of
// ../shared/tfmodels with graph.ReadSavedModel / graph.ReadCheckpoint and
// checks the values their MANIFEST rows quote (models whose signatures
// change state through tfd.Load, which sets the state up). Rows not here,
// and why:
//   - serving_counter (5) beyond get_counter on a fresh load, and
//     tf_asset_module (19): a sequence of runs on one model, and a string
//     output; see TestSharedSavedModelState.
//   - classify/regress signatures of the half_plus_two family (rows 1-4, 6,
//     25-28): they parse serialized tf.Example protos (ParseExample,
//     ParseExampleV2), which tfd does not implement.
//   - tfx_estimator_chicago_taxi (row 46): MANIFEST quotes no values;
//     TestSharedTFXEstimator checks that its signatures run and agree.
//   - serving_session_bundle_half_plus_two (row 8): a pre-SavedModel
//     SessionBundle with a V1 (tensor-slice) checkpoint.
//   - tf_simple_while_loop (17), tfnet_lstm_from_sequential (45):
//     StatelessWhile and TensorList ops have no kernels.
//   - rust_regression_savedmodel "train" (40): a training step.
//   - tf_trt_2_0_sharded (36): checked through the TRTEngineOp's native
//     segment function, which holds the same math.
func TestSharedSavedModelValues(t *testing.T) {
	dir := sharedModels(t)
	ones := smF32([]int{4, 1, 1}, 1, 1, 1, 1)
	cases := []smValueCase{
		{name: "serving_half_plus_two_cpu", path: "serving_half_plus_two_cpu/00000123", sig: "serving_default",
			in: map[string]*Tensor{"x": smF32([]int{1, 1}, 2)}, outs: []smOut{{"y", tensor.Float32, []int{1, 1}, []float64{3}}},
			from: "MANIFEST row 1: tensorflow_model_server_test.py, x=2 -> y=3"},
		{name: "serving_half_plus_two_cpu regress_x2_to_y3", path: "serving_half_plus_two_cpu/00000123", sig: "regress_x2_to_y3",
			in: map[string]*Tensor{"inputs": smF32([]int{2, 1}, 2, 4)}, outs: []smOut{{"outputs", tensor.Float32, []int{2, 1}, []float64{4, 5}}},
			from: "MANIFEST row 1: y3 = 0.5*x2 + 3"},
		{name: "serving_half_plus_two_tf2_cpu", path: "serving_half_plus_two_tf2_cpu/00000123", sig: "serving_default",
			in: map[string]*Tensor{"x": smF32([]int{1}, 2)}, outs: []smOut{{"y", tensor.Float32, []int{1}, []float64{3}}},
			from: "MANIFEST row 2: x=2 -> y=3"},
		{name: "serving_half_plus_two_tf2_cpu regress_x2_to_y3", path: "serving_half_plus_two_tf2_cpu/00000123", sig: "regress_x2_to_y3",
			in: map[string]*Tensor{"inputs": smF32([]int{1}, 2)}, outs: []smOut{{"outputs", tensor.Float32, []int{1}, []float64{4}}},
			from: "MANIFEST row 2: y3 = 0.5*x2 + 3 (c=3)"},
		{name: "serving_half_plus_three", path: "serving_half_plus_three/00000123", sig: "serving_default",
			in: map[string]*Tensor{"x": smF32([]int{1}, 2)}, outs: []smOut{{"y", tensor.Float32, []int{1}, []float64{4}}},
			from: "MANIFEST row 3: tensorflow_model_server_test.py, x=2 -> y=4"},
		{name: "serving_half_plus_two_2_versions/00000123", path: "serving_half_plus_two_2_versions/00000123", sig: "serving_default",
			in: map[string]*Tensor{"x": smF32([]int{2, 1}, 1, 2)}, outs: []smOut{{"y", tensor.Float32, []int{2, 1}, []float64{2.5, 3}}},
			from: "MANIFEST row 4: http_rest_api_handler_test.cc, instances [1,2] -> [2.5,3]"},
		{name: "serving_half_plus_two_2_versions/00000124", path: "serving_half_plus_two_2_versions/00000124", sig: "serving_default",
			in: map[string]*Tensor{"x": smF32([]int{2, 1}, 3, 4)}, outs: []smOut{{"y", tensor.Float32, []int{2, 1}, []float64{3.5, 4}}},
			from: "MANIFEST row 4: columnar inputs [3,4] -> [3.5,4]"},
		{name: "serving_counter get_counter", path: "serving_counter/00000123", sig: "get_counter",
			outs: []smOut{{"output", tensor.Float32, []int{}, []float64{0}}},
			from: "MANIFEST row 5: predict_util_test.cc, get_counter -> 0 on a fresh load"},
		{name: "tf_static_hashtable foo", path: "tf_static_hashtable", sig: "serving_default",
			in: map[string]*Tensor{"word": tensor.Scalar("foo")}, outs: []smOut{{"output_0", tensor.Int64, []int{}, []float64{0}}},
			from: "MANIFEST row 18: saved_model_api_test.cc, lookup over the asset file, foo -> 0"},
		{name: "tf_static_hashtable baz", path: "tf_static_hashtable", sig: "serving_default",
			in: map[string]*Tensor{"word": tensor.Scalar("baz")}, outs: []smOut{{"output_0", tensor.Int64, []int{}, []float64{2}}},
			from: "MANIFEST row 18: baz -> 2"},
		{name: "tf_static_hashtable missing key", path: "tf_static_hashtable", sig: "serving_default",
			in: map[string]*Tensor{"word": tensor.Scalar("NON-EXISTENT-KEY")}, outs: []smOut{{"output_0", tensor.Int64, []int{}, []float64{-1}}},
			from: "MANIFEST row 18: NON-EXISTENT-KEY -> -1 (the default)"},
		{name: "serving_half_plus_two_resource_vars", path: "serving_half_plus_two_resource_vars/00000123", sig: "serving_default",
			in: map[string]*Tensor{"x": smF32([]int{1, 1}, 2)}, outs: []smOut{{"y", tensor.Float32, []int{1, 1}, []float64{3}}},
			from: "MANIFEST row 6: x=2 -> y=3"},
		{name: "serving_matrix_half_plus_two", path: "serving_matrix_half_plus_two/1", sig: "serving_default",
			in:   map[string]*Tensor{"x": smF32([]int{1, 3, 3}, 5, 6, 7, 8, 9, 10, 11, 12, 13)},
			outs: []smOut{{"y", tensor.Float32, []int{1, 3, 3}, []float64{4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5}}},
			from: "MANIFEST row 7: batching_session_test.cc"},
		// The tfjs signatures below declare scalar inputs while tfjs-node's
		// tests feed [1,2,3]; tfd checks feeds against the placeholder's
		// shape, so one element of each example is fed as a scalar.
		{name: "tfjs_times_three_float", path: "tfjs_times_three_float", sig: "serving_default",
			in: map[string]*Tensor{"x": smScalar(2)}, outs: []smOut{{"output_0", tensor.Float32, []int{}, []float64{6}}},
			from: "MANIFEST row 9: tfjs-node saved_model_test.ts, [1,2,3] -> [3,6,9]"},
		{name: "tfjs_times_two_int", path: "tfjs_times_two_int", sig: "serving_default",
			in: map[string]*Tensor{"x": tensor.Scalar[int32](3)}, outs: []smOut{{"output_0", tensor.Int32, []int{}, []float64{6}}},
			from: "MANIFEST row 10: [1,2,3] -> [2,4,6]"},
		{name: "tfjs_uint8_multiply", path: "tfjs_uint8_multiply", sig: "serving_default",
			in: map[string]*Tensor{"x": FromSlice([]int{1}, []uint8{3})}, outs: []smOut{{"output_0", tensor.Int32, []int{1}, []float64{18}}},
			from: "MANIFEST row 11: 3*2*x, x=3 -> 18"},
		{name: "tfjs_int64_multiply", path: "tfjs_int64_multiply", sig: "serving_default",
			in: map[string]*Tensor{"x": FromSlice([]int{2}, []int64{3, 4})}, outs: []smOut{{"output_0", tensor.Int64, []int{2}, []float64{18, 24}}},
			from: "MANIFEST row 12"},
		{name: "tfjs_model_multi_output", path: "tfjs_model_multi_output", sig: "serving_default",
			in:   map[string]*Tensor{"x": tensor.Scalar[int32](2), "y": tensor.Scalar[int32](3)},
			outs: []smOut{{"output_0", tensor.Int32, []int{}, []float64{4}}, {"output_1", tensor.Int32, []int{}, []float64{3}}},
			from: "MANIFEST row 13: f(x,y) = [2x, y]"},
		{name: "tfjs_model_single_input_multi_output", path: "tfjs_model_single_input_multi_output", sig: "serving_default",
			in:   map[string]*Tensor{"x": tensor.Scalar[int32](3)},
			outs: []smOut{{"output_0", tensor.Int32, []int{}, []float64{6}}, {"output_1", tensor.Int32, []int{}, []float64{3}}},
			from: "MANIFEST row 14: f(x) = [2x, x]"},
		{name: "tfjs_module_with_multiple_signatures", path: "tfjs_module_with_multiple_signatures", sig: "serving_default",
			in: map[string]*Tensor{"x": smScalar(3)}, outs: []smOut{{"output_0", tensor.Float32, []int{}, []float64{9}}},
			from: "MANIFEST row 15: x*3"},
		{name: "tfjs_module_with_multiple_signatures timestwo", path: "tfjs_module_with_multiple_signatures", sig: "timestwo",
			in: map[string]*Tensor{"x": smScalar(3)}, outs: []smOut{{"output_0", tensor.Float32, []int{}, []float64{6}}},
			from: "MANIFEST row 15: x*2"},
		{name: "tf_vars_and_arithmetic", path: "tf_vars_and_arithmetic", sig: "serving_default",
			in: map[string]*Tensor{"a": smScalar(2), "b": smScalar(1)}, outs: []smOut{{"output_0", tensor.Float32, []int{}, []float64{8}}},
			from: "MANIFEST row 16: saved_model_api_test.cc, (2+1)*(1+2)/3+5 = 8"},
		{name: "tf_uninitialized_variable", path: "tf_uninitialized_variable", sig: "serving_default",
			in: map[string]*Tensor{"value": smScalar(2)}, outs: []smOut{{"output_0", tensor.Float32, []int{}, []float64{3}}},
			from: "MANIFEST row 20: gen_saved_models.py compute(v) = 1 + v"},
		{name: "tf_x_plus_y_v2", path: "tf_x_plus_y_v2", sig: "serving_default",
			in: map[string]*Tensor{"x": smScalar(1), "y": smScalar(2)}, outs: []smOut{{"output_0", tensor.Float32, []int{}, []float64{3}}},
			from: "MANIFEST row 24: x + y"},
		{name: "tf_half_plus_two_pbtxt", path: "tf_half_plus_two_pbtxt/00000123", sig: "serving_default",
			in: map[string]*Tensor{"x": smF32([]int{4, 1}, 0, 1, 2, 3)}, outs: []smOut{{"y", tensor.Float32, []int{4, 1}, []float64{2, 2.5, 3, 3.5}}},
			from: "MANIFEST row 25: saved_model_bundle_test.cc, x=0..3 -> 2, 2.5, 3, 3.5"},
		{name: "tf_half_plus_two_main_op", path: "tf_half_plus_two_main_op/00000123", sig: "serving_default",
			in: map[string]*Tensor{"x": smF32([]int{4, 1}, 0, 1, 2, 3)}, outs: []smOut{{"y", tensor.Float32, []int{4, 1}, []float64{2, 2.5, 3, 3.5}}},
			from: "MANIFEST row 26"},
		{name: "tf_half_plus_two_v2", path: "tf_half_plus_two_v2/00000123", sig: "serving_default",
			in: map[string]*Tensor{"x": smF32([]int{4, 1}, 0, 1, 2, 3)}, outs: []smOut{{"y", tensor.Float32, []int{4, 1}, []float64{2, 2.5, 3, 3.5}}},
			from: "MANIFEST row 27"},
		{name: "tf_go_half_plus_two_empty_tags", path: "tf_go_half_plus_two_empty_tags/00000123", tags: []string{}, sig: "serving_default",
			in: map[string]*Tensor{"x": smF32([]int{1, 1}, 2)}, outs: []smOut{{"y", tensor.Float32, []int{1, 1}, []float64{3}}},
			from: "MANIFEST row 28: empty tag set; half_plus_two math"},
		{name: "tf_trt_readvariableop", path: "tf_trt_readvariableop", sig: "serving_default",
			in: map[string]*Tensor{"input1": ones, "input2": ones}, outs: []smOut{{"output_0", tensor.Float32, []int{4, 1, 1}, []float64{5, 5, 5, 5}}},
			from: "MANIFEST row 34: 13 + 37 - 45"},
		{name: "tf_trt_variablev2", path: "tf_trt_variablev2", sig: "serving_default",
			in: map[string]*Tensor{"input1": ones, "input2": ones}, outs: []smOut{{"output", tensor.Float32, []int{4, 1, 1}, []float64{5, 5, 5, 5}}},
			from: "MANIFEST row 35"},
		{name: "tf_trt_2_0_sharded", path: "tf_trt_2_0_sharded", sig: "serving_default",
			in: map[string]*Tensor{"input1": ones, "input2": ones}, outs: []smOut{{"output_0", tensor.Float32, []int{4, 1, 1}, []float64{5, 5, 5, 5}}},
			from: "MANIFEST row 36: trt_convert_test.py, (1+1)*1 + (1+1) + 1"},
		{name: "rust_regression_savedmodel w", path: "rust_regression_savedmodel", sig: "w",
			outs: []smOut{{"output", tensor.Float32, []int{1}, []float64{0.20429754}}}, tol: 1e-7,
			from: "MANIFEST row 40: the stored w"},
		{name: "rust_regression_savedmodel b", path: "rust_regression_savedmodel", sig: "b",
			outs: []smOut{{"output", tensor.Float32, []int{1}, []float64{0}}},
			from: "MANIFEST row 40: the stored b"},
		{name: "rust_regression_model", path: "rust_regression_model", sig: "tensorflow/serving/regress",
			in: map[string]*Tensor{"x": smF32([]int{1}, 2)}, outs: []smOut{{"out", tensor.Float32, []int{1}, []float64{-1.7157245}}}, tol: 1e-6,
			from: "MANIFEST row 41: w*x + b, tags {train, serve}"},
		{name: "java add", path: "java_saved_model_using_python", sig: "add",
			in: map[string]*Tensor{"a": smScalar(10), "b": smScalar(15.5)}, outs: []smOut{{"output_0", tensor.Float32, []int{}, []float64{25.5}}},
			from: "MANIFEST row 42: SavedModelBundleTest.java"},
		{name: "java get_variable", path: "java_saved_model_using_python", sig: "get_variable",
			in: map[string]*Tensor{"dummy": smScalar(1)}, outs: []smOut{{"output_0", tensor.Float32, []int{}, []float64{2}}},
			from: "MANIFEST row 42"},
		{name: "java get_const_vector", path: "java_saved_model_using_python", sig: "get_const_vector",
			in: map[string]*Tensor{"input": smScalar(3)}, outs: []smOut{{"output_0", tensor.Float32, []int{3}, []float64{3, 3, 3}}},
			from: "MANIFEST row 42: [0,0,0] + x"},
		{name: "java get_const_matrix", path: "java_saved_model_using_python", sig: "get_const_matrix",
			in: map[string]*Tensor{"input": smScalar(1)}, outs: []smOut{{"output_0", tensor.Float32, []int{2, 3}, []float64{1, 1, 1, 1, 1, 1}}},
			from: "MANIFEST row 42: zeros[2,3] + x"},
		{name: "tf2onnx_regression saved_model", path: "tf2onnx_regression/saved_model", sig: "serving_default",
			in: map[string]*Tensor{"X": smF32([]int{1}, 5)}, outs: []smOut{{"pred", tensor.Float32, []int{1}, []float64{2.1193342}}}, tol: 1e-6,
			from: "MANIFEST row 43: tests/test_api.py"},
		{name: "tf2onnx_regression checkpoint", path: "tf2onnx_regression/checkpoint", ckpt: true,
			in: map[string]*Tensor{"X": smF32([]int{1}, 5)}, outs: []smOut{{"pred", tensor.Float32, []int{1}, []float64{2.1193342}}}, tol: 1e-6,
			from: "MANIFEST row 43"},
		{name: "tf2onnx_regression checkpoint by .meta", path: "tf2onnx_regression/checkpoint/model.meta", ckpt: true,
			in: map[string]*Tensor{"X": smF32([]int{1}, 5)}, outs: []smOut{{"pred", tensor.Float32, []int{1}, []float64{2.1193342}}}, tol: 1e-6,
			from: "MANIFEST row 43"},
		{name: "dl4j_simple_graph_ckpt", path: "dl4j_tf_graphs/nd4j_convert/simple_graph", ckpt: true,
			in:   map[string]*Tensor{"input_0": smF32([]int{4}, 1, 2, 3, 4), "input_1": smF32([]int{4}, 0.5, 0.25, -3, 10)},
			outs: []smOut{{"output", tensor.Float32, []int{4}, []float64{1.5, 2.25, 0, 14}}, {"Variable/read", tensor.Float32, []int{4}, []float64{2, 4, 6, 8}}},
			from: "MANIFEST row 47: output = input_0 + input_1; Variable = [2,4,6,8] in the bundle"},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			path := filepath.Join(dir, c.path)
			var sm *graph.SavedModel
			var err error
			if c.ckpt {
				sm, err = graph.ReadCheckpoint(path, graph.Limits{})
			} else {
				sm, err = graph.ReadSavedModel(path, graph.SavedModelOptions{Tags: c.tags})
			}
			if err != nil {
				t.Fatal(err)
			}
			feeds := map[string]*Tensor{}
			var fetches []string
			var g *graph.Graph
			if c.sig != "" {
				sig, err := sm.Signature(c.sig)
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range c.in {
					feeds[sig.Inputs[k].Name] = v
				}
				for _, o := range c.outs {
					fetches = append(fetches, sig.Outputs[o.key].Name)
				}
				if g, err = sm.SignatureGraph(c.sig); err != nil {
					t.Fatal(err)
				}
			} else {
				for k, v := range c.in {
					feeds[k] = v
				}
				for _, o := range c.outs {
					fetches = append(fetches, o.key)
				}
				if g, err = graph.Prune(sm.Graph, fetches); err != nil {
					t.Fatal(err)
				}
			}
			m, err := FromGraph(g, Options{Name: c.name})
			if sm.Init != nil || sm.AssetsDir != "" {
				// Variables a signature changes live in the model's state,
				// which Load sets up (restore, init op); FromGraph does not.
				m, err = Load(path, Options{Name: c.name, Tags: c.tags})
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Run(context.Background(), feeds, fetches...)
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range c.outs {
				smCheck(t, o.key, got[i], o.dt, o.shape, o.want, c.tol)
			}
		})
	}
}

// smScalar is a float32 scalar.
func smScalar(v float32) *Tensor { return tensor.Scalar(v) }

func smCheck(t *testing.T, what string, got *Tensor, dt tensor.DType, shape []int, want []float64, tol float64) {
	t.Helper()
	if got.DType() != dt || !got.Shape().Equal(tensor.Shape(shape)) {
		t.Fatalf("%s: got %s%v, want %s%v", what, got.DType(), got.Shape(), dt, shape)
	}
	for i, v := range got.Float64s() {
		if math.Abs(v-want[i]) > tol {
			t.Errorf("%s[%d] = %v, want %v", what, i, v, want[i])
		}
	}
}

// TestSharedSavedModelKerasMLP checks the Keras MNIST MLP of MANIFEST row
// 44 (tfnet_simple_model_from_auto_compile): the frozen weights equal the
// .npy files TensorFlow.NET's test compares with, and the forward pass
// matches a float64 reference over those weights.
func TestSharedSavedModelKerasMLP(t *testing.T) {
	dir := filepath.Join(sharedModels(t), "tfnet_simple_model_from_auto_compile")
	sm, err := graph.ReadSavedModel(dir, graph.SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The Consts frozen from the four variables, found by shape.
	byShape := map[string]*Tensor{}
	for _, n := range sm.Graph.Nodes {
		if n.Op != "Const" {
			continue
		}
		v, ok, err := n.Attrs.Tensor("value")
		if !ok || err != nil || v.DType() != tensor.Float32 {
			continue
		}
		byShape[v.Shape().String()] = v
	}
	k0, b0, k1, b1 := byShape["[784 100]"], byShape["[100]"], byShape["[100 10]"], byShape["[10]"]
	if k0 == nil || b0 == nil || k1 == nil || b1 == nil {
		t.Fatalf("frozen weights not found among the Consts (shapes: %v)", smKeys(byShape))
	}
	for _, c := range []struct {
		file string
		got  *Tensor
	}{{"kernel1.npy", k1}, {"bias0.npy", b0}} {
		want, err := ReadNPY(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.Equal(want, c.got) {
			t.Errorf("frozen value differs from %s", c.file)
		}
	}

	sig, err := sm.Signature("serving_default")
	if err != nil {
		t.Fatal(err)
	}
	g, err := sm.SignatureGraph("serving_default")
	if err != nil {
		t.Fatal(err)
	}
	m, err := FromGraph(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const batch = 3
	rng := rand.New(rand.NewSource(7))
	x := make([]float32, batch*784)
	for i := range x {
		x[i] = rng.Float32()
	}
	out, err := m.Run(context.Background(), map[string]*Tensor{sig.Inputs["input_1"].Name: FromSlice([]int{batch, 28, 28, 1}, x)}, sig.Outputs["softmax"].Name)
	if err != nil {
		t.Fatal(err)
	}
	// Reference: softmax(relu(x K0 + b0) K1 + b1) in float64.
	want := make([]float64, 0, batch*10)
	K0, B0, K1, B1 := tensor.As[float32](k0), tensor.As[float32](b0), tensor.As[float32](k1), tensor.As[float32](b1)
	for r := 0; r < batch; r++ {
		h := make([]float64, 100)
		for j := range h {
			s := float64(B0[j])
			for i := 0; i < 784; i++ {
				s += float64(x[r*784+i]) * float64(K0[i*100+j])
			}
			h[j] = math.Max(s, 0)
		}
		logits := make([]float64, 10)
		maxv := math.Inf(-1)
		for j := range logits {
			s := float64(B1[j])
			for i := 0; i < 100; i++ {
				s += h[i] * float64(K1[i*10+j])
			}
			logits[j] = s
			maxv = math.Max(maxv, s)
		}
		var sum float64
		for j := range logits {
			logits[j] = math.Exp(logits[j] - maxv)
			sum += logits[j]
		}
		for j := range logits {
			want = append(want, logits[j]/sum)
		}
	}
	smCheck(t, "softmax", out[0], tensor.Float32, []int{batch, 10}, want, 1e-5)
}

func smKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
