package tfd

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/tfdgo/tfd"

// allowedImports is the dependency map of the module: which of tfd's own
// packages each package may import (non-test files). Imports point one
// way: cmd → tfd → sched → ops/graph/pool/tracing → tensor.
var allowedImports = map[string][]string{
	"tensor":              {},
	"pool":                {"tensor"},
	"ops":                 {"tensor", "pool", "internal/example"},
	"graph":               {"tensor", "internal/tfpb", "graph/bundle"},
	"graph/bundle":        {"tensor", "internal/tfpb"},
	"tracing":             {},
	"sched":               {"tensor", "graph", "ops", "pool", "tracing"},
	".":                   {"tensor", "graph", "ops", "pool", "sched", "tracing", "internal/npy"},
	"cmd/tfdrun":          {".", "serve", "score"},
	"bench":               {".", "internal/testmodels", "internal/npy", "score", "tensor"},
	"bench/bignpy":        {".", "internal/npy", "internal/testmodels", "tensor"},
	"bench/compare":       {".", "graph", "tensor", "internal/testmodels"},
	"internal/npy":        {"tensor"},
	"internal/tfrecord":   {},
	"score":               {".", "tensor", "internal/npy", "internal/tfrecord", "internal/example"},
	"beam":                {".", "score", "internal/tfrecord"},
	"beam/cmd/tfdbeam":    {"beam", "score"},
	"internal/example":    {},
	"serve":               {".", "tensor", "internal/example"},
	"bench/serve":         {".", "serve", "graph", "internal/testmodels"},
	"internal/tfpb":       {},
	"internal/testmodels": {"tensor", "graph", "graph/bundle", "internal/npy", "internal/tfpb"},
	"testdata/gen":        {"internal/testmodels"},
	"conformance":         {".", "tensor", "graph"},
}

// testOnlyImports are extra packages that tests may import.
var testOnlyImports = []string{"internal/testmodels", "tensor"}

func TestImportBoundaries(t *testing.T) {
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || name == "node_modules" || (name == "testdata" && path != "testdata")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if strings.HasPrefix(dir, "testdata/") && dir != "testdata/gen" {
			return nil
		}
		allowed, ok := allowedImports[dir]
		if !ok {
			t.Errorf("package %s is not in the dependency map of imports_test.go", dir)
			return nil
		}
		seen[dir] = true
		isTest := strings.HasSuffix(path, "_test.go")
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if p != module && !strings.HasPrefix(p, module+"/") {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
			if rel == "" {
				rel = "."
			}
			if rel == dir {
				continue // external test package of the same package
			}
			okImp := contains(allowed, rel) || (isTest && contains(testOnlyImports, rel))
			if isTest && dir == "." && rel == "." {
				okImp = true
			}
			if !okImp {
				t.Errorf("%s imports %s; allowed: %v", path, p, allowed)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for dir := range allowedImports {
		if !seen[dir] {
			missing = append(missing, dir)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Logf("packages in the map without Go files: %v", missing)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
