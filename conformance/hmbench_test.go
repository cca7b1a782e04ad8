//go:build linux

package conformance

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"syscall"
	"testing"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/graph"
)

// hmBenchModels picks the human models BenchmarkHumanModels runs.
var hmBenchModels = flag.String("hm.bench", "^(blazeface|facemesh|handtrack|handlandmark-lite|mobilefacenet|movenet-lightning)$",
	"regexp of the human models BenchmarkHumanModels runs")

// BenchmarkHumanModels runs TensorFlow.js graph models of the human-models
// cache end to end (one run per iteration, plan compiled once, inputs the
// conformance references were made from): model=…/workers=…. It skips
// without the cache (conformance/tfjs/gen.sh makes it).
func BenchmarkHumanModels(b *testing.B) {
	dir := hmCacheDir
	idx, err := hmReadIndex(dir)
	if err != nil {
		b.Skipf("no human-models cache (run %s): %v", hmGen, err)
	}
	re, err := regexp.Compile(*hmBenchModels)
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for name, m := range idx.Models {
		if m.Status == "ok" && re.MatchString(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		man, err := hmReadManifest(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, filepath.FromSlash(idx.ModelDir), man.File)
		tm, err := graph.ReadTFJS(path, graph.Limits{
			MaxFileBytes: hmLimits.MaxFileBytes, MaxNodes: hmLimits.MaxNodes, MaxElements: hmLimits.MaxElements,
			MaxConstBytes: hmLimits.MaxConstBytes, MaxRank: hmLimits.MaxRank,
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, workers := range []int{1, 2} {
			m, err := tfd.FromGraph(tm.Graph, tfd.Options{Name: name, Workers: workers, Limits: hmLimits})
			if err != nil {
				b.Fatal(err)
			}
			feeds, err := hmFeeds(filepath.Join(dir, name), man, m.Inputs())
			if err != nil {
				b.Fatal(err)
			}
			fetches := make([]string, len(man.Outputs))
			for i, o := range man.Outputs {
				node, k, _, err := graph.ParseTensorName(o.Tensor)
				if err != nil {
					b.Fatal(err)
				}
				fetches[i] = graph.Input{Node: node, Index: k}.String()
			}
			b.Run(fmt.Sprintf("model=%s/workers=%d", name, workers), func(b *testing.B) {
				if _, err := m.Run(context.Background(), feeds, fetches...); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				cpu0 := hmCPUSeconds()
				for b.Loop() {
					if _, err := m.Run(context.Background(), feeds, fetches...); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric((hmCPUSeconds()-cpu0)*1e9/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// hmCPUSeconds returns the CPU time the process has used: the benchmark
// reports it per run besides wall time, since the other jobs of a shared
// machine disturb it less.
func hmCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
