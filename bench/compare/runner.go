package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/tfdgo/tfd"
)

// runFlags are the flags every runner takes (tfd here, runner.py,
// runner.mjs): the same names and the same timing protocol.
type runFlags struct {
	spec     string
	threads  int
	warmup   int
	reps     int
	budgetMS float64
	out      string
}

// result is what a runner prints as the last line of its standard output.
type result struct {
	Peer     string            `json:"peer"`
	Workload string            `json:"workload"`
	Threads  int               `json:"threads"`
	TimesMS  []float64         `json:"times_ms"`
	Info     map[string]string `json:"info,omitempty"`
}

// timeRuns is the timing protocol: warm up with at least one and at most
// f.warmup runs (stopping once f.budgetMS has passed), then time runs until
// f.reps runs or f.budgetMS of timed runs, at least one.
func timeRuns(f runFlags, run func() error) ([]float64, error) {
	start := time.Now()
	for i := 0; i < max(f.warmup, 1); i++ {
		if err := run(); err != nil {
			return nil, err
		}
		if ms(time.Since(start)) >= f.budgetMS {
			break
		}
	}
	var times []float64
	var total float64
	for len(times) < max(f.reps, 1) && (len(times) == 0 || total < f.budgetMS) {
		t0 := time.Now()
		if err := run(); err != nil {
			return nil, err
		}
		d := ms(time.Since(t0))
		times = append(times, d)
		total += d
	}
	return times, nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// runnerLimits bounds what a model may make tfd allocate; the largest
// human-models model needs far less.
var runnerLimits = tfd.Limits{
	MaxFileBytes:  128 << 20,
	MaxNodes:      50_000,
	MaxElements:   1 << 26,
	MaxConstBytes: 256 << 20,
	MaxRank:       8,
}

// runTFD is the tfd runner: it loads the workload's model, feeds its
// inputs, times Model.RunWith with f.threads workers and writes the
// outputs of the last run as out_<k>.npy under f.out.
func runTFD(f runFlags) (*result, error) {
	var s spec
	if err := readJSON(f.spec, &s); err != nil {
		return nil, err
	}
	m, err := tfd.Load(s.Model, tfd.Options{Workers: f.threads, Limits: runnerLimits})
	if err != nil {
		return nil, err
	}
	byName := map[string]tfd.TensorInfo{}
	for _, in := range m.Inputs() {
		byName[in.Name] = in
	}
	feeds := map[string]*tfd.Tensor{}
	for _, in := range s.Inputs {
		info, ok := byName[in.Tensor]
		if !ok {
			return nil, fmt.Errorf("compare: %s: input %q is no placeholder of the model", s.Name, in.Tensor)
		}
		v, err := tfd.ReadNPY(in.File)
		if err != nil {
			return nil, err
		}
		if v, err = tfd.ConvertFeed(v, info.DType); err != nil {
			return nil, fmt.Errorf("compare: %s: input %q: %w", s.Name, in.Tensor, err)
		}
		feeds[in.Tensor] = v
	}
	fetches := make([]string, len(s.Outputs))
	for i, o := range s.Outputs {
		fetches[i] = o.Tensor
	}
	opt := tfd.RunOptions{Workers: f.threads}
	ctx := context.Background()
	var outs []*tfd.Tensor
	runtime.GC()
	times, err := timeRuns(f, func() error {
		var err error
		outs, err = m.RunWith(ctx, opt, feeds, fetches...)
		return err
	})
	if err != nil {
		return nil, err
	}
	if f.out != "" {
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return nil, err
		}
		for k, t := range outs {
			if err := tfd.WriteNPY(filepath.Join(f.out, fmt.Sprintf("out_%d.npy", k)), t); err != nil {
				return nil, err
			}
		}
	}
	info := map[string]string{"go": runtime.Version(), "gomaxprocs": fmt.Sprint(runtime.GOMAXPROCS(0))}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "vcs.revision" || st.Key == "-tags" {
				info[st.Key] = st.Value
			}
		}
	}
	return &result{Peer: peerTFD, Workload: s.Name, Threads: f.threads, TimesMS: times, Info: info}, nil
}

// printResult writes r as one JSON line.
func printResult(r *result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Println(string(b))
	return err
}
