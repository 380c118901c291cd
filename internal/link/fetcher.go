package link

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/partition"
	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
)

// mpart is one mirror partition: its local partition and what is known of
// its source. The fetcher that owns it writes the fields; describe reads
// them under mu.
type mpart struct {
	key         partKey
	srcTopic    string
	srcTopicID  uuid.UUID
	p           *partition.Partition
	startOffset int64 // where mirroring began (-1 unknown)

	// appendMu is held while the fetcher changes the log (applying a fetch
	// response, or positioning or truncating it), never while it waits for
	// the source; fenced (under appendMu) stops every later change, when
	// the mirror is being stopped.
	appendMu sync.Mutex
	fenced   bool
	// held (under appendMu) suspends appends while the mirror is not
	// ACTIVE (paused); unlike fenced it can be lifted.
	held bool

	mu              sync.Mutex
	lastFetchOffset int64
	srcHW           int64
	lastFetch       time.Time
	validated       bool // epoch checked against the source since assignment
	started         bool // the local log was positioned at startOffset
}

func newMpart(topic string, index int32, srcTopic string, srcID uuid.UUID, p *partition.Partition, start int64) *mpart {
	return &mpart{key: partKey{topic, index}, srcTopic: srcTopic, srcTopicID: srcID, p: p, startOffset: start,
		lastFetchOffset: -1, srcHW: -1}
}

// lag is the partition's mirroring position for describe.
func (mp *mpart) lag() PartitionLag {
	mp.mu.Lock()
	defer mp.mu.Unlock()
	end := mp.p.Log().NextOffset()
	pl := PartitionLag{Partition: mp.key.index, LastSourceFetchOffset: mp.lastFetchOffset,
		SourceHighWatermark: mp.srcHW, MirrorLogEndOffset: end, LastFetch: mp.lastFetch}
	if mp.srcHW >= 0 {
		pl.Lag = max(mp.srcHW-end, 0)
	}
	return pl
}

// fetcher pulls the mirror partitions led by one source broker.
type fetcher struct {
	r      *runner
	broker int32
	wake   chan struct{}

	mu    sync.Mutex
	parts map[partKey]*mpart
}

func newFetcher(r *runner, broker int32) *fetcher {
	return &fetcher{r: r, broker: broker, wake: make(chan struct{}, 1), parts: map[partKey]*mpart{}}
}

// setParts replaces the fetcher's partitions; nil or empty parks it. The
// fetcher is woken only when the set changes: the runner hands every
// fetcher its partitions again after each source metadata refresh, which a
// failed fetch asks for, and waking on that would cut short the fetcher's
// replica.fetch.backoff.ms and fetch again at once, without end.
func (f *fetcher) setParts(parts map[partKey]*mpart) {
	f.mu.Lock()
	same := len(parts) == len(f.parts)
	for k, mp := range f.parts {
		if keep, ok := parts[k]; !ok || keep != mp {
			same = false
			mp.mu.Lock()
			mp.validated = false // re-check the epoch when it comes back
			mp.mu.Unlock()
		}
	}
	f.parts = parts
	f.mu.Unlock()
	if same {
		return
	}
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fetcher) snapshot() []*mpart {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*mpart, 0, len(f.parts))
	for _, mp := range f.parts {
		out = append(out, mp)
	}
	return out
}

// run fetches until the runner stops. Errors back off by
// replica.fetch.backoff.ms and ask the runner for fresh source metadata.
func (f *fetcher) run() {
	lg := f.r.lg.With("source_broker", f.broker)
	for {
		parts := f.snapshot()
		if len(parts) == 0 {
			select {
			case <-f.r.ctx.Done():
				return
			case <-f.wake:
				continue
			}
		}
		s := f.r.settings()
		err := f.round(parts, s)
		if f.r.ctx.Err() != nil {
			return
		}
		if err != nil {
			lg.Debug("fetch round failed", "err", err)
			f.r.kickRefresh()
			select {
			case <-f.r.ctx.Done():
				return
			case <-time.After(s.fetchBackoff):
			case <-f.wake:
			}
		}
	}
}

