package bundle

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// FuzzReadShard reads every tensor of a valid index (the sample bundle,
// little- or big-endian) from an arbitrary data shard. Properties: no
// panic; each read either fails with a *Error that is ErrCorrupt or a
// limit error, naming the shard and key, or returns the entry's dtype and
// shape; and a read whose bytes in the shard are the ones written gives
// the values written.
func FuzzReadShard(f *testing.F) {
	want := bundleSample()
	type variant struct {
		prefix string
		data   []byte // the shard as written
	}
	var variants []variant
	for i, opt := range []WriteOptions{{}, {BigEndian: true, Snappy: true, BlockSize: 64}} {
		prefix := filepath.Join(f.TempDir(), "b")
		if err := Write(prefix, want, opt); err != nil {
			f.Fatal(err)
		}
		data, err := os.ReadFile(prefix + ".data-00000-of-00001")
		if err != nil {
			f.Fatal(err)
		}
		variants = append(variants, variant{prefix, data})
		f.Add(uint8(i), data)
		f.Add(uint8(i), data[:len(data)/2])
		flipped := bytes.Clone(data)
		flipped[len(flipped)/3] ^= 0x10
		f.Add(uint8(i), flipped)
	}
	f.Add(uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		v := variants[int(which)%len(variants)]
		shard := v.prefix + ".data-00000-of-00001"
		if err := os.WriteFile(shard, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(v.prefix, bundleFuzzLimits)
		if err != nil {
			t.Fatalf("the index no longer opens: %v", err)
		}
		defer r.Close()
		for _, k := range r.Keys() {
			e, _ := r.Entry(k)
			got, err := r.Tensor(k)
			if err != nil {
				var be *Error
				if !errors.As(err, &be) || be.Key != k || be.File != shard {
					t.Fatalf("key %q: error %v does not name the shard and key", k, err)
				}
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, tensor.ErrLimit) {
					t.Fatalf("key %q: error %v is neither ErrCorrupt nor a limit", k, err)
				}
				continue
			}
			if got.DType() != e.DType || !got.Shape().Equal(e.Shape) {
				t.Fatalf("key %q: read %s%v for entry %s%v", k, got.DType(), got.Shape(), e.DType, e.Shape)
			}
			end := e.Offset + e.Size
			intact := end <= int64(len(data)) && end <= int64(len(v.data)) &&
				bytes.Equal(data[e.Offset:end], v.data[e.Offset:end])
			if intact && bundleFmt(got.Data()) != bundleFmt(want[k].Data()) {
				t.Fatalf("key %q: read %s from intact bytes, wrote %s", k, bundleFmt(got.Data()), bundleFmt(want[k].Data()))
			}
			if e.DType == tensor.String {
				s, err := r.String(k)
				if err != nil || len(s) != got.Len() {
					t.Fatalf("key %q: Tensor read %d strings, String gives %d, %v", k, got.Len(), len(s), err)
				}
			}
		}
	})
}
