// Command compare runs tfd side by side with NumPy, a tfdeploy-style
// NumPy evaluator, ONNX Runtime and TensorFlow.js (wasm and cpu backends)
// on the same inputs and prints a Markdown table of medians and of tfd's
// time over each peer's. bench/compare/run.sh installs the peers and calls
// it; see bench/compare/README.md.
//
//	compare prepare -work DIR [-repo .] [-humanmodels DIR] [-models a,b]
//	compare tfd --spec FILE --threads N [--warmup W --reps R --budget-ms B --out DIR]
//	compare drive -work DIR -scripts DIR -node DIR -python PY -peak BIN [-rounds 3 ...]
//
// prepare writes the workloads (the README graph's weights and inputs,
// the Conv2D model as a frozen GraphDef, the human-models inputs chosen);
// tfd is the tfd runner; drive alternates the runners of every peer over
// the workloads and prints the table.
//
// Imports: the tfd facade, graph (to build and encode the Conv2D model),
// tensor and internal/testmodels (seeded weights and inputs).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compare prepare|tfd|drive [flags] (see the package doc)")
		os.Exit(2)
	}
	var err error
	status := 0
	switch os.Args[1] {
	case "prepare":
		err = mainPrepare(os.Args[2:])
	case "tfd":
		err = mainTFD(os.Args[2:])
	case "drive":
		status, err = mainDrive(os.Args[2:], os.Stdout, os.Stderr)
	default:
		err = fmt.Errorf("compare: unknown command %q (commands: prepare, tfd, drive)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(status)
}

func mainPrepare(args []string) error {
	fs := flag.NewFlagSet("prepare", flag.ContinueOnError)
	var o prepareOptions
	fs.StringVar(&o.repo, "repo", ".", "repository root")
	fs.StringVar(&o.work, "work", "", "output directory")
	fs.StringVar(&o.hmDir, "humanmodels", "conformance/cache/humanmodels", "conformance/tfjs/gen.sh's output")
	models := fs.String("models", "", "comma-separated human-models to include")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.work == "" {
		return fmt.Errorf("compare prepare: -work is required")
	}
	o.models = splitList(*models)
	return prepare(o)
}

func mainTFD(args []string) error {
	fs := flag.NewFlagSet("tfd", flag.ContinueOnError)
	f := addRunFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.spec == "" {
		return fmt.Errorf("compare tfd: --spec is required")
	}
	r, err := runTFD(*f)
	if err != nil {
		return err
	}
	return printResult(r)
}

func addRunFlags(fs *flag.FlagSet) *runFlags {
	f := &runFlags{}
	fs.StringVar(&f.spec, "spec", "", "workload spec.json")
	fs.IntVar(&f.threads, "threads", 1, "threads (tfd: workers)")
	fs.IntVar(&f.warmup, "warmup", 2, "warm-up runs (at most; warming stops after -budget-ms)")
	fs.IntVar(&f.reps, "reps", 50, "timed runs (at most)")
	fs.Float64Var(&f.budgetMS, "budget-ms", 300, "stop timing once the timed runs took this long (at least one run)")
	fs.StringVar(&f.out, "out", "", "write the outputs of the last run here as out_<k>.npy")
	return f
}

func mainDrive(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("drive", flag.ContinueOnError)
	var o driveOptions
	fs.StringVar(&o.work, "work", "", "prepare's output directory")
	fs.StringVar(&o.scripts, "scripts", "bench/compare", "directory of runner.py and runner.mjs")
	fs.StringVar(&o.nodeDir, "node", "", "npm prefix holding node_modules with the Node peers")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "python with NumPy")
	fs.StringVar(&o.peak, "peak", "", "FMA peak binary")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds over all workloads and peers")
	fs.IntVar(&o.cpuRounds, "cpu-rounds", 1, "rounds TF.js cpu (the slowest peer by far) runs in, the first ones")
	threads := fs.String("threads", "1,2", "thread counts")
	skip := fs.String("skip", "", "comma-separated peers not to run: "+strings.Join(allPeers[1:], ", "))
	fs.IntVar(&o.warmup, "warmup", 2, "warm-up runs per runner process (at most)")
	fs.IntVar(&o.reps, "reps", 50, "timed runs per runner process (at most)")
	fs.Float64Var(&o.budgetMS, "budget-ms", 300, "timed milliseconds per runner process (at least one run)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "limit per runner process")
	fs.StringVar(&o.report, "report", "", "also write the Markdown report to this file")
	if err := fs.Parse(args); err != nil {
		return 1, err
	}
	if o.work == "" || o.peak == "" {
		return 1, fmt.Errorf("compare drive: -work and -peak are required")
	}
	o.skip = map[string]bool{}
	for _, p := range splitList(*skip) {
		if p == peerTFD || !contains(allPeers, p) {
			return 1, fmt.Errorf("compare drive: -skip %q: peers are %s", p, strings.Join(allPeers[1:], ", "))
		}
		o.skip[p] = true
	}
	for _, t := range splitList(*threads) {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 {
			return 1, fmt.Errorf("compare drive: -threads %q: expected positive integers", *threads)
		}
		o.threads = append(o.threads, n)
	}
	if len(o.threads) == 0 || o.rounds < 1 {
		return 1, fmt.Errorf("compare drive: need at least one thread count and one round")
	}
	o.log = stderr
	return drive(o, stdout)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
