package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/testutil"
)

// A crash record's content is a pure function of its ID, so any record found
// in the log, acknowledged or not, can be checked byte for byte.
type recordID struct{ cycle, seq int }

func (id recordID) key() string { return fmt.Sprintf("crash-c%d-%07d", id.cycle, id.seq) }

func parseRecordID(key []byte) (recordID, bool) {
	var id recordID
	n, err := fmt.Sscanf(string(key), "crash-c%d-%07d", &id.cycle, &id.seq)
	return id, err == nil && n == 2 && id.key() == string(key)
}

// crashRecord builds the record for id: values from empty to over 64 KiB,
// mostly a few KiB, and one to three headers, the first naming the ID.
func crashRecord(id recordID) *kgo.Record {
	rng := rand.New(rand.NewPCG(uint64(id.cycle), uint64(id.seq)))
	fill := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	var size int
	switch {
	case id.seq%97 == 0:
		size = 64<<10 + rng.IntN(64<<10)
	case id.seq%5 == 0:
		size = 0
	default:
		size = rng.IntN(4 << 10)
	}
	r := &kgo.Record{Key: []byte(id.key()), Value: fill(size)}
	r.Headers = append(r.Headers, kgo.RecordHeader{Key: "id", Value: []byte(id.key())})
	for h := range rng.IntN(3) {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: fmt.Sprintf("h%d", h), Value: fill(rng.IntN(32))})
	}
	return r
}

// ackedRecord is where and when the broker acknowledged a record.
type ackedRecord struct {
	partition int32
	offset    int64
	timestamp int64 // Unix milliseconds, as sent
}

// ledger records what the producer was told.
type ledger struct {
	mu       sync.Mutex
	acked    map[recordID]ackedRecord
	perCycle map[int]int // acknowledgements per cycle
	produced int         // records handed to Produce
	promised int         // produce promises called, acknowledged or not
}

func newLedger() *ledger {
	return &ledger{acked: map[recordID]ackedRecord{}, perCycle: map[int]int{}}
}

func (l *ledger) produce() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.produced++
}

func (l *ledger) promise(id recordID, r *kgo.Record, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.promised++
	if err != nil {
		return
	}
	l.acked[id] = ackedRecord{partition: r.Partition, offset: r.Offset, timestamp: r.Timestamp.UnixMilli()}
	l.perCycle[id.cycle]++
}

func (l *ledger) ackedIn(cycle int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.perCycle[cycle]
}

// outstanding is how many produced records have had no promise called yet.
func (l *ledger) outstanding() (outstanding, produced int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.produced - l.promised, l.produced
}

// snapshot returns the acknowledged records and, per partition, the end
// offset the log must reach to hold them.
func (l *ledger) snapshot() (map[recordID]ackedRecord, map[int32]int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	acked := make(map[recordID]ackedRecord, len(l.acked))
	minEnd := map[int32]int64{}
	for id, a := range l.acked {
		acked[id] = a
		minEnd[a.partition] = max(minEnd[a.partition], a.offset+1)
	}
	return acked, minEnd
}

