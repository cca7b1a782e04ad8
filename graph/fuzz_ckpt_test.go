package graph

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tfdgo/tfd/graph/bundle"
)

// FuzzReadCheckpoint reads a TF1 checkpoint made of arbitrary .meta,
// .index and data shard bytes, under small limits. Seeds are the TF1 test
// graph with its bundle and, when present, a small checkpoint of the
// shared models. Properties: no panic; errors name the checkpoint; what
// loads respects the node limit, freezes and encodes.
func FuzzReadCheckpoint(f *testing.F) {
	mg := smtTF1MetaGraph()
	mg.SignatureDef = nil
	meta, err := proto.Marshal(mg)
	if err != nil {
		f.Fatal(err)
	}
	src := filepath.Join(f.TempDir(), "seed")
	if err := bundle.Write(src, smtTF1Values(), bundle.WriteOptions{}); err != nil {
		f.Fatal(err)
	}
	index, err1 := os.ReadFile(src + ".index")
	data, err2 := os.ReadFile(src + ".data-00000-of-00001")
	if err1 != nil || err2 != nil {
		f.Fatal(err1, err2)
	}
	f.Add(meta, index, data)
	f.Add(meta, index[:len(index)-10], data)
	f.Add(meta[:len(meta)/2], index, data)
	shared := filepath.Join("..", "..", "shared", "tfmodels", "dl4j_tf_graphs", "nd4j_convert", "simple_graph", "data-all-1000")
	m, err1 := os.ReadFile(shared + ".meta")
	i, err2 := os.ReadFile(shared + ".index")
	d, err3 := os.ReadFile(shared + ".data-00000-of-00001")
	if err1 == nil && err2 == nil && err3 == nil {
		f.Add(m, i, d)
	}
	prefix := filepath.Join(f.TempDir(), "model.ckpt-1")
	f.Fuzz(func(t *testing.T, meta, index, data []byte) {
		for suffix, b := range map[string][]byte{".meta": meta, ".index": index, ".data-00000-of-00001": data} {
			if err := os.WriteFile(prefix+suffix, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		sm, err := ReadCheckpoint(prefix, smFuzzLimits)
		if err != nil {
			if !strings.Contains(err.Error(), prefix) {
				t.Fatalf("error %q does not name the checkpoint", err)
			}
			return
		}
		if len(sm.Graph.Nodes) > smFuzzLimits.MaxNodes {
			t.Fatalf("graph has %d nodes, limit %d", len(sm.Graph.Nodes), smFuzzLimits.MaxNodes)
		}
		decCheckLimits(t, sm.Graph, smFuzzLimits)
		g, err := Freeze(sm, nil)
		if err != nil {
			return
		}
		if _, err := Encode(g); err != nil {
			t.Fatalf("encode: %v", err)
		}
	})
}
