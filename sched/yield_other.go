//go:build !linux

package sched

import "runtime"

// memYield lets other goroutines run (a sched_yield where there is one).
func memYield() { runtime.Gosched() }
