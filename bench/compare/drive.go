package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tfdgo/tfd"
)

// driveOptions configure the driver.
type driveOptions struct {
	work    string // prepare's output (index.json, */spec.json)
	scripts string // bench/compare (runner.py, runner.mjs)
	nodeDir string // npm prefix holding node_modules
	python  string // the python with NumPy
	peak    string // the FMA peak binary
	rounds  int
	// cpuRounds is the number of rounds TF.js cpu runs in (the first
	// ones): it is tens to hundreds of times slower than the others and
	// would take most of the time.
	cpuRounds int
	threads   []int
	skip      map[string]bool
	warmup    int
	reps      int
	budgetMS  float64
	timeout   time.Duration
	report    string // also write the Markdown report here ("" = no)
	log       io.Writer
}

// cellKey names one measured cell.
type cellKey struct {
	workload string
	threads  int
	peer     string
}

// cell collects one cell's runs over all rounds.
type cell struct {
	times  []float64
	err    string
	relL2  float64 // vs tfd at the same thread count; NaN: not compared
	cmpErr string  // why the comparison failed
	info   map[string]string
}

// probe is what runner.mjs --probe reports about the Node peers.
type probe struct {
	WasmThreads int               `json:"wasm_threads"`
	WasmSIMD    bool              `json:"wasm_simd"`
	Versions    map[string]string `json:"versions"`
}

// peakResult is what the peak binary prints.
type peakResult struct {
	ISA    string  `json:"isa"`
	GFLOPS float64 `json:"gflops"`
}

// singleThreaded reports whether a peer runs on one thread whatever it is
// asked: such peers run once per round at 1 thread, and their figure
// stands in the other thread rows too, marked.
func singleThreaded(peer string, pr probe) bool {
	switch peer {
	case peerCPU:
		return true
	case peerWasm:
		return pr.WasmThreads < 2
	}
	return false
}

// relTolerance is the largest relative L2 difference from tfd's outputs a
// peer may show.
const relTolerance = 1e-4

// drive runs every workload's peers alternately, o.rounds times, and prints
// the table.
func drive(o driveOptions, w io.Writer) (int, error) {
	var idx index
	if err := readJSON(filepath.Join(o.work, "index.json"), &idx); err != nil {
		return 1, err
	}
	specs := make([]*spec, len(idx.Workloads))
	for i, n := range idx.Workloads {
		specs[i] = &spec{}
		if err := readJSON(filepath.Join(o.work, n, "spec.json"), specs[i]); err != nil {
			return 1, err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return 1, err
	}
	started := time.Now()
	load0 := loadAvg()
	peak0, err := measurePeak(o)
	if err != nil {
		return 1, err
	}
	pr := probe{WasmThreads: 1}
	if !o.skip[peerWasm] || !o.skip[peerCPU] || !o.skip[peerORT] {
		if err := runJSON(o, nodeCmd(o, "--probe"), &pr); err != nil {
			return 1, fmt.Errorf("compare: probing the Node peers: %w", err)
		}
	}
	cells := map[cellKey]*cell{}
	get := func(k cellKey) *cell {
		c := cells[k]
		if c == nil {
			c = &cell{relL2: math.NaN()}
			cells[k] = c
		}
		return c
	}
	wall := map[string]time.Duration{}
	for r := 0; r < o.rounds; r++ {
		fmt.Fprintf(o.log, "compare: round %d of %d (load average %s)\n", r+1, o.rounds, loadAvg())
		for wi, s := range specs {
			for ti, th := range o.threads {
				peers := roundPeers(s.Peers, th, o.threads[0], o.skip, pr, r+wi+ti)
				for _, p := range peers {
					k := cellKey{s.Name, th, p}
					c := get(k)
					if c.err != "" || (p == peerCPU && r >= o.cpuRounds) {
						continue
					}
					out := ""
					if r == 0 {
						out = filepath.Join(o.work, "out", s.Name, fmt.Sprintf("t%d", th), p)
						os.RemoveAll(out)
					}
					t0 := time.Now()
					res, err := runPeer(o, self, s, p, th, out)
					wall[p] += time.Since(t0)
					if err != nil {
						c.err = err.Error()
						fmt.Fprintf(o.log, "compare: %s, %d thread(s), %s: FAILED: %v\n", s.Name, th, p, err)
						continue
					}
					c.times = append(c.times, res.TimesMS...)
					if c.info == nil {
						c.info = res.Info
					}
					fmt.Fprintf(o.log, "compare:   %-22s t%d %-10s %10s  (%d runs)\n", s.Name, th, p, fmtMS(median(res.TimesMS)), len(res.TimesMS))
				}
				if r == 0 {
					compareOutputs(o, s, th, peers, get)
				}
			}
		}
	}
	var parts []string
	for _, p := range allPeers {
		if wall[p] > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", p, wall[p].Round(time.Second)))
		}
	}
	fmt.Fprintf(o.log, "compare: wall time per peer (processes included): %s\n", strings.Join(parts, ", "))
	peak1, err := measurePeak(o)
	if err != nil {
		return 1, err
	}
	rep := report{
		specs: specs, cells: cells, opt: o, probe: pr,
		peak: max(peak0.GFLOPS, peak1.GFLOPS), peaks: [2]float64{peak0.GFLOPS, peak1.GFLOPS}, peakISA: peak0.ISA,
		load0: load0, load1: loadAvg(), elapsed: time.Since(started),
	}
	var buf bytes.Buffer
	status := rep.write(&buf)
	if _, err := w.Write(buf.Bytes()); err != nil {
		return 1, err
	}
	if o.report != "" {
		if err := os.WriteFile(o.report, buf.Bytes(), 0o644); err != nil {
			return 1, err
		}
	}
	return status, nil
}

