package sched

import "syscall"

// memYield gives the thread's CPU to whatever else the kernel has ready
// to run on it: a thread spinning on a busy machine can share its CPU
// with the very thread it waits for.
func memYield() { syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
