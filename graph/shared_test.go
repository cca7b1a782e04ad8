package graph

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/internal/tfpb"
)

// decSharedDir returns the shared model collection, or skips the test
// when it is absent.
func decSharedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "tfmodels")
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.md")); err != nil {
		t.Skipf("shared models not present: %v", err)
	}
	return dir
}

// decFrozenDirs lists the directories of dl4j_tf_graphs holding a
// frozen_model.pb.
func decFrozenDirs(t testing.TB, root string) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(filepath.Join(root, "dl4j_tf_graphs"), func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && e.Name() == "frozen_model.pb" {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(dirs)
	return dirs
}

// TestSharedFrozenGraphs decodes every frozen_model.pb of the dl4j
// collection and its frozen_graph.pbtxt, and checks that both give the
// same graph and that Encode round-trips it.
func TestSharedFrozenGraphs(t *testing.T) {
	root := decSharedDir(t)
	dirs := decFrozenDirs(t, root)
	if len(dirs) < 1000 {
		t.Fatalf("found only %d frozen graphs", len(dirs))
	}
	var pairs int
	for _, dir := range dirs {
		pb := filepath.Join(dir, "frozen_model.pb")
		g, err := ReadFile(pb, Limits{})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if g.Format != FormatBinary || g.Source != pb {
			t.Errorf("%s: format %q source %q", pb, g.Format, g.Source)
		}
		decCheckRoundTrip(t, pb, g)
		txt := filepath.Join(dir, "frozen_graph.pbtxt")
		if _, err := os.Stat(txt); err != nil {
			continue
		}
		pairs++
		gt, err := ReadFile(txt, Limits{})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if gt.Format != FormatText {
			t.Errorf("%s: format %q", txt, gt.Format)
		}
		if d := decGraphDiff(g, gt); d != "" {
			t.Errorf("%s: binary and text differ: %s", dir, d)
		}
	}
	if pairs < 1385 {
		t.Errorf("compared %d pb/pbtxt pairs, expected 1385", pairs)
	}
}

// TestSharedGraphDefs decodes the standalone GraphDef files listed in the
// manifest.
func TestSharedGraphDefs(t *testing.T) {
	root := decSharedDir(t)
	for _, rel := range []string{
		"tf_lite_multi_add/multi_add.pb",
		"rust_addition/model.pb",
		"tf2onnx_regression/graphdef/frozen.pb",
		"dl4j_tf_graphs/nd4j_convert/simple_graph/frozen_model.pb",
		"dl4j_tf_graphs/nd4j_convert/simple_graph/frozen_graph.pbtxt",
	} {
		p := filepath.Join(root, rel)
		g, err := ReadFile(p, Limits{})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(g.Nodes) == 0 {
			t.Errorf("%s: no nodes", rel)
		}
		decCheckRoundTrip(t, rel, g)
	}
}

// decCheckRoundTrip checks Decode(Encode(g)) and Decode(EncodeText(g))
// equal g.
func decCheckRoundTrip(t *testing.T, name string, g *Graph) {
	t.Helper()
	b, err := Encode(g)
	if err != nil {
		t.Errorf("%s: encode: %v", name, err)
		return
	}
	g2, err := Decode(b, FormatBinary, Limits{})
	if err != nil {
		t.Errorf("%s: decode of encoded: %v", name, err)
		return
	}
	if d := decGraphDiff(g, g2); d != "" {
		t.Errorf("%s: binary round trip differs: %s", name, d)
	}
	txt, err := EncodeText(g)
	if err != nil {
		t.Errorf("%s: encode text: %v", name, err)
		return
	}
	g3, err := Decode(txt, FormatText, Limits{})
	if err != nil {
		t.Errorf("%s: decode of text: %v", name, err)
		return
	}
	if d := decGraphDiff(g, g3); d != "" {
		t.Errorf("%s: text round trip differs: %s", name, d)
	}
}

// TestSharedSavedModelGraphs decodes the graph_def of every SavedModel
// (binary and text) and TF1 .meta file of the collection, which exercises
// function libraries, and round-trips them. The malformed
// tf_fuzz_negative_shape model must fail as TensorFlow does.
func TestSharedSavedModelGraphs(t *testing.T) {
	root := decSharedDir(t)
	var files []string
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && e.Name() == "dl4j_tf_graphs" {
			return filepath.SkipDir
		}
		if n := e.Name(); n == "saved_model.pb" || n == "saved_model.pbtxt" || filepath.Ext(n) == ".meta" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("found only %d SavedModel/meta files", len(files))
	}
	var funcs int
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var mgs []*tfpb.MetaGraphDef
		switch filepath.Ext(p) {
		case ".meta":
			mg := &tfpb.MetaGraphDef{}
			err = protoUnmarshal(b, mg)
			mgs = append(mgs, mg)
		case ".pbtxt":
			sm := &tfpb.SavedModel{}
			err = textUnmarshal(b, sm)
			mgs = sm.GetMetaGraphs()
		default:
			sm := &tfpb.SavedModel{}
			err = protoUnmarshal(b, sm)
			mgs = sm.GetMetaGraphs()
		}
		if err != nil || len(mgs) == 0 {
			t.Errorf("%s: %d meta graphs, %v", p, len(mgs), err)
			continue
		}
		for _, mg := range mgs {
			g, err := DecodeGraphDef(mg.GetGraphDef(), Limits{})
			if strings.Contains(p, "tf_fuzz_negative_shape") {
				const want = `graph: node "b/initial_value" (Const): attr "value": tensor shape dimension 0 is -1 (expected a size >= 0)`
				if err == nil || err.Error() != want {
					t.Errorf("%s: got error %v, want %s", p, err, want)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", p, err)
				continue
			}
			funcs += len(g.Library)
			decCheckRoundTrip(t, p, g)
		}
	}
	if funcs < 100 {
		t.Errorf("decoded only %d library functions", funcs)
	}
}
