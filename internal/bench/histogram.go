package bench

import (
	"math"
	"math/bits"
	"time"
)

// Bucket layout (see doc.go): values below histSub nanoseconds get one
// bucket each; above that, every power-of-two range [2^e, 2^(e+1)) is cut
// into histSub equal-width buckets. The bucket of v therefore never spans
// more than 1/histSub of v, which bounds the relative error of a quantile.
const (
	histSubBits = 7
	histSub     = 1 << histSubBits // linear buckets per power of two
	// A non-negative int64 has its top set bit at position 62 at most, so
	// the largest shift is 62-histSubBits and the largest index is
	// (62-histSubBits+1)*histSub + histSub - 1.
	histBuckets = (64 - histSubBits) * histSub
)

// HistogramRelativeError is the largest relative amount by which a
// Histogram quantile may exceed the exact quantile of the recorded values.
const HistogramRelativeError = 1.0 / histSub

// Histogram records durations in log-linear buckets of fixed layout, in the
// manner of HdrHistogram: constant memory (about 57 KiB), O(1) Record, and
// quantiles that never understate the exact value and overstate it by at
// most HistogramRelativeError (below 128ns they are exact).
//
// The zero value is an empty histogram ready for use. A Histogram is not
// safe for concurrent use; callers that record from several goroutines
// hold their own lock.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    uint64 // nanoseconds; overflows only after ~584 years in total
	min    int64
	max    int64
}

// histIndex returns the bucket of a non-negative value in nanoseconds.
func histIndex(v int64) int {
	u := uint64(v)
	if u < histSub {
		return int(u)
	}
	shift := bits.Len64(u) - 1 - histSubBits
	mantissa := u >> uint(shift) // in [histSub, 2*histSub)
	return (shift+1)*histSub + int(mantissa) - histSub
}

// histBounds returns the smallest and largest value (inclusive) that fall
// into bucket i.
func histBounds(i int) (lo, hi int64) {
	if i < histSub {
		return int64(i), int64(i)
	}
	shift := i/histSub - 1
	mantissa := uint64(i%histSub + histSub)
	lo = int64(mantissa << uint(shift))
	return lo, lo + int64(uint64(1)<<uint(shift)) - 1
}

// Record adds one observation. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[histIndex(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += uint64(v)
}

// Merge adds every observation of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count returns the number of recorded observations.
func (h *Histogram) Count() uint64 { return h.n }

// Min returns the smallest recorded duration exactly, or 0 if empty.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Max returns the largest recorded duration exactly, or 0 if empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the exact arithmetic mean, or 0 if empty.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}

// Quantile returns the q-quantile (q in [0, 1]; 0.99 is p99) as the upper
// bound of the bucket holding the ceil(q*Count())-th smallest observation,
// clamped to [Min, Max]. Quantile(0) is Min and Quantile(1) is Max; an
// empty histogram returns 0.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q <= 0 || math.IsNaN(q) {
		return time.Duration(h.min)
	}
	if q >= 1 {
		return time.Duration(h.max)
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum < rank {
			continue
		}
		_, hi := histBounds(i)
		hi = min(max(hi, h.min), h.max)
		return time.Duration(hi)
	}
	return time.Duration(h.max) // unreachable: cum ends at n >= rank
}
