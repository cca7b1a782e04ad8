package ops

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/tfdgo/tfd/tensor"
)

// StringToHashBucketFast (tensorflow/core/kernels/string_to_hash_bucket_op.h)
// maps each string to Fingerprint64(s) mod num_buckets, as int64.
// TensorFlow's Fingerprint64 is FarmHash's Fingerprint64, which is the
// "na" variant of its 64-bit hash (farmhashna::Hash64 in farmhash.cc), a
// portable, fixed function of the bytes: hashFingerprint64 below
// implements it from that description.

func init() {
	Default().Register(Spec{Name: "StringToHashBucketFast", Doc: "FarmHash Fingerprint64 of each string modulo num_buckets, as int64",
		Infer: hashBucketInfer, Build: hashBucketBuild, Batch: BatchElementwise})
}

func hashBucketInfer(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return []Value{{DType: tensor.Int64, Shape: n.Inputs[0].Shape}}, nil
}

func hashBucketBuild(n *Node) (Kernel, error) {
	buckets, err := AttrInt(n, "num_buckets", 0)
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if buckets < 1 {
		return nil, fmt.Errorf("%w: op %s: num_buckets must be at least 1, got %d", ErrAttr, n.Op, buckets)
	}
	if dt, err := InputDType(n, 0, ""); err == nil && dt != tensor.String {
		return nil, fmt.Errorf("%w: op %s: input is %s, expected string", ErrDType, n.Op, dt)
	}
	nb := uint64(buckets)
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if in[0].DType() != tensor.String {
			return nil, fmt.Errorf("%w: op StringToHashBucketFast: input is %s, expected string", ErrDType, in[0].DType())
		}
		out, err := ctx.Alloc(tensor.Int64, in[0].Shape())
		if err != nil {
			return nil, err
		}
		o := tensor.As[int64](out)
		for i, s := range tensor.As[string](in[0]) {
			o[i] = int64(hashFingerprint64([]byte(s)) % nb)
		}
		return []*tensor.Tensor{out}, nil
	}), nil
}

// FarmHash constants: primes between 2^63 and 2^64.
const (
	hashK0 uint64 = 0xc3a5c85c97cb3127
	hashK1 uint64 = 0xb492b66fbe98f273
	hashK2 uint64 = 0x9ae16a3b2f90404f
)

func hashLoad64(s []byte, i int) uint64 { return binary.LittleEndian.Uint64(s[i:]) }

func hashLoad32(s []byte, i int) uint64 { return uint64(binary.LittleEndian.Uint32(s[i:])) }

// hashRot rotates right, as FarmHash's Rotate64 does.
func hashRot(v uint64, k int) uint64 { return bits.RotateLeft64(v, -k) }

func hashShiftMix(v uint64) uint64 { return v ^ (v >> 47) }

// hashLen16 mixes two words with a multiplier (Murmur-style).
func hashLen16(u, v, mul uint64) uint64 {
	a := (u ^ v) * mul
	a ^= a >> 47
	b := (v ^ a) * mul
	b ^= b >> 47
	return b * mul
}

func hashLen0to16(s []byte) uint64 {
	n := uint64(len(s))
	switch {
	case n >= 8:
		mul := hashK2 + n*2
		a := hashLoad64(s, 0) + hashK2
		b := hashLoad64(s, len(s)-8)
		c := hashRot(b, 37)*mul + a
		d := (hashRot(a, 25) + b) * mul
		return hashLen16(c, d, mul)
	case n >= 4:
		mul := hashK2 + n*2
		a := hashLoad32(s, 0)
		return hashLen16(n+(a<<3), hashLoad32(s, len(s)-4), mul)
	case n > 0:
		a, b, c := uint32(s[0]), uint32(s[n>>1]), uint32(s[n-1])
		y := a + b<<8
		z := uint32(n) + c<<2
		return hashShiftMix(uint64(y)*hashK2^uint64(z)*hashK0) * hashK2
	}
	return hashK2
}