// roundPeers lists the peers to run for one workload at th threads, in an
// order rotated by rot so that no peer always runs first. Single-threaded
// peers run only at the first thread count.
func roundPeers(peers []string, th, firstTh int, skip map[string]bool, pr probe, rot int) []string {
	var out []string
	for _, p := range peers {
		if skip[p] || (singleThreaded(p, pr) && th != firstTh) {
			continue
		}
		out = append(out, p)
	}
	if len(out) > 0 {
		rot %= len(out)
		out = append(out[rot:], out[:rot]...)
	}
	return out
}

// runPeer runs one runner process and parses its result.
func runPeer(o driveOptions, self string, s *spec, peer string, threads int, out string) (*result, error) {
	common := []string{
		"--spec", filepath.Join(o.work, s.Name, "spec.json"),
		"--threads", fmt.Sprint(threads),
		"--warmup", fmt.Sprint(o.warmup),
		"--reps", fmt.Sprint(o.reps),
		"--budget-ms", fmt.Sprint(o.budgetMS),
	}
	if out != "" {
		common = append(common, "--out", out)
	}
	var cmd []string
	env := os.Environ()
	switch peer {
	case peerTFD:
		cmd = append([]string{self, "tfd"}, common...)
	case peerNumPy, peerTFDeploy:
		cmd = append([]string{o.python, filepath.Join(o.scripts, "runner.py"), "--peer", peer}, common...)
		t := fmt.Sprint(threads)
		env = append(env, "OPENBLAS_NUM_THREADS="+t, "OMP_NUM_THREADS="+t, "MKL_NUM_THREADS="+t)
	case peerORT, peerWasm, peerCPU:
		cmd = append(nodeCmd(o, "--peer", peer), common...)
	default:
		return nil, fmt.Errorf("compare: unknown peer %q", peer)
	}
	var res result
	if err := runJSONEnv(o, cmd, env, &res); err != nil {
		return nil, err
	}
	if len(res.TimesMS) == 0 {
		return nil, fmt.Errorf("compare: %s reported no times", peer)
	}
	return &res, nil
}

func nodeCmd(o driveOptions, args ...string) []string {
	return append([]string{"node", filepath.Join(o.scripts, "runner.mjs"), "--node", o.nodeDir}, args...)
}

func runJSON(o driveOptions, cmd []string, v any) error {
	return runJSONEnv(o, cmd, os.Environ(), v)
}

// runJSONEnv runs cmd and decodes the last line of its standard output as
// JSON into v. A failure quotes the end of the process's standard error.
func runJSONEnv(o driveOptions, cmd []string, env []string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	c := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	c.Env = env
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %s", o.timeout)
		}
		return fmt.Errorf("%s: %w: %s", filepath.Base(cmd[0])+" "+strings.Join(cmd[1:min(len(cmd), 3)], " "), err, tail(stderr.String(), 600))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-1]
	if err := json.Unmarshal([]byte(last), v); err != nil {
		return fmt.Errorf("%s printed %q, expected a JSON line: %w", filepath.Base(cmd[0]), tail(last, 200), err)
	}
	return nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// measurePeak runs the FMA peak binary (best of its trials).
func measurePeak(o driveOptions) (peakResult, error) {
	var p peakResult
	if err := runJSON(o, []string{o.peak}, &p); err != nil {
		return p, fmt.Errorf("compare: measuring the FMA peak: %w", err)
	}
	if p.GFLOPS <= 0 {
		return p, fmt.Errorf("compare: the FMA peak binary reported %v GFLOP/s", p.GFLOPS)
	}
	return p, nil
}

