package ops

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
)

// Expected values in these tests are hand-computed from the semantics of
// tensorflow/core/kernels/lookup_table_op.h (HashTable::DoInsert, DoFind),
// initializable_lookup_table.cc and lookup_util.cc (TextFileLineIterator):
// a key's value is the one it was inserted with, a missing key gets the
// default, column -2 is the whole line and -1 the 0-based line number.

// lookupTestCtx returns a kernel context whose runs share st.
func lookupTestCtx(st *ModelState) *Ctx {
	res := NewResources()
	res.SetModel(st)
	return &Ctx{Resources: res, Pool: pool.New()}
}

// lookupTestFile writes a file in dir and returns its path.
func lookupTestFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func lookupStr(s ...string) *tensor.Tensor { return tensor.FromSlice(tensor.Shape{len(s)}, s) }

func lookupScalarStr(s string) *tensor.Tensor { return tensor.FromSlice(tensor.Shape{}, []string{s}) }

// lookupTable creates a table node's table and returns its handle.
func lookupNewHandle(t *testing.T, ctx *Ctx, op, name string, kdt, vdt tensor.DType) *tensor.Tensor {
	t.Helper()
	return seqMust(t, ctx, op, tensor.Attrs{"shared_name": name, "key_dtype": kdt, "value_dtype": vdt}, nil...)[0]
}

func lookupWantErr(t *testing.T, err error, sentinel error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an error mentioning %q", parts)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %q is not %v", err, sentinel)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestLookupTextFileWholeLineToLineNumber(t *testing.T) {
	dir := t.TempDir()
	// The asset of tf_static_hashtable (MANIFEST row 18).
	path := lookupTestFile(t, dir, "vocab.txt", "foo\nbar\nbaz\nwombat\n")
	st := NewModelState(FileAccess{Dirs: []string{dir}})
	ctx := lookupTestCtx(st)
	h := lookupNewHandle(t, ctx, "HashTableV2", "words", tensor.String, tensor.Int64)
	if h.DType() != tensor.Resource || h.Rank() != 0 {
		t.Fatalf("handle is %s%v", h.DType(), h.Shape())
	}
	init := tensor.Attrs{"key_index": int64(-2), "value_index": int64(-1)}
	seqMust(t, ctx, "InitializeTableFromTextFileV2", init, h, lookupScalarStr(path))
	find := tensor.Attrs{"Tin": tensor.String, "Tout": tensor.Int64}
	for _, c := range []struct {
		name string
		keys *tensor.Tensor
		def  *tensor.Tensor
		want []float64
	}{
		{name: "scalar key", keys: lookupScalarStr("baz"), def: tensor.Scalar(int64(-1)), want: []float64{2}},
		{name: "vector with a missing key", keys: lookupStr("foo", "NON-EXISTENT-KEY", "wombat"), def: tensor.Scalar(int64(-1)), want: []float64{0, -1, 3}},
		{name: "a default per key", keys: lookupStr("x", "bar", "y"), def: seqI64s(7, 8, 9), want: []float64{7, 1, 9}},
		{name: "empty keys", keys: lookupStr(), def: tensor.Scalar(int64(-1)), want: []float64{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := seqMust(t, ctx, "LookupTableFindV2", find, h, c.keys, c.def)[0]
			seqWant(t, c.name, got, tensor.Int64, c.keys.Shape(), c.want)
		})
	}
	size := seqMust(t, ctx, "LookupTableSizeV2", nil, h)[0]
	seqWant(t, "size", size, tensor.Int64, tensor.Shape{}, []float64{4})

	// A second run of the model (a new Resources on the same state) sees
	// the table; initializing from a file again does nothing.
	ctx2 := lookupTestCtx(st)
	h2 := lookupNewHandle(t, ctx2, "HashTableV2", "words", tensor.String, tensor.Int64)
	seqMust(t, ctx2, "InitializeTableFromTextFileV2", init, h2, lookupScalarStr(lookupTestFile(t, dir, "other.txt", "a\n")))
	got := seqMust(t, ctx2, "LookupTableFindV2", find, h2, lookupStr("wombat", "a"), tensor.Scalar(int64(-1)))[0]
	seqWant(t, "second run", got, tensor.Int64, tensor.Shape{2}, []float64{3, -1})

	// Export lists the entries, keys sorted.
	ex := seqMust(t, ctx, "LookupTableExportV2", tensor.Attrs{"Tkeys": tensor.String, "Tvalues": tensor.Int64}, h)
	if k := tensor.As[string](ex[0]); strings.Join(k, ",") != "bar,baz,foo,wombat" {
		t.Errorf("exported keys %q", k)
	}
	seqWant(t, "exported values", ex[1], tensor.Int64, tensor.Shape{4}, []float64{1, 2, 0, 3})
	keys, values, ok := st.Table(TableHandle("ignored", tensor.Attrs{"shared_name": "words"}))
	if !ok || keys.Len() != 4 || tensor.As[int64](values)[3] != 3 {
		t.Errorf("ModelState.Table = %v, %v, %v", keys, values, ok)
	}
}

