package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/tensor"
)

func testdata(name string) string { return filepath.Join("..", "..", "testdata", name) }

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = realMain(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestRunWritesOutputs(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := run(t, "run", "-m", testdata("mlp.pb"), "-i", "input="+testdata("mlp_input.npy"), "--workers", "2", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "scored 256 rows") || !strings.Contains(out, filepath.Join(dir, "output.npy")) {
		t.Errorf("summary %q", out)
	}
	got, err := tfd.ReadNPY(filepath.Join(dir, "output.npy"))
	if err != nil {
		t.Fatal(err)
	}
	// The same outputs come out with one worker, bit for bit.
	dir1 := t.TempDir()
	if code, _, e := run(t, "run", "-m", testdata("mlp.pb"), "-i", "input="+testdata("mlp_input.npy"), "--workers", "1", "-o", dir1); code != 0 {
		t.Fatal(e)
	}
	got1, err := tfd.ReadNPY(filepath.Join(dir1, "output.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.Equal(got, got1) {
		t.Error("--workers 1 and 2 wrote different outputs")
	}
	if !got.Shape().Equal(tensor.Shape{256, 100}) {
		t.Errorf("shape %v", got.Shape())
	}
}

func TestRunFetchNames(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := run(t, "run", "-m", testdata("mlp.pb"), "-i", "input:0="+testdata("mlp_input.npy"), "--fetch", "add:0,MatMul", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, f := range []string{"add_0.npy", "MatMul.npy"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestErrorsAndExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pb")
	os.WriteFile(bad, []byte("\x0a\x05\x0a\x03abc\xff\xff"), 0o644)
	wrongShape := filepath.Join(dir, "x.npy")
	if err := tfd.WriteNPY(wrongShape, tfd.FromSlice([]int{2, 3}, make([]float32, 6))); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"frob"}, 2, `unknown command "frob"`},
		{"unknown flag", []string{"run", "--nope"}, 2, "flag provided but not defined"},
		{"no model", []string{"run"}, 2, "expected a model"},
		{"two models without ensemble", []string{"run", "-m", testdata("mlp.pb"), "-m", testdata("mlp.pb")}, 2, "--ensemble"},
		{"bad impl flag", []string{"run", "-m", testdata("mlp.pb"), "--impl", "MatMul"}, 2, "OP=IMPL"},
		{"unknown impl", []string{"run", "-m", testdata("mlp.pb"), "-i", "input=" + testdata("mlp_input.npy"), "--impl", "MatMul=nope", "-o", dir}, 1, `op MatMul has no implementation "nope" (has: generic, gonum)`},
		{"bad ensemble", []string{"run", "-m", testdata("mlp.pb"), "-m", testdata("towers.pbtxt"), "--ensemble", "mean"}, 1, "different inputs"},
		{"bad -i", []string{"run", "-m", testdata("mlp.pb"), "-i", "input"}, 2, "NAME=FILE.npy"},
		{"missing input", []string{"run", "-m", testdata("mlp.pb")}, 2, "needs inputs: input"},
		{"missing model", []string{"run", "-m", filepath.Join(dir, "none.pb")}, 1, "none.pb"},
		{"corrupt model", []string{"run", "-m", bad}, 1, "bad.pb"},
		{"missing npy", []string{"run", "-m", testdata("mlp.pb"), "-i", "input=" + filepath.Join(dir, "none.npy")}, 1, "none.npy"},
		{"wrong shape", []string{"run", "-m", testdata("mlp.pb"), "-i", "input=" + wrongShape, "-o", dir}, 1, `feed "input": shape [2 3]`},
		{"bad fetch", []string{"run", "-m", testdata("mlp.pb"), "-i", "input=" + testdata("mlp_input.npy"), "--fetch", "nope", "-o", dir}, 1, `fetch "nope"`},
		{"inspect no model", []string{"inspect"}, 2, "inspect expects one MODEL"},
		{"bad workers", []string{"run", "-m", testdata("mlp.pb"), "--workers", "0"}, 2, "--workers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := run(t, c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, c.code, c.want)
			}
			if c.code == 1 && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("error is not one line: %q", errOut)
			}
			if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
				t.Errorf("stderr shows a panic: %s", errOut)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	code, out, errOut := run(t, "inspect", testdata("cnn.pb"), "--json")
	if code != 0 {
		t.Fatal(errOut)
	}
	var info struct {
		Format string
		Inputs []struct {
			Name, DType string
			Shape       []int
		}
		Outputs []struct {
			Name, DType string
			Shape       []int
		}
		Consts   int
		OpCounts map[string]int `json:"op_counts"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	if info.Format != "graphdef" || len(info.Inputs) != 1 || info.Inputs[0].Name != "input" || info.Inputs[0].DType != "float32" {
		t.Errorf("info %+v", info)
	}
	if len(info.Outputs) != 1 || info.Outputs[0].Name != "output" || len(info.Outputs[0].Shape) != 2 || info.Outputs[0].Shape[1] != 10 {
		t.Errorf("outputs %+v", info.Outputs)
	}
	if info.OpCounts["Conv2D"] != 2 || info.Consts != 11 {
		t.Errorf("op counts %v consts %d", info.OpCounts, info.Consts)
	}
	code, out, _ = run(t, "inspect", testdata("towers.pbtxt"))
	if code != 0 || !strings.Contains(out, "MatMul") || !strings.Contains(out, "[? 16]") {
		t.Errorf("text inspect: %s", out)
	}
}

func TestProfileWritesReadableFiles(t *testing.T) {
	dir := t.TempDir()
	pp, tr := filepath.Join(dir, "p.pprof"), filepath.Join(dir, "t.json")
	code, out, errOut := run(t, "profile", "-m", testdata("cnn.pb"), "-i", "input="+testdata("cnn_input.npy"), "--runs", "3", "--pprof", pp, "--trace", tr)
	if code != 0 {
		t.Fatal(errOut)
	}
	for _, w := range []string{"Conv2D", "conv1/Conv2D", "share", "wrote " + pp} {
		if !strings.Contains(out, w) {
			t.Errorf("profile output lacks %q:\n%s", w, out)
		}
	}
	var trace struct{ TraceEvents []map[string]any }
	data, err := os.ReadFile(tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &trace); err != nil || len(trace.TraceEvents) == 0 {
		t.Errorf("trace: %v, %d events", err, len(trace.TraceEvents))
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH: cannot run go tool pprof")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	top, err := exec.CommandContext(ctx, goBin, "tool", "pprof", "-top", pp).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof: %v\n%s", err, top)
	}
	if !strings.Contains(string(top), "Conv2D") || !strings.Contains(string(top), "conv1/Conv2D") {
		t.Errorf("pprof -top does not show Conv2D nodes:\n%s", top)
	}
}

func TestInspectPlanStage(t *testing.T) {
	code, out, errOut := run(t, "inspect", testdata("towers.pbtxt"), "--stage", "plan", "--no-fusion")
	if code != 0 {
		t.Fatal(errOut)
	}
	// 9 nodes run (2×MatMul, 2×AddV2, Tanh, Sigmoid, ConcatV2, Mul, Sub); the
	// 7 constants are folded, and the two towers make the plan 2 wide.
	for _, w := range []string{"plan: 9 nodes (7 folded into constants), width 2, batch-sliceable true", "tower_a/MatMul", "generic", "x, tower_a/w"} {
		if !strings.Contains(out, w) {
			t.Errorf("plan dump lacks %q:\n%s", w, out)
		}
	}
	// Fused: each tower's MatMul, AddV2 and activation become one
	// _FusedMatMul, and Mul then Sub one element-wise pass.
	code, out, errOut = run(t, "inspect", testdata("towers.pbtxt"), "--stage", "plan")
	if code != 0 {
		t.Fatal(errOut)
	}
	for _, w := range []string{"plan: 4 nodes (7 folded into constants), width 2, batch-sliceable true", "_FusedMatMul", "x, tower_a/w, tower_a/b",
		"tower_a/MatMul → tower_a/add → tower_a/act", "_TfdFusedElementwise", "scale → output"} {
		if !strings.Contains(out, w) {
			t.Errorf("fused plan dump lacks %q:\n%s", w, out)
		}
	}
	if code, _, errOut := run(t, "inspect", testdata("towers.pbtxt"), "--stage", "nope"); code != 2 || !strings.Contains(errOut, "--stage") {
		t.Errorf("bad stage: exit %d %q", code, errOut)
	}
}

func TestEnsembleAndImplFlags(t *testing.T) {
	single, ens := t.TempDir(), t.TempDir()
	if code, _, e := run(t, "run", "-m", testdata("mlp.pb"), "-i", "input="+testdata("mlp_input.npy"), "-o", single); code != 0 {
		t.Fatal(e)
	}
	code, out, e := run(t, "run", "-m", testdata("mlp.pb"), "-m", testdata("mlp.pb"), "--ensemble", "mean",
		"--impl", "MatMul=gonum", "-i", "input="+testdata("mlp_input.npy"), "-o", ens)
	if code != 0 {
		t.Fatal(e)
	}
	if !strings.Contains(out, "scored 256 rows") {
		t.Errorf("summary %q", out)
	}
	a, _ := tfd.ReadNPY(filepath.Join(single, "output.npy"))
	b, err := tfd.ReadNPY(filepath.Join(ens, "output.npy"))
	if err != nil {
		t.Fatal(err)
	}
	// The mean of one model with itself is that model (within the gonum
	// kernel's different summation order).
	av, bv := a.Float64s(), b.Float64s()
	for i := range av {
		if d := av[i] - bv[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("ensemble of identical models differs at %d: %v vs %v", i, av[i], bv[i])
		}
	}
	code, out, _ = run(t, "inspect", testdata("mlp.pb"), "--impls", "--prefer", "gonum")
	if code != 0 || !strings.Contains(out, "MatMul") || !strings.Contains(out, "gonum") {
		t.Errorf("inspect --impls: %s", out)
	}
}

func TestFreeze(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "mlp_frozen.pbtxt")
	code, stdout, errOut := run(t, "freeze", "-m", testdata("mlp.pb"), "--outputs", "add", "-o", out)
	if code != 0 {
		t.Fatal(errOut)
	}
	if !strings.Contains(stdout, "wrote "+out) {
		t.Errorf("stdout %q", stdout)
	}
	// The frozen graph is pruned to "add": the Softmax is gone.
	code, stdout, _ = run(t, "inspect", out)
	if code != 0 || strings.Contains(stdout, "Softmax") || !strings.Contains(stdout, "MatMul") {
		t.Errorf("inspect of the frozen graph:\n%s", stdout)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"freeze", "-m", testdata("mlp.pb")}, 2, "-o FILE"},
		{[]string{"freeze", "-m", testdata("mlp.pb"), "-s", "x", "--outputs", "y", "-o", out}, 2, "not both"},
		{[]string{"freeze", "-m", testdata("mlp.pb"), "-s", "nope", "-o", out}, 1, `no signature "nope"`},
		{[]string{"freeze", "-m", testdata("mlp.pb"), "--outputs", "nope", "-o", out}, 1, "nope"},
	} {
		code, _, errOut := run(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d %q", c.args, code, errOut)
		}
	}
}
