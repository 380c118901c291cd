package group

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf16"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Topic is the internal topic that stores committed offsets and group metadata.
const Topic = "__consumer_offsets"

// Key versions of the records in Topic (the first int16 of a key).
const (
	keyOffsetCommitV0 = 0
	keyOffsetCommitV1 = 1
	keyGroupMetadata  = 2
)

// Value versions Strait writes: the ones Kafka 3.x writes.
const (
	offsetValueVersion        = 3 // offset, leader epoch, metadata, commit timestamp
	offsetValueVersionExpires = 1 // with an explicit expire timestamp (OffsetCommit v2-v4 retention)
	groupValueVersion         = 3 // with static member instance IDs
)

// TopicConfigs are the topic configs Topic is created with, as Kafka creates it.
func TopicConfigs() map[string]string {
	return map[string]string{
		"cleanup.policy":   "compact",
		"segment.bytes":    "104857600",
		"compression.type": "producer",
	}
}

// PartitionFor is the partition of Topic that holds group's records when
// Topic has n partitions: Kafka's abs(groupId.hashCode()) % n, with Java's
// String.hashCode over UTF-16 code units and Kafka's Utils.abs, which maps
// Integer.MIN_VALUE to 0.
func PartitionFor(group string, n int32) int32 {
	if n <= 0 {
		return 0
	}
	var h int32
	for _, u := range utf16.Encode([]rune(group)) {
		h = 31*h + int32(u)
	}
	switch {
	case h == -1<<31:
		h = 0
	case h < 0:
		h = -h
	}
	return h % n
}

// offsetKey is the key of a committed offset (OffsetCommitKey v1).
func offsetKey(group string, tp TopicPartition) []byte {
	k := kmsg.NewOffsetCommitKey()
	k.Version = keyOffsetCommitV1
	k.Group, k.Topic, k.Partition = group, tp.Topic, tp.Partition
	return k.AppendTo(nil)
}

// offsetValue is the value of a committed offset: OffsetCommitValue v3, or
// v1 when the commit carried a retention time.
func offsetValue(o Offset) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetValueVersion
	v.Offset = o.Offset
	v.LeaderEpoch = o.LeaderEpoch
	v.Metadata = o.Metadata
	v.CommitTimestamp = o.CommitTime.UnixMilli()
	if !o.ExpireTime.IsZero() {
		v.Version = offsetValueVersionExpires
		v.ExpireTimestamp = o.ExpireTime.UnixMilli()
	}
	return v.AppendTo(nil)
}

// groupKey is the key of a group's metadata (GroupMetadataKey v2).
func groupKey(group string) []byte {
	k := kmsg.NewGroupMetadataKey()
	k.Version = keyGroupMetadata
	k.Group = group
	return k.AppendTo(nil)
}

// logRecord is one decoded record of Topic.
type logRecord struct {
	group string
	// isOffset: the record is a committed offset of tp (offset nil for a
	// tombstone); otherwise it is the group's metadata (meta nil for a
	// tombstone).
	isOffset bool
	tp       TopicPartition
	offset   *Offset
	meta     *kmsg.GroupMetadataValue
}

// errUnknownKey marks keys of record types this coordinator does not keep.
var errUnknownKey = fmt.Errorf("group: unknown record key version")

// decodeRecord decodes one record of Topic. A nil value is a tombstone.
func decodeRecord(key, value []byte) (logRecord, error) {
	if len(key) < 2 {
		return logRecord{}, fmt.Errorf("group: record key of %d bytes", len(key))
	}
	switch version := int16(binary.BigEndian.Uint16(key)); version {
	case keyOffsetCommitV0, keyOffsetCommitV1:
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(key); err != nil {
			return logRecord{}, fmt.Errorf("group: offset commit key: %w", err)
		}
		r := logRecord{group: k.Group, isOffset: true, tp: TopicPartition{k.Topic, k.Partition}}
		if value == nil {
			return r, nil
		}
		var v kmsg.OffsetCommitValue
		if err := v.ReadFrom(value); err != nil {
			return logRecord{}, fmt.Errorf("group: offset commit value: %w", err)
		}
		if v.Version < 0 || v.Version > 4 {
			return logRecord{}, fmt.Errorf("group: offset commit value version %d", v.Version)
		}
		o := Offset{Offset: v.Offset, LeaderEpoch: -1, Metadata: v.Metadata, CommitTime: time.UnixMilli(v.CommitTimestamp)}
		if v.Version >= 3 {
			o.LeaderEpoch = v.LeaderEpoch
		}
		if v.Version == 1 && v.ExpireTimestamp >= 0 {
			o.ExpireTime = time.UnixMilli(v.ExpireTimestamp)
		}
		r.offset = &o
		return r, nil
	case keyGroupMetadata:
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(key); err != nil {
			return logRecord{}, fmt.Errorf("group: group metadata key: %w", err)
		}
		r := logRecord{group: k.Group}
		if value == nil {
			return r, nil
		}
		var v kmsg.GroupMetadataValue
		if err := v.ReadFrom(value); err != nil {
			return logRecord{}, fmt.Errorf("group: group metadata value: %w", err)
		}
		if v.Version < 0 || v.Version > 4 {
			return logRecord{}, fmt.Errorf("group: group metadata value version %d", v.Version)
		}
		r.meta = &v
		return r, nil
	default:
		return logRecord{}, fmt.Errorf("%w %d", errUnknownKey, version)
	}
}

// subscribedTopics parses the topics of a consumer protocol subscription:
// the version-0 prefix that every version of ConsumerProtocolSubscription
// starts with (version int16, then an array of topic names).
func subscribedTopics(metadata []byte) ([]string, bool) {
	b := metadata
	if len(b) < 6 {
		return nil, false
	}
	n := int32(binary.BigEndian.Uint32(b[2:]))
	b = b[6:]
	if n < 0 || int(n) > len(b)/2 {
		return nil, false
	}
	topics := make([]string, 0, n)
	for range n {
		if len(b) < 2 {
			return nil, false
		}
		l := int16(binary.BigEndian.Uint16(b))
		b = b[2:]
		if l < 0 || int(l) > len(b) {
			return nil, false
		}
		topics = append(topics, string(b[:l]))
		b = b[l:]
	}
	return topics, true
}
