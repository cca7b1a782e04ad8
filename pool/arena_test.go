package pool

import (
	"errors"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// arenaRun simulates one run of a three-node chain: node 0 allocates a
// (n floats) and a scratch it releases; node 1 allocates b from a and
// releases a; node 2 allocates c from b and releases b. c is fetched and
// returned held.
func arenaRun(t *testing.T, a *Arena, f *Frame, n int, budget *Budget) (c *tensor.Tensor, all []*tensor.Tensor) {
	t.Helper()
	get := func(shape tensor.Shape) *tensor.Tensor {
		x, err := f.Get(tensor.Float32, shape, false)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, x)
		return x
	}
	a.Begin([]int{n}, ArenaRun{Budget: budget, Record: true})
	a.Step(0)
	f.Begin(0)
	x := get(tensor.Shape{n})
	s := get(tensor.Shape{2, n})
	tensor.As[float32](x)[0] = 1
	s.Release()
	a.Step(1)
	f.Begin(1)
	y := get(tensor.Shape{n})
	tensor.As[float32](y)[0] = tensor.As[float32](x)[0] + 1
	x.Release()
	a.Step(2)
	f.Begin(2)
	c = get(tensor.Shape{n, 1})
	tensor.As[float32](c)[0] = tensor.As[float32](y)[0] + 1
	y.Release()
	a.Step(3)
	a.End([]*tensor.Tensor{c})
	return c, all
}

