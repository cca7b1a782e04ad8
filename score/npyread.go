package score

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/internal/npy"
	"github.com/tfdgo/tfd/tensor"
)

// npyMaxWhole bounds the arrays read whole instead of streamed: unbatched
// inputs and Fortran-order files, which cannot be read row by row.
const npyMaxWhole = 1 << 30

// npyArray streams the rows of one array of a .npy file or .npz entry.
type npyArray struct {
	name    string // file name, "file.npz[key]" for an npz entry
	field   Field
	h       npy.Header
	r       io.Reader
	closer  io.Closer
	whole   *tfd.Tensor // unbatched input or in-memory array
	batched bool
	row     int64
	raw     []byte
	free    chan *tfd.Tensor // storage of batches written, for reuse
	mm      *npyMap          // the file's mapping, when rows are views of it
}

// errShrank reports a mapped file that became shorter while it was read.
var errShrank = errors.New("the file shrank while it was read")

// npyOpenArray checks an array against the field it feeds and prepares
// to stream it. r is positioned after the header; open re-reads the whole
// array when it cannot be streamed.
func npyOpenArray(name string, f Field, h npy.Header, r io.Reader, closer io.Closer, size int64, openWhole func() (*tfd.Tensor, error)) (*npyArray, error) {
	a := &npyArray{name: name, field: f, h: h, r: r, closer: closer, free: make(chan *tfd.Tensor, 16)}
	if size >= 0 && size < h.DataBytes() {
		return nil, fmt.Errorf("score: %s: data truncated: shape %v of %q needs %d bytes, the file holds %d", name, h.Shape, h.Descr, h.DataBytes(), size)
	}
	a.batched = f.Batched() && len(h.Shape) > 0
	check := h.Shape
	if f.DType != tensor.Invalid && f.DType != h.DType {
		empty, err := tensor.New(h.DType, tensor.Shape{0}, 0)
		if err != nil {
			return nil, fmt.Errorf("score: %s: %w", name, err)
		}
		if _, err := tfd.ConvertFeed(empty, f.DType); err != nil {
			return nil, fmt.Errorf("score: %s: input %q: %w", name, f.Key, err)
		}
	}
	if !f.Shape.Matches(check) {
		return nil, fmt.Errorf("score: %s: feed %q: shape %v does not match the placeholder's shape %v", name, f.Tensor, h.Shape, f.Shape)
	}
	if a.batched && !(h.Fortran && len(h.Shape) > 1) {
		return a, nil
	}
	if h.DataBytes() > npyMaxWhole {
		if h.Fortran {
			return nil, fmt.Errorf("score: %s: a Fortran-order array of %d bytes cannot be streamed; save it in C order (numpy.ascontiguousarray)", name, h.DataBytes())
		}
		return nil, fmt.Errorf("score: %s: input %q is not batched (placeholder shape %v) and its %d bytes are too many to feed whole", name, f.Key, f.Shape, h.DataBytes())
	}
	t, err := openWhole()
	if err != nil {
		return nil, err
	}
	if f.DType != tensor.Invalid && t.DType() != f.DType {
		if t, err = tfd.ConvertFeed(t, f.DType); err != nil {
			return nil, fmt.Errorf("score: %s: input %q: %w", name, f.Key, err)
		}
	}
	a.whole = t
	return a, nil
}

func (a *npyArray) rows() int64 { return int64(a.h.Rows()) }

// skip moves past n rows, seeking when the stream can.
func (a *npyArray) skip(n int64) error {
	if !a.batched || n == 0 {
		a.row += n
		return nil
	}
	if a.whole == nil {
		bytes := n * int64(a.h.RowBytes())
		if s, ok := a.r.(io.Seeker); ok {
			if _, err := s.Seek(bytes, io.SeekCurrent); err != nil {
				return fmt.Errorf("score: %s: %w", a.name, err)
			}
		} else if _, err := io.CopyN(io.Discard, a.r, bytes); err != nil {
			return fmt.Errorf("score: %s: skipping %d rows: %w", a.name, n, err)
		}
	}
	a.row += n
	return nil
}

