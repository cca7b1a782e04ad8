package score

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/internal/npy"
	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/tensor"
)

// mapReadAll reads every batch of an .npy reader, releasing each in turn
// as a job does, and returns copies of the feeds.
func mapReadAll(t *testing.T, files []NamedFile, fields []Field, start Pos, mapped bool, rows int) ([]map[string]*tfd.Tensor, *npyReader) {
	t.Helper()
	r, err := openNPY(files, fields, start, mapped)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]*tfd.Tensor
	for {
		b, err := r.Read(rows)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		feeds := map[string]*tfd.Tensor{}
		for k, v := range b.Feeds {
			feeds[k] = v.Clone()
		}
		got = append(got, feeds)
		if b.release != nil {
			b.release()
		}
	}
	return got, r
}

// TestNPYMappedMatchesRead reads .npy files through the mapping and
// through reads and checks every batch is the same, for dtypes of each
// element size, several inputs, odd batch sizes and resumed starts.
func TestNPYMappedMatchesRead(t *testing.T) {
	dir := t.TempDir()
	f32 := testmodels.Input(3, 1000, 37)
	i8 := tfd.FromSlice([]int{1000, 3}, make([]int8, 3000))
	u16 := tfd.FromSlice([]int{1000}, make([]uint16, 1000))
	f64 := tfd.FromSlice([]int{1000, 2}, make([]float64, 2000))
	for i := range 3000 {
		i8.Data().([]int8)[i] = int8(i*7 - 100)
	}
	for i := range 1000 {
		u16.Data().([]uint16)[i] = uint16(i * 65)
		f64.Data().([]float64)[2*i] = float64(i) / 3
	}
	files := []NamedFile{
		{"a", scoreWriteNPY(t, dir, "a.npy", f32)}, {"b", scoreWriteNPY(t, dir, "b.npy", i8)},
		{"c", scoreWriteNPY(t, dir, "c.npy", u16)}, {"d", scoreWriteNPY(t, dir, "d.npy", f64)},
	}
	var fields []Field
	for _, f := range files {
		fields = append(fields, Field{Key: f.Name, Tensor: f.Name, Shape: tensor.UnknownShape()})
	}
	for _, tc := range []struct{ start, rows int }{{0, 256}, {0, 1}, {0, 999}, {0, 5000}, {417, 33}, {1000, 8}} {
		t.Run(fmt.Sprintf("start=%d/rows=%d", tc.start, tc.rows), func(t *testing.T) {
			want, r := mapReadAll(t, files, fields, Pos{Row: int64(tc.start)}, false, tc.rows)
			r.Close()
			got, r := mapReadAll(t, files, fields, Pos{Row: int64(tc.start)}, true, tc.rows)
			if runtime.GOOS == "linux" {
				for _, a := range r.arrays {
					if a.mm == nil {
						t.Errorf("%s is not mapped", a.name)
					}
				}
			}
			if err := r.Close(); err != nil {
				t.Error(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d batches mapped, %d read", len(got), len(want))
			}
			for i := range got {
				for k := range want[i] {
					scoreEqual(t, fmt.Sprintf("batch %d input %s", i, k), got[i][k], want[i][k])
				}
			}
		})
	}
}

// TestNPYMappedNotUsed checks the inputs that are read instead of mapped:
// big-endian data, a dtype converted for the placeholder, and reading
// without a job (OpenReader), whose batches outlive no release.
func TestNPYMappedNotUsed(t *testing.T) {
	dir := t.TempDir()
	x := scoreWriteNPY(t, dir, "x.npy", testmodels.Input(1, 10, 4))
	be := filepath.Join(dir, "be.npy")
	raw, err := os.ReadFile(x)
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.Replace(string(raw), "'<f4'", "'>f4'", 1))
	if err := os.WriteFile(be, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	anyField := Field{Key: "x", Tensor: "x", Shape: tensor.UnknownShape()}
	f64Field := Field{Key: "x", Tensor: "x", DType: tensor.Float64, Shape: tensor.UnknownShape()}
	for _, tc := range []struct {
		name  string
		path  string
		field Field
	}{{"big-endian", be, anyField}, {"converted", x, f64Field}} {
		r, err := openNPY([]NamedFile{{"x", tc.path}}, []Field{tc.field}, Pos{}, true)
		if err != nil {
			t.Fatal(err)
		}
		if r.arrays[0].mm != nil {
			t.Errorf("%s: mapped", tc.name)
		}
		r.Close()
	}
	rd, err := OpenReader(Input{Files: []NamedFile{{"x", x}}}, []Field{anyField}, false, Pos{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if rd.(*npyReader).arrays[0].mm != nil {
		t.Error("OpenReader maps its input")
	}
}

// TestNPYMappedShrinks truncates a mapped file while it is read: the read
// of rows no longer there fails naming the file, instead of faulting.
func TestNPYMappedShrinks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("inputs are mapped on Linux only")
	}
	dir := t.TempDir()
	const rows = 4096
	x := scoreWriteNPY(t, dir, "x.npy", testmodels.Input(1, rows, 64)) // 1 MiB
	field := Field{Key: "x", Tensor: "x", Shape: tensor.UnknownShape()}
	r, err := openNPY([]NamedFile{{"x", x}}, []Field{field}, Pos{}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.arrays[0].mm == nil {
		t.Fatal("not mapped")
	}
	if _, err := r.Read(16); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(x, 64<<10); err != nil {
		t.Fatal(err)
	}
	var readErr error
	for readErr == nil {
		_, readErr = r.Read(256)
	}
	if readErr == io.EOF || !strings.Contains(readErr.Error(), "x.npy: data truncated: the file shrank") {
		t.Fatalf("got %v, want the file named as truncated", readErr)
	}
}

// TestJobMappedMatchesRead scores the README MLP with mapped and with read
// inputs, on one and three workers: the outputs are the same bytes, and
// each row equals a direct run of the model on that row's batch.
func TestJobMappedMatchesRead(t *testing.T) {
	m := scoreLoad(t, "mlp.pb")
	dir := t.TempDir()
	const rows, batch = 1000, 96
	x := testmodels.Input(5, rows, testmodels.MLPIn)
	in := Input{Files: []NamedFile{{"input", scoreWriteNPY(t, dir, "x.npy", x)}}}
	var first string
	for _, tc := range []struct {
		workers, batch int
		noMap          bool
	}{{1, batch, true}, {1, batch, false}, {3, batch, false}, {3, batch, true},
		{4, 500, false}, // two batches on four workers: two per run, read
	} {
		out := filepath.Join(dir, fmt.Sprintf("w%d-b%d-nomap%v", tc.workers, tc.batch, tc.noMap))
		j := &Job{Model: m, Input: in, Output: Output{Dir: out}, Workers: tc.workers, BatchRows: tc.batch, noMap: tc.noMap}
		res, err := j.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = res.Files[0]
			got := scoreReadNPY(t, first)
			for lo := 0; lo < rows; lo += batch {
				hi := min(lo+batch, rows)
				xb, _ := x.SliceRows(lo, hi)
				gb, _ := got.SliceRows(lo, hi)
				scoreEqual(t, fmt.Sprintf("rows %d to %d", lo, hi), gb, scoreDirect(t, m, "input", xb, "output"))
			}
			continue
		}
		scoreSameFile(t, res.Files[0], first)
	}
}

// TestJobRecyclesOutputs checks that a job over a *tfd.Model writes its
// outputs into recycled tensors and reads mapped rows: the heap allocated
// over the whole job stays well under the size of its output.
func TestJobRecyclesOutputs(t *testing.T) {
	m := scoreLoad(t, "mlp.pb")
	dir := t.TempDir()
	const rows = 20000
	in := Input{Files: []NamedFile{{"input", scoreWriteNPY(t, dir, "x.npy", testmodels.Input(9, rows, testmodels.MLPIn))}}}
	j := &Job{Model: m, Input: in, Output: Output{Dir: filepath.Join(dir, "out")}, Workers: 2, BatchRows: 256}
	if _, err := j.Run(context.Background()); err != nil { // plans and layouts
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	out := int64(rows * testmodels.MLPOut * 4)
	got := int64(after.TotalAlloc - before.TotalAlloc)
	t.Logf("%d bytes allocated scoring %d rows into %d bytes of output", got, rows, out)
	if got > out/4 {
		t.Errorf("the job allocated %d bytes for %d bytes of output", got, out)
	}
}

// TestWorkerSlicesBigRuns checks that a worker runs a batch whose run
// holds more than sliceBytes in slices of rows (the CNN on 256 rows holds
// 7.8 MB), and that the rows come out as a run on the whole batch gives
// them, bit for bit.
func TestWorkerSlicesBigRuns(t *testing.T) {
	m := scoreLoad(t, "cnn.pb")
	fetches := []Fetch{{Key: "output", Tensor: "output"}}
	p := &pipeline{job: &Job{Model: m}, fetches: fetches, intra: 1, w: &writer{},
		runner: NewRunner(m, "", fetches), outFree: make(chan []*tfd.Tensor, 4)}
	w := newWorker(p)
	defer w.close()
	for i, rows := range []int{256, 256, 200, 7} {
		x := testmodels.Input(uint64(i), rows, 28, 28, 1)
		outs, own, err := w.score(context.Background(), &Batch{Rows: rows, Feeds: map[string]*tfd.Tensor{"input": x}})
		if err != nil {
			t.Fatal(err)
		}
		if !own {
			t.Fatal("outputs not recycled")
		}
		if i == 0 && w.step == 0 {
			t.Fatalf("peak %d bytes on %d rows, and no slicing", w.r.PeakBytes(), rows)
		}
		scoreEqual(t, fmt.Sprintf("batch %d of %d rows (slices of %d)", i, rows, w.step), outs[0], scoreDirect(t, m, "input", x, "output"))
		p.recycle(outs)
	}
}

// FuzzNPYMapped opens arbitrary bytes as an .npy input, once mapped and
// once read, and reads both in batches of 5 rows, releasing each batch as
// a job does. Properties: no panic or fault; errors name the file; the
// two readers give the same batches, or both fail.
func FuzzNPYMapped(f *testing.F) {
	dir := f.TempDir()
	for i, x := range []*tfd.Tensor{
		testmodels.Input(1, 12, 3),
		tfd.FromSlice([]int{7}, []int16{1, -2, 3, -4, 5, -6, 7}),
		tfd.FromSlice([]int{0, 4}, []float64{}),
		tfd.FromSlice([]int{3, 2}, []uint8{0, 1, 2, 3, 254, 255}),
	} {
		b, err := os.ReadFile(scoreWriteNPY(f, dir, fmt.Sprintf("seed%d.npy", i), x))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-3]) // truncated data
	}
	field := Field{Key: "x", Tensor: "x", Shape: tensor.UnknownShape()}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "in.npy")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		read := func(mapped bool) ([]*tfd.Tensor, error) {
			r, err := openNPY([]NamedFile{{"x", path}}, []Field{field}, Pos{}, mapped)
			if err != nil {
				return nil, err
			}
			defer r.Close()
			var got []*tfd.Tensor
			for len(got) < 1000 {
				b, err := r.Read(5)
				if err == io.EOF {
					break
				}
				if err != nil {
					return nil, err
				}
				got = append(got, b.Feeds["x"].Clone())
				if b.release != nil {
					b.release()
				}
			}
			return got, nil
		}
		want, werr := read(false)
		got, gerr := read(true)
		for _, err := range []error{werr, gerr} {
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
		}
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("read: %v; mapped: %v", werr, gerr)
		}
		if len(got) != len(want) {
			t.Fatalf("%d batches mapped, %d read", len(got), len(want))
		}
		for i := range got {
			if !fzSameBits(got[i], want[i]) {
				t.Fatalf("batch %d: mapped %v, read %v", i, got[i], want[i])
			}
		}
	})
}

