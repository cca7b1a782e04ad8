package ops

import (
	"fmt"

	"github.com/tfdgo/tfd/tensor"
)

// RandomShuffle permutes the rows (axis 0) of its input with the
// permutation TensorFlow's CPU kernel draws for the same seeds
// (tensorflow/core/kernels/random_shuffle_op.cc): it reserves ⌈(n−1)/4⌉
// Philox counters, takes their words one at a time, and runs
// Fisher–Yates from the front, swapping row i with row
// i + word % (n − i) for i < n−1. Inputs with at most one row or one
// element come back unchanged. As with the other random ops, each run of
// a built kernel continues the stream (see random.go).

func init() {
	Default().Register(Spec{
		Name:     "RandomShuffle",
		Doc:      "randomly permutes the rows (axis 0) of a tensor (Philox, seeded by seed and seed2)",
		Infer:    InferSameAsInput(0),
		Build:    randBuildShuffle,
		Stateful: true,
	})
}

type randShuffle struct {
	name string
	dt   tensor.DType
	mv   arrMover
	gen  *randGen
}

func randBuildShuffle(n *Node) (Kernel, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	mv, err := arrMoverFor(n.Op, dt)
	if err != nil {
		return nil, err
	}
	g, err := randSeeds(n)
	if err != nil {
		return nil, err
	}
	return &randShuffle{name: n.Op, dt: dt, mv: mv, gen: g}, nil
}

// randShufflePerm returns the permutation of n rows drawn from gen.
func randShufflePerm(gen *randPhilox, n int) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	single := randSingle{g: gen, used: 4}
	for i := 0; i < n-1; i++ {
		j := i + int(single.next()%uint32(n-i))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}

func (k *randShuffle) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%w: op %s: expected 1 input, got %d", ErrShape, k.name, len(in))
	}
	x := in[0]
	if err := arrCheckData(k.name, k.mv, x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if x.Len() <= 1 || len(s) == 0 || s[0] <= 1 {
		v, err := x.View(s)
		if err != nil {
			return nil, err
		}
		return []*tensor.Tensor{v}, nil
	}
	if s[0] > 1<<31 {
		return nil, fmt.Errorf("%w: op %s: %d rows, more than 2^31", ErrLimit, k.name, s[0])
	}
	n := s[0]
	gen := k.gen.reserve(uint64(n-1+3) / 4)
	perm := randShufflePerm(&gen, n)
	out, err := ctx.Alloc(k.dt, s)
	if err != nil {
		return nil, err
	}
	k.mv.gather(ctx, out, x, perm, 1, 1, n, x.Len()/n)
	return []*tensor.Tensor{out}, nil
}
