package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/score"
)

// modelFlags are the flags shared by run and profile.
type modelFlags struct {
	models   listFlag
	inputs   listFlag
	impls    listFlag
	prefer   string
	ensemble string
	fetch    string
	workers  int
	batch    int
	noFusion bool
	maxRun   memByteFlag
}

// evaluator is what the commands run: a model or an ensemble of models.
type evaluator interface {
	Name() string
	Inputs() []tfd.TensorInfo
	Outputs() []string
	RunWith(ctx context.Context, opt tfd.RunOptions, feeds map[string]*tfd.Tensor, fetches ...string) ([]*tfd.Tensor, error)
}

func (f *modelFlags) register(fs *flagSetT) {
	fs.Var(&f.models, "m", "model: a GraphDef (.pb, .pbtxt) or a SavedModel directory; repeat with --ensemble to combine several")
	fs.StringVar(&f.ensemble, "ensemble", "", "combine several -m models: mean, max or min")
	fs.Var(&f.impls, "impl", "OP=IMPL: use the kernel implementation IMPL for op type OP (repeatable; see inspect --impls)")
	fs.StringVar(&f.prefer, "prefer", "", "comma-separated implementation names to prefer for every op that has them")
	fs.Var(&f.inputs, "i", "input NAME=FILE.npy (repeatable), or one FILE.{npz,csv,jsonl,tfrecord}[.gz] (run)")
	fs.StringVar(&f.fetch, "fetch", "", "comma-separated tensor names to fetch (default: the graph's outputs)")
	fs.IntVar(&f.workers, "workers", runtime.NumCPU(), "goroutines to evaluate with (run: batches scored at once)")
	fs.IntVar(&f.batch, "batch", 0, "run: rows per batch flowing through the pipeline (0: 256); profile: rows per batch slice across workers (0: one slice per worker)")
	fs.BoolVar(&f.noFusion, "no-fusion", false, "run every graph node as its own kernel (no fused products or element-wise chains)")
	fs.Var(&f.maxRun, "max-run-bytes", "bound on the bytes one run's tensors hold at once, e.g. 512MiB (default 4GiB; -1: none)")
}

// options returns the library options the flags ask for.
func (f *modelFlags) options() ([]tfd.Option, error) {
	opts := []tfd.Option{tfd.WithWorkers(f.workers)}
	if f.maxRun != 0 {
		opts = append(opts, tfd.Options{Limits: tfd.Limits{MaxRunBytes: int64(f.maxRun)}})
	}
	if f.noFusion {
		opts = append(opts, tfd.WithoutFusion())
	}
	for _, spec := range f.impls {
		op, impl, ok := strings.Cut(spec, "=")
		if !ok || op == "" || impl == "" {
			return nil, usagef("--impl expects OP=IMPL, got %q", spec)
		}
		opts = append(opts, tfd.UseImpl(op, impl))
	}
	if f.prefer != "" {
		for _, p := range strings.Split(f.prefer, ",") {
			opts = append(opts, tfd.PreferImpl(p))
		}
	}
	return opts, nil
}

// loadModel opens the model, or the ensemble of models.
func (f *modelFlags) loadModel() (evaluator, error) {
	if len(f.models) == 0 {
		return nil, usagef("expected a model: -m MODEL")
	}
	if len(f.models) > 1 && f.ensemble == "" {
		return nil, usagef("%d models given: combine them with --ensemble mean|max|min, or give one -m", len(f.models))
	}
	if f.workers < 1 {
		return nil, usagef("--workers must be at least 1, got %d", f.workers)
	}
	if f.batch < 0 {
		return nil, usagef("--batch must not be negative, got %d", f.batch)
	}
	opts, err := f.options()
	if err != nil {
		return nil, err
	}
	if f.ensemble == "" {
		return tfd.Load(f.models[0], opts...)
	}
	comb, err := tfd.ParseCombiner(f.ensemble)
	if err != nil {
		return nil, usagef("%v", err)
	}
	var members []*tfd.Model
	for _, path := range f.models {
		mm, err := tfd.Load(path, opts...)
		if err != nil {
			return nil, err
		}
		members = append(members, mm)
	}
	return tfd.NewEnsemble(members, comb)
}

// npyInputs parses the -i flags of the NAME=FILE.npy form.
func (f *modelFlags) npyInputs() ([]score.NamedFile, error) {
	var files []score.NamedFile
	seen := map[string]bool{}
	for _, spec := range f.inputs {
		name, file, ok := strings.Cut(spec, "=")
		if !ok || name == "" || file == "" {
			return nil, usagef("-i expects NAME=FILE.npy, got %q", spec)
		}
		if seen[name] {
			return nil, usagef("input %q given twice", name)
		}
		seen[name] = true
		files = append(files, score.NamedFile{Name: name, Path: file})
	}
	return files, nil
}