// round prepares the partitions that need it, sends one Fetch, and applies
// the response.
func (f *fetcher) round(parts []*mpart, s settings) error {
	var ready []*mpart
	for _, mp := range parts {
		if err := f.prepare(mp, s); err != nil {
			if f.r.ctx.Err() != nil {
				return err
			}
			if errors.Is(err, errNotFetching) {
				continue
			}
			f.r.lg.Warn("preparing mirror partition", "topic", mp.key.topic, "partition", mp.key.index, "err", err)
			continue
		}
		ready = append(ready, mp)
	}
	if len(ready) == 0 {
		return errors.New("no partition ready to fetch")
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = int32(s.fetchWait / time.Millisecond)
	req.MinBytes = s.fetchMinBytes
	req.MaxBytes = s.responseMaxBytes
	req.IsolationLevel = 0
	req.SessionID, req.SessionEpoch = 0, -1
	byTopic := map[string]int{}
	offsets := make(map[partKey]int64, len(ready))
	for _, mp := range ready {
		i, ok := byTopic[mp.srcTopic]
		if !ok {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic, rt.TopicID = mp.srcTopic, mp.srcTopicID
			req.Topics = append(req.Topics, rt)
			i = len(req.Topics) - 1
			byTopic[mp.srcTopic] = i
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = mp.key.index
		rp.CurrentLeaderEpoch = -1
		rp.FetchOffset = mp.p.Log().NextOffset()
		rp.LastFetchedEpoch = mp.p.Log().LatestEpoch()
		rp.LogStartOffset = -1
		rp.PartitionMaxBytes = s.fetchMaxBytes
		offsets[mp.key] = rp.FetchOffset
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	ctx, cancel := context.WithTimeout(f.r.ctx, s.fetchWait+s.requestTimeout)
	defer cancel()
	started := f.r.m.now()
	kresp, err := f.r.cl.Broker(int(f.broker)).Request(ctx, req)
	if err != nil {
		return fmt.Errorf("fetch from source broker %d: %w", f.broker, err)
	}
	f.r.m.metrics.fetchLatency(f.r.name, f.r.m.now().Sub(started))
	resp := kresp.(*kmsg.FetchResponse)
	if resp.ErrorCode != 0 {
		return fmt.Errorf("fetch from source broker %d: %w", f.broker, kerr.ErrorForCode(resp.ErrorCode))
	}
	byKey := make(map[[2]any]*mpart, len(ready))
	for _, mp := range ready {
		byKey[[2]any{mp.srcTopic, mp.key.index}] = mp
	}
	var retry bool
	for _, rt := range resp.Topics {
		name := rt.Topic
		if name == "" { // v13+: by ID
			for _, mp := range ready {
				if mp.srcTopicID == uuid.UUID(rt.TopicID) {
					name = mp.srcTopic
					break
				}
			}
		}
		for _, rp := range rt.Partitions {
			mp := byKey[[2]any{name, rp.Partition}]
			if mp == nil {
				continue
			}
			err := f.apply(mp, offsets[mp.key], &rp)
			if errors.Is(err, errOutOfRange) {
				// Handled without appendMu: it asks the source, which
				// must not hold up a pause or a stop.
				err = f.outOfRange(mp, offsets[mp.key])
			}
			if err != nil {
				retry = true
				f.r.lg.Debug("mirror partition fetch", "topic", mp.key.topic, "partition", mp.key.index, "err", err)
			}
		}
	}
	if retry {
		return errors.New("some partitions need attention")
	}
	return nil
}

// errNotFetching is returned for a mirror partition that was paused or is
// being stopped while it was prepared: its log is left alone.
var errNotFetching = errors.New("mirror partition is paused or stopping")

// prepare positions an empty mirror partition at its start offset and, for
// a non-empty one, checks its epoch against the source once per assignment.
// Like applying a response, it changes the log only under appendMu, and not
// once the partition is held or fenced.
func (f *fetcher) prepare(mp *mpart, s settings) error {
	mp.mu.Lock()
	started, validated := mp.started, mp.validated
	mp.mu.Unlock()
	l := mp.p.Log()
	if !started {
		mp.appendMu.Lock()
		var err error
		switch {
		case mp.fenced || mp.held:
			err = errNotFetching
		case l.NextOffset() == l.StartOffset() && mp.startOffset > l.NextOffset():
			err = mp.p.SetStartOffset(mp.startOffset)
		}
		mp.appendMu.Unlock()
		if err != nil {
			return err
		}
		mp.mu.Lock()
		mp.started = true
		mp.mu.Unlock()
	}
	if validated || l.NextOffset() == l.StartOffset() || l.LatestEpoch() < 0 {
		mp.mu.Lock()
		mp.validated = true
		mp.mu.Unlock()
		return nil
	}
	if err := f.reconcileEpoch(mp, s); err != nil {
		return err
	}
	mp.mu.Lock()
	mp.validated = true
	mp.mu.Unlock()
	return nil
}

// reconcileEpoch asks the source where the mirror's latest epoch ends and
// truncates the mirror there if the source no longer has what it holds
// (truncation at the source, e.g. an unclean leader election).
func (f *fetcher) reconcileEpoch(mp *mpart, s settings) error {
	l := mp.p.Log()
	epoch := l.LatestEpoch()
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.ReplicaID = -1
	rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
	rt.Topic = mp.srcTopic
	rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = mp.key.index, -1, epoch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(f.r.ctx, s.requestTimeout)
	defer cancel()
	kresp, err := f.r.cl.Broker(int(f.broker)).Request(ctx, req)
	if err != nil {
		return fmt.Errorf("offset for leader epoch: %w", err)
	}
	resp := kresp.(*kmsg.OffsetForLeaderEpochResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return errors.New("offset for leader epoch: malformed response")
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		return fmt.Errorf("offset for leader epoch: %w", kerr.ErrorForCode(p.ErrorCode))
	}
	if p.EndOffset < 0 || p.LeaderEpoch < 0 {
		return nil // the source knows nothing of that epoch: nothing to compare
	}
	end := l.NextOffset()
	truncateTo := min(p.EndOffset, end)
	if p.LeaderEpoch < epoch {
		if _, localEnd := l.EndOffsetForEpoch(p.LeaderEpoch); localEnd >= 0 {
			truncateTo = min(truncateTo, localEnd)
		}
	}
	if truncateTo >= end {
		return nil
	}
	// OffsetForLeaderEpoch names the topic: the answer may come from another
	// incarnation of it, whose epochs say nothing of the mirror's log.
	if err := f.checkTopicID(mp); err != nil {
		return err
	}
	mp.appendMu.Lock()
	defer mp.appendMu.Unlock()
	if mp.fenced || mp.held {
		return errNotFetching
	}
	if l.NextOffset() != end || l.LatestEpoch() != epoch {
		return errors.New("mirror partition changed while its epoch was checked")
	}
	f.r.lg.Warn("source truncated: truncating the mirror partition to match",
		"topic", mp.key.topic, "partition", mp.key.index, "from", end, "to", truncateTo,
		"epoch", epoch, "source_epoch", p.LeaderEpoch, "source_end_offset", p.EndOffset)
	return mp.p.TruncateTo(truncateTo)
}

// checkTopicID fails, and reports the mirror's problem, unless the source
// topic of that name still has the mirror's source topic ID.
func (f *fetcher) checkTopicID(mp *mpart) error {
	if mp.srcTopicID == uuid.Nil {
		return nil
	}
	src, err := f.r.sourceMetadata([]string{mp.srcTopic})
	if err != nil {
		return err
	}
	if st, ok := src[mp.srcTopic]; !ok || st.id != mp.srcTopicID {
		f.r.reportPartitionProblem(mp.key.topic, "SOURCE_TOPIC_ID_CHANGED",
			fmt.Sprintf("source topic '%s' is no longer the topic with ID %s", mp.srcTopic, mp.srcTopicID))
		return errors.New("source topic changed")
	}
	return nil
}

// apply handles one partition of a fetch response.
func (f *fetcher) apply(mp *mpart, fetchOffset int64, rp *kmsg.FetchResponseTopicPartition) error {
	mp.appendMu.Lock()
	defer mp.appendMu.Unlock()
	if mp.fenced || mp.held {
		return nil
	}
	// A response for an offset that is no longer the log end is stale (the
	// partition was truncated, or appended to by another fetcher, while it
	// was in flight): applied, it could leave a hole or bring back what was
	// cut. The next round fetches from the log end.
	if mp.p.Log().NextOffset() != fetchOffset {
		return nil
	}
	now := f.r.m.now()
	switch {
	case rp.ErrorCode == kerr.OffsetOutOfRange.Code:
		return errOutOfRange
	case rp.ErrorCode == kerr.UnknownTopicID.Code || rp.ErrorCode == kerr.UnknownTopicOrPartition.Code:
		f.r.reportPartitionProblem(mp.key.topic, "SOURCE_TOPIC_MAY_BE_DELETED",
			fmt.Sprintf("source topic '%s' partition %d: %v", mp.srcTopic, mp.key.index, kerr.ErrorForCode(rp.ErrorCode)))
		return kerr.ErrorForCode(rp.ErrorCode)
	case rp.ErrorCode != 0:
		return kerr.ErrorForCode(rp.ErrorCode)
	case rp.DivergingEpoch.EndOffset >= 0 && rp.DivergingEpoch.Epoch >= 0:
		mp.mu.Lock()
		mp.validated = false
		mp.mu.Unlock()
		return fmt.Errorf("source reports a diverging epoch %d ending at %d", rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset)
	}
	mp.mu.Lock()
	mp.lastFetchOffset, mp.srcHW, mp.lastFetch = fetchOffset, rp.HighWatermark, now
	mp.mu.Unlock()

	l := mp.p.Log()
	n, records, err := f.appendBatches(mp, rp.RecordBatches)
	if n > 0 {
		f.r.m.metrics.mirrored(f.r.name, mp.key.topic, n, records)
	}
	if err != nil {
		return err
	}
	// The mirror's log start offset follows the source's.
	if rp.LogStartOffset > l.StartOffset() {
		target := min(rp.LogStartOffset, l.NextOffset())
		if target > l.StartOffset() {
			if err := mp.p.SetStartOffset(target); err != nil {
				return err
			}
		}
	}
	return nil
}

// appendBatches appends the whole batches of a fetched record set that end
// at or after the local log end, verbatim. Batches that end before it can
// only lead the set, so the kept ones are one contiguous run of the
// response, appended without copying. It returns the bytes and records
// appended.
func (f *fetcher) appendBatches(mp *mpart, set []byte) (int, int, error) {
	l := mp.p.Log()
	end := l.NextOffset()
	var (
		from, to = -1, -1 // the kept run: set[from:to]
		records  int
	)
	for rest := set; len(rest) > 0; {
		pos := len(set) - len(rest)
		batch, r, h, err := record.Next(rest)
		if errors.Is(err, record.ErrShort) {
			break // a partial batch at the end of a fetch response
		}
		if err != nil {
			return 0, 0, fmt.Errorf("source sent a bad batch: %w", err)
		}
		rest = r
		if h.LastOffset() < end {
			if from >= 0 {
				return 0, 0, fmt.Errorf("source batches out of order at offset %d", h.BaseOffset)
			}
			continue
		}
		if h.BaseOffset < end {
			if l.NextOffset() != l.StartOffset() || from >= 0 {
				// Our log ends inside a source batch: the logs diverged.
				mp.mu.Lock()
				mp.validated = false
				mp.mu.Unlock()
				return 0, 0, fmt.Errorf("mirror log end %d falls inside source batch %d-%d", end, h.BaseOffset, h.LastOffset())
			}
			// An empty mirror positioned inside a batch (a start offset or
			// a source log start that is not a batch boundary): start the
			// log at the batch so it can be kept whole.
			if err := mp.p.TruncateTo(h.BaseOffset); err != nil {
				return 0, 0, err
			}
		}
		if _, err := record.Validate(batch); err != nil {
			return 0, 0, fmt.Errorf("source batch at offset %d: %w", h.BaseOffset, err)
		}
		if from < 0 {
			from = pos
		}
		to = pos + len(batch)
		records += int(h.NumRecords)
		end = h.LastOffset() + 1
	}
	if from < 0 {
		return 0, 0, nil
	}
	if _, err := mp.p.AppendVerbatim(set[from:to], -1); err != nil {
		if errors.Is(err, storage.ErrOutOfOrder) {
			mp.mu.Lock()
			mp.validated = false
			mp.mu.Unlock()
		}
		return 0, 0, err
	}
	return to - from, records, nil
}

// errOutOfRange is apply's answer to OFFSET_OUT_OF_RANGE, for the caller
// to handle with outOfRange once appendMu is released.
var errOutOfRange = errors.New("fetch offset out of range at the source")

// outOfRange handles OFFSET_OUT_OF_RANGE for a fetch at fetchOffset: the
// source's log moved past the mirror's end (retention, DeleteRecords) or the
// source lost data the mirror has (truncation). It asks the source without
// appendMu and changes the log under it, unless the partition was held,
// fenced or moved meanwhile.
func (f *fetcher) outOfRange(mp *mpart, fetchOffset int64) error {
	s := f.r.settings()
	ctx, cancel := context.WithTimeout(f.r.ctx, s.requestTimeout)
	defer cancel()
	starts, err := f.r.adm.ListStartOffsets(ctx, mp.srcTopic)
	if err != nil {
		return err
	}
	ends, err := f.r.adm.ListEndOffsets(ctx, mp.srcTopic)
	if err != nil {
		return err
	}
	so, ok1 := starts.Lookup(mp.srcTopic, mp.key.index)
	eo, ok2 := ends.Lookup(mp.srcTopic, mp.key.index)
	if !ok1 || !ok2 || so.Err != nil || eo.Err != nil {
		return fmt.Errorf("listing source offsets of %s-%d", mp.srcTopic, mp.key.index)
	}
	// Offsets of another incarnation of the topic mean nothing here: check
	// the topic ID before moving or cutting the mirror's log.
	if err := f.checkTopicID(mp); err != nil {
		return err
	}
	mp.appendMu.Lock()
	defer mp.appendMu.Unlock()
	l := mp.p.Log()
	end := l.NextOffset()
	if mp.fenced || mp.held || end != fetchOffset {
		return nil
	}
	switch {
	case end < so.Offset:
		f.r.lg.Info("source log start moved past the mirror's end: restarting the mirror partition there",
			"topic", mp.key.topic, "partition", mp.key.index, "mirror_end", end, "source_start", so.Offset)
		return mp.p.SetStartOffset(so.Offset)
	case end > eo.Offset:
		f.r.lg.Warn("source lost data the mirror has: truncating the mirror partition to the source's end",
			"topic", mp.key.topic, "partition", mp.key.index, "mirror_end", end, "source_end", eo.Offset)
		return mp.p.TruncateTo(eo.Offset)
	}
	return nil
}
