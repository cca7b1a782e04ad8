package tfd_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tfdgo/tfd"
)

// Score batch after batch with a Runner: feeds by position, outputs
// written into tensors allocated once. From the second run of a batch size
// on, the Runner's memory plan serves every intermediate tensor.
func ExampleModel_NewRunner() {
	m, err := tfd.Load("testdata/mlp.pb")
	if err != nil {
		log.Fatal(err)
	}
	r, err := m.NewRunner([]string{"input"}, []string{"output"}, tfd.RunOptions{Workers: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	x := tfd.FromSlice([]int{2, 784}, make([]float32, 2*784))
	out := tfd.FromSlice([]int{2, 100}, make([]float32, 2*100))
	for batch := 0; batch < 3; batch++ {
		// Read the next batch into x's storage here.
		if err := r.RunInto(ctx, []*tfd.Tensor{x}, []*tfd.Tensor{out}); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("%v row sum %.3f\n", out.Shape(), memRowSum(out.Float64s()[:100]))

	// Run returns views owned by the Runner, valid until its next run.
	outs, err := r.Run(ctx, x)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(outs[0].Shape(), "valid until the next run")
	// Output:
	// [2 100] row sum 1.000
	// [2 100] valid until the next run
}

func memRowSum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}
