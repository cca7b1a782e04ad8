package score

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/tensor"
)

// worker is one scoring goroutine's run state. For a *tfd.Model it keeps a
// tfd.Runner over the model's shared plan, so that steady runs reuse their
// memory, and writes the outputs into tensors recycled from batches already
// written: a job then allocates next to nothing per batch, and the garbage
// collector, which otherwise ran every few batches and stopped the other
// workers each time, stays idle. Other models (ensembles) run through
// Runner.Run.
type worker struct {
	p      *pipeline
	m      *tfd.Model
	r      *tfd.Runner
	names  []string      // the runner's feeds, sorted
	in     []*tfd.Tensor // feeds in names' order
	metas  []outMeta     // output dtypes and row shapes, once known
	failed bool          // the outputs are not one row per input row
	step   int           // rows per run when a batch is run in slices; 0: whole
	sin    []*tfd.Tensor // feeds of a slice
	sout   []*tfd.Tensor // outputs of a slice
}

// sliceBytes bounds the memory a run's tensors hold at once, above which a
// worker runs its batch in slices of rows: the tensors of a slice stay in
// the caches between one kernel and the next. Measured on the CNN, whose
// runs on 256 rows hold 7.8 MB: runs on 64 or 128 rows (2 to 4 MB) cost
// 7.4 µs a row against 8.4 at 256, on one worker and on two.
const sliceBytes = 4 << 20

func newWorker(p *pipeline) *worker {
	m, _ := p.job.Model.(*tfd.Model)
	return &worker{p: p, m: m}
}

// score runs the model on b and returns its outputs, and whether they are
// the pipeline's to recycle once written. When the feeds are views of
// mapped files, the worker goroutine panics on a fault instead of
// crashing (debug.SetPanicOnFault): kernels' panics come back as errors,
// and a fault elsewhere in the run is turned into one here; the pipeline
// then names the file that shrank.
func (w *worker) score(ctx context.Context, b *Batch) (outs []*tfd.Tensor, own bool, err error) {
	p := w.p
	if p.mapped != nil {
		defer func() {
			if r := recover(); r != nil {
				f, ok := r.(interface{ Addr() uintptr })
				if !ok {
					panic(r)
				}
				outs, own, err = nil, false, fmt.Errorf("score: memory fault at %#x while scoring rows %d to %d of a mapped input", f.Addr(), b.Start, b.Start+int64(b.Records))
			}
		}()
	}
	return w.run(ctx, b)
}

func (w *worker) run(ctx context.Context, b *Batch) ([]*tfd.Tensor, bool, error) {
	p := w.p
	if b.Rows == 0 && !p.w.whole {
		return nil, false, nil
	}
	if w.m == nil || p.w.whole || w.failed {
		outs, err := p.runner.Run(ctx, b.Feeds, p.intra)
		return outs, false, err
	}
	if err := w.bind(b.Feeds); err != nil {
		return nil, false, err
	}
	defer clear(w.in)
	if outs := w.outputs(b.Rows); outs != nil {
		if err := w.runInto(ctx, b.Rows, outs); err == nil {
			return outs, true, nil
		}
		// The outputs' shapes changed, or the run failed: Run tells.
		p.recycle(outs)
	}
	outs, err := w.r.Run(ctx, w.in...)
	if err != nil {
		return nil, false, err
	}
	own := make([]*tfd.Tensor, len(outs))
	w.metas = make([]outMeta, len(outs))
	for i, t := range outs {
		if t.Rank() == 0 || t.Shape()[0] != b.Rows {
			w.failed, w.metas = true, nil // the writer reports it
		} else if w.metas != nil {
			w.metas[i] = outMeta{DType: t.DType(), RowShape: t.Shape()[1:].Clone()}
		}
		own[i] = t.Clone()
	}
	w.step = 0
	if peak := w.r.PeakBytes(); peak > sliceBytes && w.metas != nil && w.batched(b.Rows) {
		w.step = max(8, int(int64(b.Rows)*sliceBytes/peak))
	}
	return own, true, nil
}

// batched reports whether every feed has rows rows, so that the batch can
// be run in slices.
func (w *worker) batched(rows int) bool {
	for _, t := range w.in {
		if t.Rank() == 0 || t.Shape()[0] != rows {
			return false
		}
	}
	return true
}

// runInto runs the batch into outs, in slices of w.step rows when a run
// on the whole batch holds more than sliceBytes.
func (w *worker) runInto(ctx context.Context, rows int, outs []*tfd.Tensor) error {
	if w.step == 0 || rows <= w.step || !w.batched(rows) {
		return w.r.RunInto(ctx, w.in, outs)
	}
	if len(w.sin) != len(w.in) {
		w.sin = make([]*tfd.Tensor, len(w.in))
	}
	if len(w.sout) != len(outs) {
		w.sout = make([]*tfd.Tensor, len(outs))
	}
	defer clear(w.sin)
	defer clear(w.sout)
	for lo := 0; lo < rows; lo += w.step {
		hi := min(lo+w.step, rows)
		var err error
		for i, t := range w.in {
			if w.sin[i], err = t.SliceRows(lo, hi); err != nil {
				return err
			}
		}
		for i, t := range outs {
			if w.sout[i], err = t.SliceRows(lo, hi); err != nil {
				return err
			}
		}
		if err := w.r.RunInto(ctx, w.sin, w.sout); err != nil {
			return err
		}
	}
	return nil
}

// bind puts the feeds in the runner's order, making the runner for this
// set of feeds if it has none yet.
func (w *worker) bind(feeds map[string]*tfd.Tensor) error {
	same := len(feeds) == len(w.names)
	for _, n := range w.names {
		if _, ok := feeds[n]; !ok {
			same = false
			break
		}
	}
	if !same {
		w.close()
		names := make([]string, 0, len(feeds))
		for n := range feeds {
			names = append(names, n)
		}
		sort.Strings(names)
		fetches := make([]string, len(w.p.fetches))
		for i, f := range w.p.fetches {
			fetches[i] = f.Tensor
		}
		r, err := w.m.NewRunner(names, fetches, tfd.RunOptions{Workers: w.p.intra})
		if err != nil {
			return err
		}
		w.r, w.names, w.in, w.metas = r, names, make([]*tfd.Tensor, len(names)), nil
	}
	for i, n := range w.names {
		w.in[i] = feeds[n]
	}
	return nil
}

// outputs returns tensors for the outputs of a batch of rows rows, recycled
// when the pipeline has a set of that shape, or nil while the outputs'
// shapes are unknown.
func (w *worker) outputs(rows int) []*tfd.Tensor {
	if w.metas == nil {
		return nil
	}
	if outs := w.p.reuse(); outs != nil {
		if len(outs) == len(w.metas) && w.fits(outs, rows) {
			return outs
		}
		w.p.recycle(outs)
	}
	outs := make([]*tfd.Tensor, len(w.metas))
	for i, m := range w.metas {
		t, err := tensor.New(m.DType, append(tensor.Shape{rows}, m.RowShape...), 0)
		if err != nil {
			return nil
		}
		outs[i] = t
	}
	return outs
}

func (w *worker) fits(outs []*tfd.Tensor, rows int) bool {
	for i, t := range outs {
		s := t.Shape()
		if t.DType() != w.metas[i].DType || len(s) == 0 || s[0] != rows || !slices.Equal(s[1:], w.metas[i].RowShape) {
			return false
		}
	}
	return true
}

func (w *worker) close() {
	if w.r != nil {
		w.r.Close()
		w.r = nil
	}
}
