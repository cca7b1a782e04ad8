package ops

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// Expected values are hand-computed from the semantics of
// tensorflow/core/kernels/resource_variable_ops.cc: a read returns the
// last value assigned; AssignAdd/AssignSub add or subtract element-wise
// (integers wrap around).

func stateTestHandle(t *testing.T, ctx *Ctx, name string, dt tensor.DType) *tensor.Tensor {
	t.Helper()
	return seqMust(t, ctx, "VarHandleOp", tensor.Attrs{"shared_name": name, "dtype": dt, "shape": tensor.UnknownShape()})[0]
}

func TestStateVariableAcrossRuns(t *testing.T) {
	st := NewModelState(FileAccess{})
	run1 := lookupTestCtx(st)
	h := stateTestHandle(t, run1, "counter", tensor.Float32)
	if h.DType() != tensor.Resource || h.Rank() != 0 {
		t.Fatalf("handle %s%v", h.DType(), h.Shape())
	}
	dtype := tensor.Attrs{"dtype": tensor.Float32}
	init := seqMust(t, run1, "VarIsInitializedOp", nil, h)[0]
	seqWant(t, "initialized before", init, tensor.Bool, tensor.Shape{}, []float64{0})
	_, err := seqCall(t, run1, "ReadVariableOp", dtype, h)
	lookupWantErr(t, err, nil, `variable "counter" is not initialized`)
	_, err = seqCall(t, run1, "AssignAddVariableOp", dtype, h, tensor.Scalar(float32(1)))
	lookupWantErr(t, err, nil, "not initialized")

	seqMust(t, run1, "AssignVariableOp", dtype, h, tensor.Scalar(float32(0)))
	// Later runs of the model (new Resources, same state) see the value.
	for i := 1; i <= 3; i++ {
		run := lookupTestCtx(st)
		h := stateTestHandle(t, run, "counter", tensor.Float32)
		seqMust(t, run, "AssignAddVariableOp", dtype, h, tensor.Scalar(float32(1)))
		got := seqMust(t, run, "ReadVariableOp", dtype, h)[0]
		seqWant(t, "after add", got, tensor.Float32, tensor.Shape{}, []float64{float64(i)})
	}
	run := lookupTestCtx(st)
	seqMust(t, run, "AssignSubVariableOp", dtype, h, tensor.Scalar(float32(0.5)))
	got := seqMust(t, run, "ReadVariableOp", dtype, h)[0]
	seqWant(t, "after sub", got, tensor.Float32, tensor.Shape{}, []float64{2.5})
	// A read is a copy: changing it leaves the variable alone.
	tensor.As[float32](got)[0] = 99
	v, ok := st.Variable(VariableHandle("x", tensor.Attrs{"shared_name": "counter"}))
	if !ok || tensor.As[float32](v)[0] != 2.5 {
		t.Fatalf("ModelState.Variable = %v, %v", v, ok)
	}
	if hs := st.VariableHandles(); len(hs) != 1 || hs[0] != "variable:counter" {
		t.Errorf("VariableHandles = %q", hs)
	}
	seqWant(t, "initialized after", seqMust(t, run, "VarIsInitializedOp", nil, h)[0], tensor.Bool, tensor.Shape{}, []float64{1})

	// Without SetModel a run has a state of its own.
	private := seqTestCtx()
	ph := stateTestHandle(t, private, "counter", tensor.Float32)
	seqWant(t, "private", seqMust(t, private, "VarIsInitializedOp", nil, ph)[0], tensor.Bool, tensor.Shape{}, []float64{0})
}