func TestArenaLaysOutAfterTwoRuns(t *testing.T) {
	p := New()
	a := NewArena(p, 3)
	f := a.NewFrame()
	const n = 100
	for run := 0; run < 4; run++ {
		c, all := arenaRun(t, a, f, n, nil)
		if got := tensor.As[float32](c)[0]; got != 3 {
			t.Fatalf("run %d: c = %v, want 3", run, got)
		}
		if st := a.Stats(); (st.Layouts == 1) != (run >= 1) || st.Misses != 0 {
			t.Fatalf("run %d: stats %+v", run, st)
		}
		if run >= 2 {
			// Lifetimes in steps: x [0,1], scratch [0,0], y [1,2], c [2,end].
			x, s, y := all[0], all[1], all[2]
			if SameStorage(x.Data(), y.Data()) || SameStorage(y.Data(), c.Data()) || SameStorage(x.Data(), s.Data()) {
				t.Errorf("run %d: tensors alive at once share storage", run)
			}
			arenaCheckLayout(t, a.layouts[0])
			// The scratch (2n) first at 0, x after it, y over the scratch,
			// c after y (its memory overlapping the scratch's and x's).
			if st := a.Stats(); st.SlabBytes > 4*n*4 {
				t.Errorf("run %d: slab of %d bytes for peak %d", run, st.SlabBytes, 3*n*4)
			}
		}
		c.Release()
	}
	if out := p.Stats().Outstanding.Load(); out != 0 {
		t.Errorf("%d pool buffers outstanding", out)
	}
	allocs := testing.AllocsPerRun(100, func() {
		a.Begin([]int{n}, ArenaRun{Record: true})
		f.Begin(0)
		x, _ := f.Get(tensor.Float32, tensor.Shape{n}, false)
		s, _ := f.Get(tensor.Float32, tensor.Shape{2, n}, true)
		s.Release()
		f.Begin(1)
		y, _ := f.Get(tensor.Float32, tensor.Shape{n}, false)
		x.Release()
		f.Begin(2)
		c, _ := f.Get(tensor.Float32, tensor.Shape{n, 1}, false)
		y.Release()
		a.End(nil)
		c.Release()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per planned run, want 0", allocs)
	}
}

func TestArenaNeverHandsOutHeldMemory(t *testing.T) {
	a := NewArena(New(), 3)
	f := a.NewFrame()
	for run := 0; run < 2; run++ {
		c, _ := arenaRun(t, a, f, 64, nil)
		c.Release()
	}
	// A run that keeps node 0's scratch past node 1's allocation of y,
	// which was planned in the scratch's memory: y must come from
	// elsewhere.
	a.Begin([]int{64}, ArenaRun{Record: true})
	f.Begin(0)
	x, _ := f.Get(tensor.Float32, tensor.Shape{64}, false)
	s, _ := f.Get(tensor.Float32, tensor.Shape{2, 64}, false)
	f.Begin(1)
	y, _ := f.Get(tensor.Float32, tensor.Shape{64}, false)
	if memOverlap(s.Data(), y.Data()) || memOverlap(x.Data(), y.Data()) {
		t.Fatal("y was given memory still held")
	}
	if a.misses.Load() != 1 {
		t.Errorf("%d misses, want 1", a.misses.Load())
	}
	s.Release()
	x.Release()
	f.Begin(2)
	c, _ := f.Get(tensor.Float32, tensor.Shape{64, 1}, false)
	y.Release()
	a.End([]*tensor.Tensor{c})
	c.Release()
	// The layout that strayed is recorded again (on the key's second run
	// without one) and then holds.
	for run := 0; run < 3; run++ {
		c, _ := arenaRun(t, a, f, 64, nil)
		c.Release()
	}
	if st := a.Stats(); st.Misses != 0 || st.Layouts != 1 || st.Records != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestArenaKeysAndSizes(t *testing.T) {
	a := NewArena(New(), 3)
	f := a.NewFrame()
	for _, n := range []int{10, 10, 1000, 1000, 10, 1000, 10, 1000} {
		c, _ := arenaRun(t, a, f, n, nil)
		if got := tensor.As[float32](c)[0]; got != 3 || c.Len() != n {
			t.Fatalf("n=%d: c = %v, len %d", n, got, c.Len())
		}
		c.Release()
	}
	if st := a.Stats(); st.Layouts != 2 || st.Misses != 0 {
		t.Errorf("stats %+v: want two layouts over one slab", st)
	}
	// An allocation of a size no run recorded is served from the pool.
	a.Begin([]int{10}, ArenaRun{Record: true})
	f.Begin(0)
	x, err := f.Get(tensor.Float32, tensor.Shape{11}, true)
	if err != nil || x.Len() != 11 {
		t.Fatal(x, err)
	}
	for _, v := range tensor.As[float32](x) {
		if v != 0 {
			t.Fatal("Get with zero set returned non-zero values")
		}
	}
	x.Release()
	s, _ := f.Get(tensor.Int64, tensor.Shape{3}, false)
	if s.DType() != tensor.Int64 || s.Len() != 3 {
		t.Fatal(s)
	}
	s.Release()
	a.End(nil)
}

func TestBudget(t *testing.T) {
	p := New()
	a := NewArena(p, 3)
	f := a.NewFrame()
	const n = 100 // 400 bytes a tensor; at most 3 (x, 2n scratch) = 1200 at once
	for run := 0; run < 3; run++ {
		b := NewBudget(1200)
		c, _ := arenaRun(t, a, f, n, b)
		if b.Peak() != 1200 || b.Live() != 400 {
			t.Errorf("run %d: peak %d live %d, want 1200 and 400", run, b.Peak(), b.Live())
		}
		c.Release()
		if b.Live() != 0 {
			t.Errorf("run %d: %d bytes held after every release", run, b.Live())
		}
	}
	for _, planned := range []bool{false, true} {
		b := NewBudget(1199)
		key := []int{n}
		if !planned {
			key = []int{n + 1}
		}
		a.Begin(key, ArenaRun{Budget: b, Record: true})
		f.Begin(0)
		x, _ := f.Get(tensor.Float32, tensor.Shape{n}, false)
		_, err := f.Get(tensor.Float32, tensor.Shape{2, n}, false)
		if !errors.Is(err, tensor.ErrLimit) || !strings.Contains(err.Error(), "float32[2 100] needs 800 bytes while 400 are held, more than the budget of 1199 bytes") {
			t.Errorf("planned=%v: %v", planned, err)
		}
		x.Release()
		a.End(nil)
		if b.Live() != 0 {
			t.Errorf("planned=%v: %d bytes held", planned, b.Live())
		}
	}
	if out := p.Stats().Outstanding.Load(); out != 0 {
		t.Errorf("%d pool buffers outstanding", out)
	}
}

func TestArenaBindAndHandOver(t *testing.T) {
	a := NewArena(New(), 3)
	f := a.NewFrame()
	for run := 0; run < 3; run++ {
		c, _ := arenaRun(t, a, f, 8, nil)
		c.Release()
	}
	mine := make([]float32, 8)
	a.Begin([]int{8}, ArenaRun{Record: true})
	if !a.Bind(0, mine) || a.Bind(0, make([]float32, 9)) || a.Bind(1, mine) {
		t.Fatal("Bind accepted or refused the wrong storage")
	}
	f.Begin(0)
	x, _ := f.Get(tensor.Float32, tensor.Shape{8}, false)
	f.Begin(1)
	y, _ := f.Get(tensor.Float32, tensor.Shape{8}, false)
	x.Release()
	f.Begin(2)
	c, _ := f.Get(tensor.Float32, tensor.Shape{8, 1}, false)
	y.Release()
	if !SameStorage(c.Data(), any(mine)) {
		t.Fatal("the bound fetch was not computed in the caller's storage")
	}
	a.End([]*tensor.Tensor{c})
	c.Release()
	// A slab tensor handed over (Detach) takes its memory along: the slabs
	// are dropped, and later runs never write into it.
	c, _ = arenaRun(t, a, f, 8, nil)
	kept := c.Detach()
	tensor.As[float32](kept)[0] = 42
	for run := 0; run < 4; run++ {
		c, all := arenaRun(t, a, f, 8, nil)
		for _, v := range all {
			if SameStorage(v.Data(), kept.Data()) {
				t.Fatalf("run %d reused memory handed over", run)
			}
		}
		c.Release()
	}
	if tensor.As[float32](kept)[0] != 42 {
		t.Error("memory handed over was overwritten")
	}
}

// memOverlap reports whether two []float32 share any element.
func memOverlap(a, b any) bool {
	x, y := a.([]float32), b.([]float32)
	for i := range x {
		for j := range y {
			if &x[i] == &y[j] {
				return true
			}
		}
	}
	return false
}

// arenaCheckLayout checks that slots overlapping in memory list each
// other as aliases (which the layout may only do for lifetimes that do not
// overlap).
func arenaCheckLayout(t *testing.T, l *layout) {
	t.Helper()
	for i := range l.slots {
		for j := range l.slots {
			si, sj := &l.slots[i], &l.slots[j]
			if i == j || si.heap || sj.heap || si.kind != sj.kind {
				continue
			}
			overlap := si.off < sj.off+sj.n && sj.off < si.off+si.n
			listed := false
			for _, k := range si.aliases {
				listed = listed || int(k) == j
			}
			if overlap != listed {
				t.Errorf("slots %d [%d,%d) and %d [%d,%d): overlap %v, aliases %v", i, si.off, si.off+si.n, j, sj.off, sj.off+sj.n, overlap, listed)
			}
		}
	}
}
