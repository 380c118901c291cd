package partition

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
)

// maxBatchesPerProducer is how many recent batches are kept per producer for
// duplicate detection; Kafka keeps five (the client's max in-flight limit).
const maxBatchesPerProducer = 5

const producerSnapshotFile = "producer-state.json"

type batchMeta struct {
	FirstSeq    int32 `json:"first_seq"`
	LastSeq     int32 `json:"last_seq"`
	FirstOffset int64 `json:"first_offset"`
	LastOffset  int64 `json:"last_offset"`
}

type producerEntry struct {
	Epoch   int16       `json:"epoch"`
	Batches []batchMeta `json:"batches"`
}

// producerState is the idempotence state of one partition. Guarded by the
// owning Partition's mu.
type producerState struct {
	m map[int64]*producerEntry
}

func newProducerState() *producerState { return &producerState{m: make(map[int64]*producerEntry)} }

func lastSeqOf(h record.Header) int32 {
	s := int64(h.BaseSequence) + int64(h.LastOffsetDelta)
	if s > math.MaxInt32 {
		s -= math.MaxInt32 + 1
	}
	return int32(s)
}

func inSequence(last, next int32) bool {
	return next == last+1 || (last == math.MaxInt32 && next == 0)
}

// check validates an idempotent batch before it is appended. It returns the
// duplicate's metadata when the batch was already written.
func (ps *producerState) check(h record.Header) (dup *batchMeta, err error) {
	e, ok := ps.m[h.ProducerID]
	if !ok {
		return nil, nil
	}
	if h.ProducerEpoch < e.Epoch {
		return nil, fmt.Errorf("%w: producer %d epoch %d is older than the current epoch %d",
			kerr.InvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, e.Epoch)
	}
	last := lastSeqOf(h)
	if h.ProducerEpoch == e.Epoch {
		for i := range e.Batches {
			b := &e.Batches[i]
			if b.FirstSeq == h.BaseSequence && b.LastSeq == last {
				return b, nil
			}
		}
	}
	if h.ProducerEpoch != e.Epoch {
		if h.BaseSequence != 0 {
			return nil, fmt.Errorf("%w: producer %d new epoch %d must start at sequence 0, got %d",
				kerr.OutOfOrderSequenceNumber, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
		return nil, nil
	}
	if n := len(e.Batches); n > 0 {
		cur := e.Batches[n-1].LastSeq
		if !inSequence(cur, h.BaseSequence) {
			return nil, fmt.Errorf("%w: producer %d expected sequence %d, got %d",
				kerr.OutOfOrderSequenceNumber, h.ProducerID, int64(cur)+1, h.BaseSequence)
		}
	}
	return nil, nil
}

// update records a batch that was appended (or replayed from the log).
func (ps *producerState) update(h record.Header) {
	if h.ProducerID < 0 {
		return
	}
	e, ok := ps.m[h.ProducerID]
	if !ok {
		e = &producerEntry{Epoch: h.ProducerEpoch}
		ps.m[h.ProducerID] = e
	}
	if h.ProducerEpoch != e.Epoch {
		e.Epoch = h.ProducerEpoch
		e.Batches = e.Batches[:0]
	}
	if h.IsControl() || h.BaseSequence < 0 {
		return
	}
	e.Batches = append(e.Batches, batchMeta{
		FirstSeq:    h.BaseSequence,
		LastSeq:     lastSeqOf(h),
		FirstOffset: h.BaseOffset,
		LastOffset:  h.LastOffset(),
	})
	if len(e.Batches) > maxBatchesPerProducer {
		e.Batches = append(e.Batches[:0], e.Batches[len(e.Batches)-maxBatchesPerProducer:]...)
	}
}

type producerSnapshot struct {
	Version   int                      `json:"version"`
	Offset    int64                    `json:"offset"`
	Producers map[int64]*producerEntry `json:"producers"`
}

func (ps *producerState) writeSnapshot(fsys storage.FS, dir string, offset int64) error {
	b, err := json.Marshal(producerSnapshot{Version: 1, Offset: offset, Producers: ps.m})
	if err != nil {
		return err
	}
	// A snapshot lost or damaged by a machine crash is rebuilt from the
	// log, so it needs no fsync.
	return storage.WriteFileRenamed(fsys, dir, producerSnapshotFile, b)
}

// loadSnapshot reads and removes the snapshot. ok is false when there is
// none or it cannot be used for a log ending at logEnd (the whole log is
// then replayed instead).
func (ps *producerState) loadSnapshot(fsys storage.FS, dir string, logEnd int64) (offset int64, ok bool, err error) {
	path := filepath.Join(dir, producerSnapshotFile)
	b, err := storage.ReadFile(fsys, path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if err := fsys.Remove(path); err != nil {
		return 0, false, err
	}
	var s producerSnapshot
	if json.Unmarshal(b, &s) != nil || s.Version != 1 || s.Offset > logEnd {
		return 0, false, nil
	}
	for _, e := range s.Producers {
		if e == nil {
			return 0, false, nil
		}
	}
	for id, e := range s.Producers {
		ps.m[id] = e
	}
	return s.Offset, true, nil
}
