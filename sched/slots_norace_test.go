//go:build !race

package sched

const zallocRace = false
