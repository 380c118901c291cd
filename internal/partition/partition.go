package partition

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
)

// Config is the per-partition behaviour taken from the topic's effective configs.
type Config struct {
	Storage storage.Config
	// MaxMessageBytes is max.message.bytes: the largest batch accepted.
	MaxMessageBytes int32
	// LogAppendTime is message.timestamp.type=LogAppendTime.
	LogAppendTime bool
	// TimestampBeforeMaxMs and TimestampAfterMaxMs bound CreateTime
	// timestamps relative to the broker's clock (MaxInt64 = unbounded).
	TimestampBeforeMaxMs int64
	TimestampAfterMaxMs  int64
	// MinInsyncReplicas is min.insync.replicas, checked for acks=all.
	MinInsyncReplicas int32
}

// AppendResult is what a produce acknowledges.
type AppendResult struct {
	BaseOffset     int64
	LogAppendTime  int64 // -1 unless LogAppendTime
	LogStartOffset int64
	Duplicate      bool
}

// Partition is one partition this broker stores and leads.
type Partition struct {
	Topic   string
	Index   int32
	TopicID uuid.UUID

	log *storage.Log
	fs  storage.FS
	lg  *slog.Logger
	now func() time.Time

	waiters waiters

	// mu serialises appends and guards the fields below.
	mu          sync.Mutex
	cfg         Config
	leaderEpoch int32
	producers   *producerState
	closed      bool
}

func open(dir, topic string, index int32, id uuid.UUID, epoch int32, cfg Config, opts storage.Options) (*Partition, error) {
	l, err := storage.Open(dir, cfg.Storage, opts)
	if err != nil {
		return nil, err
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.Default()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	fsys := storage.OS
	if opts.Files != nil {
		fsys = opts.Files.FS()
	}
	p := &Partition{
		Topic: topic, Index: index, TopicID: id,
		log: l, fs: fsys, lg: lg.With("topic", topic, "partition", index), now: now,
		cfg: cfg, leaderEpoch: epoch, producers: newProducerState(),
	}
	if err := p.loadProducerState(); err != nil {
		l.Close()
		return nil, fmt.Errorf("partition %s-%d: producer state: %w", topic, index, err)
	}
	return p, nil
}

func (p *Partition) loadProducerState() error {
	from, ok, err := p.producers.loadSnapshot(p.fs, p.log.Dir(), p.log.NextOffset())
	if err != nil {
		return err
	}
	if !ok {
		from = p.log.StartOffset()
	}
	if from >= p.log.NextOffset() {
		return nil
	}
	return p.log.ScanHeaders(from, func(h record.Header) error {
		p.producers.update(h)
		return nil
	})
}

// Log exposes the storage (for reads, offsets and admin operations).
func (p *Partition) Log() *storage.Log { return p.log }

// LeaderEpoch is the current leader epoch.
func (p *Partition) LeaderEpoch() int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.leaderEpoch
}

// Config returns the current configuration.
func (p *Partition) Config() Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

// SetLeaderEpoch moves the partition to a new leader epoch (from the
// metadata): later appends are stamped with it and fetches are fenced by it.
func (p *Partition) SetLeaderEpoch(epoch int32) {
	p.mu.Lock()
	p.leaderEpoch = epoch
	p.mu.Unlock()
	p.waiters.notify()
}

// SetConfig applies a new configuration live.
func (p *Partition) SetConfig(cfg Config) {
	p.mu.Lock()
	p.cfg = cfg
	p.mu.Unlock()
	p.log.SetConfig(cfg.Storage)
}

// HighWatermark is the offset below which records are committed. A single
// replica commits on append, so it equals the log end offset.
func (p *Partition) HighWatermark() int64 { return p.log.NextOffset() }

// LastStableOffset is the high watermark while transactions are not served.
func (p *Partition) LastStableOffset() int64 { return p.HighWatermark() }

// AddWaiter parks w on this partition until RemoveWaiter.
func (p *Partition) AddWaiter(w *Waiter)    { p.waiters.add(w) }
func (p *Partition) RemoveWaiter(w *Waiter) { p.waiters.remove(w) }

