package schema

import (
	"math/big"
	"math/bits"
)

// appendUnscaled appends x in two's complement, big-endian, in the fewest
// bytes that keep its sign (what Java's BigInteger.toByteArray gives): the
// form of Avro decimals and Kafka Connect's Decimal. A nil x is zero.
func appendUnscaled(dst []byte, x *big.Int) []byte {
	if x == nil || x.Sign() == 0 {
		return append(dst, 0)
	}
	n := (x.BitLen() + 7) / 8
	start := len(dst)
	dst = append(dst, make([]byte, n+1)...)
	b := dst[start+1:]
	x.FillBytes(b)
	if x.Sign() < 0 {
		// -|x| in two's complement is the complement of |x|-1.
		for i := len(b) - 1; i >= 0; i-- {
			b[i]--
			if b[i] != 0xff {
				break
			}
		}
		for i := range b {
			b[i] = ^b[i]
		}
		dst[start] = 0xff
	}
	// Drop leading bytes that only repeat the sign bit.
	k := start
	for k+1 < len(dst) && (dst[k] == 0 && dst[k+1] < 0x80 || dst[k] == 0xff && dst[k+1] >= 0x80) {
		k++
	}
	if k > start {
		dst = append(dst[:start], dst[k:]...)
	}
	return dst
}

const wordBytes = bits.UintSize / 8

// setUnscaled sets z to the two's complement big-endian integer in b, using
// words (zeroed, len(b) rounded up to whole words) as z's storage.
func setUnscaled(z *big.Int, words []big.Word, b []byte) *big.Int {
	if len(b) == 0 {
		return z.SetInt64(0)
	}
	neg := b[0] >= 0x80
	for i := range b {
		c := b[len(b)-1-i]
		if neg {
			c = ^c
		}
		words[i/wordBytes] |= big.Word(c) << (8 * (i % wordBytes))
	}
	if neg {
		// |z| is the complement of b plus one.
		for i := range words {
			words[i]++
			if words[i] != 0 {
				break
			}
		}
	}
	z.SetBits(words)
	if neg {
		z.Neg(z)
	}
	return z
}

// unscaledWords is how many words setUnscaled needs for n bytes.
func unscaledWords(n int) int { return (n + wordBytes - 1) / wordBytes }
