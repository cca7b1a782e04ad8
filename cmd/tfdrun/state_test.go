package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/tensor"
)

// Models with state through the CLI: the generated fixtures
// testdata/saved_table and testdata/saved_counter (hand-computed
// expectations, see internal/testmodels/state.go), and the shared models
// whose MANIFEST rows quote values.

// stateSharedDir returns ../shared/tfmodels seen from this package, or
// skips.
func stateSharedDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "tfmodels")
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.md")); err != nil {
		t.Skipf("shared models not present (%v)", err)
	}
	return dir
}

// stateRun runs tfdrun and fails on a non-zero exit.
func stateRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("tfdrun %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// stateScalar runs a signature without inputs (or with -i args) and
// returns its one output, read back from OUT/KEY.npy.
func stateScalar(t *testing.T, model, sig, key string, extra ...string) *tfd.Tensor {
	t.Helper()
	dir := t.TempDir()
	stateRun(t, append([]string{"run", "-m", model, "-signature", sig, "-o", dir, "-quiet"}, extra...)...)
	v, err := tfd.ReadNPY(filepath.Join(dir, key+".npy"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// stateJSONL runs a signature over a JSON Lines file and returns the
// output lines.
func stateJSONL(t *testing.T, model, lines string) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	stateRun(t, "run", "-m", model, "-i", in, "-format", "jsonl", "-o", dir, "-quiet")
	out, err := os.ReadFile(filepath.Join(dir, "predictions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func stateWantScalar(t *testing.T, what string, got *tfd.Tensor, want float64) {
	t.Helper()
	if got.Rank() != 0 || got.Float64s()[0] != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestRunStateFixtures(t *testing.T) {
	table, counter := testdata("saved_table"), testdata("saved_counter")
	// vocab.txt: the quick brown fox jumps, ids 0..4; others -1.
	if got := stateJSONL(t, table, "{\"words\":\"fox\"}\n{\"words\":\"cat\"}\n{\"words\":\"the\"}\n"); got != "{\"ids\":3}\n{\"ids\":-1}\n{\"ids\":0}\n" {
		t.Errorf("saved_table:\n%s", got)
	}
	// Each tfdrun run loads the model afresh: counter = 10 in the
	// checkpoint, total = 100.
	stateWantScalar(t, "get_counter", stateScalar(t, counter, "get_counter", "output"), 10)
	stateWantScalar(t, "incr_counter", stateScalar(t, counter, "incr_counter", "output"), 11)
	delta := filepath.Join(t.TempDir(), "delta.npy")
	if err := tfd.WriteNPY(delta, tensor.Scalar(float32(3))); err != nil {
		t.Fatal(err)
	}
	stateWantScalar(t, "incr_counter_by", stateScalar(t, counter, "incr_counter_by", "output", "-i", "delta="+delta), 13)
	stateWantScalar(t, "get_total", stateScalar(t, counter, "get_total", "output"), 100)

	out := stateRun(t, "inspect", table)
	for _, w := range []string{"serving_default", "words", "ids", "size", "HashTableV2", "LookupTableFindV2"} {
		if !strings.Contains(out, w) {
			t.Errorf("inspect does not mention %q:\n%s", w, out)
		}
	}
	if out := stateRun(t, "inspect", counter); !strings.Contains(out, "2 kept as variables") || !strings.Contains(out, "incr_counter_by") {
		t.Errorf("inspect:\n%s", out)
	}

	// Freezing folds the table's contents in; the frozen graph runs alone.
	frozen := filepath.Join(t.TempDir(), "table.pb")
	stateRun(t, "freeze", "-m", table, "-o", frozen)
	if got := stateJSONL(t, frozen, "{\"words\":\"jumps\"}\n{\"words\":\"dog\"}\n"); got != "{\"ids\":4}\n{\"ids\":-1}\n" {
		t.Errorf("frozen saved_table:\n%s", got)
	}
	// A frozen get_counter holds the value the fresh load has.
	frozen = filepath.Join(t.TempDir(), "counter.pb")
	stateRun(t, "freeze", "-m", counter, "-s", "get_counter", "-o", frozen)
	stateWantScalar(t, "frozen get_counter", stateScalar(t, frozen, "serving_default", "output"), 10)
	code, _, errOut := run(t, "freeze", "-m", counter, "-s", "incr_counter", "-o", frozen)
	if code != 1 || !strings.Contains(errOut, "a frozen graph holds no state") {
		t.Errorf("freeze incr_counter: exit %d: %s", code, errOut)
	}
}

func TestRunSharedStateModels(t *testing.T) {
	dir := stateSharedDir(t)
	// MANIFEST row 18: foo -> 0, baz -> 2, NON-EXISTENT-KEY -> -1.
	hashtable := filepath.Join(dir, "tf_static_hashtable")
	const words = "{\"word\":\"foo\"}\n{\"word\":\"baz\"}\n{\"word\":\"NON-EXISTENT-KEY\"}\n"
	const ids = "{\"output_0\":0}\n{\"output_0\":2}\n{\"output_0\":-1}\n"
	if got := stateJSONL(t, hashtable, words); got != ids {
		t.Errorf("tf_static_hashtable:\n%s", got)
	}
	frozen := filepath.Join(t.TempDir(), "hashtable.pb")
	stateRun(t, "freeze", "-m", hashtable, "-o", frozen)
	if got := stateJSONL(t, frozen, words); got != ids {
		t.Errorf("frozen tf_static_hashtable:\n%s", got)
	}
	// MANIFEST row 5, as far as one fresh load per run goes:
	// get_counter -> 0, incr_counter -> 1, incr_counter_by(3) -> 3.
	counter := filepath.Join(dir, "serving_counter")
	stateWantScalar(t, "get_counter", stateScalar(t, counter, "get_counter", "output"), 0)
	stateWantScalar(t, "incr_counter", stateScalar(t, counter, "incr_counter", "output"), 1)
	stateWantScalar(t, "reset_counter", stateScalar(t, counter, "reset_counter", "output"), 0)
	delta := filepath.Join(t.TempDir(), "delta.npy")
	if err := tfd.WriteNPY(delta, tensor.Scalar(float32(3))); err != nil {
		t.Fatal(err)
	}
	stateWantScalar(t, "incr_counter_by", stateScalar(t, counter, "incr_counter_by", "output", "-i", "delta="+delta), 3)
	// MANIFEST row 19: the asset's contents.
	asset := stateScalar(t, filepath.Join(dir, "tf_asset_module"), "serving_default", "output_0")
	if asset.DType() != tensor.String || tensor.As[string](asset)[0] != "TEST ASSET FILE CONTENTS\n" {
		t.Errorf("tf_asset_module: %v", asset)
	}
	// inspect prints the signatures of each.
	for model, sigs := range map[string][]string{
		"tf_static_hashtable":        {"serving_default", "word", "output_0"},
		"serving_counter":            {"get_counter", "incr_counter", "incr_counter_by", "reset_counter", "delta"},
		"tf_asset_module":            {"serving_default", "output_0"},
		"tfx_estimator_chicago_taxi": {"classification", "predict", "regression", "serving_default", "input_example_tensor:0"},
	} {
		out := stateRun(t, "inspect", filepath.Join(dir, model))
		for _, s := range sigs {
			if !strings.Contains(out, s) {
				t.Errorf("inspect %s does not mention %q", model, s)
			}
		}
	}
}

// stateExample encodes a tf.train.Example with one bytes feature
// (example.proto: Example.features=1, Features.feature=1 (map entry: key=1,
// value=2), Feature.bytes_list=1, BytesList.value=1).
func stateExample(key, value string) []byte {
	field := func(num int, data []byte) []byte {
		if len(data) > 127 {
			panic("stateExample: field too long for a one-byte length")
		}
		return append([]byte{byte(num<<3 | 2), byte(len(data))}, data...)
	}
	entry := append(field(1, []byte(key)), field(2, field(1, field(1, []byte(value))))...)
	return field(1, field(1, entry))
}

// TestRunSharedTFXEstimator scores serialized tf.Examples (JSON Lines,
// {"b64": ...}) with the TFX taxi model, whose transform layer needs the
// vocabulary tables its main op fills. MANIFEST quotes no values: each
// row's two probabilities must sum to 1.
func TestRunSharedTFXEstimator(t *testing.T) {
	model := filepath.Join(stateSharedDir(t), "tfx_estimator_chicago_taxi")
	var lines strings.Builder
	for _, ex := range [][]byte{stateExample("payment_type", "Cash"), stateExample("company", "Flash Cab"), {}} {
		fmt.Fprintf(&lines, "{\"inputs\":{\"b64\":%q}}\n", base64.StdEncoding.EncodeToString(ex))
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	stateRun(t, "run", "-m", model, "-signature", "classification", "-i", in, "-format", "jsonl", "-o", dir, "-quiet")
	out, err := os.ReadFile(filepath.Join(dir, "predictions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(rows) != 3 {
		t.Fatalf("%d output rows:\n%s", len(rows), out)
	}
	for _, r := range rows {
		var v struct {
			Classes []string  `json:"classes"`
			Scores  []float64 `json:"scores"`
		}
		if err := json.Unmarshal([]byte(r), &v); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		if len(v.Scores) != 2 || math.Abs(v.Scores[0]+v.Scores[1]-1) > 1e-6 || strings.Join(v.Classes, ",") != "0,1" {
			t.Errorf("row %s", r)
		}
	}
}
