package tfd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/tensor"
)

// Tests of model state: lookup tables filled by the init op, variables
// that runs change. The generated fixtures testdata/saved_table and
// testdata/saved_counter (internal/testmodels/state.go) have hand-computed
// expectations: word i of testmodels.TableVocab has id i, other words -1;
// the counter starts at its checkpoint value and follows the arithmetic of
// its signatures. The shared models' values are quoted from MANIFEST.md.

func stateRun(t *testing.T, m *Model, sig string, feeds map[string]*Tensor) map[string]*Tensor {
	t.Helper()
	out, err := m.RunSignature(context.Background(), sig, RunOptions{}, feeds)
	if err != nil {
		t.Fatalf("%s: %v", sig, err)
	}
	return out
}

func stateWords(w ...string) *Tensor { return FromSlice([]int{len(w)}, w) }

func TestStateTableFromAsset(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "saved_table"))
	if err != nil {
		t.Fatal(err)
	}
	in := stateWords("fox", "the", "cat", "", "jumps")
	// Provenance: vocab.txt is TableVocab one per line; key = line, value
	// = 0-based line number, default -1.
	want := []float64{3, 0, -1, -1, 4}
	got := stateRun(t, m, "serving_default", map[string]*Tensor{"words": in})["ids"]
	smCheck(t, "ids", got, tensor.Int64, []int{5}, want, 0)
	size := stateRun(t, m, "size", nil)["size"]
	smCheck(t, "size", size, tensor.Int64, []int{}, []float64{float64(len(testmodels.TableVocab))}, 0)

	// Concurrent lookups read the one table (run with -race).
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				out, err := m.RunSignature(context.Background(), "serving_default", RunOptions{Workers: 1}, map[string]*Tensor{"words": in})
				if err == nil && !tensor.Equal(out["ids"], got) {
					err = fmt.Errorf("ids %v, want %v", out["ids"], got)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Two loads have two tables: each model fills its own.
	m2, err := Load(filepath.Join("testdata", "saved_table"))
	if err != nil {
		t.Fatal(err)
	}
	if m2.state == m.state {
		t.Fatal("two models share a state")
	}
	smCheck(t, "second model", stateRun(t, m2, "size", nil)["size"], tensor.Int64, []int{}, []float64{5}, 0)
}

