//go:build race

package sched

// zallocRace is set under the race detector, whose runtime allocates.
const zallocRace = true