func TestLookupTextFileColumns(t *testing.T) {
	dir := t.TempDir()
	st := NewModelState(FileAccess{Dirs: []string{dir}})
	for _, c := range []struct {
		name       string
		text       string
		kdt, vdt   tensor.DType
		attrs      tensor.Attrs
		keys, def  *tensor.Tensor
		want       []float64
		wantString []string
	}{
		{
			name: "int64 key from column 1, string value from column 0", text: "apple,10\r\npear,20\nplum,30",
			kdt: tensor.Int64, vdt: tensor.String,
			attrs: tensor.Attrs{"key_index": int64(1), "value_index": int64(0), "delimiter": ","},
			keys:  seqI64s(30, 10, 5), def: lookupScalarStr("?"), wantString: []string{"plum", "apple", "?"},
		},
		{
			name: "string key to float value with a tab", text: "a\t0.5\nb\t-2e3\n",
			kdt: tensor.String, vdt: tensor.Float32,
			attrs: tensor.Attrs{"key_index": int64(0), "value_index": int64(1)},
			keys:  lookupStr("b", "a", "c"), def: tensor.Scalar(float32(1)), want: []float64{-2000, 0.5, 1},
		},
		{
			name: "line number plus offset, vocab_size truncates", text: "x\ny\nz\n",
			kdt: tensor.String, vdt: tensor.Int64,
			attrs: tensor.Attrs{"key_index": int64(-2), "value_index": int64(-1), "offset": int64(100), "vocab_size": int64(2)},
			keys:  lookupStr("x", "y", "z"), def: tensor.Scalar(int64(-1)), want: []float64{100, 101, -1},
		},
		{
			// TextFileLineIterator adds offset to int32 fields (not to int64 ones).
			name: "int32 field plus offset", text: "k 5\n",
			kdt: tensor.String, vdt: tensor.Int32,
			attrs: tensor.Attrs{"key_index": int64(0), "value_index": int64(1), "delimiter": " ", "offset": int64(10)},
			keys:  lookupStr("k"), def: tensor.Scalar(int32(0)), want: []float64{15},
		},
		{
			name: "whole line as an int64 key", text: " 42\n7\n",
			kdt: tensor.Int64, vdt: tensor.Int64,
			attrs: tensor.Attrs{"key_index": int64(-2), "value_index": int64(-1)},
			keys:  seqI64s(42, 7), def: tensor.Scalar(int64(-1)), want: []float64{0, 1},
		},
		{
			name: "double values", text: "a;1.25\n",
			kdt: tensor.String, vdt: tensor.Float64,
			attrs: tensor.Attrs{"key_index": int64(0), "value_index": int64(1), "delimiter": ";"},
			keys:  lookupStr("a"), def: tensor.Scalar(float64(0)), want: []float64{1.25},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := lookupTestCtx(st)
			path := lookupTestFile(t, dir, strings.ReplaceAll(c.name, " ", "_")+".txt", c.text)
			h := lookupNewHandle(t, ctx, "HashTableV2", c.name, c.kdt, c.vdt)
			seqMust(t, ctx, "InitializeTableFromTextFileV2", c.attrs, h, lookupScalarStr(path))
			got := seqMust(t, ctx, "LookupTableFindV2", tensor.Attrs{"Tin": c.kdt, "Tout": c.vdt}, h, c.keys, c.def)[0]
			if c.wantString != nil {
				if s := tensor.As[string](got); strings.Join(s, ",") != strings.Join(c.wantString, ",") {
					t.Fatalf("got %q, want %q", s, c.wantString)
				}
				return
			}
			seqWant(t, c.name, got, c.vdt, c.keys.Shape(), c.want)
		})
	}
}

