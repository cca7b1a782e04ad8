// Command gen writes the small models and inputs that tfd ships in
// testdata/ from seeded weights (see internal/testmodels). Run it from the
// repository root:
//
//	go run ./testdata/gen
//
// The files are reproducible byte for byte; TestCommittedModels checks
// that the committed copies match.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tfdgo/tfd/internal/testmodels"
)

func main() {
	dir := "testdata"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	files, err := testmodels.Files()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Printf("wrote %s (%d bytes)\n", p, len(f.Data))
	}
}
