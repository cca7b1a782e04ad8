package score

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/internal/npy"
	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/tensor"
)

// bigWriteNPY streams rows of MLP input into a .npy file without holding
// them: row r is testmodels.Input(seed r, 1 row).
func bigWriteNPY(t *testing.T, path string, rows int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr, err := npy.EncodeHeader(tensor.Float32, tensor.Shape{rows, testmodels.MLPIn})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(hdr)
	var buf []byte
	for r := range rows {
		if buf, err = npy.AppendData(buf[:0], bigRow(r)); err != nil {
			t.Fatal(err)
		}
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// bigRssFile returns the process's resident file-backed memory (Linux's
// RssFile), or 0 where /proc does not tell.
func bigRssFile() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func bigRow(r int) *tfd.Tensor { return testmodels.Input(uint64(r)%1024, 1, testmodels.MLPIn) }

// TestBigNPYBoundedMemory scores an .npy file much larger than the heap it
// is allowed (200 MB against 64 MB; 25 MB with -short or -race) and checks
// the heap never holds more than a few batches, and that sampled rows of
// the output match direct runs.
func TestBigNPYBoundedMemory(t *testing.T) {
	rows := 64 << 10 // 3136 bytes a row: 200 MB
	if testing.Short() || scoreRace {
		rows = 8 << 10
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "big.npy")
	bigWriteNPY(t, in, rows)
	m := scoreLoad(t, "mlp.pb")

	runtime.GC()
	rss0 := bigRssFile()
	var peak, peakRss atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if h := ms.HeapAlloc; h > peak.Load() {
				peak.Store(h)
			}
			if r := bigRssFile(); r > peakRss.Load() {
				peakRss.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	res, err := (&Job{Model: m, Input: Input{Files: []NamedFile{{"input", in}}}, Output: Output{Dir: dir}, Workers: 2}).Run(context.Background())
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != int64(rows) {
		t.Fatalf("%d rows scored, want %d", res.Rows, rows)
	}
	const limit = 64 << 20
	st, _ := os.Stat(in)
	t.Logf("input %d MB, peak heap %.1f MB", st.Size()>>20, float64(peak.Load())/(1<<20))
	if p := peak.Load(); p > limit {
		t.Errorf("peak heap %d bytes scoring a %d-byte file; limit %d", p, st.Size(), limit)
	}
	// The input is mapped on Linux: the pages of rows written must leave.
	if p := peakRss.Load(); p > rss0+limit {
		t.Errorf("resident file pages grew from %d to %d bytes scoring a %d-byte file; limit %d more", rss0, p, st.Size(), limit)
	}
	t.Logf("resident file pages %.1f MB before, %.1f MB at most", float64(rss0)/(1<<20), float64(peakRss.Load())/(1<<20))
	// Sampled rows against direct runs, read back through the reader.
	out := Field{Key: "output", Tensor: "output", DType: tensor.Float32, Shape: tensor.Known(tensor.Shape{-1, testmodels.MLPOut})}
	for _, r := range []int{0, 1, rows / 2, rows - 1} {
		rd, err := openNPY([]NamedFile{{"output", res.Files[0]}}, []Field{out}, Pos{Row: int64(r)}, false)
		if err != nil {
			t.Fatal(err)
		}
		b, err := rd.Read(1)
		rd.Close()
		if err != nil {
			t.Fatal(err)
		}
		scoreEqual(t, "row", b.Feeds["output"], scoreDirect(t, m, "input", bigRow(r), "output"))
	}
}
