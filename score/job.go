package score

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/tensor"
)

// Defaults for the zero values of Job's fields.
const (
	DefaultBatchRows       = 256
	DefaultCheckpointEvery = 5 * time.Second
)

// Job is a batch scoring job. The zero values of its optional fields are
// documented defaults.
type Job struct {
	// Model scores the rows.
	Model Model
	// ModelID identifies the model in the side file, so that a resumed
	// job checks it scores with the same model (for example its path);
	// default: Model.Name().
	ModelID string
	// Signature selects the signature whose inputs the files feed ("":
	// the default signature).
	Signature string
	// Input and Output name the files.
	Input  Input
	Output Output
	// Fetches names the outputs written: signature output keys or graph
	// tensor names (none: the model's outputs).
	Fetches []string
	// Workers is the number of batches scored at once; 0 means GOMAXPROCS.
	Workers int
	// BatchRows is the number of input rows per batch; 0 means
	// DefaultBatchRows.
	BatchRows int
	// InFlight bounds the batches between reading and writing; 0 means
	// twice Workers.
	InFlight int
	// SkipBadRows skips rows that cannot be fed, counting them and writing
	// them to a reject file, instead of failing with a *RowError.
	SkipBadRows bool
	// Resume continues the interrupted job whose side file is in the
	// output directory, if there is one (and it was the same job over the
	// same unchanged inputs); without it, leftovers of an earlier job are
	// discarded.
	Resume bool
	// Progress receives progress reports; nil means none.
	Progress Progress
	// CheckpointEvery is how often the side file is updated; 0 means
	// DefaultCheckpointEvery. A job also records its progress when its
	// context is canceled.
	CheckpointEvery time.Duration

	// wrapReader, if set, wraps the reader (tests watch the pipeline).
	wrapReader func(Reader) Reader
	// noMap reads .npy inputs instead of mapping them (tests compare).
	noMap bool
}

// Result describes a finished job.
type Result struct {
	Rows       int64    // rows in the output
	Scored     int64    // rows scored by this run (Rows minus Resumed)
	Resumed    int64    // rows written by an interrupted earlier run
	Rejected   int64    // bad rows skipped (with SkipBadRows), in all runs
	Batches    int64    // batches written, in all runs
	Files      []string // output files
	RejectFile string   // the reject file, or ""
	Workers    int
	Elapsed    time.Duration // of this run
}