func TestLookupTextFileErrors(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	st := NewModelState(FileAccess{Dirs: []string{dir}, MaxBytes: 64})
	wholeLine := tensor.Attrs{"key_index": int64(-2), "value_index": int64(-1)}
	cols := tensor.Attrs{"key_index": int64(0), "value_index": int64(1)}
	for _, c := range []struct {
		name     string
		text     string // "" = no file in dir
		path     string // overrides the file's path
		attrs    tensor.Attrs
		vdt      tensor.DType
		sentinel error
		want     []string
	}{
		{name: "missing file", path: filepath.Join(dir, "nope.txt"), attrs: wholeLine, vdt: tensor.Int64, want: []string{"nope.txt", "no such file"}},
		{name: "empty line", text: "a\n\nb\n", attrs: wholeLine, vdt: tensor.Int64, want: []string{"line 2 is empty", "empty_line.txt"}},
		{name: "too few columns", text: "a\t1\nb\n", attrs: cols, vdt: tensor.Int64, want: []string{"line 2", "at least 2 fields", "too_few_columns.txt"}},
		{name: "malformed int64", text: "a\t1\nb\tx2\n", attrs: cols, vdt: tensor.Int64, want: []string{"line 2", `"x2" is not a valid int64`}},
		{name: "vocab_size beyond the file", text: "a\n", attrs: tensor.Attrs{"key_index": int64(-2), "value_index": int64(-1), "vocab_size": int64(3)}, vdt: tensor.Int64, want: []string{"expected 3 lines", "has 1"}},
		{name: "line number into a string value", text: "a\n", attrs: wholeLine, vdt: tensor.String, sentinel: ErrDType, want: []string{"index -1", "int64"}},
		{name: "file outside the assets", path: lookupTestFile(t, outside, "secret.txt", "a\n"), attrs: wholeLine, vdt: tensor.Int64, want: []string{"outside the directories", "secret.txt"}},
		{name: "file over the size limit", text: strings.Repeat("word\n", 20), attrs: wholeLine, vdt: tensor.Int64, sentinel: ErrLimit, want: []string{"100 bytes", "limit 64"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := lookupTestCtx(st)
			path := c.path
			if path == "" {
				path = lookupTestFile(t, dir, strings.ReplaceAll(c.name, " ", "_")+".txt", c.text)
			}
			h := lookupNewHandle(t, ctx, "HashTableV2", c.name, tensor.String, c.vdt)
			_, err := seqCall(t, ctx, "InitializeTableFromTextFileV2", c.attrs, h, lookupScalarStr(path))
			lookupWantErr(t, err, c.sentinel, c.want...)
			// A failed initializer leaves the table uninitialized.
			def := lookupScalarStr("")
			if c.vdt != tensor.String {
				def = seqT(c.vdt, tensor.Shape{}, 0)
			}
			_, err = seqCall(t, ctx, "LookupTableFindV2", tensor.Attrs{"Tin": tensor.String, "Tout": c.vdt}, h, lookupStr("a"), def)
			lookupWantErr(t, err, nil, "not initialized")
		})
	}
	// A state without allowed directories reads no file.
	ctx := lookupTestCtx(NewModelState(FileAccess{}))
	h := lookupNewHandle(t, ctx, "HashTableV2", "t", tensor.String, tensor.Int64)
	_, err := seqCall(t, ctx, "InitializeTableFromTextFileV2", wholeLine, h, lookupScalarStr(lookupTestFile(t, dir, "ok.txt", "a\n")))
	lookupWantErr(t, err, nil, "may read no files")
	// Bad attrs fail at build time.
	for _, a := range []tensor.Attrs{
		{"key_index": int64(-3), "value_index": int64(0)},
		{"key_index": int64(0), "value_index": int64(1), "delimiter": "::"},
		{"key_index": int64(0), "value_index": int64(1), "vocab_size": int64(0)},
	} {
		_, err := seqCall(t, ctx, "InitializeTableFromTextFile", a, lookupStr("", "t"), lookupScalarStr("x"))
		lookupWantErr(t, err, ErrAttr)
	}
}

