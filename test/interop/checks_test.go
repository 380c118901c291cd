package interop

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The suite is only as good as its comparisons; these cases show that each
// kind of difference a broker could introduce is caught.
func TestInteropHarnessChecks(t *testing.T) {
	sent := genRecords(40, 7, genOptions{partitions: 2})
	var acks []ack
	next := map[int32]int64{}
	for i, r := range sent {
		p := r.Partition
		if p < 0 {
			p = int32(i % 2)
		}
		acks = append(acks, ack{Index: i, Partition: p, Offset: next[p]})
		next[p]++
	}
	acked := checkAcks(t, sent, acks)
	checkReadBack(t, acked, acked) // the faithful broker passes

	clone := func() []Record {
		out := slices.Clone(acked)
		for i := range out {
			out[i].Headers = slices.Clone(out[i].Headers)
		}
		return out
	}
	firstWith := func(pred func(Record) bool) int {
		for i, r := range acked {
			if pred(r) {
				return i
			}
		}
		t.Fatal("genRecords made no record for this case")
		return -1
	}
	nullKey := firstWith(func(r Record) bool { return r.Key == nil })
	twoHeaders := firstWith(func(r Record) bool { return len(r.Headers) >= 2 && r.Headers[0].Key != r.Headers[1].Key })
	emptyValue := firstWith(func(r Record) bool { return r.Value != nil && len(r.Value) == 0 })
	someValue := firstWith(func(r Record) bool { return len(r.Value) > 0 })

	readCases := []struct {
		name string
		read func() []Record
		want string
	}{
		{"flipped value byte", func() []Record {
			r := clone()
			r[someValue].Value = append([]byte(nil), r[someValue].Value...)
			r[someValue].Value[0] ^= 1
			return r
		}, "value"},
		{"null key read as empty", func() []Record { r := clone(); r[nullKey].Key = []byte{}; return r }, "key"},
		{"empty value read as null", func() []Record { r := clone(); r[emptyValue].Value = nil; return r }, "value"},
		{"headers reordered", func() []Record {
			r := clone()
			h := r[twoHeaders].Headers
			h[0], h[1] = h[1], h[0]
			return r
		}, "header 0"},
		{"header dropped", func() []Record {
			r := clone()
			r[twoHeaders].Headers = r[twoHeaders].Headers[1:]
			return r
		}, "headers, want"},
		{"timestamp changed", func() []Record { r := clone(); r[3].Timestamp++; return r }, "timestamp"},
		{"record missing", func() []Record { return clone()[1:] }, "was not read back"},
		{"record at another offset", func() []Record { r := clone(); r[5].Offset += 100; return r }, "never acknowledged"},
		{"record read twice", func() []Record { r := clone(); return append(r, r[2]) }, "read twice"},
	}
	for _, tc := range readCases {
		rec := runRecorded(t, func(tb testing.TB) { checkReadBack(tb, acked, tc.read()) })
		if !strings.Contains(rec.messages(), tc.want) {
			t.Errorf("%s: checkReadBack reported %q, want a failure mentioning %q", tc.name, rec.messages(), tc.want)
		}
	}

	ackCases := []struct {
		name string
		acks func() []ack
		want string
	}{
		{"ack missing", func() []ack { return acks[1:] }, "acks for"},
		{"acked twice", func() []ack { a := slices.Clone(acks); a[1] = a[0]; return a }, "acknowledged twice"},
		{"gap in offsets", func() []ack { a := slices.Clone(acks); a[len(a)-1].Offset += 5; return a }, "are not 0.."},
		{"wrong partition", func() []ack {
			a := slices.Clone(acks)
			a[0].Partition = 1 - a[0].Partition // record 0 asked for partition 0
			return a
		}, "acknowledged in"},
	}
	for _, tc := range ackCases {
		rec := runRecorded(t, func(tb testing.TB) { checkAcks(tb, sent, tc.acks()) })
		if !strings.Contains(rec.messages(), tc.want) {
			t.Errorf("%s: checkAcks reported %q, want a failure mentioning %q", tc.name, rec.messages(), tc.want)
		}
	}
}

// recorder is a testing.TB that records failures instead of reporting them.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func runRecorded(t *testing.T, body func(testing.TB)) *recorder {
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		body(rec)
	}()
	<-done
	return rec
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) messages() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.msgs, "\n")
}