// Run runs the job. On success the outputs are complete under their final
// names. On failure or cancellation no output appears under its final
// name. When the context is canceled (or the process dies), what was
// written stays in a hidden directory of the output directory for a later
// run with Resume; other failures (a bad row, a model error) would fail
// again and remove it.
func (j *Job) Run(ctx context.Context) (*Result, error) {
	start := time.Now()
	if j.Model == nil {
		return nil, errors.New("score: no model")
	}
	workers := j.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	batchRows := j.BatchRows
	if batchRows <= 0 {
		batchRows = DefaultBatchRows
	}
	inflight := j.InFlight
	if inflight <= 0 {
		inflight = 2 * workers
	}
	inflight = max(inflight, workers)
	every := j.CheckpointEvery
	if every <= 0 {
		every = DefaultCheckpointEvery
	}
	progress := j.Progress
	if progress == nil {
		progress = nopProgress{}
	}

	inFormat, err := j.Input.format()
	if err != nil {
		return nil, err
	}
	outFormat := j.Output.Format
	if outFormat == "" {
		outFormat = NPY
	}
	if outFormat, err = ParseFormat(string(outFormat)); err != nil {
		return nil, err
	}
	fields, err := Fields(j.Model, j.Signature)
	if err != nil {
		return nil, err
	}
	fetches, err := Fetches(j.Model, j.Signature, j.Fetches)
	if err != nil {
		return nil, err
	}
	inputs, err := statInputs(j.Input)
	if err != nil {
		return nil, err
	}
	id := j.ModelID
	if id == "" {
		id = j.Model.Name()
	}
	out := j.Output
	if out.Dir == "" {
		out.Dir = "."
	}
	out.Format = outFormat
	key := jobKey{Model: id, Signature: j.Signature, InFormat: inFormat, Inputs: inputs, OutFormat: outFormat,
		OutName: out.Name, Compression: out.Compression, Fetches: fetches, BatchRows: batchRows, SkipBadRows: j.SkipBadRows}
	work := filepath.Join(out.Dir, workDirName)
	_, statErr := os.Stat(out.Dir)
	created := errors.Is(statErr, fs.ErrNotExist)
	var prev *jobState
	if j.Resume {
		if prev, err = loadState(work); err != nil {
			return nil, err
		}
		if prev != nil {
			if why := key.differs(prev.Key); why != "" {
				return nil, fmt.Errorf("score: cannot resume the job in %s: %s; run without resuming to start over", work, why)
			}
		}
	}
	if prev == nil {
		if err := os.RemoveAll(work); err != nil {
			return nil, fmt.Errorf("score: %w", err)
		}
	}

	state := &jobState{Key: key}
	var resumeWriter *writerState
	if prev != nil {
		state.Batches, state.Pos, state.Writer = prev.Batches, prev.Pos, prev.Writer
		resumeWriter = &prev.Writer
	}
	// Inputs are mapped when every kernel runs on the worker goroutines,
	// which turn a fault on the mapping into an error (see worker.score).
	_, single := j.Model.(*tfd.Model)
	rd, err := openReader(j.Input, inFormat, fields, j.SkipBadRows, state.Pos, single && !j.noMap)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	nr, _ := rd.(*npyReader)
	if j.wrapReader != nil {
		rd = j.wrapReader(rd)
	}
	w, err := newWriter(out, work, fetches, j.SkipBadRows, resumeWriter)
	if err != nil {
		if created {
			os.RemoveAll(out.Dir)
		}
		return nil, err
	}
	if nr != nil && nr.unbatched() {
		w.whole = true
	}
	p := &pipeline{job: j, rd: rd, w: w, state: state, work: work, fetches: fetches, fields: fields,
		workers: workers, batchRows: batchRows, inflight: inflight, every: every, progress: progress, start: start}
	p.resumed = state.Pos.Row
	p.runner = NewRunner(j.Model, j.Signature, fetches)
	p.setIntra()
	if nr != nil && nr.mapped() {
		if p.intra > 1 { // runs would share their kernels' work with helpers
			if err := nr.unmap(); err != nil {
				w.close()
				return nil, err
			}
		} else {
			p.mapped = nr
		}
	}
	rowsBefore := w.st.Rows
	p.total, p.frac = -1, rd.Fraction()
	if n := rd.Rows(); n >= 0 {
		p.total = p.resumed + n
	}
	progress.Start(p.stats())
	runErr := p.run(ctx)
	progress.Finish(p.stats())
	if runErr != nil {
		w.close()
		if ctx.Err() != nil {
			if state.Writer.Rows == 0 && state.Writer.Rejected == 0 {
				os.RemoveAll(work) // nothing worth resuming
				return nil, fmt.Errorf("score: %w before any row was written (%w)", tfd.ErrCanceled, ctx.Err())
			}
			return nil, fmt.Errorf("score: %w after %d rows (%w); the rows written are kept for resuming in %s", tfd.ErrCanceled, state.Pos.Row, ctx.Err(), work)
		}
		os.RemoveAll(work)
		if created {
			os.Remove(out.Dir) // only if empty
		}
		return nil, runErr
	}
	files, rejects, err := w.commit(func() ([]outMeta, error) { return p.emptyMetas(ctx) })
	if err != nil {
		w.close()
		return nil, err
	}
	if err := os.RemoveAll(work); err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	return &Result{
		Rows: w.st.Rows, Scored: w.st.Rows - rowsBefore, Resumed: rowsBefore, Rejected: w.st.Rejected,
		Batches: state.Batches, Files: files, RejectFile: rejects, Workers: workers, Elapsed: time.Since(start),
	}, nil
}

