package score

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/internal/example"
	"github.com/tfdgo/tfd/internal/npy"
	"github.com/tfdgo/tfd/internal/tfrecord"
	"github.com/tfdgo/tfd/tensor"
)

// Fields used by the reader tests.
var (
	readXField = Field{Key: "x", Tensor: "x", DType: tensor.Float32, Shape: tensor.Known(tensor.Shape{-1, 2})}
	readSField = Field{Key: "s", Tensor: "s:0", DType: tensor.String, Shape: tensor.Known(tensor.Shape{-1})}
	readIField = Field{Key: "i", Tensor: "i", DType: tensor.Int32, Shape: tensor.Known(tensor.Shape{-1, 1})}
)

// readAll reads every batch of r in batches of n rows, concatenating the
// feeds of each tensor, and returns them with the rejects and batches.
func readAll(t *testing.T, r Reader, n int) (map[string]*tfd.Tensor, []Reject, []*Batch, error) {
	t.Helper()
	var batches []*Batch
	var rejects []Reject
	parts := map[string][]*tfd.Tensor{}
	for {
		b, err := r.Read(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, rejects, batches, err
		}
		batches = append(batches, b)
		rejects = append(rejects, b.Rejects...)
		for k, v := range b.Feeds {
			parts[k] = append(parts[k], v)
		}
	}
	out := map[string]*tfd.Tensor{}
	for k, ps := range parts {
		if ps[0].Rank() == 0 {
			out[k] = ps[0] // an unbatched input, fed whole
			continue
		}
		rows := 0
		for _, p := range ps {
			rows += p.Shape()[0]
		}
		shape := append(tensor.Shape{rows}, ps[0].Shape()[1:]...)
		all, err := tensor.New(ps[0].DType(), shape, 0)
		if err != nil {
			t.Fatal(err)
		}
		at := 0
		for _, p := range ps {
			if err := tensor.CopyRows(all, at, p); err != nil {
				t.Fatal(err)
			}
			at += p.Shape()[0]
		}
		out[k] = all
	}
	return out, rejects, batches, nil
}

func readWriteFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readGzip(data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

func readF32(shape []int, v ...float32) *tfd.Tensor { return tfd.FromSlice(shape, v) }

func TestCSVReader(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields []Field
		text   string
		want   map[string]*tfd.Tensor
	}{
		{name: "indexed columns", fields: []Field{readXField}, text: "x_0,x_1\n1,2\n3,4\n5,6\n",
			want: map[string]*tfd.Tensor{"x": readF32([]int{3, 2}, 1, 2, 3, 4, 5, 6)}},
		{name: "brackets, reordered, extra column, CRLF, spaces", fields: []Field{readXField}, text: "id,x[1], x[0]\r\na, 2 ,1\r\nb,4,3\r\n",
			want: map[string]*tfd.Tensor{"x": readF32([]int{2, 2}, 1, 2, 3, 4)}},
		{name: "single input takes every column", fields: []Field{readXField}, text: "\ufeffa,b\n1,2\n",
			want: map[string]*tfd.Tensor{"x": readF32([]int{1, 2}, 1, 2)}},
		{name: "non-finite values", fields: []Field{readXField}, text: "x_0,x_1\nNaN,+Inf\n-inf,1e39\n",
			want: map[string]*tfd.Tensor{"x": readF32([]int{2, 2}, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Inf(1)))}},
		{name: "several dtypes", fields: []Field{readSField, readIField}, text: "i,s\n7,\"a,b\"\n-8, c\n",
			want: map[string]*tfd.Tensor{"s:0": tfd.FromSlice([]int{2}, []string{"a,b", " c"}), "i": tfd.FromSlice([]int{2, 1}, []int32{7, -8})}},
		{name: "unknown row width", fields: []Field{{Key: "x", Tensor: "x", DType: tensor.Float64, Shape: tensor.UnknownShape()}}, text: "x_0,x_1,x_2\n1,2,3\n",
			want: map[string]*tfd.Tensor{"x": tfd.FromSlice([]int{1, 3}, []float64{1, 2, 3})}},
		{name: "header only", fields: []Field{readXField}, text: "x_0,x_1\n", want: map[string]*tfd.Tensor{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, gz := range []bool{false, true} {
				data := []byte(tc.text)
				if gz {
					data = readGzip(data)
				}
				r, err := openCSV(readWriteFile(t, "in.csv", data), CompressAuto, tc.fields, false, Pos{})
				if err != nil {
					t.Fatal(err)
				}
				got, _, _, err := readAll(t, r, 2)
				r.Close()
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("gzip %v: feeds %v, want %v", gz, got, tc.want)
				}
				for k, w := range tc.want {
					scoreEqual(t, k, got[k], w)
				}
			}
		})
	}
}

