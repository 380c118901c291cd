package metadata

// applyTopicUpdate runs fn on the API view of r and writes back what fn may
// change: configs, the mirror state and partitions' leader epochs. Name, ID,
// replicas and everything unknown stay as stored.
func applyTopicUpdate(r *topicRecord, fn func(*Topic) error) error {
	t := r.topic(0)
	if err := fn(&t); err != nil {
		return err
	}
	r.Configs = cloneConfigs(t.Configs)
	r.Mirror = mirrorToRecord(t.Mirror)
	for i := range r.Partitions {
		if i < len(t.Partitions) {
			r.Partitions[i].LeaderEpoch = t.Partitions[i].LeaderEpoch
		}
	}
	return nil
}