func TestLookupInitializeFromTensors(t *testing.T) {
	st := NewModelState(FileAccess{})
	ctx := lookupTestCtx(st)
	init := tensor.Attrs{"Tkey": tensor.String, "Tval": tensor.Int64}
	find := tensor.Attrs{"Tin": tensor.String, "Tout": tensor.Int64}

	// Uninitialized: lookups fail, the size is 0.
	h := lookupNewHandle(t, ctx, "HashTableV2", "t", tensor.String, tensor.Int64)
	_, err := seqCall(t, ctx, "LookupTableFindV2", find, h, lookupStr("a"), tensor.Scalar(int64(0)))
	lookupWantErr(t, err, nil, `table "t" is not initialized`)
	seqWant(t, "size", seqMust(t, ctx, "LookupTableSizeV2", nil, h)[0], tensor.Int64, tensor.Shape{}, []float64{0})

	// Duplicate keys with equal values are fine (HashTable::DoInsert).
	seqMust(t, ctx, "InitializeTableV2", init, h, lookupStr("a", "b", "a"), seqI64s(1, 2, 1))
	seqWant(t, "size", seqMust(t, ctx, "LookupTableSizeV2", nil, h)[0], tensor.Int64, tensor.Shape{}, []float64{2})
	// Initializing again: the same size is accepted (AreEntriesSame only
	// compares sizes), another size is an error.
	seqMust(t, ctx, "InitializeTableV2", init, h, lookupStr("x", "y"), seqI64s(8, 9))
	_, err = seqCall(t, ctx, "InitializeTableV2", init, h, lookupStr("x"), seqI64s(8))
	lookupWantErr(t, err, nil, "already initialized with different data")
	got := seqMust(t, ctx, "LookupTableFindV2", find, h, lookupStr("a", "b", "x"), tensor.Scalar(int64(0)))[0]
	seqWant(t, "find", got, tensor.Int64, tensor.Shape{3}, []float64{1, 2, 0})

	// Duplicate keys with different values are an error naming the key.
	h2 := lookupNewHandle(t, ctx, "HashTableV2", "dup", tensor.String, tensor.Int64)
	_, err = seqCall(t, ctx, "InitializeTableV2", init, h2, lookupStr("k", "k"), seqI64s(1, 2))
	lookupWantErr(t, err, nil, `table "dup"`, "key k has 1", "value 2")
	// Keys and values of different shapes or dtypes.
	_, err = seqCall(t, ctx, "InitializeTableV2", init, h2, lookupStr("k", "j"), seqI64s(1))
	lookupWantErr(t, err, ErrShape)
	_, err = seqCall(t, ctx, "InitializeTableV2", tensor.Attrs{}, h2, seqI64s(1), seqI64s(1))
	lookupWantErr(t, err, ErrDType, "keys are int64")

	// Dtype mismatches: a find declaring int64 keys on a string table, a
	// string key fed to an int64 table, a default of the wrong dtype or
	// shape, and a second node creating the table with other dtypes.
	_, err = seqCall(t, ctx, "LookupTableFindV2", tensor.Attrs{"Tin": tensor.Int64, "Tout": tensor.Int64}, h, seqI64s(1), tensor.Scalar(int64(0)))
	lookupWantErr(t, err, ErrDType, `node "n"`, "keys of dtype int64", "string keys")
	_, err = seqCall(t, ctx, "LookupTableFindV2", tensor.Attrs{"Tout": tensor.Int64}, h, seqI64s(1), tensor.Scalar(int64(0)))
	lookupWantErr(t, err, ErrDType, "keys are int64")
	_, err = seqCall(t, ctx, "LookupTableFindV2", tensor.Attrs{"Tout": tensor.Int64}, h, lookupStr("a"), tensor.Scalar(int32(0)))
	lookupWantErr(t, err, ErrDType, "default value is int32")
	_, err = seqCall(t, ctx, "LookupTableFindV2", find, h, lookupStr("a", "b"), seqI64s(1, 2, 3))
	lookupWantErr(t, err, ErrShape)
	_, err = seqCall(t, ctx, "HashTableV2", tensor.Attrs{"shared_name": "t", "key_dtype": tensor.Int64, "value_dtype": tensor.Int64})
	lookupWantErr(t, err, ErrDType, "conflicting key/value dtypes")
	// Handles that name no table.
	_, err = seqCall(t, ctx, "LookupTableSizeV2", nil, lookupScalarStr("t"))
	lookupWantErr(t, err, ErrDType, "resource scalar")
	res, _ := tensor.Wrap(tensor.Resource, tensor.Shape{}, []string{"table:never"})
	_, err = seqCall(t, ctx, "LookupTableSizeV2", nil, res)
	lookupWantErr(t, err, nil, `table "never" does not exist`)
	res, _ = tensor.Wrap(tensor.Resource, tensor.Shape{}, []string{"variable:v"})
	_, err = seqCall(t, ctx, "LookupTableSizeV2", nil, res)
	lookupWantErr(t, err, ErrDType, "does not name a lookup table")
	// Unsupported dtypes fail at build time.
	_, err = seqCall(t, ctx, "HashTableV2", tensor.Attrs{"key_dtype": tensor.Float32, "value_dtype": tensor.Int64})
	lookupWantErr(t, err, ErrDType, "key dtype float32")
	_, err = seqCall(t, ctx, "HashTableV2", tensor.Attrs{"key_dtype": tensor.String, "value_dtype": tensor.Half})
	lookupWantErr(t, err, ErrDType, "value dtype")
}

