//go:build linux

package score

import (
	"errors"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// npyMapDrop is how many bytes of rows already written accumulate before
// their pages are dropped from the mapping: dropping costs a TLB flush,
// so it is done in chunks, and resident memory stays within a few chunks.
const npyMapDrop = 8 << 20

// npyMap is a private, read-only memory mapping of a .npy file: batches
// are tensors over the mapped pages of the page cache, so rows are never
// copied. The reader populates a batch's pages before handing the batch
// out (madvise MADV_POPULATE_READ), which moves the page-table work off the
// workers and finds a file that shrank as an error instead of a fault.
// Once written, rows leave the mapping again (MADV_DONTNEED), which keeps
// resident memory bounded whatever the file's size.
//
// A file truncated by another process after its rows were populated but
// before they were scored makes the run fault; the workers then panic
// instead of crashing (debug.SetPanicOnFault) and the job fails naming the
// file (TestJobMappedInputTruncated). Jobs map inputs only when every
// kernel runs on a worker goroutine: a single model, one worker per run.
type npyMap struct {
	mem     []byte         // the mapping, from file offset 0
	res     unsafe.Pointer // the reservation mem lies in, unmapped whole
	resLen  uintptr
	off     int64 // offset of the data in mem
	dropped int   // bytes at the start of mem dropped already, a page multiple
	page    int
	written atomic.Int64 // data bytes written, set by the writer
}

// npyMapFile maps the first size bytes of f, the data starting at off.
// ok is false when the file cannot be mapped; callers then read it.
//
// The mapping starts at a 2 MB boundary and asks for huge pages
// (MADV_HUGEPAGE): where the file system caches files in 2 MB folios
// (ext4 and XFS on recent kernels), a file read from disk through the
// mapping is cached in them, and later mappings of it take one page-table
// entry per 2 MB instead of 512. Populating and dropping 313 MB cost 20 ms
// in 4 KB pages and 1.3 ms in 2 MB pages here. Where the file is cached in
// small folios already, or huge pages are off, the mapping works as well.
func npyMapFile(f *os.File, off, size int64) (*npyMap, bool) {
	if size <= off || size != int64(int(size)) {
		return nil, false
	}
	n := uintptr(size)
	res, err := unix.MmapPtr(-1, 0, nil, n+hugePage, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, false
	}
	at := unsafe.Add(res, (hugePage-uintptr(res)%hugePage)%hugePage)
	p, err := unix.MmapPtr(int(f.Fd()), 0, at, n, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_FIXED)
	if err != nil {
		unix.MunmapPtr(res, n+hugePage)
		return nil, false
	}
	mem := unsafe.Slice((*byte)(p), n)
	unix.Madvise(mem, unix.MADV_HUGEPAGE) // a hint: EINVAL where huge pages are off
	return &npyMap{mem: mem, res: res, resLen: n + hugePage, off: off, page: os.Getpagesize()}, true
}

// hugePage is the size of the pages a mapping asks for.
const hugePage = 2 << 20

// errNoPopulate means the kernel cannot populate a mapping (Linux before
// 5.14): the caller reads the file instead.
var errNoPopulate = errors.New("score: MADV_POPULATE_READ is not supported")

// rows returns the n data bytes at data offset lo, populated, after
// dropping the pages of rows written.
func (m *npyMap) rows(lo, n int64) ([]byte, error) {
	m.drop()
	start, end := int(m.off+lo), int(m.off+lo+n)
	b := m.mem[start:end:end]
	if n == 0 {
		return b, nil
	}
	from := start &^ (m.page - 1)
	for {
		err := unix.Madvise(m.mem[from:end], unix.MADV_POPULATE_READ)
		switch {
		case err == nil:
			return b, nil
		case errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN):
			continue
		case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
			return nil, errNoPopulate
		case errors.Is(err, unix.EFAULT):
			return nil, errShrank
		}
		return nil, err
	}
}

// done records that the rows before data offset end are written: rows are
// written in order, so everything before end is done with. The reader
// drops their pages, which keeps the system calls off the writer.
func (m *npyMap) done(end int64) { m.written.Store(end) }

// drop gives back the pages of the rows written, in chunks.
func (m *npyMap) drop() {
	to := int(m.off+m.written.Load()) &^ (m.page - 1)
	if to-m.dropped < npyMapDrop {
		return
	}
	unix.Madvise(m.mem[m.dropped:to], unix.MADV_DONTNEED) // only a hint
	m.dropped = to
}

func (m *npyMap) close() error {
	if m == nil || m.mem == nil {
		return nil
	}
	err := unix.MunmapPtr(m.res, m.resLen)
	m.mem, m.res = nil, nil
	return err
}
