package ops

import (
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// randRefShuffle is Fisher–Yates as random_shuffle_op.cc writes it, fed
// from the reference word stream.
func randRefShuffle(words []uint32, n int) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := 0; i < n-1; i++ {
		j := i + int(words[i]%uint32(n-i))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}

func TestRandomShuffle(t *testing.T) {
	attrs := tensor.Attrs{"T": tensor.Float32, "seed": int64(87654321), "seed2": int64(5)}
	const n = 10
	vals := make([]float64, 2*n)
	for i := range vals {
		vals[i] = float64(i)
	}
	got := moreMust(t, "RandomShuffle", attrs, moreT(tensor.Float32, moreS(n, 2), vals...))[0]
	perm := randRefShuffle(randRefWords(87654321, 5, n-1), n)
	want := make([]float64, 0, 2*n)
	for _, p := range perm {
		want = append(want, vals[2*p], vals[2*p+1])
	}
	moreExact(t, "rows", got, tensor.Float32, moreS(n, 2), want)

	// A second run of the same kernel continues the stream after the
	// ⌈(n−1)/4⌉ = 3 counters of the first.
	spec, _ := Default().Lookup("RandomShuffle")
	node := nnNode("RandomShuffle", attrs, []*tensor.Tensor{moreT(tensor.Int64, moreS(n))}, false)
	k, err := spec.Build(node)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i)
	}
	in := tensor.FromSlice(moreS(n), ids)
	if _, err := k.Run(&Ctx{}, []*tensor.Tensor{in}); err != nil {
		t.Fatal(err)
	}
	out, err := k.Run(&Ctx{}, []*tensor.Tensor{in})
	if err != nil {
		t.Fatal(err)
	}
	words := randRefWords(87654321, 5, 12+n-1)[12:]
	for i, p := range randRefShuffle(words, n) {
		if g := tensor.As[int64](out[0])[i]; g != int64(p) {
			t.Fatalf("second run: element %d = %d, want %d", i, g, p)
		}
	}

	// One row, one element, scalars and empty tensors come back unchanged;
	// strings move too.
	for _, x := range []*tensor.Tensor{
		moreT(tensor.Float32, moreS(1, 3), 1, 2, 3), moreT(tensor.Float32, moreS(), 4),
		moreT(tensor.Float32, moreS(0, 2)), moreT(tensor.Float32, moreS(5, 0)),
	} {
		got := moreMust(t, "RandomShuffle", attrs, x)[0]
		if !tensor.Equal(got, x) {
			t.Errorf("unchanged: got %v, want %v", got, x)
		}
	}
	got = moreMust(t, "RandomShuffle", attrs, tensor.FromSlice(moreS(3), []string{"a", "b", "c"}))[0]
	if s := tensor.As[string](got); len(s) != 3 || s[0]+s[1]+s[2] == "" {
		t.Errorf("strings: %v", s)
	}
}