// stateCopyTable copies saved_table into a temporary directory with the
// given vocabulary file contents (none when vocab is "-"), for the
// malformed-asset tests.
func stateCopyTable(t *testing.T, vocab string) string {
	t.Helper()
	dir := t.TempDir()
	pb, err := os.ReadFile(filepath.Join("testdata", "saved_table", "saved_model.pb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "saved_model.pb"), pb, 0o644); err != nil {
		t.Fatal(err)
	}
	if vocab == "-" {
		return dir
	}
	if err := os.Mkdir(filepath.Join(dir, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "assets", "vocab.txt"), []byte(vocab), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStateTableAssetErrors(t *testing.T) {
	for _, c := range []struct {
		name     string
		vocab    string
		lim      Limits
		sentinel error
		want     []string
	}{
		// TensorFlow refuses the same files: lookup_util.cc
		// (TextFileLineIterator) and HashTable::DoInsert.
		{name: "missing asset file", vocab: "-", want: []string{"vocab.txt", `node "table_init"`, "no such file"}},
		{name: "empty line", vocab: "a\n\nb\n", want: []string{"vocab.txt", "line 2 is empty"}},
		{name: "duplicate keys", vocab: "a\nb\na\n", want: []string{"vocab.txt", "different values for the same key", "key a has 0", "value 2"}},
		// The model file (976 bytes) fits the limit; the asset does not.
		{name: "file over the size limit", vocab: strings.Repeat("word\n", 300), lim: Limits{MaxFileBytes: 1200}, sentinel: ErrLimit, want: []string{"vocab.txt", "1500 bytes"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := stateCopyTable(t, c.vocab)
			_, err := Load(dir, Options{Limits: c.lim})
			if err == nil {
				t.Fatal("loaded, want an error")
			}
			if c.sentinel != nil && !errors.Is(err, c.sentinel) {
				t.Errorf("error %q is not %v", err, c.sentinel)
			}
			for _, w := range append(c.want, "running init op") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestStateTableKeyDTypeMismatch(t *testing.T) {
	// A lookup whose Tin says string on a table of int64 keys: the error
	// names the node and both dtypes.
	g, err := graph.New([]*graph.Node{
		{Name: "t", Op: "HashTableV2", Attrs: tensor.Attrs{"shared_name": "t", "key_dtype": tensor.Int64, "value_dtype": tensor.Int64}},
		{Name: "k", Op: "Const", Attrs: tensor.Attrs{"dtype": tensor.Int64, "value": tensor.FromSlice(tensor.Shape{1}, []int64{7})}},
		{Name: "v", Op: "Const", Attrs: tensor.Attrs{"dtype": tensor.Int64, "value": tensor.FromSlice(tensor.Shape{1}, []int64{70})}},
		{Name: "init", Op: "InitializeTableV2", Inputs: []graph.Input{{Node: "t"}, {Node: "k"}, {Node: "v"}}, Attrs: tensor.Attrs{"Tkey": tensor.Int64, "Tval": tensor.Int64}},
		{Name: "x", Op: "Placeholder", Attrs: tensor.Attrs{"dtype": tensor.String, "shape": tensor.PartialShape{Dims: []int{-1}}}},
		{Name: "d", Op: "Const", Attrs: tensor.Attrs{"dtype": tensor.Int64, "value": tensor.Scalar(int64(-1))}},
		{Name: "find", Op: "LookupTableFindV2", Inputs: []graph.Input{{Node: "t"}, {Node: "x"}, {Node: "d"}}, ControlInputs: []string{"init"},
			Attrs: tensor.Attrs{"Tin": tensor.String, "Tout": tensor.Int64}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := FromGraph(g)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Run(context.Background(), map[string]*Tensor{"x": stateWords("a")}, "find")
	if err == nil || !strings.Contains(err.Error(), `node "find"`) || !strings.Contains(err.Error(), "keys of dtype string") || !strings.Contains(err.Error(), "int64 keys") {
		t.Errorf("error %v", err)
	}
}

func TestStateCounter(t *testing.T) {
	dir := filepath.Join("testdata", "saved_counter")
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Provenance: counter = 10 in the checkpoint; +1, = 0, +1, +3.
	for _, step := range []struct {
		sig  string
		in   map[string]*Tensor
		want float64
	}{
		{"get_counter", nil, testmodels.CounterStart},
		{"incr_counter", nil, testmodels.CounterStart + 1},
		{"get_counter", nil, testmodels.CounterStart + 1},
		{"reset_counter", nil, 0},
		{"incr_counter", nil, 1},
		{"incr_counter_by", map[string]*Tensor{"delta": smScalar(3)}, 4},
		{"get_counter", nil, 4},
	} {
		smCheck(t, step.sig, stateRun(t, m, step.sig, step.in)["output"], tensor.Float32, []int{}, []float64{step.want}, 0)
	}
	// The resource variable: total = 100 in the checkpoint, + 5.
	smCheck(t, "get_total", stateRun(t, m, "get_total", nil)["output"], tensor.Int64, []int{}, []float64{testmodels.TotalStart}, 0)
	smCheck(t, "add_total", stateRun(t, m, "add_total", map[string]*Tensor{"n": tensor.Scalar(int64(5))})["output"], tensor.Int64, []int{}, []float64{testmodels.TotalStart + 5}, 0)
	// A delta of another shape is refused, naming the variable.
	_, err = m.RunSignature(context.Background(), "incr_counter_by", RunOptions{}, map[string]*Tensor{"delta": smF32([]int{2}, 1, 1)})
	if err == nil || !strings.Contains(err.Error(), `variable "counter"`) || !errors.Is(err, ErrShape) {
		t.Errorf("delta [2]: %v", err)
	}

	// A second model of the same files starts from the checkpoint again.
	other, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	smCheck(t, "other model", stateRun(t, other, "get_counter", nil)["output"], tensor.Float32, []int{}, []float64{testmodels.CounterStart}, 0)
	smCheck(t, "first model", stateRun(t, m, "get_counter", nil)["output"], tensor.Float32, []int{}, []float64{4}, 0)

	// Freezing captures the current value; a signature that changes the
	// variable cannot be frozen.
	fr, err := m.Freeze(FreezeOptions{Signature: "get_counter"})
	if err != nil {
		t.Fatal(err)
	}
	fm := stateFrozenModel(t, fr)
	out, err := fm.Run(context.Background(), nil, fr.Outputs["output"])
	if err != nil {
		t.Fatal(err)
	}
	smCheck(t, "frozen get_counter", out[0], tensor.Float32, []int{}, []float64{4}, 0)
	_, err = m.Freeze(FreezeOptions{Signature: "incr_counter"})
	if err == nil || !strings.Contains(err.Error(), `changes variable "counter/handle"`) {
		t.Errorf("freezing incr_counter: %v", err)
	}
}

// TestStateCounterConcurrent increments the counter from many goroutines:
// no increment is lost, and reads see whole values (run with -race).
func TestStateCounterConcurrent(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "saved_counter"))
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, incrs = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := float32(-1)
			for i := 0; i < incrs; i++ {
				out, err := m.RunSignature(context.Background(), "incr_counter", RunOptions{Workers: 2}, nil)
				if err != nil {
					errs <- err
					return
				}
				v := tensor.As[float32](out["output"])[0]
				// Each run reads after its own increment: the value grows.
				if v <= last || v > testmodels.CounterStart+goroutines*incrs {
					errs <- fmt.Errorf("incr_counter returned %v after %v", v, last)
					return
				}
				last = v
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := stateRun(t, m, "get_counter", nil)["output"]
	smCheck(t, "after concurrent increments", got, tensor.Float32, []int{}, []float64{testmodels.CounterStart + goroutines*incrs}, 0)
}

// stateFrozenModel encodes a frozen graph, decodes it and loads it.
func stateFrozenModel(t *testing.T, fr *Frozen) *Model {
	t.Helper()
	data, err := fr.Encode()
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Decode(data, "pb", graph.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := FromGraph(g, WithName("frozen"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStateFreezeTable(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "saved_table"))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := m.Freeze(FreezeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, n := range fr.Graph.Nodes {
		ops[n.Op]++
		if v, ok, _ := n.Attrs.Tensor("value"); ok && v.DType() == tensor.String {
			for _, s := range tensor.As[string](v) {
				if strings.Contains(s, "vocab.txt") {
					t.Errorf("node %q holds the asset path %q", n.Name, s)
				}
			}
		}
	}
	if ops["LookupTableImportV2"] != 1 || ops["HashTableV2"] != 1 || ops["InitializeTableFromTextFileV2"] != 0 {
		t.Errorf("frozen ops %v: want the table with a LookupTableImportV2 of its contents", ops)
	}
	fm := stateFrozenModel(t, fr)
	// Freezing the frozen graph again (its table not yet filled) keeps its
	// one import.
	again, err := fm.Freeze(FreezeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	imports := 0
	for _, n := range again.Graph.Nodes {
		if n.Op == "LookupTableImportV2" {
			imports++
		}
	}
	if imports != 1 {
		t.Errorf("refrozen graph has %d imports, want 1", imports)
	}
	in := stateWords("jumps", "dog", "quick")
	// Two runs: the import fills the table, then finds it filled.
	for i := 0; i < 2; i++ {
		out, err := fm.Run(context.Background(), map[string]*Tensor{fr.Inputs["words"]: in}, fr.Outputs["ids"])
		if err != nil {
			t.Fatal(err)
		}
		smCheck(t, "frozen ids", out[0], tensor.Int64, []int{3}, []float64{4, -1, 1}, 0)
	}
	// graph.Freeze of the SavedModel itself cannot fold the table in.
	sm, err := graph.ReadSavedModel(filepath.Join("testdata", "saved_table"), graph.SavedModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := graph.Freeze(sm, nil); err == nil || !strings.Contains(err.Error(), `node "table" (HashTableV2) is a lookup table`) {
		t.Errorf("graph.Freeze: %v", err)
	}
}

// TestSharedSavedModelState reproduces the MANIFEST values of the shared
// SavedModels with state, through Load (which runs their init) and
// RunSignature, and freezes them.
func TestSharedSavedModelState(t *testing.T) {
	dir := sharedModels(t)
	t.Run("serving_counter", func(t *testing.T) {
		m, err := Load(filepath.Join(dir, "serving_counter", "00000123"))
		if err != nil {
			t.Fatal(err)
		}
		// MANIFEST row 5 (predict_util_test.cc): get_counter -> 0;
		// incr_counter -> 1; reset_counter -> 0; incr_counter -> 1;
		// incr_counter_by(delta=3) -> 4.
		for _, step := range []struct {
			sig  string
			in   map[string]*Tensor
			want float64
		}{
			{"get_counter", nil, 0},
			{"incr_counter", nil, 1},
			{"reset_counter", nil, 0},
			{"incr_counter", nil, 1},
			{"incr_counter_by", map[string]*Tensor{"delta": smScalar(3)}, 4},
		} {
			smCheck(t, step.sig, stateRun(t, m, step.sig, step.in)["output"], tensor.Float32, []int{}, []float64{step.want}, 0)
		}
		fr, err := m.Freeze(FreezeOptions{Signature: "get_counter"})
		if err != nil {
			t.Fatal(err)
		}
		out, err := stateFrozenModel(t, fr).Run(context.Background(), nil, fr.Outputs["output"])
		if err != nil {
			t.Fatal(err)
		}
		smCheck(t, "frozen get_counter", out[0], tensor.Float32, []int{}, []float64{4}, 0)
	})
	t.Run("tf_static_hashtable", func(t *testing.T) {
		m, err := Load(filepath.Join(dir, "tf_static_hashtable"))
		if err != nil {
			t.Fatal(err)
		}
		// MANIFEST row 18 (saved_model_api_test.cc): "foo" -> 0,
		// "baz" -> 2, "NON-EXISTENT-KEY" -> -1, int64 scalars.
		for _, c := range []struct {
			word string
			want float64
		}{{"foo", 0}, {"baz", 2}, {"NON-EXISTENT-KEY", -1}} {
			got := stateRun(t, m, "serving_default", map[string]*Tensor{"word": tensor.Scalar(c.word)})["output_0"]
			smCheck(t, c.word, got, tensor.Int64, []int{}, []float64{c.want}, 0)
		}
		fr, err := m.Freeze(FreezeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := stateFrozenModel(t, fr).Run(context.Background(), map[string]*Tensor{fr.Inputs["word"]: stateWords("baz", "wombat", "x")}, fr.Outputs["output_0"])
		if err != nil {
			t.Fatal(err)
		}
		smCheck(t, "frozen", out[0], tensor.Int64, []int{3}, []float64{2, 3, -1}, 0)
	})
	t.Run("tf_asset_module", func(t *testing.T) {
		m, err := Load(filepath.Join(dir, "tf_asset_module"))
		if err != nil {
			t.Fatal(err)
		}
		// MANIFEST row 19: read_file() -> "TEST ASSET FILE CONTENTS\n".
		const want = "TEST ASSET FILE CONTENTS\n"
		got := stateRun(t, m, "serving_default", nil)["output_0"]
		if got.DType() != tensor.String || got.Rank() != 0 || tensor.As[string](got)[0] != want {
			t.Fatalf("output_0 = %v, want %q", got, want)
		}
		fr, err := m.Freeze(FreezeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := stateFrozenModel(t, fr).Run(context.Background(), nil, fr.Outputs["output_0"])
		if err != nil {
			t.Fatal(err)
		}
		if s := tensor.As[string](out[0]); s[0] != want {
			t.Errorf("frozen output %q", s[0])
		}
	})
}

// stateTaxiExample encodes a tf.train.Example (example.proto,
// feature.proto) whose features are string, float32 or int64 scalars.
func stateTaxiExample(features map[string]any) []byte {
	varint := func(b []byte, v uint64) []byte {
		for v >= 0x80 {
			b = append(b, byte(v)|0x80)
			v >>= 7
		}
		return append(b, byte(v))
	}
	field := func(b []byte, num int, data []byte) []byte { // length-delimited
		b = varint(b, uint64(num)<<3|2)
		b = varint(b, uint64(len(data)))
		return append(b, data...)
	}
	keys := make([]string, 0, len(features))
	for k := range features {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var fs []byte
	for _, k := range keys {
		var list []byte
		var kind int
		switch v := features[k].(type) {
		case string:
			kind, list = 1, field(nil, 1, []byte(v))
		case float32:
			kind, list = 2, field(nil, 1, binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
		case int64:
			kind, list = 3, field(nil, 1, varint(nil, uint64(v)))
		}
		entry := field(field(nil, 1, []byte(k)), 2, field(nil, kind, list))
		fs = field(fs, 1, entry)
	}
	return field(nil, 1, fs)
}

// TestSharedTFXEstimator runs the TFX Chicago taxi estimator (MANIFEST row
// 46): a TF1 graph whose tf.Transform layer looks up two vocabularies
// (tables filled by the main op from assets) and hashes strings into
// buckets, feeding a wide-and-deep classifier. MANIFEST quotes no values,
// so the test checks that the signatures run and agree with each other:
// logistic = sigmoid(logits), probabilities = [1-logistic, logistic],
// class_ids = argmax, classes = class_ids as strings, regression and
// classification equal predict; and that freezing changes nothing.
func TestSharedTFXEstimator(t *testing.T) {
	m, err := Load(filepath.Join(sharedModels(t), "tfx_estimator_chicago_taxi"))
	if err != nil {
		t.Fatal(err)
	}
	full := stateTaxiExample(map[string]any{"company": "Taxi Affiliation Services", "payment_type": "Cash", "fare": float32(12.5),
		"trip_miles": float32(3.2), "trip_seconds": int64(900), "trip_start_hour": int64(14), "trip_start_day": int64(3),
		"trip_start_month": int64(5), "trip_start_timestamp": int64(1400000000), "pickup_latitude": float32(41.88),
		"pickup_longitude": float32(-87.63), "dropoff_latitude": float32(41.9), "dropoff_longitude": float32(-87.66),
		"pickup_community_area": int64(8), "dropoff_community_area": int64(32), "pickup_census_tract": int64(17031081500),
		"dropoff_census_tract": int64(17031320100)})
	sparse := stateTaxiExample(map[string]any{"payment_type": "Credit Card", "company": "no such company"})
	in := FromSlice([]int{3}, []string{string(full), string(sparse), ""})
	pred := stateRun(t, m, "predict", map[string]*Tensor{"examples": in})
	logits, logistic, probs := pred["logits"].Float64s(), pred["logistic"].Float64s(), pred["probabilities"].Float64s()
	ids := tensor.As[int64](pred["class_ids"])
	classes := tensor.As[string](pred["classes"])
	for r := 0; r < 3; r++ {
		sig := 1 / (1 + math.Exp(-logits[r]))
		if math.Abs(sig-logistic[r]) > 1e-6 || math.Abs(probs[2*r+1]-logistic[r]) > 1e-6 || math.Abs(probs[2*r]+probs[2*r+1]-1) > 1e-6 {
			t.Errorf("row %d: logits %v, logistic %v, probabilities %v", r, logits[r], logistic[r], probs[2*r:2*r+2])
		}
		want := int64(0)
		if probs[2*r+1] > probs[2*r] {
			want = 1
		}
		if ids[r] != want || classes[r] != fmt.Sprint(want) {
			t.Errorf("row %d: class_ids %d, classes %q, want %d", r, ids[r], classes[r], want)
		}
	}
	if got := strings.Join(tensor.As[string](pred["all_classes"]), ","); got != "0,1,0,1,0,1" {
		t.Errorf("all_classes %s", got)
	}
	if logits[0] == logits[1] {
		t.Errorf("different examples give the same logits %v", logits)
	}
	reg := stateRun(t, m, "regression", map[string]*Tensor{"inputs": in})
	cls := stateRun(t, m, "classification", map[string]*Tensor{"inputs": in})
	if !tensor.Equal(reg["outputs"], pred["logistic"]) || !tensor.Equal(cls["scores"], pred["probabilities"]) {
		t.Errorf("regression %v / classification %v disagree with predict %v / %v", reg["outputs"], cls["scores"], pred["logistic"], pred["probabilities"])
	}
	// Freezing folds the four vocabulary tables in as constants.
	fr, err := m.Freeze(FreezeOptions{Signature: "predict"})
	if err != nil {
		t.Fatal(err)
	}
	imports := 0
	for _, n := range fr.Graph.Nodes {
		if n.Op == "LookupTableImportV2" {
			imports++
		}
	}
	if imports == 0 {
		t.Error("the frozen graph holds no table contents")
	}
	fm := stateFrozenModel(t, fr)
	out, err := fm.Run(context.Background(), map[string]*Tensor{fr.Inputs["examples"]: in}, fr.Outputs["probabilities"])
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.Equal(out[0], pred["probabilities"]) {
		t.Errorf("frozen probabilities %v, want %v", out[0], pred["probabilities"])
	}
}