// fetches returns the --fetch names, or the model's outputs.
func (f *modelFlags) fetches(m evaluator) ([]string, error) {
	fetches := m.Outputs()
	if f.fetch != "" {
		fetches = strings.Split(f.fetch, ",")
	}
	if len(fetches) == 0 {
		return nil, fmt.Errorf("model %s has no outputs; name tensors with --fetch", m.Name())
	}
	return fetches, nil
}

// checkMissing fails when a required input has no -i (unless --fetch
// names tensors that may not need it). Inputs are named by signature key
// or by tensor name.
func (f *modelFlags) checkMissing(m evaluator, names []string, signature string) error {
	if f.fetch != "" {
		return nil
	}
	given := map[string]bool{}
	for _, n := range names {
		given[n] = true
		given[strings.TrimSuffix(n, ":0")] = true
	}
	fields, err := score.Fields(m, signature)
	if err != nil {
		return err
	}
	var missing []string
	for _, in := range fields {
		if !in.Optional && !given[in.Key] && !given[in.Tensor] && !given[strings.TrimSuffix(in.Tensor, ":0")] {
			missing = append(missing, in.Key)
		}
	}
	if len(missing) > 0 {
		return usagef("model %s needs inputs: %s (give -i NAME=FILE.npy)", m.Name(), strings.Join(missing, ", "))
	}
	return nil
}

// load opens the model (or the ensemble) and reads the .npy inputs whole,
// converting them to the dtypes the placeholders declare (for profile).
func (f *modelFlags) load() (evaluator, map[string]*tfd.Tensor, []string, error) {
	m, err := f.loadModel()
	if err != nil {
		return nil, nil, nil, err
	}
	files, err := f.npyInputs()
	if err != nil {
		return nil, nil, nil, err
	}
	want := map[string]tfd.TensorInfo{}
	for _, in := range m.Inputs() {
		want[in.Name] = in
	}
	feeds := map[string]*tfd.Tensor{}
	var names []string
	for _, nf := range files {
		t, err := tfd.ReadNPY(nf.Path)
		if err != nil {
			return nil, nil, nil, err
		}
		if info, ok := want[strings.TrimSuffix(nf.Name, ":0")]; ok && info.DType != 0 && t.DType() != info.DType {
			c, err := tfd.ConvertFeed(t, info.DType)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("input %q from %s: %w", nf.Name, nf.Path, err)
			}
			t = c
		}
		feeds[nf.Name] = t
		names = append(names, nf.Name)
	}
	fetches, err := f.fetches(m)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := f.checkMissing(m, names, ""); err != nil {
		return nil, nil, nil, err
	}
	return m, feeds, fetches, nil
}

