package score

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/internal/npy"
	"github.com/tfdgo/tfd/tensor"
)

// formatsWriteInput writes the rows of x as input key in format f (CSV,
// JSON Lines and TFRecord through the encoders the writer uses).
func formatsWriteInput(t *testing.T, dir string, f Format, gz bool, key string, x *tfd.Tensor) string {
	t.Helper()
	var b []byte
	switch f {
	case NPZ:
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: key + ".npy", Method: zip.Deflate})
		if err := npy.Write(w, x); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		b = buf.Bytes()
	default:
		var enc rowEncoder
		switch f {
		case CSV:
			enc = csvEncoder{}
		case JSONL:
			enc = jsonlEncoder{}
		case TFRecord:
			enc = tfrecordEncoder{}
		}
		metas := []outMeta{{Key: key, DType: x.DType(), RowShape: x.Shape()[1:]}}
		b = enc.header(metas)
		var err error
		for r := range x.Shape()[0] {
			if b, err = enc.appendRow(b, metas, []*tfd.Tensor{x}, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	name := "in." + string(f)
	if gz {
		b = readGzip(b)
		name += ".gz"
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSameOutputAcrossFormatsAndWorkers scores the same rows given in
// every input format, with 1 and 3 workers, and checks that the .npy
// written is byte-identical to numpy.save's encoding of a single direct
// run over the whole input.
func TestSameOutputAcrossFormatsAndWorkers(t *testing.T) {
	for _, mc := range []struct {
		model, input string
		rows         int
	}{{"mlp.pb", "mlp_input.npy", 256}, {"cnn.pb", "cnn_input.npy", 24}} {
		t.Run(mc.model, func(t *testing.T) {
			m := scoreLoad(t, mc.model)
			x := scoreReadNPY(t, scoreTestdata(mc.input))
			rows := mc.rows
			if scoreRace {
				rows /= 4
			}
			x, _ = x.SliceRows(0, rows)
			dir := t.TempDir()
			ref := scoreWriteNPY(t, dir, "ref.npy", scoreDirect(t, m, "input", x, "output"))
			npyIn := scoreWriteNPY(t, dir, "x.npy", x)
			inputs := []Input{{Files: []NamedFile{{"input", npyIn}}}}
			for _, f := range []Format{NPZ, CSV, JSONL, TFRecord} {
				for _, gz := range []bool{false, true} {
					if gz && f == NPZ {
						continue
					}
					sub := filepath.Join(dir, fmt.Sprintf("%s-%v", f, gz))
					os.Mkdir(sub, 0o755)
					inputs = append(inputs, Input{Path: formatsWriteInput(t, sub, f, gz, "input", x)})
				}
			}
			for _, in := range inputs {
				for _, workers := range []int{1, 3} {
					out := t.TempDir()
					j := &Job{Model: m, Input: in, Output: Output{Dir: out}, Workers: workers, BatchRows: 10}
					if _, err := j.Run(context.Background()); err != nil {
						t.Fatalf("%v, %d workers: %v", in.paths(), workers, err)
					}
					scoreSameFile(t, filepath.Join(out, "output.npy"), ref)
				}
			}
		})
	}
}

// formatsReadOutput reads an output file back through the readers, as
// the rows of input "output" of shape [?, 100].
func formatsReadOutput(t *testing.T, f Format, path string, key string, rowShape tensor.Shape) *tfd.Tensor {
	t.Helper()
	field := Field{Key: key, Tensor: key, DType: tensor.Float32, Shape: tensor.Known(append(tensor.Shape{-1}, rowShape...))}
	var r Reader
	var err error
	switch f {
	case NPY:
		r, err = openNPY([]NamedFile{{key, path}}, []Field{field}, Pos{}, false)
	case NPZ:
		r, err = openNPZ(path, []Field{field}, Pos{})
	case CSV:
		r, err = openCSV(path, CompressAuto, []Field{field}, false, Pos{})
	case JSONL:
		r, err = openJSONL(path, CompressAuto, []Field{field}, false, Pos{})
	case TFRecord:
		r, err = openTFRecord(path, CompressAuto, []Field{field}, false, Pos{})
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, _, _, err := readAll(t, r, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return got[key]
}

// TestOutputFormats writes the outputs in every format and reads them back.
func TestOutputFormats(t *testing.T) {
	m := scoreLoad(t, "mlp.pb")
	x := scoreReadNPY(t, scoreTestdata("mlp_input.npy"))
	if scoreRace {
		x, _ = x.SliceRows(0, 64)
	}
	want := scoreDirect(t, m, "input", x, "output")
	in := Input{Files: []NamedFile{{"input", scoreWriteNPY(t, t.TempDir(), "x.npy", x)}}}
	for _, f := range Formats {
		for _, c := range []Compression{CompressNone, CompressGzip} {
			if c == CompressGzip && (f == NPY || f == NPZ) {
				continue
			}
			t.Run(fmt.Sprintf("%s/%s", f, c), func(t *testing.T) {
				var first []byte
				for _, workers := range []int{1, 2} {
					dir := t.TempDir()
					j := &Job{Model: m, Input: in, Output: Output{Dir: dir, Format: f, Compression: c}, Workers: workers, BatchRows: 30}
					res, err := j.Run(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					if len(res.Files) != 1 {
						t.Fatalf("files %v", res.Files)
					}
					path := res.Files[0]
					wantName := "predictions." + string(f)
					if f == NPY {
						wantName = "output.npy"
					}
					if c == CompressGzip {
						wantName += ".gz"
					}
					if filepath.Base(path) != wantName {
						t.Errorf("output %s, want %s", path, wantName)
					}
					entries, _ := os.ReadDir(dir)
					if len(entries) != 1 {
						t.Errorf("output directory holds %d entries, want only %s", len(entries), wantName)
					}
					b, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					if first == nil {
						first = b
					} else if !bytes.Equal(first, b) {
						t.Errorf("outputs of 1 and 2 workers differ")
					}
					if f == NPZ {
						zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
						if err != nil || len(zr.File) != 1 || zr.File[0].Name != "output.npy" || zr.File[0].Method != zip.Store {
							t.Fatalf("npz: %v %v", err, zr)
						}
					}
					got := formatsReadOutput(t, f, path, "output", tensor.Shape{100})
					scoreEqual(t, "read back", got, want)
				}
			})
		}
	}
}

// TestSeveralFetches writes two outputs to one CSV and one NPZ.
func TestSeveralFetches(t *testing.T) {
	m := scoreLoad(t, "mlp.pb")
	x := scoreReadNPY(t, scoreTestdata("mlp_input.npy"))
	x, _ = x.SliceRows(0, 3)
	dir := t.TempDir()
	in := Input{Files: []NamedFile{{"input", scoreWriteNPY(t, dir, "x.npy", x)}}}
	outs, err := m.Run(context.Background(), map[string]*tfd.Tensor{"input": x}, "output", "add:0")
	if err != nil {
		t.Fatal(err)
	}
	j := &Job{Model: m, Input: in, Output: Output{Dir: dir, Format: CSV}, Fetches: []string{"output", "add:0"}, BatchRows: 2}
	res, err := j.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(res.Files[0])
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "output_0,") || !strings.Contains(lines[0], ",output_99,add:0_0,") {
		t.Fatalf("csv header %.80q, %d lines", lines[0], len(lines))
	}
	scoreEqual(t, "output column", formatsReadOutput(t, CSV, res.Files[0], "output", tensor.Shape{100}), outs[0])
	scoreEqual(t, "add:0 column", formatsReadOutput(t, CSV, res.Files[0], "add:0", tensor.Shape{100}), outs[1])

	j.Output.Format = NPZ
	if res, err = j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(res.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for i, name := range []string{"output.npy", "add_0.npy"} {
		rc, err := zr.File[i].Open()
		if err != nil || zr.File[i].Name != name {
			t.Fatalf("entry %d: %v %s", i, err, zr.File[i].Name)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		got, err := npy.Read(bytes.NewReader(data), npy.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		scoreEqual(t, name, got, outs[i])
	}
	// Two fetches that map to one .npy name are refused.
	j.Output.Format = NPY
	j.Fetches = []string{"add:0", "add_0"}
	if _, err := j.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "both be written to add_0.npy") {
		t.Errorf("clashing names: %v", err)
	}
}

// TestEncoders checks the text encodings against hand-written lines.
func TestEncoders(t *testing.T) {
	f := tfd.FromSlice([]int{2, 3}, []float32{0.1, -2, 1e-8, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))})
	s := tfd.FromSlice([]int{2}, []string{"a,\"b\"", "\xff\n"})
	i := tfd.FromSlice([]int{2, 2, 1}, []int64{1, -2, 3, 1 << 40})
	metas := []outMeta{{Key: "f", DType: tensor.Float32, RowShape: tensor.Shape{3}}, {Key: "s", DType: tensor.String, RowShape: tensor.Shape{}},
		{Key: "i", DType: tensor.Int64, RowShape: tensor.Shape{2, 1}}}
	outs := []*tfd.Tensor{f, s, i}
	var csv, js []byte
	csv = csvEncoder{}.header(metas)
	for r := range 2 {
		csv, _ = csvEncoder{}.appendRow(csv, metas, outs, r)
		js, _ = jsonlEncoder{}.appendRow(js, metas, outs, r)
	}
	wantCSV := "f_0,f_1,f_2,s,i_0,i_1\n" +
		"0.1,-2,1e-08,\"a,\"\"b\"\"\",1,-2\n" +
		"NaN,+Inf,-Inf,\"\xff\n\",3,1099511627776\n"
	if string(csv) != wantCSV {
		t.Errorf("csv\n%q\nwant\n%q", csv, wantCSV)
	}
	wantJS := `{"f":[0.1,-2,1e-08],"s":"a,\"b\"","i":[[1],[-2]]}` + "\n" +
		`{"f":[NaN,Infinity,-Infinity],"s":{"b64":"/wo="},"i":[[3],[1099511627776]]}` + "\n"
	if string(js) != wantJS {
		t.Errorf("jsonl\n%s\nwant\n%s", js, wantJS)
	}
}