// OpenReader opens an input to read batches of rows for the given model
// inputs (see Fields), positioned at start (the zero Pos: the beginning).
// With skipBad, bad rows come back in Batch.Rejects instead of ending the
// read with a *RowError.
func OpenReader(in Input, fields []Field, skipBad bool, start Pos) (Reader, error) {
	f, err := in.format()
	if err != nil {
		return nil, err
	}
	return openReader(in, f, fields, skipBad, start, false)
}

// openReader opens the input in its format, positioned at start.
// With mapped, .npy inputs may be memory-mapped (see openNPY).
func openReader(in Input, f Format, fields []Field, skipBad bool, start Pos, mapped bool) (Reader, error) {
	switch f {
	case NPY:
		if len(in.Files) == 0 {
			return nil, fmt.Errorf("score: npy input needs one file per input (NAME=FILE.npy)")
		}
		return openNPY(in.Files, fields, start, mapped)
	case NPZ:
		return openNPZ(in.Path, fields, start)
	case CSV:
		return openCSV(in.Path, in.Compression, fields, skipBad, start)
	case JSONL:
		return openJSONL(in.Path, in.Compression, fields, skipBad, start)
	case TFRecord:
		return openTFRecord(in.Path, in.Compression, fields, skipBad, start)
	}
	return nil, fmt.Errorf("score: unknown input format %q", f)
}

// pipeline is one run of a job: a reader goroutine, N scoring workers and
// the writer (the goroutine that calls run), connected by channels and
// bounded by a pool of in-flight slots.
type pipeline struct {
	job       *Job
	rd        Reader
	w         *writer
	state     *jobState
	work      string
	fetches   []Fetch
	fields    []Field
	workers   int
	batchRows int
	inflight  int
	every     time.Duration
	progress  Progress
	start     time.Time
	total     int64
	resumed   int64
	frac      float64 // share of the input read when the last batch written was
	intra     int     // workers per run, when batches are fewer than workers
	runner    *Runner
	outFree   chan []*tfd.Tensor // outputs of batches written, for reuse
	mapped    *npyReader         // the reader, when batches are views of mapped files
}

func (p *pipeline) stats() Stats {
	return Stats{Rows: p.state.Pos.Row, Resumed: p.resumed, Rejected: p.w.st.Rejected, Total: p.total,
		Fraction: p.frac, Elapsed: time.Since(p.start)}
}

// reuse returns a set of output tensors of a batch already written, or nil.
func (p *pipeline) reuse() []*tfd.Tensor {
	select {
	case outs := <-p.outFree:
		return outs
	default:
		return nil
	}
}

// recycle makes a set of output tensors available to reuse; they must not
// be used afterwards.
func (p *pipeline) recycle(outs []*tfd.Tensor) {
	select {
	case p.outFree <- outs:
	default:
	}
}

// emptyMetas finds the outputs' dtypes and row shapes when no row was
// scored, by running the model on a batch of zero rows.
func (p *pipeline) emptyMetas(ctx context.Context) ([]outMeta, error) {
	feeds := map[string]*tfd.Tensor{}
	for _, f := range p.fields {
		if f.Optional {
			continue
		}
		dims, ok := f.rowDims()
		shape := tensor.Shape{0}
		if ok {
			for _, d := range dims {
				shape = append(shape, max(d, 1))
			}
		}
		dt := f.DType
		if dt == tensor.Invalid {
			dt = tensor.Float32
		}
		t, err := tensor.New(dt, shape, 0)
		if err != nil {
			return nil, err
		}
		feeds[f.Tensor] = t
	}
	outs, err := p.runner.Run(ctx, feeds, 1)
	if err != nil || len(outs) != len(p.fetches) {
		return nil, fmt.Errorf("score: %w (running the model on 0 rows: %v)", errNoRows, err)
	}
	metas := make([]outMeta, len(outs))
	for i, t := range outs {
		if t.Rank() == 0 {
			return nil, fmt.Errorf("score: %w (output %q is a scalar)", errNoRows, p.fetches[i].Key)
		}
		metas[i] = outMeta{Key: p.fetches[i].Key, DType: t.DType(), RowShape: t.Shape()[1:].Clone()}
		if err := encCheckDType(p.w.format, metas[i]); err != nil {
			return nil, err
		}
	}
	return metas, nil
}

