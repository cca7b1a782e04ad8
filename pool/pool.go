package pool

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/tfdgo/tfd/tensor"
)

const (
	minClassBits = 6  // smallest class: 64 elements
	maxClassBits = 28 // largest class retained by default: 2^28 elements
	numClasses   = maxClassBits - minClassBits + 1
)

// kinds are the storage Go types a pool keeps, indexed by kindOf.
const (
	kFloat32 = iota
	kFloat64
	kInt32
	kInt64
	kUint8
	kInt8
	kInt16
	kUint16
	kBool
	numKinds
)

// maxPerClass bounds the buffers one size class keeps.
const maxPerClass = 64

// MaxRetainedBytes bounds the memory all classes of one pool keep.
const MaxRetainedBytes = 1 << 30

// class is a free list of buffers of one dtype kind and capacity.
type class struct {
	mu   sync.Mutex
	free []*tensor.Buffer
}

// Pool recycles tensor storage. The zero value is not usable; call New.
//
// Free lists are plain bounded stacks rather than sync.Pools, so that
// steady-state reuse does not depend on garbage collections.
type Pool struct {
	classes  [numKinds][numClasses]class
	retained atomic.Int64 // bytes held in free lists
	stats    Stats
	poison   bool
}

// Stats counts pool traffic, for tests and benchmarks.
type Stats struct {
	Gets        atomic.Int64 // tensors handed out
	Misses      atomic.Int64 // of which newly allocated
	Recycled    atomic.Int64 // buffers returned to a class
	Outstanding atomic.Int64 // pooled buffers in use: handed out, neither returned nor handed over
	HandedOut   atomic.Int64 // buffers that left the pool with a caller's output (Tensor.Detach)
}

// New returns an empty pool.
func New() *Pool { return &Pool{poison: poisonDefault} }

// Stats returns the pool's counters.
func (p *Pool) Stats() *Stats { return &p.stats }

func kindOf(dt tensor.DType) int {
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return kFloat32
	case tensor.Float64:
		return kFloat64
	case tensor.Int32:
		return kInt32
	case tensor.Int64:
		return kInt64
	case tensor.Uint8:
		return kUint8
	case tensor.Int8:
		return kInt8
	case tensor.Int16:
		return kInt16
	case tensor.Uint16:
		return kUint16
	case tensor.Bool:
		return kBool
	}
	return -1
}

// classOf returns the size class for n elements and its capacity, or -1 if
// n is too large to retain.
func classOf(n int) (int, int) {
	if n <= 1<<minClassBits {
		return 0, 1 << minClassBits
	}
	b := bits.Len(uint(n - 1))
	if b > maxClassBits {
		return -1, n
	}
	return b - minClassBits, 1 << b
}

// Get returns a tensor of the given dtype and shape whose contents are
// unspecified (not zeroed). String tensors and shapes too large for a class
// are allocated directly and are not pooled.
func (p *Pool) Get(dt tensor.DType, shape tensor.Shape) (*tensor.Tensor, error) {
	n, err := shape.NumElements()
	if err != nil {
		return nil, err
	}
	b := p.take(dt, n)
	if b == nil {
		return tensor.New(dt, shape, 0)
	}
	return tensor.WrapBuffer(dt, shape.Clone(), prefix(b.Data, n), b), nil
}

func (p *Pool) recycle(cl *class, b *tensor.Buffer, bytes int64) {
	p.stats.Outstanding.Add(-1)
	if p.retained.Load()+bytes > MaxRetainedBytes {
		return // dropped: the garbage collector takes it
	}
	if p.poison {
		poisonSlice(b.Data)
	}
	cl.mu.Lock()
	if len(cl.free) < maxPerClass {
		cl.free = append(cl.free, b)
		p.retained.Add(bytes)
		p.stats.Recycled.Add(1)
	}
	cl.mu.Unlock()
}

// Zeroed is Get with the contents set to zero.
func (p *Pool) Zeroed(dt tensor.DType, shape tensor.Shape) (*tensor.Tensor, error) {
	t, err := p.Get(dt, shape)
	if err != nil {
		return nil, err
	}
	if t.Pooled() {
		zero(t.Data())
	}
	return t, nil
}

func prefix(data any, n int) any {
	switch s := data.(type) {
	case []float32:
		return s[:n]
	case []float64:
		return s[:n]
	case []int32:
		return s[:n]
	case []int64:
		return s[:n]
	case []uint8:
		return s[:n]
	case []int8:
		return s[:n]
	case []int16:
		return s[:n]
	case []uint16:
		return s[:n]
	case []bool:
		return s[:n]
	}
	panic(fmt.Sprintf("pool: unexpected storage %T", data))
}

func zero(data any) {
	switch s := data.(type) {
	case []float32:
		clear(s)
	case []float64:
		clear(s)
	case []int32:
		clear(s)
	case []int64:
		clear(s)
	case []uint8:
		clear(s)
	case []int8:
		clear(s)
	case []int16:
		clear(s)
	case []uint16:
		clear(s)
	case []bool:
		clear(s)
	}
}