func TestStateVariableDTypesAndErrors(t *testing.T) {
	ctx := lookupTestCtx(NewModelState(FileAccess{}))
	for _, c := range []struct {
		dt        tensor.DType
		init, add []float64
		want      []float64
	}{
		{dt: tensor.Float64, init: []float64{1.5, -2}, add: []float64{0.25, 2}, want: []float64{1.75, 0}},
		{dt: tensor.Int32, init: []float64{2147483647, 5}, add: []float64{1, -6}, want: []float64{-2147483648, -1}},
		{dt: tensor.Int64, init: []float64{40, 2}, add: []float64{2, 40}, want: []float64{42, 42}},
		{dt: tensor.Int8, init: []float64{127, 0}, add: []float64{1, -1}, want: []float64{-128, -1}},
		{dt: tensor.Int16, init: []float64{1, 2}, add: []float64{3, 4}, want: []float64{4, 6}},
		{dt: tensor.Uint8, init: []float64{255, 1}, add: []float64{1, 1}, want: []float64{0, 2}},
		{dt: tensor.Uint16, init: []float64{1, 2}, add: []float64{3, 4}, want: []float64{4, 6}},
		{dt: tensor.Float32, init: []float64{}, add: []float64{}, want: []float64{}},
	} {
		t.Run(c.dt.String(), func(t *testing.T) {
			shape := tensor.Shape{len(c.init)}
			h := stateTestHandle(t, ctx, "v_"+c.dt.String(), c.dt)
			a := tensor.Attrs{"dtype": c.dt}
			seqMust(t, ctx, "AssignVariableOp", a, h, seqT(c.dt, shape, c.init...))
			seqMust(t, ctx, "AssignAddVariableOp", a, h, seqT(c.dt, shape, c.add...))
			seqWant(t, "add", seqMust(t, ctx, "ReadVariableOp", a, h)[0], c.dt, shape, c.want)
			seqMust(t, ctx, "AssignSubVariableOp", a, h, seqT(c.dt, shape, c.add...))
			seqWant(t, "sub", seqMust(t, ctx, "ReadVariableOp", a, h)[0], c.dt, shape, c.init)
		})
	}
	f := tensor.Attrs{"dtype": tensor.Float32}
	h := stateTestHandle(t, ctx, "w", tensor.Float32)
	seqMust(t, ctx, "AssignVariableOp", f, h, seqT(tensor.Float32, tensor.Shape{2}, 1, 2))
	// Shapes must match for AssignAdd, and for Assign with validate_shape.
	_, err := seqCall(t, ctx, "AssignAddVariableOp", f, h, seqT(tensor.Float32, tensor.Shape{3}, 1, 2, 3))
	lookupWantErr(t, err, ErrShape, `variable "w"`, "[2]", "[3]")
	_, err = seqCall(t, ctx, "AssignVariableOp", tensor.Attrs{"dtype": tensor.Float32, "validate_shape": true}, h, seqT(tensor.Float32, tensor.Shape{1}, 1))
	lookupWantErr(t, err, ErrShape)
	// Without validate_shape an assignment may change the shape.
	seqMust(t, ctx, "AssignVariableOp", f, h, tensor.Scalar(float32(7)))
	seqWant(t, "reshaped", seqMust(t, ctx, "ReadVariableOp", f, h)[0], tensor.Float32, tensor.Shape{}, []float64{7})
	// Dtypes: the value against the attr, the attr against the variable.
	_, err = seqCall(t, ctx, "AssignVariableOp", f, h, tensor.Scalar(int32(1)))
	lookupWantErr(t, err, ErrDType, "value is int32")
	_, err = seqCall(t, ctx, "ReadVariableOp", tensor.Attrs{"dtype": tensor.Int32}, h)
	lookupWantErr(t, err, ErrDType, `variable "w" holds float32`)
	_, err = seqCall(t, ctx, "AssignAddVariableOp", tensor.Attrs{"dtype": tensor.String}, h, lookupScalarStr("x"))
	lookupWantErr(t, err, ErrDType, "dtype string not supported")
	_, err = seqCall(t, ctx, "ReadVariableOp", f, lookupScalarStr("variable:w"))
	lookupWantErr(t, err, ErrDType, "resource scalar")
	tbl, _ := tensor.Wrap(tensor.Resource, tensor.Shape{}, []string{"table:w"})
	_, err = seqCall(t, ctx, "ReadVariableOp", f, tbl)
	lookupWantErr(t, err, ErrDType, "does not name a variable")
	// Strings are assigned and read like any dtype.
	s := stateTestHandle(t, ctx, "path", tensor.String)
	seqMust(t, ctx, "AssignVariableOp", tensor.Attrs{"dtype": tensor.String}, s, lookupScalarStr("assets/a.txt"))
	if got := seqMust(t, ctx, "ReadVariableOp", tensor.Attrs{"dtype": tensor.String}, s)[0]; tensor.As[string](got)[0] != "assets/a.txt" {
		t.Errorf("string variable = %v", got)
	}
	// A read over the run's element limit fails.
	lim := lookupTestCtx(NewModelState(FileAccess{}))
	lh := stateTestHandle(t, lim, "big", tensor.Float32)
	seqMust(t, lim, "AssignVariableOp", f, lh, seqT(tensor.Float32, tensor.Shape{4}, 1, 2, 3, 4))
	lim.MaxElements = 2
	_, err = seqCall(t, lim, "ReadVariableOp", f, lh)
	lookupWantErr(t, err, ErrLimit)
}

