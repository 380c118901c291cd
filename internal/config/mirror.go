package config

// MirrorSyncedTopicKeys are the topic configs a mirror topic takes from its
// source topic, always: the mirror has the source's value whatever its own
// defaults, and nobody else may change them while it mirrors. Every other
// topic config is the mirror's own (it may be set on the mirror and is never
// synced). The partition count is synced too, by the link's metadata refresh.
var MirrorSyncedTopicKeys = []string{
	"cleanup.policy",
	"delete.retention.ms",
	"max.compaction.lag.ms",
	"max.message.bytes",
	"message.timestamp.difference.max.ms",
	"message.timestamp.type",
	"min.compaction.lag.ms",
	"retention.bytes",
	"retention.ms",
}

// IsMirrorSyncedTopicKey reports whether name is synced from a mirror's source.
func IsMirrorSyncedTopicKey(name string) bool {
	for _, k := range MirrorSyncedTopicKeys {
		if k == name {
			return true
		}
	}
	return false
}