func TestCSVBadRows(t *testing.T) {
	text := "x_0,x_1\n1,2\n3\n5,abc\n\"7,8\n"
	path := readWriteFile(t, "bad.csv", []byte(text))
	r, err := openCSV(path, CompressNone, []Field{readXField}, false, Pos{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = readAll(t, r, 10)
	r.Close()
	var re *RowError
	if !errors.As(err, &re) || !errors.Is(err, ErrBadRow) || re.Row != 1 || re.Line != 3 || re.File != path ||
		!strings.Contains(err.Error(), path+":3: row 1: expected 2 fields, found 1") {
		t.Fatalf("strict: %v", err)
	}

	r, err = openCSV(path, CompressNone, []Field{readXField}, true, Pos{})
	if err != nil {
		t.Fatal(err)
	}
	got, rejects, batches, err := readAll(t, r, 2)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	scoreEqual(t, "good rows", got["x"], readF32([]int{1, 2}, 1, 2))
	if len(rejects) != 3 || len(batches) != 2 || batches[0].Records != 2 || batches[0].Rows != 1 || batches[1].Rows != 0 {
		t.Fatalf("rejects %v, batches %d", rejects, len(batches))
	}
	for i, want := range []struct {
		row, line int64
		msg       string
	}{{1, 3, "expected 2 fields"}, {2, 4, `column "x_1": cannot parse "abc" as float32`}, {3, 5, "quote"}} {
		if r := rejects[i]; r.Row != want.row || r.Line != want.line || !strings.Contains(r.Err.Error(), want.msg) {
			t.Errorf("reject %d: %+v, want row %d line %d %q", i, r.RowError, want.row, want.line, want.msg)
		}
	}
	if rec, ok := rejects[1].Record.([]string); !ok || strings.Join(rec, "|") != "5|abc" {
		t.Errorf("reject record %#v", rejects[1].Record)
	}
}

func TestCSVOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields []Field
		text   string
		want   string
	}{
		{name: "empty", fields: []Field{readXField}, text: "", want: "empty file"},
		{name: "no column", fields: []Field{readXField, readIField}, text: "a,x_0,x_1\n", want: `no column for input "i" (expected a column "i" or columns "i_0", "i_1", ...; header: a, x_0, x_1)`},
		{name: "wrong width", fields: []Field{readXField}, text: "x_0,x_1,x_2\n", want: `input "x" takes 2 values per row`},
		{name: "duplicate column", fields: []Field{readXField}, text: "x_0,x_0\n", want: "appears twice"},
		{name: "gap in indices", fields: []Field{readXField, readIField}, text: "x_0,x_2,i\n", want: `no column for input "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := readWriteFile(t, "h.csv", []byte(tc.text))
			_, err := openCSV(path, CompressNone, tc.fields, false, Pos{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v, want %q naming the file", err, tc.want)
			}
		})
	}
}

// readResume reads the first batch, reopens the reader at its position
// and checks that the rest reads as in one pass.
func readResume(t *testing.T, open func(Pos) (Reader, error), n int) {
	t.Helper()
	r, err := open(Pos{})
	if err != nil {
		t.Fatal(err)
	}
	all, _, batches, err := readAll(t, r, n)
	r.Close()
	if err != nil || len(batches) < 2 {
		t.Fatalf("%v, %d batches", err, len(batches))
	}
	r, err = open(Pos{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.Read(n)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	r, err = open(first.Pos)
	if err != nil {
		t.Fatal(err)
	}
	rest, _, restBatches, err := readAll(t, r, n)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if restBatches[0].Start != first.Pos.Row {
		t.Errorf("resumed batch starts at row %d, want %d", restBatches[0].Start, first.Pos.Row)
	}
	if last, want := restBatches[len(restBatches)-1].Pos, batches[len(batches)-1].Pos; last != want {
		t.Errorf("final position %+v after resuming, %+v in one pass", last, want)
	}
	for k, v := range all {
		if v.Rank() == 0 {
			scoreEqual(t, "resumed "+k, rest[k], v)
			continue
		}
		skip := first.Feeds[k].Shape()[0]
		tail, err := v.SliceRows(skip, v.Shape()[0])
		if err != nil {
			t.Fatal(err)
		}
		scoreEqual(t, "resumed "+k, rest[k], tail)
	}
}

func TestCSVResume(t *testing.T) {
	text := "x_0,x_1\n1,2\n\"3\",4\n\n5,6\n7,8\n"
	for _, gz := range []bool{false, true} {
		data := []byte(text)
		if gz {
			data = readGzip(data)
		}
		path := readWriteFile(t, "r.csv", data)
		readResume(t, func(p Pos) (Reader, error) { return openCSV(path, CompressAuto, []Field{readXField}, false, p) }, 2)
	}
	// Line numbers continue after a resume.
	path := readWriteFile(t, "r.csv", []byte("x_0,x_1\n1,2\n3,4\n\n5\n"))
	r, _ := openCSV(path, CompressNone, []Field{readXField}, false, Pos{})
	b, err := r.Read(2)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	r, _ = openCSV(path, CompressNone, []Field{readXField}, false, b.Pos)
	_, err = r.Read(2)
	r.Close()
	if !strings.Contains(fmtErr(err), ":5: row 2:") {
		t.Errorf("after resuming: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestJSONLReader(t *testing.T) {
	sq := Field{Key: "m", Tensor: "m", DType: tensor.Float32, Shape: tensor.Known(tensor.Shape{-1, 2, 2})}
	for _, tc := range []struct {
		name   string
		fields []Field
		text   string
		want   map[string]*tfd.Tensor
	}{
		{name: "objects, bare values, blank lines", fields: []Field{readXField},
			text: "{\"x\": [1, 2]}\n\n  [3,4.5e1]\r\n{\"x\":[-0,NaN]}\n{\"x\":[Infinity,-Infinity]}",
			want: map[string]*tfd.Tensor{"x": readF32([]int{4, 2}, 1, 2, 3, 45, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)))}},
		{name: "nested and flat", fields: []Field{sq}, text: "{\"m\":[[1,2],[3,4]]}\n[5,6,7,8]\n",
			want: map[string]*tfd.Tensor{"m": readF32([]int{2, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8)}},
		{name: "strings, b64, ints, bools and escapes", fields: []Field{readSField, readIField, {Key: "b", Tensor: "b", DType: tensor.Bool, Shape: tensor.Known(tensor.Shape{-1})}},
			text: `{"s": "a\"\u00e9\ud83d\ude00", "i": [3], "b": true}` + "\n" + `{"s": {"b64": "/w=="}, "i": [-4], "b": 0}`,
			want: map[string]*tfd.Tensor{"s:0": tfd.FromSlice([]int{2}, []string{"a\"é😀", "\xff"}), "i": tfd.FromSlice([]int{2, 1}, []int32{3, -4}), "b": tfd.FromSlice([]int{2}, []bool{true, false})}},
		{name: "row shape from the first row", fields: []Field{{Key: "v", Tensor: "v", DType: tensor.Int64, Shape: tensor.UnknownShape()}}, text: "[[1],[2],[3]]\n[[4],[5],[6]]\n",
			want: map[string]*tfd.Tensor{"v": tfd.FromSlice([]int{2, 3, 1}, []int64{1, 2, 3, 4, 5, 6})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, gz := range []bool{false, true} {
				data := []byte(tc.text)
				if gz {
					data = readGzip(data)
				}
				r, err := openJSONL(readWriteFile(t, "in.jsonl", data), CompressAuto, tc.fields, false, Pos{})
				if err != nil {
					t.Fatal(err)
				}
				got, _, _, err := readAll(t, r, 3)
				r.Close()
				if err != nil {
					t.Fatal(err)
				}
				for k, w := range tc.want {
					scoreEqual(t, k, got[k], w)
				}
			}
		})
	}
}

func TestJSONLBadRows(t *testing.T) {
	lines := []struct{ line, msg string }{
		{`{"x": [1, 2]}`, ""},
		{`{"x": [1, 2, 3]}`, `input "x": value of shape [3], expected 2 values`},
		{`{"x": [1, "a"]}`, "string given for a float32 input"},
		{`{"x": [[1], 2]}`, "ragged"},
		{`{"x": [1, 2]`, "expected ',' or '}'"},
		{`{"y": [1, 2]}`, `unknown input "y"`},
		{`{}`, `input "x" is missing`},
		{`{"x": [1, null]}`, "null"},
		{`{"x": [1, 2]} x`, "after the value"},
		{`{"x": [1e, 2]}`, `cannot parse "1e"`},
		{`{"x": [1, 2], "x": [3, 4]}`, "appears twice"},
		{`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, "nested deeper"},
		{`{"x": [3, 4]}`, ""},
	}
	var text strings.Builder
	for _, l := range lines {
		text.WriteString(l.line + "\n")
	}
	path := readWriteFile(t, "bad.jsonl", []byte(text.String()))
	r, err := openJSONL(path, CompressNone, []Field{readXField}, false, Pos{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = readAll(t, r, 4)
	r.Close()
	if !strings.Contains(fmtErr(err), path+":2: row 1: ") || !errors.Is(err, ErrBadRow) {
		t.Fatalf("strict: %v", err)
	}
	r, err = openJSONL(path, CompressNone, []Field{readXField}, true, Pos{})
	if err != nil {
		t.Fatal(err)
	}
	got, rejects, _, err := readAll(t, r, 4)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	scoreEqual(t, "good rows", got["x"], readF32([]int{2, 2}, 1, 2, 3, 4))
	k := 0
	for i, l := range lines {
		if l.msg == "" {
			continue
		}
		if k >= len(rejects) {
			t.Fatalf("only %d rejects", len(rejects))
		}
		rj := rejects[k]
		if rj.Line != int64(i+1) || rj.Row != int64(i) || !strings.Contains(rj.Err.Error(), l.msg) || rj.Record != l.line {
			t.Errorf("line %d: reject %+v (%v), want %q", i+1, rj.RowError, rj.Record, l.msg)
		}
		k++
	}
	if k != len(rejects) {
		t.Errorf("%d rejects, want %d", len(rejects), k)
	}
}

func TestJSONLResume(t *testing.T) {
	text := "{\"x\":[1,2]}\n\n{\"x\":[3,4]}\n[5,6]\n[7,8]\n[9,10]"
	for _, gz := range []bool{false, true} {
		data := []byte(text)
		if gz {
			data = readGzip(data)
		}
		path := readWriteFile(t, "r.jsonl", data)
		readResume(t, func(p Pos) (Reader, error) { return openJSONL(path, CompressAuto, []Field{readXField}, false, p) }, 2)
	}
}

// readExamples writes a TFRecord file of Examples built by mk.
func readExamples(t *testing.T, gz bool, exs ...*example.Example) string {
	t.Helper()
	var b []byte
	for _, ex := range exs {
		b = tfrecord.AppendRecord(b, ex.Marshal())
	}
	if gz {
		b = readGzip(b)
	}
	return readWriteFile(t, "in.tfrecord", b)
}

func readFloatEx(key string, v ...float32) *example.Example {
	return &example.Example{Features: map[string]*example.Feature{key: {Kind: example.KindFloat, Floats: v}}}
}

func TestTFRecordReader(t *testing.T) {
	mixed := &example.Example{Features: map[string]*example.Feature{
		"x":     {Kind: example.KindInt64, Int64s: []int64{5, -6}},
		"s":     {Kind: example.KindBytes, Bytes: [][]byte{[]byte("hi")}},
		"i":     {Kind: example.KindInt64, Int64s: []int64{9}},
		"label": {Kind: example.KindFloat, Floats: []float32{1}},
	}}
	for _, gz := range []bool{false, true} {
		path := readExamples(t, gz, readFloatEx("x", 1, 2), readFloatEx("x", 3, 4), mixed)
		r, err := openTFRecord(path, CompressAuto, []Field{readXField}, false, Pos{})
		if err != nil {
			t.Fatal(err)
		}
		got, _, batches, err := readAll(t, r, 2)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		scoreEqual(t, "x", got["x"], readF32([]int{3, 2}, 1, 2, 3, 4, 5, -6))
		if len(batches) != 2 || batches[1].Start != 2 {
			t.Errorf("batches %v", batches)
		}
		path = readExamples(t, gz, mixed, mixed)
		r, err = openTFRecord(path, CompressAuto, []Field{readSField, readIField}, false, Pos{})
		if err != nil {
			t.Fatal(err)
		}
		got, _, _, err = readAll(t, r, 5)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		scoreEqual(t, "s", got["s:0"], tfd.FromSlice([]int{2}, []string{"hi", "hi"}))
		scoreEqual(t, "i", got["i"], tfd.FromSlice([]int{2, 1}, []int32{9, 9}))
	}
	// A model that parses Examples itself is fed the records.
	raw := Field{Key: "examples", Tensor: "examples", DType: tensor.String, Shape: tensor.Known(tensor.Shape{-1})}
	path := readExamples(t, false, readFloatEx("x", 1, 2), mixed)
	r, err := openTFRecord(path, CompressNone, []Field{raw}, false, Pos{})
	if err != nil {
		t.Fatal(err)
	}
	got, _, _, err := readAll(t, r, 5)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	scoreEqual(t, "raw records", got["examples"], tfd.FromSlice([]int{2}, []string{string(readFloatEx("x", 1, 2).Marshal()), string(mixed.Marshal())}))
}

func TestTFRecordBadRows(t *testing.T) {
	good := tfrecord.AppendRecord(nil, readFloatEx("x", 1, 2).Marshal())
	bad := append([]byte(nil), good...)
	bad[len(bad)-6] ^= 1 // a data byte: the data checksum fails
	var data []byte
	data = append(data, good...)
	data = append(data, bad...)                                                                 // row 1: checksum
	data = tfrecord.AppendRecord(data, readFloatEx("x", 1, 2, 3).Marshal())                     // row 2: width
	data = tfrecord.AppendRecord(data, readFloatEx("y", 1, 2).Marshal())                        // row 3: missing
	data = tfrecord.AppendRecord(data, []byte{0xff})                                            // row 4: not an Example
	data = tfrecord.AppendRecord(data, (&example.Example{Features: map[string]*example.Feature{ // row 5: bytes
		"x": {Kind: example.KindBytes, Bytes: [][]byte{{1}, {2}}}}}).Marshal())
	data = tfrecord.AppendRecord(data, readFloatEx("x", 7, 8).Marshal())
	for _, gz := range []bool{false, true} {
		in := data
		if gz {
			in = readGzip(data)
		}
		path := readWriteFile(t, "bad.tfrecord", in)
		r, err := openTFRecord(path, CompressAuto, []Field{readXField}, false, Pos{})
		if err != nil {
			t.Fatal(err)
		}
		_, _, _, err = readAll(t, r, 3)
		r.Close()
		var re *RowError
		if !errors.As(err, &re) || re.Row != 1 || re.Offset != int64(len(good)) || !errors.Is(err, tfrecord.ErrCorrupt) ||
			!strings.Contains(err.Error(), fmt.Sprintf("%s: row 1 (record at offset %d)", path, len(good))) {
			t.Fatalf("strict: %v", err)
		}
		r, err = openTFRecord(path, CompressAuto, []Field{readXField}, true, Pos{})
		if err != nil {
			t.Fatal(err)
		}
		got, rejects, _, err := readAll(t, r, 3)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		scoreEqual(t, "good rows", got["x"], readF32([]int{2, 2}, 1, 2, 7, 8))
		wants := []string{"checksum", `feature "x" has 3 values`, `feature "x" is missing`, "malformed tf.Example", "string given for a float32 input"}
		if len(rejects) != len(wants) {
			t.Fatalf("rejects %v", rejects)
		}
		for i, w := range wants {
			if rejects[i].Row != int64(i+1) || !strings.Contains(rejects[i].Err.Error(), w) {
				t.Errorf("reject %d: %v, want %q", i, rejects[i].Err, w)
			}
			if _, ok := rejects[i].Record.([]byte); !ok && i > 0 {
				t.Errorf("reject %d has no record", i)
			}
		}
	}
	// A broken length checksum loses the framing: fatal even when skipping.
	broken := append([]byte(nil), good...)
	broken[9] ^= 1
	path := readWriteFile(t, "broken.tfrecord", append(append([]byte(nil), good...), broken...))
	r, _ := openTFRecord(path, CompressNone, []Field{readXField}, true, Pos{})
	_, _, _, err := readAll(t, r, 3)
	r.Close()
	if !errors.Is(err, tfrecord.ErrCorrupt) || errors.Is(err, ErrBadRow) || !strings.Contains(fmtErr(err), path) {
		t.Errorf("length checksum: %v", err)
	}
}

func TestTFRecordResume(t *testing.T) {
	var exs []*example.Example
	for i := range 7 {
		exs = append(exs, readFloatEx("x", float32(i), -float32(i)))
	}
	for _, gz := range []bool{false, true} {
		path := readExamples(t, gz, exs...)
		readResume(t, func(p Pos) (Reader, error) { return openTFRecord(path, CompressAuto, []Field{readXField}, false, p) }, 3)
	}
}

func TestNPYReader(t *testing.T) {
	dir := t.TempDir()
	x64 := tfd.FromSlice([]int{5, 2}, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	xPath := scoreWriteNPY(t, dir, "x.npy", x64)
	scale := scoreWriteNPY(t, dir, "scale.npy", tensor.Scalar[float32](3))
	fields := []Field{readXField, {Key: "scale", Tensor: "scale", DType: tensor.Float32, Shape: tensor.Known(tensor.Shape{})}}
	open := func(p Pos) (Reader, error) {
		return openNPY([]NamedFile{{"x:0", xPath}, {"scale", scale}}, fields, p, false)
	}
	r, err := open(Pos{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Rows() != 5 || r.Fraction() != 0 {
		t.Errorf("rows %d fraction %v", r.Rows(), r.Fraction())
	}
	got, _, batches, err := readAll(t, r, 2)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := tfd.ConvertFeed(x64, tensor.Float32)
	scoreEqual(t, "x converted to float32", got["x"], want)
	if len(batches) != 3 || batches[2].Pos.Row != 5 || !tensor.Equal(batches[1].Feeds["scale"], tensor.Scalar[float32](3)) {
		t.Errorf("batches %v", batches)
	}
	readResume(t, open, 2)

	// Errors name the file and what was expected.
	short := filepath.Join(dir, "short.npy")
	b, _ := os.ReadFile(xPath)
	os.WriteFile(short, b[:len(b)-3], 0o644)
	other := scoreWriteNPY(t, dir, "other.npy", tfd.FromSlice([]int{4, 2}, make([]float32, 8)))
	wide := scoreWriteNPY(t, dir, "wide.npy", tfd.FromSlice([]int{2, 3}, make([]float32, 6)))
	huge := scoreWriteNPY(t, dir, "huge.npy", tfd.FromSlice([]int{2, 1}, []int64{0, 1 << 40}))
	twoIn := []Field{readXField, {Key: "y", Tensor: "y", DType: tensor.Float32, Shape: tensor.Known(tensor.Shape{-1, 2})}}
	for _, tc := range []struct {
		name   string
		files  []NamedFile
		fields []Field
		want   string
	}{
		{name: "truncated", files: []NamedFile{{"x", short}}, fields: []Field{readXField}, want: "short.npy: data truncated"},
		{name: "row counts", files: []NamedFile{{"x", xPath}, {"y", other}}, fields: twoIn, want: "different row counts"},
		{name: "shape", files: []NamedFile{{"x", wide}}, fields: []Field{readXField}, want: wide + `: feed "x": shape [2 3] does not match`},
		{name: "missing", files: []NamedFile{{"x", filepath.Join(dir, "none.npy")}}, fields: []Field{readXField}, want: "none.npy"},
		{name: "twice", files: []NamedFile{{"x", xPath}, {"x:0", xPath}}, fields: []Field{readXField}, want: "given twice"},
		{name: "dtype", files: []NamedFile{{"s", xPath}}, fields: []Field{readSField}, want: "cannot be converted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := openNPY(tc.files, tc.fields, Pos{}, false)
			if err == nil {
				_, _, _, err = readAll(t, r, 2)
				r.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	// A value that does not fit the input's dtype is a bad row.
	r, err = openNPY([]NamedFile{{"i", huge}}, []Field{readIField}, Pos{}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Read(4)
	r.Close()
	var re *RowError
	if !errors.As(err, &re) || re.Row != 1 || !strings.Contains(err.Error(), "huge.npy: row 1: input \"i\": value 1.099511627776e+12 at index 1 does not fit int32") {
		t.Errorf("conversion: %v", err)
	}
}

// TestNPYFortranAndWhole checks the inputs read whole: Fortran-order
// files and unbatched inputs.
func TestNPYFortranAndWhole(t *testing.T) {
	dir := t.TempDir()
	// [[1 2] [3 4] [5 6]] stored column by column.
	hdr := "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }"
	var b []byte
	b = append(b, "\x93NUMPY\x01\x00"...)
	b = append(b, byte(len(hdr)), 0)
	b = append(b, hdr...)
	for _, v := range []float32{1, 3, 5, 2, 4, 6} {
		b = append(b, byte(math.Float32bits(v)), byte(math.Float32bits(v)>>8), byte(math.Float32bits(v)>>16), byte(math.Float32bits(v)>>24))
	}
	p := filepath.Join(dir, "f.npy")
	os.WriteFile(p, b, 0o644)
	r, err := openNPY([]NamedFile{{"x", p}}, []Field{readXField}, Pos{Row: 1}, false)
	if err != nil {
		t.Fatal(err)
	}
	got, _, _, err := readAll(t, r, 1)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	scoreEqual(t, "fortran rows 1..", got["x"], readF32([]int{2, 2}, 3, 4, 5, 6))

	// Nothing batched: one batch with the inputs whole.
	w := scoreWriteNPY(t, dir, "w.npy", readF32([]int{2, 2}, 1, 2, 3, 4))
	fixed := Field{Key: "w", Tensor: "w", DType: tensor.Float32, Shape: tensor.Known(tensor.Shape{2, 2})}
	r, err = openNPY([]NamedFile{{"w", w}}, []Field{fixed}, Pos{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !r.unbatched() {
		t.Error("a fixed-shape input is batched")
	}
	bt, err := r.Read(1)
	if err != nil || !tensor.Equal(bt.Feeds["w"], readF32([]int{2, 2}, 1, 2, 3, 4)) {
		t.Errorf("whole input: %v %v", bt, err)
	}
	if _, err := r.Read(1); err != io.EOF {
		t.Errorf("second read: %v", err)
	}
	r.Close()
}

func TestNPZReader(t *testing.T) {
	x := tfd.FromSlice([]int{3, 2}, []float32{1, 2, 3, 4, 5, 6})
	i := tfd.FromSlice([]int{3, 1}, []int32{7, 8, 9})
	var xb, ib bytes.Buffer
	npy.Write(&xb, x)
	npy.Write(&ib, i)
	for _, method := range []uint16{zip.Store, zip.Deflate} {
		var z bytes.Buffer
		zw := zip.NewWriter(&z)
		for _, e := range []struct {
			name string
			data []byte
		}{{"x.npy", xb.Bytes()}, {"i.npy", ib.Bytes()}, {"unused.npy", ib.Bytes()}} {
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
			w.Write(e.data)
		}
		zw.Close()
		path := readWriteFile(t, "in.npz", z.Bytes())
		open := func(p Pos) (Reader, error) { return openNPZ(path, []Field{readXField, readIField}, p) }
		r, err := open(Pos{})
		if err != nil {
			t.Fatal(err)
		}
		got, _, _, err := readAll(t, r, 2)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		scoreEqual(t, "x", got["x"], x)
		scoreEqual(t, "i", got["i"], i)
		readResume(t, open, 2)
		if _, err := openNPZ(path, []Field{readXField, readSField}, Pos{}); err == nil || !strings.Contains(err.Error(), `no array for input "s"`) {
			t.Errorf("missing array: %v", err)
		}
	}
	// numpy.savez(f, x) names its only array arr_0.
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	w, _ := zw.Create("arr_0.npy")
	w.Write(xb.Bytes())
	zw.Close()
	r, err := openNPZ(readWriteFile(t, "one.npz", z.Bytes()), []Field{readXField}, Pos{})
	if err != nil {
		t.Fatal(err)
	}
	got, _, _, err := readAll(t, r, 2)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	scoreEqual(t, "arr_0", got["x"], x)
}