// TestLookupEveryDType fills a table of every supported key and value
// dtype from tensors and reads it back.
func TestLookupEveryDType(t *testing.T) {
	keyDTypes := []tensor.DType{tensor.String, tensor.Int32, tensor.Int64}
	valDTypes := []tensor.DType{tensor.String, tensor.Bool, tensor.Int32, tensor.Int64, tensor.Float32, tensor.Float64}
	mk := func(dt tensor.DType, v ...float64) *tensor.Tensor {
		if dt == tensor.String {
			s := make([]string, len(v))
			for i, x := range v {
				s[i] = fmt.Sprint(x)
			}
			return tensor.FromSlice(tensor.Shape{len(v)}, s)
		}
		return seqT(dt, tensor.Shape{len(v)}, v...)
	}
	ctx := lookupTestCtx(NewModelState(FileAccess{}))
	for _, kdt := range keyDTypes {
		for _, vdt := range valDTypes {
			t.Run(kdt.String()+"->"+vdt.String(), func(t *testing.T) {
				for _, v := range []string{"", "V2"} {
					name := kdt.String() + vdt.String() + v
					h := seqMust(t, ctx, "HashTable"+v, tensor.Attrs{"shared_name": name, "key_dtype": kdt, "value_dtype": vdt})[0]
					seqMust(t, ctx, "InitializeTable"+v, tensor.Attrs{"Tkey": kdt, "Tval": vdt}, h, mk(kdt, 3, 1, 2), mk(vdt, 1, 0, 1))
					def := mk(vdt, 0)
					def, _ = def.View(tensor.Shape{})
					got := seqMust(t, ctx, "LookupTableFind"+v, tensor.Attrs{"Tin": kdt, "Tout": vdt}, h, mk(kdt, 2, 9, 3), def)[0]
					want := mk(vdt, 1, 0, 1)
					if !tensor.Equal(got, want) {
						t.Fatalf("%s: find = %v, want %v", name, got, want)
					}
					ex := seqMust(t, ctx, "LookupTableExport"+v, tensor.Attrs{"Tkeys": kdt, "Tvalues": vdt}, h)
					if kdt != tensor.String && !tensor.Equal(ex[0], mk(kdt, 1, 2, 3)) {
						t.Fatalf("%s: exported keys %v", name, ex[0])
					}
				}
			})
		}
	}
}