// fzSameBits reports whether two tensors have the same dtype, shape and
// element bits (NaNs included).
func fzSameBits(a, b *tfd.Tensor) bool {
	if a.DType() != b.DType() || !a.Shape().Equal(b.Shape()) {
		return false
	}
	x, okA := npy.Bytes(a)
	y, okB := npy.Bytes(b)
	if okA && okB {
		return bytes.Equal(x, y)
	}
	return tensor.Equal(a, b)
}

// shrinkReader truncates the file after handing out its second batch,
// whose rows were populated already, and reads no further.
type shrinkReader struct {
	Reader
	path string
	size int64
	n    int
}

func (r *shrinkReader) Read(n int) (*Batch, error) {
	if r.n == 2 {
		return nil, io.EOF
	}
	b, err := r.Reader.Read(n)
	if r.n++; r.n == 2 && err == nil {
		if err := os.Truncate(r.path, r.size); err != nil {
			return nil, err
		}
	}
	return b, err
}

// TestJobMappedInputTruncated truncates a mapped input between the
// reading of a batch and its run: the run faults on the mapping, and the
// job fails with an error naming the file instead of crashing.
func TestJobMappedInputTruncated(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("inputs are mapped on Linux only")
	}
	m := scoreLoad(t, "mlp.pb")
	for _, workers := range []int{1, 2} {
		dir := t.TempDir()
		x := scoreWriteNPY(t, dir, "x.npy", testmodels.Input(1, 8192, testmodels.MLPIn)) // 25 MB
		j := &Job{Model: m, Input: Input{Files: []NamedFile{{"input", x}}}, Output: Output{Dir: filepath.Join(dir, "out")},
			Workers: workers, BatchRows: 1024,
			wrapReader: func(r Reader) Reader { return &shrinkReader{Reader: r, path: x, size: 4096} }}
		_, err := j.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "x.npy: data truncated: the file shrank") {
			t.Fatalf("workers=%d: got %v, want the file named as truncated", workers, err)
		}
		if _, serr := os.Stat(filepath.Join(dir, "out", "output.npy")); serr == nil {
			t.Errorf("workers=%d: an output was left", workers)
		}
	}
}
