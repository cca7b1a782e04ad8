//go:build race

package ops

// Under the race detector the accuracy sweeps run ten times slower and
// have little to check (each worker writes only its own buffers): they
// take a sparser sample.
func init() { vmathSampleStep = 16411 }