// TestStateVariableConcurrentAdds increments one variable from many
// goroutines, each a run of its own on the shared state: no update is
// lost and every read sees a whole value (run with -race).
func TestStateVariableConcurrentAdds(t *testing.T) {
	st := NewModelState(FileAccess{})
	ctx := lookupTestCtx(st)
	h := stateTestHandle(t, ctx, "n", tensor.Int64)
	a := tensor.Attrs{"dtype": tensor.Int64}
	seqMust(t, ctx, "AssignVariableOp", a, h, seqI64s(0, 0))
	const goroutines, adds = 16, 50
	var wg sync.WaitGroup
	bad := make(chan string, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run := lookupTestCtx(st)
			h, err := seqCall(t, run, "VarHandleOp", tensor.Attrs{"shared_name": "n", "dtype": tensor.Int64})
			for i := 0; err == nil && i < adds; i++ {
				if _, err = seqCall(t, run, "AssignAddVariableOp", a, h[0], seqI64s(1, 2)); err != nil {
					break
				}
				var out []*tensor.Tensor
				if out, err = seqCall(t, run, "ReadVariableOp", a, h[0]); err == nil {
					if v := tensor.As[int64](out[0]); v[1] != 2*v[0] {
						bad <- "torn read"
						return
					}
				}
			}
			if err != nil {
				bad <- err.Error()
			}
		}()
	}
	wg.Wait()
	close(bad)
	for b := range bad {
		t.Error(b)
	}
	v, _ := st.Variable("variable:n")
	if got := tensor.As[int64](v); got[0] != goroutines*adds || got[1] != 2*goroutines*adds {
		t.Errorf("final value %v, want [%d %d]", got, goroutines*adds, 2*goroutines*adds)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	asset := lookupTestFile(t, dir, "a.txt", "TEST ASSET FILE CONTENTS\n")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	nested := lookupTestFile(t, filepath.Join(dir, "sub"), "b.txt", "")
	secret := lookupTestFile(t, outside, "secret.txt", "no")
	link := filepath.Join(dir, "escape.txt")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	ctx := lookupTestCtx(NewModelState(FileAccess{Dirs: []string{dir}, MaxBytes: 30}))
	got := seqMust(t, ctx, "ReadFile", nil, lookupScalarStr(asset))[0]
	if s := tensor.As[string](got); got.Rank() != 0 || s[0] != "TEST ASSET FILE CONTENTS\n" {
		t.Fatalf("ReadFile = %q", s)
	}
	got = seqMust(t, ctx, "ReadFile", nil, lookupScalarStr(nested))[0]
	if s := tensor.As[string](got); s[0] != "" {
		t.Fatalf("empty file read as %q", s)
	}
	for _, c := range []struct {
		name     string
		in       *tensor.Tensor
		sentinel error
		want     string
	}{
		{name: "outside the assets", in: lookupScalarStr(secret), want: "outside the directories"},
		{name: "a link out of the assets", in: lookupScalarStr(link), want: "outside the directories"},
		{name: "a relative escape", in: lookupScalarStr(filepath.Join(dir, "..", filepath.Base(outside), "secret.txt")), want: "outside the directories"},
		{name: "missing", in: lookupScalarStr(filepath.Join(dir, "none.txt")), want: "none.txt"},
		{name: "a directory", in: lookupScalarStr(filepath.Join(dir, "sub")), want: "not a regular file"},
		{name: "not a scalar", in: lookupStr(asset, asset), sentinel: ErrDType, want: "string scalar"},
		{name: "over the limit", in: lookupScalarStr(lookupTestFile(t, dir, "big.txt", string(make([]byte, 31)))), sentinel: ErrLimit, want: "31 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := seqCall(t, ctx, "ReadFile", nil, c.in)
			lookupWantErr(t, err, c.sentinel, c.want, "ReadFile")
		})
	}
}
