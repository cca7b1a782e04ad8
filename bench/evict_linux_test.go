package bench

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// benchEvict drops a file from the page cache, so that the next job reads
// it from disk, as a job over a data set on disk does. tfd maps inputs
// with huge pages, and a file read through such a mapping is cached in
// 2 MB folios, which later jobs map cheaply; a file still cached from
// being written is in small folios, whose mapping costs ~20 ms more per
// 313 MB.
func benchEvict(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		b.Fatal(err)
	}
}
