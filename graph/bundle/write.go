package bundle

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"sort"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/proto"

	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
)

// WriteOptions controls Write. The zero value writes one shard with
// uncompressed 4 KiB blocks in little-endian order, as TensorFlow does.
type WriteOptions struct {
	// NumShards is the number of data files (0 means 1). Tensors go to
	// shards in turn, in key order.
	NumShards int
	// Snappy compresses every data block of the index with Snappy.
	Snappy bool
	// BlockSize is the size at which a data block of the index is closed
	// (0 means 4096). Small values give tables of many blocks.
	BlockSize int
	// BigEndian writes the header's endianness as BIG and the tensor
	// bytes (and string lengths) big-endian, as a big-endian host would.
	BigEndian bool
}

// Write saves tensors as a TensorBundle at prefix: "<prefix>.index" and
// "<prefix>.data-%05d-of-%05d". Keys must not be empty. The files are
// readable by TensorFlow's BundleReader and by Open. Write is meant for
// tests and test-data generators; it holds the index in memory.
func Write(prefix string, tensors map[string]*tensor.Tensor, opt WriteOptions) error {
	numShards := max(opt.NumShards, 1)
	blockSize := opt.BlockSize
	if blockSize <= 0 {
		blockSize = 4096
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if opt.BigEndian {
		bo = binary.BigEndian
	}
	keys := make([]string, 0, len(tensors))
	for k, t := range tensors {
		if k == "" {
			return fmt.Errorf("bundle: write %s: the empty key is reserved for the header", prefix)
		}
		if t == nil {
			return fmt.Errorf("bundle: write %s: key %q: nil tensor", prefix, k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)

	shards := make([]bytes.Buffer, numShards)
	entries := make([][]byte, len(keys))
	for i, k := range keys {
		t := tensors[k]
		id := i % numShards
		raw, crc, err := encodeTensor(t, bo)
		if err != nil {
			return fmt.Errorf("bundle: write %s: key %q: %w", prefix, k, err)
		}
		pe := &tfpb.BundleEntryProto{
			Dtype:   tfpb.DataType(t.DType()),
			Shape:   shapeProto(t.Shape()),
			ShardId: int32(id),
			Offset:  int64(shards[id].Len()),
			Size:    int64(len(raw)),
			Crc32C:  maskCRC(crc),
		}
		shards[id].Write(raw)
		if entries[i], err = (proto.MarshalOptions{Deterministic: true}).Marshal(pe); err != nil {
			return fmt.Errorf("bundle: write %s: key %q: %w", prefix, k, err)
		}
	}
	endian := tfpb.BundleHeaderProto_LITTLE
	if opt.BigEndian {
		endian = tfpb.BundleHeaderProto_BIG
	}
	header, err := proto.Marshal(&tfpb.BundleHeaderProto{
		NumShards:  int32(numShards),
		Endianness: endian,
		Version:    &tfpb.VersionDef{Producer: readerVersion},
	})
	if err != nil {
		return fmt.Errorf("bundle: write %s: header: %w", prefix, err)
	}

	tw := &tableWriter{blockSize: blockSize, snappy: opt.Snappy}
	tw.add("", header)
	for i, k := range keys {
		tw.add(k, entries[i])
	}
	index := tw.finish()

	for i := range shards {
		path := fmt.Sprintf("%s.data-%05d-of-%05d", prefix, i, numShards)
		if err := os.WriteFile(path, shards[i].Bytes(), 0o644); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
	}
	if err := os.WriteFile(prefix+".index", index, 0o644); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}

func shapeProto(s tensor.Shape) *tfpb.TensorShapeProto {
	sp := &tfpb.TensorShapeProto{}
	for _, d := range s {
		sp.Dim = append(sp.Dim, &tfpb.TensorShapeProto_Dim{Size: int64(d)})
	}
	return sp
}

// encodeTensor returns the stored bytes of t and their unmasked checksum
// (for strings, the checksum TensorFlow defines over the fed lengths).
func encodeTensor(t *tensor.Tensor, bo binary.ByteOrder) ([]byte, uint32, error) {
	dt := t.DType()
	var b []byte
	switch s := t.Data().(type) {
	case []string:
		return encodeStrings(s, bo)
	case []float32:
		switch dt {
		case tensor.Half:
			b = make([]byte, 2*len(s))
			for i, v := range s {
				bo.PutUint16(b[2*i:], float32ToHalf(v))
			}
		case tensor.BFloat16:
			b = make([]byte, 2*len(s))
			for i, v := range s {
				bo.PutUint16(b[2*i:], float32ToBFloat16(v))
			}
		default:
			b = make([]byte, 4*len(s))
			for i, v := range s {
				bo.PutUint32(b[4*i:], math.Float32bits(v))
			}
		}
	case []float64:
		b = make([]byte, 8*len(s))
		for i, v := range s {
			bo.PutUint64(b[8*i:], math.Float64bits(v))
		}
	case []int32:
		b = make([]byte, 4*len(s))
		for i, v := range s {
			bo.PutUint32(b[4*i:], uint32(v))
		}
	case []int64:
		b = make([]byte, 8*len(s))
		for i, v := range s {
			bo.PutUint64(b[8*i:], uint64(v))
		}
	case []int16:
		b = make([]byte, 2*len(s))
		for i, v := range s {
			bo.PutUint16(b[2*i:], uint16(v))
		}
	case []uint16:
		b = make([]byte, 2*len(s))
		for i, v := range s {
			bo.PutUint16(b[2*i:], v)
		}
	case []uint32:
		b = make([]byte, 4*len(s))
		for i, v := range s {
			bo.PutUint32(b[4*i:], v)
		}
	case []uint64:
		b = make([]byte, 8*len(s))
		for i, v := range s {
			bo.PutUint64(b[8*i:], v)
		}
	case []complex64:
		// Each part in the byte order, real first (std::complex layout).
		b = make([]byte, 8*len(s))
		for i, v := range s {
			bo.PutUint32(b[8*i:], math.Float32bits(real(v)))
			bo.PutUint32(b[8*i+4:], math.Float32bits(imag(v)))
		}
	case []complex128:
		b = make([]byte, 16*len(s))
		for i, v := range s {
			bo.PutUint64(b[16*i:], math.Float64bits(real(v)))
			bo.PutUint64(b[16*i+8:], math.Float64bits(imag(v)))
		}
	case []int8:
		b = make([]byte, len(s))
		for i, v := range s {
			b[i] = byte(v)
		}
	case []uint8:
		b = append([]byte{}, s...)
	case []bool:
		b = make([]byte, len(s))
		for i, v := range s {
			if v {
				b[i] = 1
			}
		}
	default:
		return nil, 0, fmt.Errorf("cannot write dtype %s", dt)
	}
	return b, crc32c(b), nil
}

func encodeStrings(s []string, bo binary.ByteOrder) ([]byte, uint32, error) {
	var b []byte
	var crc uint32
	var tmp [8]byte
	for _, v := range s {
		l := uint64(len(v))
		b = binary.AppendUvarint(b, l)
		if l <= math.MaxUint32 {
			bo.PutUint32(tmp[:4], uint32(l))
			crc = crc32.Update(crc, castagnoli, tmp[:4])
		} else {
			bo.PutUint64(tmp[:], l)
			crc = crc32.Update(crc, castagnoli, tmp[:])
		}
	}
	bo.PutUint32(tmp[:4], maskCRC(crc))
	b = append(b, tmp[:4]...)
	crc = crc32.Update(crc, castagnoli, tmp[:4])
	start := len(b)
	for _, v := range s {
		b = append(b, v...)
	}
	crc = crc32.Update(crc, castagnoli, b[start:])
	return b, crc, nil
}

// tableWriter builds a LevelDB table in memory: data blocks with a
// restart point every 16 keys, an empty metaindex block, an index block
// mapping each data block's last key to its handle, and the footer.
type tableWriter struct {
	blockSize int
	snappy    bool
	out       []byte
	block     blockBuilder
	index     blockBuilder
	lastKey   string
}

const restartInterval = 16

type blockBuilder struct {
	buf      []byte
	restarts []uint32
	count    int
	prev     string
}

func (b *blockBuilder) add(key string, value []byte, interval int) {
	shared := 0
	if b.count%interval == 0 {
		b.restarts = append(b.restarts, uint32(len(b.buf)))
	} else {
		for shared < len(key) && shared < len(b.prev) && key[shared] == b.prev[shared] {
			shared++
		}
	}
	b.buf = binary.AppendUvarint(b.buf, uint64(shared))
	b.buf = binary.AppendUvarint(b.buf, uint64(len(key)-shared))
	b.buf = binary.AppendUvarint(b.buf, uint64(len(value)))
	b.buf = append(b.buf, key[shared:]...)
	b.buf = append(b.buf, value...)
	b.prev = key
	b.count++
}

func (b *blockBuilder) finish() []byte {
	if len(b.restarts) == 0 {
		b.restarts = []uint32{0}
	}
	out := b.buf
	for _, r := range b.restarts {
		out = binary.LittleEndian.AppendUint32(out, r)
	}
	out = binary.LittleEndian.AppendUint32(out, uint32(len(b.restarts)))
	*b = blockBuilder{}
	return out
}

func (w *tableWriter) add(key string, value []byte) {
	w.block.add(key, value, restartInterval)
	w.lastKey = key
	if len(w.block.buf) >= w.blockSize {
		w.flush()
	}
}

func (w *tableWriter) flush() {
	if w.block.count == 0 {
		return
	}
	h := w.writeBlock(w.block.finish(), w.snappy)
	w.index.add(w.lastKey, h, 1)
}

// writeBlock appends a block and its trailer and returns its encoded handle.
func (w *tableWriter) writeBlock(contents []byte, compress bool) []byte {
	typ := byte(compressionNone)
	if compress {
		contents = snappy.Encode(nil, contents)
		typ = compressionSnappy
	}
	h := binary.AppendUvarint(nil, uint64(len(w.out)))
	h = binary.AppendUvarint(h, uint64(len(contents)))
	w.out = append(w.out, contents...)
	w.out = append(w.out, typ)
	crc := maskCRC(crc32.Update(crc32c(contents), castagnoli, []byte{typ}))
	w.out = binary.LittleEndian.AppendUint32(w.out, crc)
	return h
}

func (w *tableWriter) finish() []byte {
	w.flush()
	meta := w.writeBlock(w.block.finish(), false)
	index := w.writeBlock(w.index.finish(), false)
	foot := append(meta, index...)
	foot = append(foot, make([]byte, handlesLen-len(foot))...)
	foot = binary.LittleEndian.AppendUint64(foot, tableMagic)
	return append(w.out, foot...)
}

// float32ToHalf rounds a float32 to the nearest binary16, ties to even;
// NaNs stay NaNs.
func float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(mant>>13)
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint32(14 - e)
		q := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && q&1 == 1) {
			q++
		}
		return sign | uint16(q)
	}
	v := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && v&1 == 1) {
		v++
	}
	return sign | uint16(v)
}

// float32ToBFloat16 rounds a float32 to the nearest bfloat16, ties to
// even; NaNs stay NaNs.
func float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}
