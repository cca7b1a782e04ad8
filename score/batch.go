package score

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/tensor"
)

// ErrBadRow marks a row that cannot be fed: a value that does not parse or
// fit the input's dtype, a wrong number of values, a missing input. Test
// with errors.Is; errors.As finds the *RowError with the location.
var ErrBadRow = errors.New("bad row")

// RowError says which row of which file is bad, and why.
type RowError struct {
	File string // input file
	Row  int64  // 0-based index of the record among the file's records
	// Line is the 1-based line of the row in a text file, or 0.
	Line int64
	// Offset is the byte offset of the record in a TFRecord file, or -1.
	Offset int64
	Err    error
}

func (e *RowError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.FormatInt(e.Line, 10)
	}
	if e.Offset >= 0 {
		return fmt.Sprintf("score: %s: row %d (record at offset %d): %v", loc, e.Row, e.Offset, e.Err)
	}
	return fmt.Sprintf("score: %s: row %d: %v", loc, e.Row, e.Err)
}

func (e *RowError) Unwrap() []error { return []error{ErrBadRow, e.Err} }

// Reject is a bad row skipped under Job.SkipBadRows. Record holds what the
// row looked like: the CSV fields, the JSON line or the TFRecord bytes.
type Reject struct {
	RowError
	Record any
}

// Pos is a reader's position at a batch boundary: how many records it has
// consumed and where the next one starts. A job records it in its side
// file to resume.
type Pos struct {
	Row    int64 `json:"row"`              // records consumed, good or bad
	Offset int64 `json:"offset,omitempty"` // byte offset of the next record (uncompressed)
	Line   int64 `json:"line,omitempty"`   // lines consumed (text formats)
}

// Batch is a run of consecutive records read together.
type Batch struct {
	Seq     int64                  // 0-based batch number
	Start   int64                  // record index of the first record
	Records int                    // records read, good and bad
	Rows    int                    // good rows: the batch size fed
	Feeds   map[string]*tfd.Tensor // graph tensor name → rows (or a whole unbatched input)
	Rejects []Reject               // bad records skipped
	Pos     Pos                    // the reader's position after this batch

	outs []*tfd.Tensor
	own  bool // outs are the pipeline's, to recycle once written
	err  error
	frac float64 // the reader's Fraction after this batch
	// release, if set, gives the feeds' storage back to the reader once
	// the batch is written; the batch must not be used afterwards.
	release func()
}

// Reader reads an input file in batches of rows.
type Reader interface {
	// Read reads the next n records (fewer at the end of the input). It
	// returns io.EOF, and no batch, when no records are left. A bad row
	// ends the read with a *RowError unless the reader skips bad rows.
	Read(n int) (*Batch, error)
	// Rows returns the number of records left to read, or -1 if unknown.
	Rows() int64
	// Fraction returns how much of the input has been read, from 0 to 1,
	// or -1 if unknown.
	Fraction() float64
	// Close releases the files.
	Close() error
}

// rowBatcher gathers the rows of a row format (CSV, JSON Lines, tf.Example)
// into one tensor per input, converting values as they arrive.
type rowBatcher struct {
	fields   []Field
	cols     []column
	rowShape []tensor.Shape // per field; nil until known
	rowElems []int
	n        int // records the current batch may hold
	rows     int // good rows in the current batch
}

// newRowBatcher prepares columns for fields; row shapes fixed by the
// placeholders are known at once, the others are set by setRowShape.
func newRowBatcher(fields []Field) (*rowBatcher, error) {
	b := &rowBatcher{fields: fields, cols: make([]column, len(fields)),
		rowShape: make([]tensor.Shape, len(fields)), rowElems: make([]int, len(fields))}
	for i, f := range fields {
		c, err := newColumn(f.DType)
		if err != nil {
			return nil, fmt.Errorf("score: input %q: %w", f.Key, err)
		}
		b.cols[i] = c
		if dims, ok := f.rowDims(); ok && tensor.Known(dims).IsFullyKnown() {
			b.rowShape[i] = tensor.Shape(dims).Clone()
			b.rowElems[i] = b.rowShape[i].Size()
		}
	}
	return b, nil
}

// resolveRowShape fixes the row shape of field i from the number of values
// (count) a row holds, or from the nested shape of a JSON value (nested,
// may be nil). It fails when the data contradicts the placeholder.
func (b *rowBatcher) resolveRowShape(i int, count int, nested tensor.Shape) error {
	if b.rowShape[i] != nil {
		return nil
	}
	f := b.fields[i]
	dims, rankKnown := f.rowDims()
	var shape tensor.Shape
	switch {
	case nested != nil && !rankKnown:
		shape = nested.Clone()
	case nested != nil && len(nested) == len(dims) && tensor.Known(dims).Matches(nested):
		shape = nested.Clone()
	case !rankKnown:
		shape = tensor.Shape{count}
	default:
		known, unknown := 1, -1
		for d, n := range dims {
			if n < 0 {
				if unknown >= 0 {
					return fmt.Errorf("input %q has row shape %v with several unknown dimensions: cannot infer them from %d values", f.Key, tensor.Known(dims), count)
				}
				unknown = d
				continue
			}
			known *= n
		}
		if known == 0 || count%known != 0 {
			return fmt.Errorf("input %q has row shape %v: %d values do not fit it", f.Key, tensor.Known(dims), count)
		}
		shape = tensor.Shape(dims).Clone()
		shape[unknown] = count / known
	}
	b.rowShape[i] = shape
	b.rowElems[i] = shape.Size()
	if b.n > 0 {
		b.cols[i].alloc(b.n * b.rowElems[i])
	}
	return nil
}

// begin starts a batch of up to n rows.
func (b *rowBatcher) begin(n int) {
	b.n, b.rows = n, 0
	for i, c := range b.cols {
		if b.rowShape[i] != nil {
			c.alloc(n * b.rowElems[i])
		}
	}
}

// base returns the element offset of the current row in field i.
func (b *rowBatcher) base(i int) int { return b.rows * b.rowElems[i] }

// commit keeps the current row.
func (b *rowBatcher) commit() { b.rows++ }

// feeds returns the batch's tensors, keyed by graph tensor name.
func (b *rowBatcher) feeds() (map[string]*tfd.Tensor, error) {
	out := make(map[string]*tfd.Tensor, len(b.fields))
	for i, f := range b.fields {
		shape := append(tensor.Shape{b.rows}, b.rowShape[i]...)
		if b.rowShape[i] == nil {
			if b.rows > 0 {
				return nil, fmt.Errorf("score: internal error: row shape of %q unknown after %d rows", f.Key, b.rows)
			}
			// No row has fixed the shape: an empty batch of rank 1.
			shape = tensor.Shape{0}
			if dims, ok := f.rowDims(); ok {
				shape = make(tensor.Shape, len(dims)+1)
			}
			t, err := tensor.New(f.DType, shape, 0)
			if err != nil {
				return nil, err
			}
			out[f.Tensor] = t
			continue
		}
		t, err := b.cols[i].tensor(shape)
		if err != nil {
			return nil, err
		}
		out[f.Tensor] = t
	}
	return out, nil
}