// read returns the next k rows, and a function (or nil) that gives their
// storage back once they are no longer used.
func (a *npyArray) read(k int) (*tfd.Tensor, func(), error) {
	if !a.batched {
		return a.whole, nil, nil
	}
	lo := a.row
	a.row += int64(k)
	if a.whole != nil {
		t, err := a.whole.SliceRows(int(lo), int(lo)+k)
		return t, nil, err
	}
	rb := a.h.RowBytes()
	if a.mm != nil {
		t, release, err := a.view(lo, k)
		if err != errNoPopulate {
			return t, release, err
		}
		if err := a.unmap(lo); err != nil { // read the file from here on
			return nil, nil, err
		}
	}
	shape := append(tensor.Shape{k}, a.h.RowShape()...)
	t, err := a.get(shape)
	if err != nil {
		return nil, nil, fmt.Errorf("score: %s: %w", a.name, err)
	}
	if need := k * rb; need > 0 {
		raw, direct := a.h.Raw(t)
		if !direct {
			if cap(a.raw) < need {
				a.raw = make([]byte, need)
			}
			raw = a.raw[:need]
		}
		if n, err := io.ReadFull(a.r, raw); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, nil, fmt.Errorf("score: %s: data truncated at row %d of %d", a.name, lo+int64(n/rb), a.rows())
			}
			return nil, nil, fmt.Errorf("score: %s: %w", a.name, err)
		}
		if !direct {
			if err := a.h.DecodeRows(t, 0, raw); err != nil {
				return nil, nil, fmt.Errorf("score: %s: %w", a.name, err)
			}
		}
	}
	if a.field.DType != tensor.Invalid && t.DType() != a.field.DType {
		c, err := tfd.ConvertFeed(t, a.field.DType)
		if err != nil {
			return nil, nil, &RowError{File: a.name, Row: lo + npyBadRow(t, a.field.DType), Offset: -1, Err: fmt.Errorf("input %q: %w", a.field.Key, err)}
		}
		a.put(t)
		return c, nil, nil
	}
	return t, func() { a.put(t) }, nil
}

// unmap makes the array read the file instead of its mapping, from row
// lo on.
func (a *npyArray) unmap(lo int64) error {
	if a.mm == nil {
		return nil
	}
	a.mm.close()
	a.mm = nil
	if _, err := a.r.(io.Seeker).Seek(a.h.DataOffset+lo*int64(a.h.RowBytes()), io.SeekStart); err != nil {
		return fmt.Errorf("score: %s: %w", a.name, err)
	}
	return nil
}

// view returns rows lo to lo+k as a tensor over the mapping, and the
// function that lets the pages of the rows before them go once written.
func (a *npyArray) view(lo int64, k int) (*tfd.Tensor, func(), error) {
	rb := int64(a.h.RowBytes())
	b, err := a.mm.rows(lo*rb, int64(k)*rb)
	if err == errShrank {
		return nil, nil, fmt.Errorf("score: %s: data truncated: %w (rows %d to %d of %d)", a.name, err, lo, lo+int64(k), a.rows())
	}
	if err != nil {
		return nil, nil, err
	}
	t, ok := a.h.View(b, k)
	if !ok { // npyOpenFile checked Viewable
		return nil, nil, fmt.Errorf("score: %s: rows %d to %d cannot be viewed in place", a.name, lo, lo+int64(k))
	}
	end := (lo + int64(k)) * rb
	return t, func() { a.mm.done(end) }, nil
}

// get returns a tensor of the given shape, reusing the storage of a batch
// already written when it has the size.
func (a *npyArray) get(shape tensor.Shape) (*tfd.Tensor, error) {
	select {
	case t := <-a.free:
		if t.Shape().Equal(shape) {
			return t, nil
		}
	default:
	}
	return tensor.New(a.h.DType, shape, 0)
}

// put makes t's storage available to get; t must not be used afterwards.
func (a *npyArray) put(t *tfd.Tensor) {
	select {
	case a.free <- t:
	default:
	}
}

// npyBadRow finds the first row of t that does not convert to dt.
func npyBadRow(t *tfd.Tensor, dt tfd.DType) int64 {
	for i := range t.Shape()[0] {
		row, err := t.SliceRows(i, i+1)
		if err != nil {
			return 0
		}
		if _, err := tfd.ConvertFeed(row, dt); err != nil {
			return int64(i)
		}
	}
	return 0
}

// npyReader reads batches from one or more arrays with the same number of
// rows; unbatched inputs are fed whole with every batch.
type npyReader struct {
	arrays []*npyArray
	total  int64 // rows of the batched arrays
	row    int64
	zip    io.Closer
}

