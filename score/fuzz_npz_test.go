package score

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/internal/npy"
	"github.com/tfdgo/tfd/tensor"
)

// fzNPZ builds an .npz archive of the given arrays, each stored with the
// given method.
func fzNPZ(t testing.TB, method uint16, arrays ...any) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	for i := 0; i < len(arrays); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: arrays[i].(string), Method: method})
		if err != nil {
			t.Fatal(err)
		}
		switch a := arrays[i+1].(type) {
		case *tfd.Tensor:
			if err := npy.Write(w, a); err != nil {
				t.Fatal(err)
			}
		case []byte:
			w.Write(a)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

// FuzzNPZReader opens arbitrary bytes as an .npz input feeding x (float32
// [-1, 2]), i (int32 [-1, 1]) and, when present, s (string [-1]), and
// reads it in batches of 3 rows. Properties: no panic; errors name the
// file; what reads has one row per record in every feed; and the numeric
// rows, written by the .npz output writer and read back, are unchanged.
func FuzzNPZReader(f *testing.F) {
	x := tfd.FromSlice([]int{3, 2}, []float32{1, 2, 3, 4, 5, 6})
	i := tfd.FromSlice([]int{3, 1}, []int32{7, 8, 9})
	s := tfd.FromSlice([]int{3}, []string{"a", "", "ccc"})
	f.Add(fzNPZ(f, zip.Store, "x.npy", x, "i.npy", i))
	f.Add(fzNPZ(f, zip.Deflate, "x.npy", x, "i.npy", i, "s.npy", s))
	f.Add(fzNPZ(f, zip.Store, "i.npy", tfd.FromSlice([]int{2, 1}, []int64{1 << 40, -1}), "x.npy", tfd.FromSlice([]int{2, 2}, []float64{0.5, -1e300, 2, 3})))
	f.Add(fzNPZ(f, zip.Store, "x.npy", tfd.FromSlice([]int{0, 2}, []float32{}), "i.npy", tfd.FromSlice([]int{0, 1}, []int32{})))
	f.Add(fzNPZ(f, zip.Deflate, "x.npy", x, "i.npy", []byte("\x93NUMPY\x01\x00")))
	dir := f.TempDir()
	fields := []Field{readXField, readIField, {Key: "s", Tensor: "s:0", DType: tensor.String, Shape: tensor.Known(tensor.Shape{-1}), Optional: true}}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "in.npz")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := openNPZ(path, fields, Pos{})
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		defer r.Close()
		var batches []*Batch
		for {
			b, err := r.Read(3)
			if err == io.EOF {
				break
			}
			if err != nil {
				if !strings.Contains(err.Error(), path) {
					t.Fatalf("error %q does not name the file", err)
				}
				return
			}
			for name, v := range b.Feeds {
				if v.Rank() == 0 || v.Shape()[0] != b.Rows {
					t.Fatalf("feed %q of shape %v for %d rows", name, v.Shape(), b.Rows)
				}
			}
			batches = append(batches, b)
		}
		if len(batches) == 0 {
			return
		}
		fzNPZRoundTrip(t, batches)
	})
}

// fzNPZRoundTrip writes the x and i feeds of the batches with the .npz
// output writer and checks that reading the archive gives them back.
func fzNPZRoundTrip(t *testing.T, batches []*Batch) {
	out, work := t.TempDir(), t.TempDir()
	fetches := []Fetch{{Key: "x", Tensor: "x"}, {Key: "i", Tensor: "i"}}
	w, err := newWriter(Output{Dir: out, Format: NPZ}, work, fetches, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	want := map[string][]*tfd.Tensor{}
	for _, b := range batches {
		outs := []*tfd.Tensor{b.Feeds["x"], b.Feeds["i"]}
		if err := w.write(&Batch{Rows: b.Rows, outs: outs}); err != nil {
			t.Fatalf("writing rows read from an .npz: %v", err)
		}
		want["x"] = append(want["x"], outs[0])
		want["i"] = append(want["i"], outs[1])
	}
	paths, _, err := w.commit(nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := openNPZ(paths[0], []Field{readXField, readIField}, Pos{})
	if err != nil {
		t.Fatalf("re-reading our own .npz: %v", err)
	}
	defer r.Close()
	got, _, _, err := readAll(t, r, 1000)
	if err != nil {
		t.Fatalf("re-reading our own .npz: %v", err)
	}
	for k, parts := range want {
		all, err := fzConcatRows(parts)
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.Equal(all, got[k]) {
			t.Fatalf("%s: read %v, after writing and reading again %v", k, all, got[k])
		}
	}
}

// fzConcatRows joins tensors along their first axis.
func fzConcatRows(parts []*tfd.Tensor) (*tfd.Tensor, error) {
	rows := 0
	for _, p := range parts {
		rows += p.Shape()[0]
	}
	shape := append(tensor.Shape{rows}, parts[0].Shape()[1:]...)
	var b bytes.Buffer
	for _, p := range parts {
		data, ok := npy.Bytes(p)
		if !ok {
			return nil, errors.New("tensor without a byte view")
		}
		b.Write(data)
	}
	hdr, err := npy.EncodeHeader(parts[0].DType(), shape)
	if err != nil {
		return nil, err
	}
	return npy.Read(io.MultiReader(bytes.NewReader(hdr), &b), npy.Limits{})
}