// compareOutputs sets each peer's relative L2 difference from tfd's
// outputs at the same thread count (round 0's files), and tfd's own from
// its outputs at the first thread count. Single-threaded peers ran at the
// first thread count only.
func compareOutputs(o driveOptions, s *spec, th int, peers []string, get func(cellKey) *cell) {
	dir := func(p string) string { return filepath.Join(o.work, "out", s.Name, fmt.Sprintf("t%d", th), p) }
	if !slices.Contains(peers, peerTFD) || get(cellKey{s.Name, th, peerTFD}).err != "" {
		return
	}
	if first := o.threads[0]; th != first {
		// tfd's results must not depend on the worker count.
		c, c1 := get(cellKey{s.Name, th, peerTFD}), get(cellKey{s.Name, first, peerTFD})
		if c1.err == "" {
			dir1 := filepath.Join(o.work, "out", s.Name, fmt.Sprintf("t%d", first), peerTFD)
			if rel, err := relL2Dirs(dir1, dir(peerTFD), len(s.Outputs)); err != nil {
				c.cmpErr = err.Error()
			} else {
				c.relL2 = rel
			}
		}
	}
	for _, p := range peers {
		c := get(cellKey{s.Name, th, p})
		if p == peerTFD || c.err != "" {
			continue
		}
		rel, err := relL2Dirs(dir(peerTFD), dir(p), len(s.Outputs))
		if err != nil {
			c.cmpErr = err.Error()
			continue
		}
		c.relL2 = rel
	}
}

// relL2Dirs returns the largest relative L2 difference ‖got − want‖₂ /
// ‖want‖₂ over the n outputs out_<k>.npy of two directories (want: tfd).
func relL2Dirs(wantDir, gotDir string, n int) (float64, error) {
	worst := 0.0
	for k := 0; k < n; k++ {
		f := fmt.Sprintf("out_%d.npy", k)
		want, err := tfd.ReadNPY(filepath.Join(wantDir, f))
		if err != nil {
			return 0, err
		}
		got, err := tfd.ReadNPY(filepath.Join(gotDir, f))
		if err != nil {
			return 0, err
		}
		if !slices.Equal(got.Shape(), want.Shape()) {
			return 0, fmt.Errorf("output %d: shape %v, tfd has %v", k, got.Shape(), want.Shape())
		}
		rel, err := relL2(got.Float64s(), want.Float64s())
		if err != nil {
			return 0, fmt.Errorf("output %d: %w", k, err)
		}
		worst = max(worst, rel)
	}
	return worst, nil
}

// relL2 is ‖got − want‖₂ / ‖want‖₂ (the absolute norm when want is all
// zeros). Non-finite values must sit at the same places.
func relL2(got, want []float64) (float64, error) {
	if len(got) != len(want) {
		return 0, fmt.Errorf("%d values, expected %d", len(got), len(want))
	}
	var num, den float64
	for i := range got {
		g, w := got[i], want[i]
		if math.IsNaN(w) || math.IsInf(w, 0) || math.IsNaN(g) || math.IsInf(g, 0) {
			if !(math.IsNaN(w) && math.IsNaN(g)) && g != w {
				return math.Inf(1), nil
			}
			continue
		}
		num += (g - w) * (g - w)
		den += w * w
	}
	if den == 0 {
		return math.Sqrt(num), nil
	}
	return math.Sqrt(num / den), nil
}