func (r *npyReader) Rows() int64 { return r.total - r.row }

func (r *npyReader) Fraction() float64 {
	if r.total == 0 {
		return 1
	}
	return float64(r.row) / float64(r.total)
}

func (r *npyReader) Read(n int) (*Batch, error) {
	if n < 1 {
		return nil, fmt.Errorf("score: batch of %d rows", n)
	}
	if r.row >= r.total {
		return nil, io.EOF
	}
	k := int(min(int64(n), r.total-r.row))
	b := &Batch{Start: r.row, Records: k, Rows: k, Feeds: make(map[string]*tfd.Tensor, len(r.arrays))}
	var releases []func()
	for _, a := range r.arrays {
		t, release, err := a.read(k)
		if err != nil {
			for _, rel := range releases {
				rel()
			}
			return nil, err
		}
		b.Feeds[a.field.Tensor] = t
		if release != nil {
			releases = append(releases, release)
		}
	}
	if len(releases) > 0 {
		b.release = func() {
			for _, rel := range releases {
				rel()
			}
		}
	}
	r.row += int64(k)
	b.Pos = Pos{Row: r.row}
	return b, nil
}

// mapped reports whether an array is read through a memory mapping.
func (r *npyReader) mapped() bool {
	for _, a := range r.arrays {
		if a.mm != nil {
			return true
		}
	}
	return false
}

// unmap makes every array read its file instead of its mapping.
func (r *npyReader) unmap() error {
	for _, a := range r.arrays {
		if err := a.unmap(a.row); err != nil {
			return err
		}
	}
	return nil
}

// shrank returns an error naming a mapped file that is now too short for
// its data, or nil: what made a run over rows of the mapping fault.
func (r *npyReader) shrank() error {
	for _, a := range r.arrays {
		f, ok := a.closer.(*os.File)
		if a.mm == nil || !ok {
			continue
		}
		need := a.h.DataOffset + a.h.DataBytes()
		if st, err := f.Stat(); err == nil && st.Size() < need {
			return fmt.Errorf("score: %s: data truncated: %w (%d bytes now, the data needs %d)", a.name, errShrank, st.Size(), need)
		}
	}
	return nil
}