// runInput turns the -i flags into a score.Input: NAME=FILE.npy pairs, or
// one file of another format.
func (f *modelFlags) runInput(format string, c score.Compression) (score.Input, []string, error) {
	in := score.Input{Compression: c}
	if format != "" {
		ff, err := score.ParseFormat(format)
		if err != nil {
			return in, nil, usagef("--input-format: %v", err)
		}
		in.Format = ff
	}
	var names []string
	for _, spec := range f.inputs {
		name, file, ok := strings.Cut(spec, "=")
		ff, known := score.FormatOf(spec)
		if in.Format != "" && in.Format != score.NPY {
			ff, known = in.Format, true
		}
		if ok && (in.Format == score.NPY || !known || ff == score.NPY || strings.HasSuffix(strings.ToLower(file), ".npy")) {
			if name == "" || file == "" {
				return in, nil, usagef("-i expects NAME=FILE.npy, got %q", spec)
			}
			in.Files = append(in.Files, score.NamedFile{Name: name, Path: file})
			names = append(names, name)
			continue
		}
		if !known || ff == score.NPY {
			return in, nil, usagef("-i expects NAME=FILE.npy or FILE.{npz,csv,jsonl,tfrecord}, got %q", spec)
		}
		if in.Path != "" {
			return in, nil, usagef("-i: one %s file at a time (got %s and %s)", ff, in.Path, spec)
		}
		in.Path, in.Format = spec, ff
	}
	if in.Path != "" && len(in.Files) > 0 {
		return in, nil, usagef("-i: give NAME=FILE.npy inputs or one %s file, not both", in.Format)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return in, nil, usagef("input %q given twice", n)
		}
		seen[n] = true
	}
	return in, names, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSetT("run", stderr)
	var mf modelFlags
	mf.register(fs)
	outDir := fs.String("o", "out", "directory for the outputs")
	format := fs.String("format", "npy", "output format: npy (one file per output), npz, csv, jsonl or tfrecord")
	inFormat := fs.String("input-format", "", "input format when the -i file name does not tell it: npz, csv, jsonl or tfrecord")
	compress := fs.String("compress", "", "compression of csv, jsonl and tfrecord output: none or gzip")
	inCompress := fs.String("input-compress", "", "compression of the -i file: none or gzip (default: detected)")
	name := fs.String("name", score.DefaultOutputName, "base name of npz, csv, jsonl and tfrecord outputs")
	signature := fs.String("signature", "", "signature whose inputs the -i file feeds (default: serving_default)")
	quiet := fs.Bool("quiet", false, "no progress report on stderr")
	progressEvery := fs.Duration("progress-every", score.DefaultProgressEvery, "interval of the progress lines when stderr is not a terminal")
	resume := fs.Bool("resume", false, "continue an interrupted run with the same flags, after the rows it wrote")
	skipBad := fs.Bool("skip-bad-rows", false, "skip rows that cannot be fed, writing them to OUTDIR/"+score.RejectFileName+", instead of stopping")
	inflight := fs.Int("inflight", 0, "batches between reading and writing (0: twice --workers)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("run: unexpected argument %q", pos[0])
	}
	outFormat, err := score.ParseFormat(*format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	outC, err := score.ParseCompression(*compress)
	if err != nil {
		return usagef("--compress: %v", err)
	}
	inC, err := score.ParseCompression(*inCompress)
	if err != nil {
		return usagef("--input-compress: %v", err)
	}
	if *inflight < 0 {
		return usagef("--inflight must not be negative, got %d", *inflight)
	}
	m, err := mf.loadModel()
	if err != nil {
		return err
	}
	in, names, err := mf.runInput(*inFormat, inC)
	if err != nil {
		return err
	}
	if in.Path == "" {
		if err := mf.checkMissing(m, names, *signature); err != nil {
			return err
		}
	}
	var fetches []string
	if mf.fetch != "" {
		fetches = strings.Split(mf.fetch, ",")
	}
	if in.Path == "" && len(in.Files) == 0 {
		if done, err := runOnce(ctx, m, *signature, fetches, outFormat, *outDir, stdout); done || err != nil {
			return err
		}
		return usagef("model %s: no input given (give -i NAME=FILE.npy or -i FILE.csv)", m.Name())
	}
	var progress score.Progress
	if !*quiet {
		progress = score.NewProgress(stderr, score.ProgressAuto, *progressEvery)
	}
	job := &score.Job{
		Model: m, ModelID: runModelID(&mf), Signature: *signature, Input: in,
		Output:  score.Output{Format: outFormat, Dir: *outDir, Name: *name, Compression: outC},
		Fetches: fetches, Workers: mf.workers, BatchRows: mf.batch, InFlight: *inflight,
		SkipBadRows: *skipBad, Resume: *resume, Progress: progress,
	}
	res, err := job.Run(ctx)
	if err != nil {
		if errors.Is(err, tfd.ErrCanceled) && ctx.Err() != nil {
			return fmt.Errorf("%w; run again with --resume to continue", err)
		}
		return err
	}
	var b strings.Builder
	rate := 0.0
	if s := res.Elapsed.Seconds(); s > 0 {
		rate = float64(res.Scored) / s
	}
	fmt.Fprintf(&b, "scored %d rows in %s (%.0f rows/s, %d workers)", res.Scored, roundDur(res.Elapsed), rate, res.Workers)
	if res.Resumed > 0 {
		fmt.Fprintf(&b, ", resuming after %d rows", res.Resumed)
	}
	if res.RejectFile != "" {
		fmt.Fprintf(&b, "; skipped %d bad rows (%s)", res.Rejected, res.RejectFile)
	}
	fmt.Fprintf(&b, "; wrote %s", strings.Join(res.Files, ", "))
	fmt.Fprintln(stdout, b.String())
	return nil
}

// runModelID identifies the model flags in the side file of a job, so
// that --resume refuses to continue with another model.
func runModelID(f *modelFlags) string {
	var parts []string
	for _, p := range f.models {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if st, err := os.Stat(p); err == nil {
			p = fmt.Sprintf("%s@%d:%d", p, st.Size(), st.ModTime().UnixNano())
		}
		parts = append(parts, p)
	}
	id := strings.Join(parts, "+")
	if f.ensemble != "" {
		id += " ensemble=" + f.ensemble
	}
	if len(f.impls) > 0 {
		id += " impl=" + f.impls.String()
	}
	if f.prefer != "" {
		id += " prefer=" + f.prefer
	}
	return id
}

func roundDur(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(time.Microsecond)
	}
	return d
}