// setIntra sets the workers per run: more than one when batches are fewer
// than workers.
func (p *pipeline) setIntra() {
	p.intra = 1
	if n := p.rd.Rows(); n >= 0 {
		batches := int((n + int64(p.batchRows) - 1) / int64(p.batchRows))
		if batches < p.workers {
			p.intra = p.workers / max(batches, 1)
		}
	}
}

// run moves every batch from the reader through the workers to the
// writer, in input order, and checkpoints as it goes.
func (p *pipeline) run(parent context.Context) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	// The reader goroutine reads ahead while the workers score: a batch
	// holds a slot from its read until it is written, which bounds the
	// batches in memory; work and done hold every slot, so sends never
	// block. Batches wait in work for a worker, so that a worker done with
	// one finds the next without waiting for the reader to be scheduled
	// (with two workers on two cores, the rendezvous cost ~5 % of the
	// MLP job).
	slots := make(chan struct{}, p.inflight)
	work := make(chan *Batch, p.inflight)
	done := make(chan *Batch, p.inflight)
	var readErr error // set by the reader before it closes work
	go func() {
		defer close(work)
		seq := p.state.Batches
		for {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			b, err := p.rd.Read(p.batchRows)
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				return
			}
			b.Seq, b.frac = seq, p.rd.Fraction()
			seq++
			select {
			case work <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	p.outFree = make(chan []*tfd.Tensor, p.inflight)
	for range p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(p)
			defer w.close()
			if p.mapped != nil {
				debug.SetPanicOnFault(true)
			}
			for b := range work {
				if err := ctx.Err(); err != nil {
					b.err = context.Cause(ctx)
				} else {
					b.outs, b.own, b.err = w.score(ctx, b)
				}
				if b.err != nil && p.mapped != nil {
					if err := p.mapped.shrank(); err != nil {
						b.err = err
					}
				}
				done <- b
			}
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()

	pending := map[int64]*Batch{}
	want := p.state.Batches
	lastSave := time.Now()
	var werr error
	for b := range done {
		if werr != nil {
			continue // drain
		}
		pending[b.Seq] = b
		for werr == nil {
			nb, ok := pending[want]
			if !ok {
				break
			}
			delete(pending, want)
			if nb.err != nil {
				werr = nb.err
			} else if err := p.w.write(nb); err != nil {
				werr = err
			}
			if werr != nil {
				cancel(werr)
				break
			}
			if nb.release != nil {
				nb.release()
			}
			if nb.own {
				p.recycle(nb.outs)
			}
			<-slots
			want++
			p.state.Batches, p.state.Pos, p.frac = want, nb.Pos, nb.frac
			p.progress.Update(p.stats())
			if time.Since(lastSave) >= p.every {
				if err := p.checkpoint(); err != nil {
					werr = err
					cancel(err)
					break
				}
				lastSave = time.Now()
			}
		}
	}
	if werr == nil {
		werr = readErr // the reader closed work before the workers ended
	}
	if werr == nil && parent.Err() != nil {
		werr = parent.Err() // the reader stopped early
	}
	if werr != nil {
		if parent.Err() != nil && (p.state.Batches > 0 || p.w.st.Rejected > 0) {
			if err := p.checkpoint(); err != nil {
				return errors.Join(werr, err)
			}
		}
		return werr
	}
	return nil
}

// checkpoint syncs the work files and records the position in the side
// file.
func (p *pipeline) checkpoint() error {
	ws, err := p.w.checkpoint()
	if err != nil {
		return err
	}
	p.state.Writer = ws
	return p.state.save(p.work)
}
