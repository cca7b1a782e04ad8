//go:build race

package tfd

// zallocRace is set under the race detector, whose runtime allocates.
const zallocRace = true
