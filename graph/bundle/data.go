package bundle

import (
	"encoding/binary"
	"hash/crc32"
	"math"

	"github.com/tfdgo/tfd/tensor"
)

// chunkBytes is how much of a tensor's bytes is read at a time: the bytes
// are decoded straight into the tensor's storage, so reading never holds
// a second full copy of a large tensor.
const chunkBytes = 1 << 20

// Tensor reads the tensor saved under key: exactly Size bytes at Offset of
// its shard, whose masked CRC32C must equal the entry's. Fixed-size dtypes
// are little-endian (byte-swapped if the header says big-endian); HALF and
// BFLOAT16 widen to float32 storage; DT_STRING uses TensorFlow's layout
// (varint64 lengths, a masked CRC32C of the lengths, then the bytes).
func (r *Reader) Tensor(key string) (*tensor.Tensor, error) {
	e, n, err := r.lookup(key)
	if err != nil {
		return nil, err
	}
	if e.DType == tensor.String {
		s, err := r.readStrings(e, n)
		if err != nil {
			return nil, err
		}
		return tensor.Wrap(tensor.String, e.Shape, s)
	}
	data, err := r.readFixed(e, n)
	if err != nil {
		return nil, err
	}
	return tensor.Wrap(e.DType, e.Shape, data)
}

// String reads a DT_STRING tensor and returns its elements in row-major
// order (a scalar gives one element). The _CHECKPOINTABLE_OBJECT_GRAPH
// entry of TF2 checkpoints is such a scalar.
func (r *Reader) String(key string) ([]string, error) {
	e, n, err := r.lookup(key)
	if err != nil {
		return nil, err
	}
	if e.DType != tensor.String {
		return nil, keyErr(r.indexPath, key, unsupportedf("dtype is %s (expected string)", e.DType))
	}
	return r.readStrings(e, n)
}

// lookup finds a readable entry and checks its element count.
func (r *Reader) lookup(key string) (Entry, int, error) {
	e, ok := r.entries[key]
	if !ok {
		return Entry{}, 0, keyErr(r.indexPath, key, &kindError{ErrNotFound, "no such key in the bundle"})
	}
	if e.Sliced {
		return Entry{}, 0, keyErr(r.indexPath, key, unsupportedf("partitioned variable not supported (its value is saved as slices under other keys)"))
	}
	if e.DType != tensor.String && (!e.DType.Supported() || e.DType.Size() == 0) {
		return Entry{}, 0, keyErr(r.indexPath, key, unsupportedf("dtype %s not supported", e.DType))
	}
	n, err := e.Shape.NumElements()
	if err != nil {
		return Entry{}, 0, keyErr(r.indexPath, key, err)
	}
	if n > r.lim.MaxElements {
		return Entry{}, 0, keyErr(r.indexPath, key, limitf("tensor %s%v has %d elements, more than the limit %d", e.DType, e.Shape, n, r.lim.MaxElements))
	}
	mem, ok := tensor.CheckedMul(n, e.DType.StorageSize())
	if !ok || int64(mem) > r.lim.MaxBytes {
		return Entry{}, 0, keyErr(r.indexPath, key, limitf("tensor %s%v needs more than the limit of %d bytes", e.DType, e.Shape, r.lim.MaxBytes))
	}
	if e.Size > r.lim.MaxBytes {
		return Entry{}, 0, keyErr(r.indexPath, key, limitf("entry has %d bytes, more than the limit %d", e.Size, r.lim.MaxBytes))
	}
	return e, n, nil
}

// openExtent opens the entry's shard and checks that its bytes lie
// within the file.
func (r *Reader) openExtent(e Entry) (*shardFile, error) {
	s, err := r.shard(e.Shard)
	if err != nil {
		return nil, err
	}
	if e.Offset > s.size || e.Size > s.size-e.Offset {
		return nil, keyErr(s.path, e.Key, corruptf("bytes [%d, %d) run past the end of the shard (%d bytes)", e.Offset, e.Offset+e.Size, s.size))
	}
	return s, nil
}

