package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// memByteFlag is a flag holding a number of bytes, written as an integer with
// an optional unit: B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB, TiB
// (powers of 1024). -1 (or any negative size) means no bound.
type memByteFlag int64

var memByteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

func (b *memByteFlag) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *memByteFlag) Set(s string) error {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range memByteUnits {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return fmt.Errorf("expected a size in bytes such as 1073741824, 512MiB or 2GB, got %q", s)
	}
	if n > 0 && n > math.MaxInt64/mult {
		return fmt.Errorf("size %q overflows", s)
	}
	if n < 0 {
		n, mult = -1, 1
	}
	*b = memByteFlag(n * mult)
	return nil
}