func hashLen17to32(s []byte) uint64 {
	n := len(s)
	mul := hashK2 + uint64(n)*2
	a := hashLoad64(s, 0) * hashK1
	b := hashLoad64(s, 8)
	c := hashLoad64(s, n-8) * mul
	d := hashLoad64(s, n-16) * hashK2
	return hashLen16(hashRot(a+b, 43)+hashRot(c, 30)+d, a+hashRot(b+hashK2, 18)+c, mul)
}

func hashLen33to64(s []byte) uint64 {
	n := len(s)
	mul := hashK2 + uint64(n)*2
	a := hashLoad64(s, 0) * hashK2
	b := hashLoad64(s, 8)
	c := hashLoad64(s, n-8) * mul
	d := hashLoad64(s, n-16) * hashK2
	y := hashRot(a+b, 43) + hashRot(c, 30) + d
	z := hashLen16(y, a+hashRot(b+hashK2, 18)+c, mul)
	e := hashLoad64(s, 16) * mul
	f := hashLoad64(s, 24)
	g := (y + hashLoad64(s, n-32)) * mul
	h := (z + hashLoad64(s, n-24)) * mul
	return hashLen16(hashRot(e+f, 43)+hashRot(g, 30)+h, e+hashRot(f+a, 18)+g, mul)
}

// hashWeak32 hashes 32 bytes at s[i:] with two seeds into two words.
func hashWeak32(s []byte, i int, a, b uint64) (uint64, uint64) {
	w, x, y, z := hashLoad64(s, i), hashLoad64(s, i+8), hashLoad64(s, i+16), hashLoad64(s, i+24)
	a += w
	b = hashRot(b+a+z, 21)
	c := a
	a += x
	a += y
	b += hashRot(a, 44)
	return a + z, b + c
}

// hashFingerprint64 is FarmHash's Fingerprint64 (farmhashna::Hash64).
func hashFingerprint64(s []byte) uint64 {
	n := len(s)
	switch {
	case n <= 16:
		return hashLen0to16(s)
	case n <= 32:
		return hashLen17to32(s)
	case n <= 64:
		return hashLen33to64(s)
	}
	// Over 64 bytes: 64-byte blocks through a state of 56 bytes, then the
	// last 64 bytes (which may overlap the last block).
	x := uint64(81) // the seed
	y := x*hashK1 + 113
	z := hashShiftMix(y*hashK2+113) * hashK2
	var v0, v1, w0, w1 uint64
	x = x*hashK2 + hashLoad64(s, 0)
	end := ((n - 1) / 64) * 64
	last := n - 64
	for p := 0; p < end; p += 64 {
		x = hashRot(x+y+v0+hashLoad64(s, p+8), 37) * hashK1
		y = hashRot(y+v1+hashLoad64(s, p+48), 42) * hashK1
		x ^= w1
		y += v0 + hashLoad64(s, p+40)
		z = hashRot(z+w0, 33) * hashK1
		v0, v1 = hashWeak32(s, p, v1*hashK1, x+w0)
		w0, w1 = hashWeak32(s, p+32, z+w1, y+hashLoad64(s, p+16))
		x, z = z, x
	}
	mul := hashK1 + (z&0xff)<<1
	w0 += uint64((n - 1) & 63)
	v0 += w0
	w0 += v0
	x = hashRot(x+y+v0+hashLoad64(s, last+8), 37) * mul
	y = hashRot(y+v1+hashLoad64(s, last+48), 42) * mul
	x ^= w1 * 9
	y += v0*9 + hashLoad64(s, last+40)
	z = hashRot(z+w0, 33) * mul
	v0, v1 = hashWeak32(s, last, v1*mul, x+w0)
	w0, w1 = hashWeak32(s, last+32, z+w1, y+hashLoad64(s, last+16))
	x, z = z, x
	return hashLen16(hashLen16(v0, w0, mul)+hashShiftMix(y)*hashK0+z, hashLen16(v1, w1, mul)+x, mul)
}