func TestLookupReferenceHandles(t *testing.T) {
	dir := t.TempDir()
	path := lookupTestFile(t, dir, "v.txt", "alpha\nbeta\n")
	ctx := lookupTestCtx(NewModelState(FileAccess{Dirs: []string{dir}}))
	h := seqMust(t, ctx, "HashTable", tensor.Attrs{"container": "c", "shared_name": "v", "key_dtype": tensor.String, "value_dtype": tensor.Int64})[0]
	if s := tensor.As[string](h); h.DType() != tensor.String || len(s) != 2 || s[0] != "c" || s[1] != "v" {
		t.Fatalf("TF1 handle = %v", h)
	}
	seqMust(t, ctx, "InitializeTableFromTextFile", tensor.Attrs{"key_index": int64(-2), "value_index": int64(-1)}, h, lookupScalarStr(path))
	got := seqMust(t, ctx, "LookupTableFind", tensor.Attrs{"Tin": tensor.String, "Tout": tensor.Int64}, h, lookupStr("beta", "gamma"), tensor.Scalar(int64(-1)))[0]
	seqWant(t, "find", got, tensor.Int64, tensor.Shape{2}, []float64{1, -1})
	seqWant(t, "size", seqMust(t, ctx, "LookupTableSize", nil, h)[0], tensor.Int64, tensor.Shape{}, []float64{2})
	// The resource form names the same table.
	hv2 := seqMust(t, ctx, "HashTableV2", tensor.Attrs{"container": "c", "shared_name": "v", "key_dtype": tensor.String, "value_dtype": tensor.Int64})[0]
	seqWant(t, "size", seqMust(t, ctx, "LookupTableSizeV2", nil, hv2)[0], tensor.Int64, tensor.Shape{}, []float64{2})
}

func TestLookupMutableTable(t *testing.T) {
	ctx := lookupTestCtx(NewModelState(FileAccess{}))
	types := tensor.Attrs{"Tin": tensor.Int64, "Tout": tensor.Float32}
	h := lookupNewHandle(t, ctx, "MutableHashTableV2", "m", tensor.Int64, tensor.Float32)
	// An empty mutable table answers with the default.
	got := seqMust(t, ctx, "LookupTableFindV2", types, h, seqI64s(1), tensor.Scalar(float32(-1)))[0]
	seqWant(t, "empty", got, tensor.Float32, tensor.Shape{1}, []float64{-1})
	seqMust(t, ctx, "LookupTableInsertV2", types, h, seqI64s(1, 2, 3), seqT(tensor.Float32, tensor.Shape{3}, 10, 20, 30))
	seqMust(t, ctx, "LookupTableInsertV2", types, h, seqI64s(2), seqT(tensor.Float32, tensor.Shape{1}, 25))
	seqMust(t, ctx, "LookupTableRemoveV2", tensor.Attrs{"Tin": tensor.Int64}, h, seqI64s(3, 99))
	got = seqMust(t, ctx, "LookupTableFindV2", types, h, seqI64s(1, 2, 3), tensor.Scalar(float32(-1)))[0]
	seqWant(t, "after inserts", got, tensor.Float32, tensor.Shape{3}, []float64{10, 25, -1})
	ex := seqMust(t, ctx, "LookupTableExportV2", tensor.Attrs{"Tkeys": tensor.Int64, "Tvalues": tensor.Float32}, h)
	seqWant(t, "exported keys", ex[0], tensor.Int64, tensor.Shape{2}, []float64{1, 2})
	seqWant(t, "exported values", ex[1], tensor.Float32, tensor.Shape{2}, []float64{10, 25})
	// Import replaces everything.
	seqMust(t, ctx, "LookupTableImportV2", types, h, seqI64s(7), seqT(tensor.Float32, tensor.Shape{1}, 70))
	seqWant(t, "size", seqMust(t, ctx, "LookupTableSizeV2", nil, h)[0], tensor.Int64, tensor.Shape{}, []float64{1})
	// A mutable table is not initializable; a HashTable takes no inserts.
	_, err := seqCall(t, ctx, "InitializeTableV2", tensor.Attrs{}, h, seqI64s(1), seqT(tensor.Float32, tensor.Shape{1}, 1))
	lookupWantErr(t, err, nil, "not initializable")
	hh := lookupNewHandle(t, ctx, "HashTableV2", "h", tensor.Int64, tensor.Float32)
	_, err = seqCall(t, ctx, "LookupTableInsertV2", types, hh, seqI64s(1), seqT(tensor.Float32, tensor.Shape{1}, 1))
	lookupWantErr(t, err, nil, "not mutable")
	// Import into a HashTable initializes it (ImportValues).
	seqMust(t, ctx, "LookupTableImportV2", types, hh, seqI64s(5), seqT(tensor.Float32, tensor.Shape{1}, 0.5))
	got = seqMust(t, ctx, "LookupTableFindV2", types, hh, seqI64s(5), tensor.Scalar(float32(0)))[0]
	seqWant(t, "imported", got, tensor.Float32, tensor.Shape{1}, []float64{0.5})
	// MutableHashTable (TF1 form) works the same way.
	h1 := seqMust(t, ctx, "MutableHashTable", tensor.Attrs{"shared_name": "m1", "key_dtype": tensor.String, "value_dtype": tensor.Int64})[0]
	seqMust(t, ctx, "LookupTableInsert", tensor.Attrs{"Tin": tensor.String, "Tout": tensor.Int64}, h1, lookupStr("a"), seqI64s(4))
	seqMust(t, ctx, "LookupTableImport", tensor.Attrs{"Tin": tensor.String, "Tout": tensor.Int64}, h1, lookupStr("a", "b"), seqI64s(4, 5))
	seqWant(t, "size", seqMust(t, ctx, "LookupTableSize", nil, h1)[0], tensor.Int64, tensor.Shape{}, []float64{2})
}