func (r *Reader) byteOrder() binary.ByteOrder {
	if r.bigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (r *Reader) checkCRC(s *shardFile, e Entry, crc uint32) error {
	if got := maskCRC(crc); got != e.CRC {
		return keyErr(s.path, e.Key, corruptf("crc32c mismatch (stored 0x%08x, computed 0x%08x)", e.CRC, got))
	}
	return nil
}

// readFixed reads a tensor of a fixed-size dtype.
func (r *Reader) readFixed(e Entry, n int) (any, error) {
	size := e.DType.Size()
	want, ok := tensor.CheckedMul(n, size)
	if !ok || int64(want) != e.Size {
		return nil, keyErr(r.indexPath, e.Key, corruptf("entry has %d bytes (expected %d elements of %s, %d bytes each)", e.Size, n, e.DType, size))
	}
	s, err := r.openExtent(e)
	if err != nil {
		return nil, err
	}
	data, err := tensor.MakeSlice(e.DType, n)
	if err != nil {
		return nil, keyErr(s.path, e.Key, err)
	}
	target := data
	switch e.DType {
	case tensor.Half:
		target = halfSlice{data.([]float32)}
	case tensor.BFloat16:
		target = bfloat16Slice{data.([]float32)}
	}
	buf := make([]byte, min(want, chunkBytes)) // chunkBytes is a multiple of every element size
	bo := r.byteOrder()
	var crc uint32
	for done := 0; done < want; {
		k := min(len(buf), want-done)
		if _, err := s.f.ReadAt(buf[:k], e.Offset+int64(done)); err != nil {
			return nil, keyErr(s.path, e.Key, corruptf("reading bytes [%d, %d): %v", e.Offset+int64(done), e.Offset+int64(done+k), err))
		}
		crc = crc32.Update(crc, castagnoli, buf[:k])
		decodeFixed(target, done/size, buf[:k], bo)
		done += k
	}
	if err := r.checkCRC(s, e, crc); err != nil {
		return nil, err
	}
	return data, nil
}

// decodeFixed decodes the elements in b into dst[at:]: a slice made by
// tensor.MakeSlice for the entry's dtype, or for HALF and BFLOAT16 its
// float32 storage wrapped in halfSlice or bfloat16Slice.
func decodeFixed(dst any, at int, b []byte, bo binary.ByteOrder) {
	switch d := dst.(type) {
	case []float32:
		for i := range len(b) / 4 {
			d[at+i] = math.Float32frombits(bo.Uint32(b[4*i:]))
		}
	case halfSlice:
		for i := range len(b) / 2 {
			d.s[at+i] = halfToFloat32(bo.Uint16(b[2*i:]))
		}
	case bfloat16Slice:
		for i := range len(b) / 2 {
			d.s[at+i] = math.Float32frombits(uint32(bo.Uint16(b[2*i:])) << 16)
		}
	case []float64:
		for i := range len(b) / 8 {
			d[at+i] = math.Float64frombits(bo.Uint64(b[8*i:]))
		}
	case []int32:
		for i := range len(b) / 4 {
			d[at+i] = int32(bo.Uint32(b[4*i:]))
		}
	case []int64:
		for i := range len(b) / 8 {
			d[at+i] = int64(bo.Uint64(b[8*i:]))
		}
	case []int16:
		for i := range len(b) / 2 {
			d[at+i] = int16(bo.Uint16(b[2*i:]))
		}
	case []uint16:
		for i := range len(b) / 2 {
			d[at+i] = bo.Uint16(b[2*i:])
		}
	case []uint32:
		for i := range len(b) / 4 {
			d[at+i] = bo.Uint32(b[4*i:])
		}
	case []uint64:
		for i := range len(b) / 8 {
			d[at+i] = bo.Uint64(b[8*i:])
		}
	case []complex64:
		for i := range len(b) / 8 {
			d[at+i] = complex(math.Float32frombits(bo.Uint32(b[8*i:])), math.Float32frombits(bo.Uint32(b[8*i+4:])))
		}
	case []complex128:
		for i := range len(b) / 16 {
			d[at+i] = complex(math.Float64frombits(bo.Uint64(b[16*i:])), math.Float64frombits(bo.Uint64(b[16*i+8:])))
		}
	case []int8:
		for i, v := range b {
			d[at+i] = int8(v)
		}
	case []uint8:
		copy(d[at:], b)
	case []bool:
		for i, v := range b {
			d[at+i] = v != 0
		}
	}
}

// halfSlice and bfloat16Slice mark the float32 storage of 2-byte float
// dtypes for decodeFixed.
type (
	halfSlice     struct{ s []float32 }
	bfloat16Slice struct{ s []float32 }
)

// readStrings reads a DT_STRING tensor (WriteStringTensor and
// ReadStringTensor in tensor_bundle.cc): n varint64 lengths; the masked
// CRC32C of the lengths, each fed as a 4-byte integer (8 bytes if it does
// not fit in 32 bits) in the bundle's byte order; then the bytes. The
// entry's checksum runs over those fed lengths, the 4 checksum bytes and
// the string bytes. An entry of size 0 holds n empty strings.
func (r *Reader) readStrings(e Entry, n int) ([]string, error) {
	s, err := r.openExtent(e)
	if err != nil {
		return nil, err
	}
	out := make([]string, n)
	if e.Size == 0 {
		return out, r.checkCRC(s, e, 0)
	}
	if int64(n) > e.Size {
		return nil, keyErr(s.path, e.Key, corruptf("entry has %d bytes, too few for the lengths of %d strings", e.Size, n))
	}
	buf := make([]byte, e.Size)
	if _, err := s.f.ReadAt(buf, e.Offset); err != nil {
		return nil, keyErr(s.path, e.Key, corruptf("reading bytes [%d, %d): %v", e.Offset, e.Offset+e.Size, err))
	}
	bo := r.byteOrder()
	lens := make([]uint64, n)
	var crc uint32
	var tmp [8]byte
	p := 0
	for i := range lens {
		v, k := binary.Uvarint(buf[p:])
		if k <= 0 {
			return nil, keyErr(s.path, e.Key, corruptf("bad varint length of string %d of %d at byte %d", i, n, p))
		}
		lens[i] = v
		p += k
		if v <= math.MaxUint32 {
			bo.PutUint32(tmp[:4], uint32(v))
			crc = crc32.Update(crc, castagnoli, tmp[:4])
		} else {
			bo.PutUint64(tmp[:], v)
			crc = crc32.Update(crc, castagnoli, tmp[:])
		}
	}
	if len(buf)-p < 4 {
		return nil, keyErr(s.path, e.Key, corruptf("string lengths take %d of %d bytes, leaving no room for their 4-byte checksum", p, len(buf)))
	}
	raw := buf[p : p+4]
	if stored, got := bo.Uint32(raw), maskCRC(crc); stored != got {
		return nil, keyErr(s.path, e.Key, corruptf("string length checksum mismatch (stored 0x%08x, computed 0x%08x)", stored, got))
	}
	crc = crc32.Update(crc, castagnoli, raw)
	p += 4
	rest := uint64(len(buf) - p)
	var total uint64
	for _, l := range lens {
		if l > rest-total {
			return nil, keyErr(s.path, e.Key, corruptf("string lengths add up to more than the %d bytes after them", rest))
		}
		total += l
	}
	if total != rest {
		return nil, keyErr(s.path, e.Key, corruptf("string lengths add up to %d bytes, but %d bytes follow them", total, rest))
	}
	if mem := uint64(n)*16 + total; mem > uint64(r.lim.MaxBytes) {
		return nil, keyErr(s.path, e.Key, limitf("string tensor needs %d bytes, more than the limit %d", mem, r.lim.MaxBytes))
	}
	crc = crc32.Update(crc, castagnoli, buf[p:])
	if err := r.checkCRC(s, e, crc); err != nil {
		return nil, err
	}
	for i, l := range lens {
		out[i] = string(buf[p : p+int(l)])
		p += int(l)
	}
	return out, nil
}

// halfToFloat32 widens an IEEE 754 binary16 bit pattern to float32
// exactly, including subnormals, infinities and NaN payloads.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	v := float32(mant) * (1.0 / (1 << 24)) // subnormal: mant × 2^-24, exact
	if sign != 0 {
		v = -v
	}
	return v
}
