//go:build !linux

package bench

import "testing"

// benchEvict leaves the page cache alone where there is no fadvise.
func benchEvict(*testing.B, string) {}
