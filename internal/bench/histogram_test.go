package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the reference the histogram approximates: the
// ceil(q*n)-th smallest value.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	if q <= 0 {
		return sorted[0]
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

func TestBenchHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(n int, f func(i int) time.Duration) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	tests := []struct {
		name   string
		values []time.Duration
	}{
		{"single", []time.Duration{3 * time.Millisecond}},
		{"constant 1ms", gen(1000, func(int) time.Duration { return time.Millisecond })},
		{"exact below 128ns", gen(128, func(i int) time.Duration { return time.Duration(i) })},
		{"uniform up to 10ms", gen(5000, func(int) time.Duration {
			return time.Duration(rng.Int64N(int64(10 * time.Millisecond)))
		})},
		{"exponential mean 2ms", gen(5000, func(int) time.Duration {
			return time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond))
		})},
		{"bimodal 50us and 200ms", gen(2000, func(i int) time.Duration {
			if i%10 == 0 {
				return 200*time.Millisecond + time.Duration(rng.Int64N(int64(time.Millisecond)))
			}
			return 50*time.Microsecond + time.Duration(rng.Int64N(int64(time.Microsecond)))
		})},
		{"hours", gen(100, func(i int) time.Duration { return time.Duration(i+1) * time.Hour })},
		{"largest", []time.Duration{math.MaxInt64, math.MaxInt64 - 1, 1}},
	}
	quantiles := []float64{0, 0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			var sum uint64
			for _, v := range tt.values {
				h.Record(v)
				sum += uint64(v)
			}
			sorted := slices.Sorted(slices.Values(tt.values))
			if got := h.Count(); got != uint64(len(sorted)) {
				t.Fatalf("Count = %d, want %d", got, len(sorted))
			}
			if h.Min() != sorted[0] || h.Max() != sorted[len(sorted)-1] {
				t.Fatalf("Min, Max = %v, %v, want %v, %v", h.Min(), h.Max(), sorted[0], sorted[len(sorted)-1])
			}
			if want := time.Duration(sum / uint64(len(sorted))); h.Mean() != want {
				t.Fatalf("Mean = %v, want %v", h.Mean(), want)
			}
			prev := time.Duration(-1)
			for _, q := range quantiles {
				got, exact := h.Quantile(q), exactQuantile(sorted, q)
				// Never below the exact value, above it by at most one
				// bucket width, which is at most exact/128.
				limit := exact + exact/histSub
				if limit < exact { // overflowed near MaxInt64
					limit = math.MaxInt64
				}
				if got < exact || got > limit {
					t.Errorf("Quantile(%v) = %d, exact %d, allowed [%d, %d]", q, got, exact, exact, limit)
				}
				if got < prev {
					t.Errorf("Quantile(%v) = %v is below a lower quantile's %v", q, got, prev)
				}
				prev = got
			}
		})
	}
}

func TestBenchHistogramEdges(t *testing.T) {
	var empty Histogram
	for _, q := range []float64{0, 0.5, 1} {
		if got := empty.Quantile(q); got != 0 {
			t.Errorf("empty Quantile(%v) = %v, want 0", q, got)
		}
	}
	if empty.Count() != 0 || empty.Mean() != 0 || empty.Min() != 0 || empty.Max() != 0 {
		t.Errorf("empty histogram reports values: count %d mean %v min %v max %v",
			empty.Count(), empty.Mean(), empty.Min(), empty.Max())
	}

	var neg Histogram
	neg.Record(-time.Second)
	neg.Record(5)
	if neg.Min() != 0 || neg.Quantile(0.5) != 0 || neg.Max() != 5 {
		t.Errorf("negative durations: min %v p50 %v max %v, want 0 0 5", neg.Min(), neg.Quantile(0.5), neg.Max())
	}
}

func TestBenchHistogramMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var whole, a, b Histogram
	for i := range 4000 {
		v := time.Duration(rng.ExpFloat64() * float64(time.Millisecond))
		whole.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	var merged Histogram
	merged.Merge(&a)
	merged.Merge(&b)
	merged.Merge(nil)
	merged.Merge(new(Histogram))
	if merged != whole {
		t.Fatalf("merged histogram differs: count %d/%d min %v/%v max %v/%v",
			merged.Count(), whole.Count(), merged.Min(), whole.Min(), merged.Max(), whole.Max())
	}
}

// TestBenchHistogramLayout checks every bucket: contiguous, covering all
// non-negative int64, each mapping back to itself, none wider than 1/128 of
// its smallest value.
func TestBenchHistogramLayout(t *testing.T) {
	next := int64(0)
	for i := range histBuckets {
		lo, hi := histBounds(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if hi < lo {
			t.Fatalf("bucket %d: hi %d < lo %d", i, hi, lo)
		}
		if histIndex(lo) != i || histIndex(hi) != i {
			t.Fatalf("bucket %d [%d, %d]: bounds map to %d and %d", i, lo, hi, histIndex(lo), histIndex(hi))
		}
		if lo >= histSub && float64(hi-lo+1) > float64(lo)*HistogramRelativeError {
			t.Fatalf("bucket %d [%d, %d] is wider than %v of its start", i, lo, hi, HistogramRelativeError)
		}
		if hi == math.MaxInt64 {
			if i != histBuckets-1 {
				t.Fatalf("bucket %d reaches MaxInt64, but there are %d buckets", i, histBuckets)
			}
			return
		}
		next = hi + 1
	}
	t.Fatalf("buckets end at %d, before MaxInt64", next-1)
}

func FuzzBenchHistogramBucket(f *testing.F) {
	for _, v := range []int64{0, 1, 127, 128, 255, 256, 1_000_000_007, math.MaxInt64} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v int64) {
		if v < 0 {
			v = -(v + 1)
		}
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d, out of [0, %d)", v, i, histBuckets)
		}
		lo, hi := histBounds(i)
		if v < lo || v > hi {
			t.Fatalf("%d is outside its bucket %d [%d, %d]", v, i, lo, hi)
		}
		var h Histogram
		h.Record(time.Duration(v))
		if got := h.Quantile(0.5); got != time.Duration(v) {
			t.Fatalf("single value %d: Quantile(0.5) = %d", v, got)
		}
	})
}