// AppendAsLeader validates and appends a client's record set, assigning
// offsets. Errors wrap a *kerr.Error naming the Kafka error code.
func (p *Partition) AppendAsLeader(set []byte, acks int16) (AppendResult, error) {
	res := AppendResult{LogAppendTime: -1}
	batch, rest, h, err := record.Next(set)
	switch {
	case errors.Is(err, record.ErrMagic):
		return res, fmt.Errorf("%w: only record batch format v2 (magic 2) is accepted", kerr.UnsupportedForMessageFormat)
	case err != nil:
		return res, fmt.Errorf("%w: %v", kerr.CorruptMessage, err)
	case len(rest) != 0:
		return res, fmt.Errorf("%w: a produce request must hold exactly one record batch per partition", kerr.InvalidRecord)
	}
	if _, err := record.Validate(batch); err != nil {
		if errors.Is(err, record.ErrMagic) {
			return res, fmt.Errorf("%w: %v", kerr.UnsupportedForMessageFormat, err)
		}
		return res, fmt.Errorf("%w: %v", kerr.CorruptMessage, err)
	}
	if h.IsControl() {
		return res, fmt.Errorf("%w: clients may not write control batches", kerr.InvalidRecord)
	}
	if h.IsTransactional() {
		return res, fmt.Errorf("%w: transactions are not supported yet", kerr.InvalidTxnState)
	}
	if h.NumRecords <= 0 || int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 {
		return res, fmt.Errorf("%w: batch has %d records but last offset delta %d", kerr.InvalidRecord, h.NumRecords, h.LastOffsetDelta)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return res, fmt.Errorf("%w: partition is closing", kerr.NotLeaderForPartition)
	}
	cfg := p.cfg
	if int64(len(batch)) > int64(cfg.MaxMessageBytes) {
		return res, fmt.Errorf("%w: batch of %d bytes exceeds max.message.bytes %d", kerr.MessageTooLarge, len(batch), cfg.MaxMessageBytes)
	}
	if acks == -1 && cfg.MinInsyncReplicas > 1 {
		return res, fmt.Errorf("%w: 1 in-sync replica, min.insync.replicas is %d", kerr.NotEnoughReplicas, cfg.MinInsyncReplicas)
	}
	now := p.now().UnixMilli()
	if !cfg.LogAppendTime {
		if err := checkTimestamps(h, now, cfg); err != nil {
			return res, err
		}
	}
	if h.ProducerID >= 0 {
		dup, err := p.producers.check(h)
		if err != nil {
			return res, err
		}
		if dup != nil {
			res.BaseOffset = dup.FirstOffset
			res.LogStartOffset = p.log.StartOffset()
			res.Duplicate = true
			return res, nil
		}
	}
	base := p.log.NextOffset()
	record.SetBaseOffset(batch, base)
	record.SetPartitionLeaderEpoch(batch, p.leaderEpoch)
	if cfg.LogAppendTime {
		record.SetLogAppendTime(batch, now)
		res.LogAppendTime = now
	}
	if _, err := p.log.Append(batch); err != nil {
		p.lg.Error("append failed", "err", err)
		return res, fmt.Errorf("%w: %v", kerr.KafkaStorageError, err)
	}
	h.BaseOffset = base
	p.producers.update(h)
	res.BaseOffset = base
	res.LogStartOffset = p.log.StartOffset()
	p.waiters.notify()
	return res, nil
}

func checkTimestamps(h record.Header, now int64, cfg Config) error {
	// Only a batch's bounds are checked: the smallest record timestamp is
	// at least BaseTimestamp and the largest is MaxTimestamp.
	if cfg.TimestampBeforeMaxMs >= 0 && cfg.TimestampBeforeMaxMs != math.MaxInt64 && h.BaseTimestamp < now-cfg.TimestampBeforeMaxMs {
		return fmt.Errorf("%w: timestamp %d is more than message.timestamp.before.max.ms=%d before the broker's time",
			kerr.InvalidTimestamp, h.BaseTimestamp, cfg.TimestampBeforeMaxMs)
	}
	if cfg.TimestampAfterMaxMs >= 0 && cfg.TimestampAfterMaxMs != math.MaxInt64 && h.MaxTimestamp > now+cfg.TimestampAfterMaxMs {
		return fmt.Errorf("%w: timestamp %d is more than message.timestamp.after.max.ms=%d after the broker's time",
			kerr.InvalidTimestamp, h.MaxTimestamp, cfg.TimestampAfterMaxMs)
	}
	return nil
}

// AppendVerbatim appends batches that already carry their offsets (mirrors
// and followers): base offsets and bytes are kept, only the partition leader
// epoch field is set to epoch when epoch >= 0.
func (p *Partition) AppendVerbatim(set []byte, epoch int32) (storage.AppendInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return storage.AppendInfo{}, storage.ErrClosed
	}
	for rest := set; len(rest) > 0; {
		batch, r, h, err := record.Next(rest)
		if err != nil {
			return storage.AppendInfo{}, err
		}
		if epoch >= 0 {
			record.SetPartitionLeaderEpoch(batch, epoch)
		}
		p.producers.update(h)
		rest = r
	}
	info, err := p.log.Append(set)
	if err == nil {
		p.waiters.notify()
	}
	return info, err
}

// SetStartOffset advances the log start offset (DeleteRecords).
func (p *Partition) SetStartOffset(off int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.log.SetStartOffset(off); err != nil {
		return err
	}
	p.waiters.notify()
	return nil
}

// TruncateTo removes every batch at or after off (mirrors follow a
// truncation at their source). The producer state is rebuilt from the
// remaining log so that no removed batch counts as a duplicate.
func (p *Partition) TruncateTo(off int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return storage.ErrClosed
	}
	if err := p.log.TruncateTo(off); err != nil {
		return err
	}
	p.producers = newProducerState()
	if err := p.log.ScanHeaders(p.log.StartOffset(), func(h record.Header) error {
		p.producers.update(h)
		return nil
	}); err != nil {
		return err
	}
	p.waiters.notify()
	return nil
}

// close snapshots the producer state and closes the log.
func (p *Partition) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	p.waiters.notify()
	var snapErr error
	if p.log.Failed() == nil {
		snapErr = p.producers.writeSnapshot(p.fs, p.log.Dir(), p.log.NextOffset())
	}
	if err := p.log.Close(); err != nil {
		return err
	}
	return snapErr
}

// closeAndRename closes the partition and renames its directory to dest
// (the topic is being deleted).
func (p *Partition) closeAndRename(dest string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.waiters.notify()
	return p.log.CloseAndRename(dest)
}

// Failed returns why the partition's log failed, or nil.
func (p *Partition) Failed() error { return p.log.Failed() }