// TestLookupConcurrent initializes one table from many runs at once and
// looks it up from many goroutines (run with -race).
func TestLookupConcurrent(t *testing.T) {
	dir := t.TempDir()
	var text strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&text, "w%d\n", i)
	}
	path := lookupTestFile(t, dir, "v.txt", text.String())
	st := NewModelState(FileAccess{Dirs: []string{dir}})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := lookupTestCtx(st)
			h, err := seqCall(t, ctx, "HashTableV2", tensor.Attrs{"shared_name": "v", "key_dtype": tensor.String, "value_dtype": tensor.Int64})
			if err == nil {
				_, err = seqCall(t, ctx, "InitializeTableFromTextFileV2", tensor.Attrs{"key_index": int64(-2), "value_index": int64(-1)}, h[0], lookupScalarStr(path))
			}
			for i := 0; err == nil && i < 50; i++ {
				var out []*tensor.Tensor
				out, err = seqCall(t, ctx, "LookupTableFindV2", tensor.Attrs{"Tin": tensor.String, "Tout": tensor.Int64}, h[0], lookupStr(fmt.Sprintf("w%d", i*3)), tensor.Scalar(int64(-1)))
				if err == nil && tensor.As[int64](out[0])[0] != int64(i*3) {
					err = fmt.Errorf("w%d -> %d", i*3, tensor.As[int64](out[0])[0])
				}
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// FuzzLookupParseText feeds arbitrary file contents and column choices to
// the text-file table parser: it must not panic, and what it returns must
// be one key and one value per line read.
func FuzzLookupParseText(f *testing.F) {
	f.Add([]byte("foo\nbar\nbaz\nwombat\n"), int8(-2), int8(-1), uint8(0), int64(-1))
	f.Add([]byte("a\t1\r\nb\t2"), int8(0), int8(1), uint8(4), int64(2))
	f.Add([]byte("1,x\n\n2,y"), int8(0), int8(1), uint8(9), int64(-1))
	f.Add([]byte(" 42\n-7\n+3"), int8(-2), int8(-1), uint8(3), int64(-1))
	dtypes := []tensor.DType{tensor.String, tensor.Int64, tensor.Int32, tensor.Float32, tensor.Float64}
	f.Fuzz(func(t *testing.T, data []byte, key, value int8, types uint8, vocab int64) {
		sp := lookupTextSpec{keyIndex: int64(key%4) - 2, valueIndex: int64(value%4) - 2, vocabSize: vocab%8 - 1, delim: '\t'}
		if sp.vocabSize == 0 {
			sp.vocabSize = -1
		}
		kdt, vdt := dtypes[int(types)%len(dtypes)], dtypes[int(types/8)%len(dtypes)]
		keys, values, err := lookupParseText(data, sp, kdt, vdt, 1<<16)
		if err != nil {
			return
		}
		if keys.Len() != values.Len() || keys.DType() != kdt || values.DType() != vdt {
			t.Fatalf("keys %v, values %v", keys, values)
		}
	})
}
