//go:build !linux

package score

import (
	"errors"
	"os"
)

// npyMap is Linux's memory-mapped reading of .npy files; elsewhere files
// are read.
type npyMap struct{}

func npyMapFile(*os.File, int64, int64) (*npyMap, bool) { return nil, false }

var errNoPopulate = errors.New("score: memory-mapped input is not supported")

func (m *npyMap) rows(lo, n int64) ([]byte, error) { return nil, errNoPopulate }
func (m *npyMap) done(int64)                       {}
func (m *npyMap) close() error                     { return nil }
