package conformance

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/tfdgo/tfd"
)

// TestHumanModelsInspect checks what `tfdrun inspect` reports for every
// TensorFlow.js graph model of the human-models package: tfd.Inspect (the
// function behind the command) must decode each one and list no op type
// without a kernel.
func TestHumanModelsInspect(t *testing.T) {
	dir := hmCacheDir
	idx, err := hmReadIndex(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && os.Getenv(hmEnv) == "" {
			t.Skipf("no TensorFlow.js references in conformance/%s: run `bash %s`", dir, hmGen)
		}
		t.Fatal(err)
	}
	var names []string
	for name, m := range idx.Models {
		if m.Status != "skipped" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		man, err := hmReadManifest(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		info, err := tfd.Inspect(filepath.Join(dir, filepath.FromSlash(idx.ModelDir), man.File))
		if err != nil {
			t.Errorf("%s: inspect: %v", name, err)
			continue
		}
		if len(info.Unsupported) > 0 {
			t.Errorf("%s: inspect reports unsupported ops %v", name, info.Unsupported)
		}
		if info.Nodes == 0 {
			t.Errorf("%s: inspect reports no nodes", name)
		}
	}
	if len(names) != 41 && *hmFilter == "" {
		t.Errorf("%d graph models, want the package's 41", len(names))
	}
}