// median of v (NaN if empty).
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// fmtMS prints a duration given in milliseconds with three significant
// digits: µs, ms or s.
func fmtMS(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v < 1:
		return sig3(v*1000) + " µs"
	case v < 1000:
		return sig3(v) + " ms"
	}
	return sig3(v/1000) + " s"
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// fmtRatio prints a ratio with two decimals, or three significant digits
// below 0.1.
func fmtRatio(r float64) string {
	if r < 0.1 {
		return fmt.Sprintf("%.3g", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// loadAvg returns the 1-minute load average ("?" where unknown).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// cpuModel returns the CPU's model name ("" where unknown).
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// report formats the results.
type report struct {
	specs        []*spec
	cells        map[cellKey]*cell
	opt          driveOptions
	probe        probe
	peak         float64
	peaks        [2]float64 // at the start and at the end
	peakISA      string
	load0, load1 string
	elapsed      time.Duration
}

var peerTitle = map[string]string{
	peerTFD: "tfd", peerNumPy: "NumPy", peerTFDeploy: "tfdeploy-style", peerORT: "ONNX Runtime",
	peerWasm: "TF.js wasm", peerCPU: "TF.js cpu",
}

// lookup returns the cell measuring peer for workload at th threads: the
// first thread count's cell for single-threaded peers (marked true).
func (r *report) lookup(workload string, th int, peer string) (*cell, bool) {
	if singleThreaded(peer, r.probe) && th != r.opt.threads[0] {
		return r.cells[cellKey{workload, r.opt.threads[0], peer}], true
	}
	return r.cells[cellKey{workload, th, peer}], false
}

// write prints the Markdown report and returns the exit status: 0, 1 if a
// runner failed, 3 if a peer disagreed with tfd.
func (r *report) write(w io.Writer) int {
	status := 0
	var peers []string
	for _, p := range allPeers {
		if r.opt.skip[p] {
			continue
		}
		for _, s := range r.specs {
			if slices.Contains(s.Peers, p) {
				peers = append(peers, p)
				break
			}
		}
	}
	fmt.Fprintf(w, "| workload | threads |")
	for _, p := range peers {
		if p == peerTFD {
			fmt.Fprintf(w, " tfd |")
		} else {
			fmt.Fprintf(w, " %s (tfd/peer) |", peerTitle[p])
		}
	}
	fmt.Fprintf(w, " outputs vs tfd (max rel L2) |\n|---|---|")
	for range peers {
		fmt.Fprintf(w, "---|")
	}
	fmt.Fprintf(w, "---|\n")
	var failures, disagreements []string
	for _, s := range r.specs {
		for _, th := range r.opt.threads {
			fmt.Fprintf(w, "| %s | %d |", s.Label, th)
			tc := r.cells[cellKey{s.Name, th, peerTFD}]
			tfdMed := math.NaN()
			if tc != nil && tc.err == "" {
				tfdMed = median(tc.times)
			}
			worst, worstPeer := 0.0, ""
			var bad []string
			for _, p := range peers {
				if !slices.Contains(s.Peers, p) {
					fmt.Fprintf(w, " — |")
					continue
				}
				c, shared := r.lookup(s.Name, th, p)
				if c == nil {
					fmt.Fprintf(w, " skipped |")
					continue
				}
				if c.err != "" {
					fmt.Fprintf(w, " failed |")
					if !shared {
						failures = append(failures, fmt.Sprintf("%s, %d thread(s), %s: %s", s.Name, th, p, c.err))
					}
					continue
				}
				m := median(c.times)
				mark := ""
				if shared {
					mark = "¹"
				}
				if p == peerTFD {
					fmt.Fprintf(w, " %s |", fmtMS(m))
				} else {
					fmt.Fprintf(w, " %s%s (%s×) |", fmtMS(m), mark, fmtRatio(tfdMed/m))
				}
				if shared {
					continue
				}
				who := p
				if p == peerTFD {
					who = fmt.Sprintf("tfd vs its %d-worker run", r.opt.threads[0])
				}
				switch {
				case c.cmpErr != "":
					bad = append(bad, who+": "+c.cmpErr)
					disagreements = append(disagreements, fmt.Sprintf("%s, %d thread(s), %s: %s", s.Name, th, who, c.cmpErr))
				case c.relL2 > relTolerance:
					bad = append(bad, fmt.Sprintf("%s %.1e", who, c.relL2))
					disagreements = append(disagreements, fmt.Sprintf("%s, %d thread(s), %s: rel L2 %.2e > %.0e", s.Name, th, who, c.relL2, relTolerance))
				case !math.IsNaN(c.relL2) && c.relL2 >= worst:
					worst, worstPeer = c.relL2, p
				}
			}
			switch {
			case len(bad) > 0:
				fmt.Fprintf(w, " ✗ %s |\n", strings.Join(bad, "; "))
			case worstPeer != "":
				fmt.Fprintf(w, " ✓ ≤ %.1e |\n", worst)
			default:
				fmt.Fprintf(w, " — |\n")
			}
		}
	}
	fmt.Fprintf(w, "\nMedians of all timed runs over %d round(s) (TF.js cpu: %d); (tfd/peer) is tfd's median over the peer's: below 1 tfd is faster. ", r.opt.rounds, min(r.opt.rounds, r.opt.cpuRounds))
	fmt.Fprintf(w, "¹ the peer is single-threaded (TF.js cpu always; TF.js wasm in Node: %d thread(s), SIMD %v): its 1-thread figure. ", r.probe.WasmThreads, r.probe.WasmSIMD)
	fmt.Fprintf(w, "Last column: the largest relative L2 difference of a peer's outputs from tfd's (tolerance %.0e); in rows above %d thread(s) it includes tfd's outputs against its own %d-worker outputs.\n", relTolerance, r.opt.threads[0], r.opt.threads[0])
	r.writeRoofline(w)
	r.writeSummary(w)
	fmt.Fprintf(w, "\nMachine: %s, %d CPUs; load average %s at the start, %s at the end; %s in all. Versions: %s, %s.\n",
		cpuModel(), runtime.NumCPU(), r.load0, r.load1, r.elapsed.Round(time.Second), runtime.Version(), r.versions())
	if len(failures) > 0 {
		status = 1
		fmt.Fprintf(w, "\nFAILED runs:\n")
		for _, f := range failures {
			fmt.Fprintf(w, "- %s\n", f)
		}
	}
	if len(disagreements) > 0 {
		if status == 0 {
			status = 3
		}
		fmt.Fprintf(w, "\nPEERS DISAGREEING WITH tfd (rel L2 > %.0e):\n", relTolerance)
		for _, d := range disagreements {
			fmt.Fprintf(w, "- %s\n", d)
		}
	}
	return status
}

// writeRoofline prints GFLOP/s for the GEMM-bound workloads over the
// measured one-core FMA peak times the thread count.
func (r *report) writeRoofline(w io.Writer) {
	fmt.Fprintf(w, "\nRoofline: GFLOP/s (of the convolution or GEMM) and their share of the measured FMA peak times the threads; peak %.0f GFLOP/s per core (%s FMA chains; %.0f at the start of the run, %.0f at the end):\n\n",
		r.peak, r.peakISA, r.peaks[0], r.peaks[1])
	for _, s := range r.specs {
		if !s.Roofline || s.FLOPs == 0 {
			continue
		}
		for _, th := range r.opt.threads {
			var parts []string
			for _, p := range allPeers {
				if !slices.Contains(s.Peers, p) || r.opt.skip[p] {
					continue
				}
				c, shared := r.lookup(s.Name, th, p)
				if c == nil || c.err != "" || shared {
					continue
				}
				g := s.FLOPs / median(c.times) / 1e6
				parts = append(parts, fmt.Sprintf("%s %.1f (%.0f %%)", peerTitle[p], g, 100*g/(r.peak*float64(th))))
			}
			fmt.Fprintf(w, "- %s, %d thread(s): %s\n", s.Label, th, strings.Join(parts, ", "))
		}
	}
}

// writeSummary prints the geometric means over the TF.js graph models and
// tfd's speedup from 1 to 2 workers.
func (r *report) writeSummary(w io.Writer) {
	var lines []string
	for _, th := range r.opt.threads {
		for _, p := range []string{peerWasm, peerCPU} {
			logSum, n := 0.0, 0
			for _, s := range r.specs {
				if s.Kind != kindTFJS {
					continue
				}
				tc := r.cells[cellKey{s.Name, th, peerTFD}]
				c, _ := r.lookup(s.Name, th, p)
				if tc == nil || c == nil || tc.err != "" || c.err != "" {
					continue
				}
				logSum += math.Log(median(tc.times) / median(c.times))
				n++
			}
			if n > 0 {
				lines = append(lines, fmt.Sprintf("- TF.js graph models, tfd at %d worker(s) / %s: geometric mean %.3f× over %d models", th, peerTitle[p], math.Exp(logSum/float64(n)), n))
			}
		}
	}
	if len(r.opt.threads) >= 2 {
		t1, t2 := r.opt.threads[0], r.opt.threads[1]
		var parts []string
		for _, s := range r.specs {
			a, b := r.cells[cellKey{s.Name, t1, peerTFD}], r.cells[cellKey{s.Name, t2, peerTFD}]
			if a == nil || b == nil || a.err != "" || b.err != "" {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s %.2f×", s.Name, median(a.times)/median(b.times)))
		}
		lines = append(lines, fmt.Sprintf("- tfd, %d vs %d workers (time ratio, above 1 is faster): %s", t2, t1, strings.Join(parts, ", ")))
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(lines, "\n"))
	}
}

// versions lists the peers' versions as the runners reported them.
func (r *report) versions() string {
	seen := map[string]string{}
	for k, v := range r.probe.Versions {
		seen[k] = v
	}
	for _, c := range r.cells {
		for k, v := range c.info {
			if strings.HasPrefix(k, "version:") {
				seen[strings.TrimPrefix(k, "version:")] = v
			}
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + seen[k]
	}
	if len(parts) == 0 {
		return "peers unknown"
	}
	return strings.Join(parts, ", ")
}
