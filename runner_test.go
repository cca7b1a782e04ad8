package tfd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/tensor"
)

// TestRunnerMatchesModelRun runs the generated models through Runners of
// one to three workers, with and without batch slicing, and checks every
// output bit for bit against Model.Run with one worker, run after run.
func TestRunnerMatchesModelRun(t *testing.T) {
	cases := []struct {
		file string
		dims []int
		rows []int
	}{
		{file: "testdata/mlp.pb", dims: []int{testmodels.MLPIn}, rows: []int{1, 37, 100}},
		{file: "testdata/cnn.pb", dims: []int{testmodels.CNNSize, testmodels.CNNSize, 1}, rows: []int{1, 20}},
		{file: "testdata/towers.pbtxt", dims: []int{16}, rows: []int{3, 40}},
	}
	for _, c := range cases {
		m, err := Load(c.file)
		if err != nil {
			t.Fatal(err)
		}
		in := m.Inputs()[0].Name
		for _, rows := range c.rows {
			x := testmodels.Input(5, rows, c.dims...)
			want, err := m.RunWith(context.Background(), RunOptions{Workers: 1}, map[string]*Tensor{in: x}, "output")
			if err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{1, 2, 3} {
				for _, slice := range []int{0, -1, 9} {
					r, err := m.NewRunner([]string{in}, []string{"output"}, RunOptions{Workers: workers, SliceRows: slice})
					if err != nil {
						t.Fatal(err)
					}
					into := tensor.FromSlice(want[0].Shape(), make([]float32, want[0].Len()))
					for run := 0; run < 4; run++ {
						outs, err := r.Run(context.Background(), x)
						if err != nil {
							t.Fatal(err)
						}
						if !tensor.Equal(outs[0], want[0]) {
							t.Fatalf("%s rows=%d workers=%d slice=%d run %d: Run differs from Model.Run", c.file, rows, workers, slice, run)
						}
						clear(tensor.As[float32](into))
						if err := r.RunInto(context.Background(), []*Tensor{x}, []*Tensor{into}); err != nil {
							t.Fatal(err)
						}
						if !tensor.Equal(into, want[0]) {
							t.Fatalf("%s rows=%d workers=%d slice=%d run %d: RunInto differs from Model.Run", c.file, rows, workers, slice, run)
						}
					}
					if err := r.Close(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
}

func TestRunnerFeedsByPosition(t *testing.T) {
	m, err := Load("testdata/mlp.pb")
	if err != nil {
		t.Fatal(err)
	}
	x := testmodels.Input(1, 2, testmodels.MLPIn)
	want, err := m.Run(context.Background(), map[string]*Tensor{"input": x}, "add", "output")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.NewRunner([]string{"input"}, []string{"add", "output"}, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := fmt.Sprint(r.Feeds(), r.Fetches()); got != "[input] [add output]" {
		t.Errorf("feeds and fetches %s", got)
	}
	outs, err := r.Run(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !tensor.Equal(outs[i], want[i]) {
			t.Errorf("output %d differs", i)
		}
	}
	if _, err := r.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "0 feeds given, the runner takes 1") {
		t.Errorf("run without feeds: %v", err)
	}
	if _, err := m.NewRunner([]string{"input", "input"}, []string{"add"}, RunOptions{}); err == nil {
		t.Error("a tensor fed twice was accepted")
	}
}

// TestMaxRunBytes runs the README graph (MatMul, Add, Softmax: at least
// two [rows, 100] float32 tensors held at once, plus whatever scratch the
// kernels take) under budgets around the peak it measures.
func TestMaxRunBytes(t *testing.T) {
	const rows = 1000
	x := testmodels.Input(3, rows, testmodels.MLPIn)
	m, err := Load("testdata/mlp.pb", Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.NewRunner([]string{"input"}, []string{"output"}, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(context.Background(), x); err != nil {
		t.Fatal(err)
	}
	peak := r.PeakBytes()
	r.Close()
	if peak < 2*rows*100*4 {
		t.Fatalf("peak %d bytes: less than the output and one intermediate", peak)
	}
	for _, tc := range []struct {
		limit int64
		fails bool
	}{
		{limit: 0},
		{limit: -1},
		{limit: peak},
		{limit: peak - 1, fails: true},
		{limit: 1000, fails: true},
	} {
		m, err := Load("testdata/mlp.pb", Options{Limits: Limits{MaxRunBytes: tc.limit}, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		for run := 0; run < 3; run++ {
			_, err := m.Run(context.Background(), map[string]*Tensor{"input": x}, "output")
			switch {
			case !tc.fails && err != nil:
				t.Fatalf("limit %d: %v", tc.limit, err)
			case tc.fails && !errors.Is(err, ErrLimit):
				t.Fatalf("limit %d: err %v, want one wrapping ErrLimit", tc.limit, err)
			case tc.fails && (!strings.Contains(err.Error(), "node \"") || !strings.Contains(err.Error(), fmt.Sprintf("budget of %d bytes", tc.limit))):
				t.Errorf("limit %d: message %q should name the node and the budget", tc.limit, err)
			}
		}
		r, err := m.NewRunner([]string{"input"}, []string{"output"}, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for run := 0; run < 3; run++ {
			_, err := r.Run(context.Background(), x)
			if tc.fails != (err != nil) {
				t.Fatalf("limit %d, Runner run %d: %v", tc.limit, run, err)
			}
			if err == nil && r.PeakBytes() != peak {
				t.Errorf("limit %d: peak %d bytes, want %d", tc.limit, r.PeakBytes(), peak)
			}
		}
		r.Close()
	}
}