func TestE2ECrashKillDuringProduce(t *testing.T) {
	const (
		topic      = "crash"
		partitions = 3
		cycles     = 2
		maxPerRun  = 200_000 // bounds the producer if the kill never comes
	)
	killAfter := 4000 // acknowledgements per cycle before SIGKILL
	if testing.Short() {
		killAfter = 1000
	}
	// Each cycle's producer compresses differently, so recovery meets
	// different batch shapes.
	codecs := []kgo.CompressionCodec{kgo.NoCompression(), kgo.ZstdCompression()}

	dataDir := t.TempDir()
	p := startStrait(t, dataDir)
	clusterID := p.ClusterID()
	topicID := createTopic(t, newAdmin(t, p.Addr()), topic, partitions)
	led := newLedger()

	for cycle := range cycles {
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(p.Addr()),
			kgo.DefaultProduceTopic(topic),
			kgo.RequiredAcks(kgo.AllISRAcks()), // idempotence is on by default
			kgo.ProducerBatchCompression(codecs[cycle]),
			kgo.MaxBufferedRecords(4096),
		)
		if err != nil {
			t.Fatalf("producer: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			for seq := range maxPerRun {
				if ctx.Err() != nil {
					return
				}
				id := recordID{cycle, seq}
				led.produce()
				cl.Produce(ctx, crashRecord(id), func(r *kgo.Record, err error) { led.promise(id, r, err) })
			}
		})
		stopProducer := sync.OnceFunc(func() {
			cancel()
			wg.Wait()
			cl.Close() // fails whatever is still buffered
		})
		t.Cleanup(stopProducer)

		testutil.WaitFor(t, 3*time.Minute, func() (bool, string) {
			n := led.ackedIn(cycle)
			return n >= killAfter, fmt.Sprintf("cycle %d: %d of %d acknowledgements before the kill", cycle, n, killAfter)
		})
		p.Kill()
		stopProducer()
		// franz-go calls every record's promise, failing the unacknowledged
		// ones; the ledger is complete once they all have been.
		testutil.WaitFor(t, time.Minute, func() (bool, string) {
			n, _ := led.outstanding()
			return n == 0, fmt.Sprintf("%d produce promises not called yet", n)
		})
		_, produced := led.outstanding()
		t.Logf("cycle %d: killed after %d acknowledgements; %d records produced in all cycles", cycle, led.ackedIn(cycle), produced)

		p.Restart()
		if got := p.ClusterID(); got != clusterID {
			t.Fatalf("cluster.id %s after restart, want %s", got, clusterID)
		}
		if got := waitForTopic(t, newAdmin(t, p.Addr()), topic, partitions); got != topicID {
			t.Fatalf("topic ID %v after restart, want %v", got, topicID)
		}
		checkCrashLog(t, p.Addr(), topic, partitions, led)
	}
}

// checkCrashLog reads the whole topic and checks it against the ledger.
func checkCrashLog(t *testing.T, addr, topic string, partitions int32, led *ledger) {
	t.Helper()
	acked, minEnd := led.snapshot()
	log := readLog(t, addr, topic, partitions, minEnd)

	seen := map[recordID]ackedRecord{}
	extra := 0
	for p := range partitions {
		for i, r := range log[p] {
			if r.Offset != int64(i) {
				t.Fatalf("partition %d: record %d has offset %d; offsets must be dense from 0", p, i, r.Offset)
			}
			id, ok := parseRecordID(r.Key)
			if !ok {
				t.Errorf("partition %d offset %d: key %q is not one this test sent", p, r.Offset, r.Key)
				continue
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("record %s at partition %d offset %d and at partition %d offset %d", id.key(), prev.partition, prev.offset, p, r.Offset)
			}
			seen[id] = ackedRecord{partition: p, offset: r.Offset, timestamp: r.Timestamp.UnixMilli()}
			if diff := diffCrashRecord(crashRecord(id), r); diff != "" {
				t.Errorf("partition %d offset %d (%s): %s", p, r.Offset, id.key(), diff)
			}
			if _, ok := acked[id]; !ok {
				extra++
			}
		}
	}
	lost := 0
	for id, a := range acked {
		got, ok := seen[id]
		switch {
		case !ok:
			lost++
			if lost <= 20 {
				t.Errorf("acknowledged record %s (partition %d offset %d) is missing", id.key(), a.partition, a.offset)
			}
		case got != a:
			t.Errorf("acknowledged record %s: at partition %d offset %d timestamp %d, acknowledged at partition %d offset %d timestamp %d",
				id.key(), got.partition, got.offset, got.timestamp, a.partition, a.offset, a.timestamp)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged records are missing", lost, len(acked))
	}
	t.Logf("log holds all %d acknowledged records and %d unacknowledged ones", len(acked)-lost, extra)
}

func diffCrashRecord(want, got *kgo.Record) string {
	if !bytes.Equal(want.Key, got.Key) || !bytes.Equal(want.Value, got.Value) {
		return fmt.Sprintf("key/value differ: %d-byte value, want %d bytes", len(got.Value), len(want.Value))
	}
	if len(want.Headers) != len(got.Headers) {
		return fmt.Sprintf("%d headers, want %d", len(got.Headers), len(want.Headers))
	}
	for i := range want.Headers {
		if want.Headers[i].Key != got.Headers[i].Key || !bytes.Equal(want.Headers[i].Value, got.Headers[i].Value) {
			return fmt.Sprintf("header %d is %q=%x, want %q=%x", i, got.Headers[i].Key, got.Headers[i].Value, want.Headers[i].Key, want.Headers[i].Value)
		}
	}
	return ""
}
