//go:build !race

package tfd

const zallocRace = false
