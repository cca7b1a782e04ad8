package bundle

import (
	"encoding/binary"
	"hash/crc32"
	"math"

	"github.com/klauspost/compress/snappy"
)

// LevelDB table layout (leveldb doc/table_format.md; TensorFlow's copy is
// tensorflow/core/lib/io/format.h).
const (
	tableMagic      uint64 = 0xdb4775248b80fb57
	footerLen              = 48 // two padded block handles (40 bytes) + magic
	handlesLen             = 40
	blockTrailerLen        = 5 // compression type + masked crc32c

	compressionNone   = 0
	compressionSnappy = 1

	// crcMaskDelta is LevelDB's checksum mask constant (util/crc32c.h).
	crcMaskDelta uint32 = 0xa282ead8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskCRC is LevelDB's crc32c::Mask: a rotation plus a constant, so that
// the checksum of data that embeds checksums is not degenerate.
func maskCRC(c uint32) uint32 { return (c>>15 | c<<17) + crcMaskDelta }

// crc32c returns the (unmasked) Castagnoli CRC of b.
func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// blockHandle locates a block in the table file: its contents span
// [offset, offset+size) and the 5-byte trailer follows.
type blockHandle struct{ offset, size uint64 }

// decodeHandle reads a handle (two varint64s) from the front of b.
func decodeHandle(b []byte) (blockHandle, int, error) {
	off, n1 := binary.Uvarint(b)
	if n1 <= 0 {
		return blockHandle{}, 0, corruptf("bad block handle offset varint")
	}
	size, n2 := binary.Uvarint(b[n1:])
	if n2 <= 0 {
		return blockHandle{}, 0, corruptf("bad block handle size varint")
	}
	return blockHandle{off, size}, n1 + n2, nil
}

// table reads the blocks of an index file held in memory.
type table struct {
	data []byte
	// budget is what block contents may still take after decompression.
	budget int64
}

// footer checks the magic number and returns the index block handle.
func (t *table) footer() (index blockHandle, err error) {
	if len(t.data) < footerLen {
		return blockHandle{}, corruptf("truncated index: %d bytes, a table needs at least %d", len(t.data), footerLen)
	}
	foot := t.data[len(t.data)-footerLen:]
	if m := binary.LittleEndian.Uint64(foot[handlesLen:]); m != tableMagic {
		return blockHandle{}, corruptf("bad magic number 0x%016x in its last 8 bytes (expected 0x%016x): not a TensorBundle index, or a truncated one (%d bytes)", m, tableMagic, len(t.data))
	}
	_, n, err := decodeHandle(foot[:handlesLen]) // metaindex: not needed
	if err != nil {
		return blockHandle{}, err
	}
	index, _, err = decodeHandle(foot[n:handlesLen])
	return index, err
}

// block returns the contents of the block at h, after checking that it
// lies within the table, verifying its checksum and decompressing it.
func (t *table) block(h blockHandle, what string) ([]byte, error) {
	end := uint64(len(t.data) - footerLen)
	if h.offset > end || h.size > end-h.offset || blockTrailerLen > end-h.offset-h.size {
		return nil, corruptf("%s block [%d, +%d) plus its %d-byte trailer runs past the end of the table data (%d bytes)",
			what, h.offset, h.size, blockTrailerLen, end)
	}
	raw := t.data[h.offset : h.offset+h.size+blockTrailerLen]
	contents, typ := raw[:h.size], raw[h.size]
	stored := binary.LittleEndian.Uint32(raw[h.size+1:])
	if got := maskCRC(crc32.Update(crc32c(contents), castagnoli, raw[h.size:h.size+1])); got != stored {
		return nil, corruptf("%s block at offset %d: crc32c mismatch (stored 0x%08x, computed 0x%08x)", what, h.offset, stored, got)
	}
	switch typ {
	case compressionNone:
		if err := t.charge(int64(len(contents)), what); err != nil {
			return nil, err
		}
		return contents, nil
	case compressionSnappy:
		n, err := snappy.DecodedLen(contents)
		if err != nil {
			return nil, corruptf("%s block at offset %d: bad snappy header: %v", what, h.offset, err)
		}
		if err := t.charge(int64(n), what); err != nil {
			return nil, err
		}
		out, err := snappy.DecodeStrict(make([]byte, n), contents)
		if err != nil {
			return nil, corruptf("%s block at offset %d: snappy: %v", what, h.offset, err)
		}
		return out, nil
	}
	return nil, unsupportedf("%s block at offset %d: compression type %d (expected 0 none or 1 snappy)", what, h.offset, typ)
}

func (t *table) charge(n int64, what string) error {
	if n > t.budget {
		return limitf("%s block of %d bytes exceeds what is left of the index size limit (%d bytes)", what, n, t.budget)
	}
	t.budget -= n
	return nil
}

// forEachEntry calls fn for each key/value of a block, in order. Keys are
// prefix-compressed: each entry stores how many leading bytes it shares
// with the previous key, then the rest. The restart array at the end of
// the block only serves seeks; a full scan does not need it.
func forEachEntry(b []byte, what string, fn func(key, value []byte) error) error {
	if len(b) < 4 {
		return corruptf("%s block of %d bytes is too short for its restart count", what, len(b))
	}
	nRestarts := uint64(binary.LittleEndian.Uint32(b[len(b)-4:]))
	if nRestarts > uint64(len(b)-4)/4 {
		return corruptf("%s block of %d bytes claims %d restart points", what, len(b), nRestarts)
	}
	entries := b[:len(b)-4-4*int(nRestarts)]
	var prev []byte
	for p := 0; p < len(entries); {
		var hdr [3]uint64
		for i := range hdr {
			v, n := binary.Uvarint(entries[p:])
			if n <= 0 || v > math.MaxUint32 {
				return corruptf("%s block: bad entry header at offset %d", what, p)
			}
			hdr[i] = v
			p += n
		}
		shared, nonShared, valueLen := hdr[0], hdr[1], hdr[2]
		rest := uint64(len(entries) - p)
		if shared > uint64(len(prev)) || nonShared > rest || valueLen > rest-nonShared {
			return corruptf("%s block: entry at offset %d (shared %d, new %d, value %d bytes) does not fit (previous key %d bytes, %d bytes left)",
				what, p, shared, nonShared, valueLen, len(prev), rest)
		}
		key := make([]byte, shared+nonShared)
		copy(key, prev[:shared])
		copy(key[shared:], entries[p:p+int(nonShared)])
		p += int(nonShared)
		value := entries[p : p+int(valueLen)]
		p += int(valueLen)
		if err := fn(key, value); err != nil {
			return err
		}
		prev = key
	}
	return nil
}
