package tfd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/tensor"
)

// randomFeed makes a seeded tensor for a signature input, with unknown
// dimensions set to 2. ok is false for dtypes the test does not invent.
func randomFeed(ti TensorInfo, seed uint64) (*Tensor, bool) {
	var shape tensor.Shape
	if !ti.Shape.UnknownRank {
		for _, d := range ti.Shape.Dims {
			if d < 0 {
				d = 2
			}
			shape = append(shape, d)
		}
	}
	n := shape.Size()
	r := testmodels.NewRand(seed)
	switch ti.DType {
	case tensor.Float32:
		return FromSlice(shape, r.Fill(n, -2, 2)), true
	case tensor.Float64:
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(r.Float32(-2, 2))
		}
		return FromSlice(shape, v), true
	case tensor.Int32:
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(r.Uint64()%20) - 10
		}
		return FromSlice(shape, v), true
	case tensor.Int64:
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(r.Uint64()%20) - 10
		}
		return FromSlice(shape, v), true
	}
	return nil, false
}

// TestFreezeRoundTrip freezes every signature of the shared SavedModels
// that tfd can run, writes it as a GraphDef, loads that back and checks
// that it computes bit-identical outputs from the same inputs.
func TestFreezeRoundTrip(t *testing.T) {
	dir := sharedModels(t)
	var dirs []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (d.Name() == "saved_model.pb" || d.Name() == "saved_model.pbtxt") {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	if len(dirs) < 20 {
		t.Fatalf("found only %d SavedModels under %s", len(dirs), dir)
	}
	frozen := 0
	for _, d := range dirs {
		m, err := Load(d)
		if err != nil {
			t.Logf("%s: does not load: %v", d, firstLineOf(err))
			continue
		}
		for key, sig := range m.Signatures() {
			feeds := map[string]*Tensor{}
			ok := true
			for i, k := range sig.InputKeys() {
				f, good := randomFeed(sig.Inputs[k], uint64(i+1))
				if !good {
					ok = false
					break
				}
				feeds[k] = f
			}
			if !ok {
				continue
			}
			want, err := m.RunSignature(context.Background(), key, RunOptions{Workers: 1}, feeds)
			if err != nil {
				continue // signatures tfd cannot run yet are covered elsewhere
			}
			fr, err := m.Freeze(FreezeOptions{Signature: key})
			if err != nil && strings.Contains(err.Error(), "a frozen graph holds no state") {
				continue // a signature that changes a variable (TestStateCounter)
			}
			if err != nil {
				t.Errorf("%s %s: freeze: %v", d, key, err)
				continue
			}
			data, err := fr.Encode()
			if err != nil {
				t.Fatal(err)
			}
			g, err := graph.Decode(data, "pb", graph.Limits{})
			if err != nil {
				t.Fatalf("%s %s: frozen GraphDef does not decode: %v", d, key, err)
			}
			for _, n := range g.Nodes {
				if strings.HasPrefix(n.Op, "_") || n.Op == "StatefulPartitionedCall" || n.Op == "PartitionedCall" || n.Op == "VarHandleOp" || n.Op == "VariableV2" {
					t.Errorf("%s %s: frozen graph keeps node %q (%s)", d, key, n.Name, n.Op)
				}
				for a := range n.Attrs {
					if strings.HasPrefix(a, "_") {
						t.Errorf("%s %s: node %q keeps private attr %q", d, key, n.Name, a)
					}
				}
			}
			fm, err := FromGraph(g, WithName("frozen"))
			if err != nil {
				t.Fatalf("%s %s: %v", d, key, err)
			}
			byName := map[string]*Tensor{}
			for k, v := range feeds {
				byName[fr.Inputs[k]] = v
			}
			for k, w := range want {
				outs, err := fm.Run(context.Background(), byName, fr.Outputs[k])
				if err != nil {
					t.Errorf("%s %s: frozen run of %q: %v", d, key, k, err)
					continue
				}
				if !tensor.Equal(outs[0], w) {
					t.Errorf("%s %s: output %q differs after freezing: %v vs %v", d, key, k, outs[0], w)
				}
			}
			frozen++
		}
	}
	t.Logf("froze and re-ran %d signatures of %d SavedModels", frozen, len(dirs))
	if frozen < 15 {
		t.Errorf("only %d signatures froze and re-ran", frozen)
	}
}

func firstLineOf(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