func (r *npyReader) Close() error {
	var first error
	for _, a := range r.arrays {
		if err := a.mm.close(); err != nil && first == nil {
			first = err
		}
		if a.closer != nil {
			if err := a.closer.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	if r.zip != nil {
		if err := r.zip.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// finish checks row counts and positions the arrays at start.
func (r *npyReader) finish(start Pos) error {
	r.total = -1
	var first *npyArray
	for _, a := range r.arrays {
		if !a.batched {
			continue
		}
		if r.total >= 0 && a.rows() != r.total {
			return fmt.Errorf("score: inputs have different row counts: %s has %d, %s has %d", first.name, first.rows(), a.name, a.rows())
		}
		r.total, first = a.rows(), a
	}
	if r.total < 0 {
		r.total = 1 // nothing batched: one run with every input whole
	}
	if start.Row < 0 || start.Row > r.total {
		return fmt.Errorf("score: cannot resume at row %d of %d", start.Row, r.total)
	}
	for _, a := range r.arrays {
		if err := a.skip(start.Row); err != nil {
			return err
		}
	}
	r.row = start.Row
	return nil
}

// unbatched reports whether no input is batched: the job runs once on the
// inputs as they are.
func (r *npyReader) unbatched() bool {
	for _, a := range r.arrays {
		if a.batched {
			return false
		}
	}
	return true
}

// NamedFile is one .npy input: the model input it feeds (a signature key
// or tensor name) and its path.
type NamedFile struct {
	Name string
	Path string
}

// openNPY opens one .npy file per input. With mapped, batched arrays whose
// data can be used as it is in the file are memory-mapped and batches are
// views of the mapping (see npyMap); each batch's release function must
// then be called, in order, once it is written, and no batch may be used
// after Close.
func openNPY(files []NamedFile, fields []Field, start Pos, mapped bool) (*npyReader, error) {
	r := &npyReader{}
	seen := map[string]string{}
	for _, nf := range files {
		f, ok := fieldFor(fields, nf.Name)
		if !ok {
			// Any tensor of the graph may be fed.
			f = Field{Key: nf.Name, Tensor: nf.Name, Shape: tensor.UnknownShape()}
		}
		if prev, dup := seen[f.Tensor]; dup {
			r.Close()
			return nil, fmt.Errorf("score: input %q given twice (%s and %s)", f.Key, prev, nf.Path)
		}
		seen[f.Tensor] = nf.Path
		a, err := npyOpenFile(nf.Path, f, mapped)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.arrays = append(r.arrays, a)
	}
	if err := r.finish(start); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func npyOpenFile(path string, f Field, mapped bool) (*npyArray, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	h, err := npy.ReadHeader(fh)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("score: %s: %w", path, err)
	}
	size := int64(-1)
	if st, err := fh.Stat(); err == nil {
		size = st.Size() - h.DataOffset
	}
	a, err := npyOpenArray(path, f, h, fh, fh, size, func() (*tfd.Tensor, error) { return tfd.ReadNPY(path) })
	if err != nil {
		fh.Close()
		return nil, err
	}
	if mapped && a.batched && a.whole == nil && (f.DType == tensor.Invalid || f.DType == h.DType) && h.Viewable() {
		a.mm, _ = npyMapFile(fh, h.DataOffset, h.DataOffset+h.DataBytes())
	}
	return a, nil
}

// openNPZ opens the arrays of an .npz file that feed the fields: entry
// "key.npy" feeds the input key. A file with a single entry (numpy.savez's
// "arr_0") feeds a model with a single required input.
func openNPZ(path string, fields []Field, start Pos) (*npyReader, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("score: %w", err)
	}
	zr, err := zip.NewReader(fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("score: %s: %w", path, err)
	}
	r := &npyReader{zip: fh}
	entries := map[string]*zip.File{}
	var names []string
	for _, zf := range zr.File {
		key := strings.TrimSuffix(zf.Name, ".npy")
		entries[key] = zf
		names = append(names, key)
	}
	sort.Strings(names)
	var required []Field
	for _, f := range fields {
		if !f.Optional {
			required = append(required, f)
		}
	}
	matched := 0
	for _, f := range fields {
		zf, ok := entries[f.Key]
		if !ok {
			zf, ok = entries[f.Tensor]
		}
		if !ok && len(entries) == 1 && len(required) == 1 && required[0].Key == f.Key {
			zf, ok = entries[names[0]], true
		}
		if !ok {
			if f.Optional {
				continue
			}
			r.Close()
			return nil, fmt.Errorf("score: %s has no array for input %q (arrays: %s)", path, f.Key, strings.Join(names, ", "))
		}
		a, err := npzOpenEntry(path, fh, zf, f)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.arrays = append(r.arrays, a)
		matched++
	}
	if matched == 0 {
		r.Close()
		return nil, fmt.Errorf("score: %s: no array matches an input of the model", path)
	}
	if err := r.finish(start); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func npzOpenEntry(path string, at io.ReaderAt, zf *zip.File, f Field) (*npyArray, error) {
	name := fmt.Sprintf("%s[%s]", path, zf.Name)
	var (
		rd     io.Reader
		closer io.Closer
	)
	if zf.Method == zip.Store {
		off, err := zf.DataOffset()
		if err != nil {
			return nil, fmt.Errorf("score: %s: %w", name, err)
		}
		// Stored entries are read in place, so resuming seeks.
		rd = io.NewSectionReader(at, off, int64(zf.UncompressedSize64))
	} else {
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("score: %s: %w", name, err)
		}
		rd, closer = rc, rc
	}
	h, err := npy.ReadHeader(rd)
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, fmt.Errorf("score: %s: %w", name, err)
	}
	size := int64(zf.UncompressedSize64) - h.DataOffset
	a, err := npyOpenArray(name, f, h, rd, closer, size, func() (*tfd.Tensor, error) {
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("score: %s: %w", name, err)
		}
		defer rc.Close()
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, io.LimitReader(rc, npyMaxWhole+1<<20)); err != nil {
			return nil, fmt.Errorf("score: %s: %w", name, err)
		}
		t, err := npy.Read(&buf, npy.Limits{})
		if err != nil {
			return nil, fmt.Errorf("score: %s: %w", name, err)
		}
		return t, nil
	})
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, err
	}
	return a, nil
}
