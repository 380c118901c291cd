package metadata

// This file is the stored record format: JSON objects that carry a version
// and keep every field this version does not know (see doc.go).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// recordVersion is the record format version this code writes.
const recordVersion = 1

// field binds one known JSON key to the Go value that holds it.
type field struct {
	key string
	ptr any // pointer to the value
}

// decodeObject decodes a JSON object: each known key into its field (exact,
// case-sensitive key match), every other key into *extra, raw and unchanged.
// The object must carry a "version" of at least 1.
func decodeObject(data []byte, version *int, fields []field, extra *map[string]json.RawMessage) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("record is null, not an object")
	}
	if version != nil {
		raw, ok := m["version"]
		if !ok {
			return fmt.Errorf("record has no version")
		}
		if err := json.Unmarshal(raw, version); err != nil {
			return fmt.Errorf("version: %w", err)
		}
		if *version < 1 {
			return fmt.Errorf("record version %d is below 1", *version)
		}
		delete(m, "version")
	}
	for _, f := range fields {
		raw, ok := m[f.key]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, f.ptr); err != nil {
			return fmt.Errorf("%s: %w", f.key, err)
		}
		delete(m, f.key)
	}
	if len(m) == 0 {
		m = nil
	}
	*extra = m
	return nil
}

// encodeObject is the inverse of decodeObject. A stored version above ours is
// kept (a record never claims an older format than it was read with); the
// unknown fields go back beside the known ones. Keys come out sorted, so equal
// records encode to equal bytes.
func encodeObject(version *int, fields []field, extra map[string]json.RawMessage) ([]byte, error) {
	m := make(map[string]json.RawMessage, len(fields)+len(extra)+1)
	for k, v := range extra {
		m[k] = v
	}
	if version != nil {
		v := max(*version, recordVersion)
		m["version"] = json.RawMessage(fmt.Sprint(v))
	}
	for _, f := range fields {
		raw, err := json.Marshal(f.ptr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.key, err)
		}
		m[f.key] = raw
	}
	return json.Marshal(m)
}

// partitionRecord is one element of a topic record's "partitions" array.
type partitionRecord struct {
	Replicas    []int32
	Leader      int32
	LeaderEpoch int32
	extra       map[string]json.RawMessage
}

func (p *partitionRecord) fields() []field {
	return []field{
		{"replicas", &p.Replicas},
		{"leader", &p.Leader},
		{"leader_epoch", &p.LeaderEpoch},
	}
}

func (p *partitionRecord) UnmarshalJSON(data []byte) error {
	return decodeObject(data, nil, p.fields(), &p.extra)
}

func (p partitionRecord) MarshalJSON() ([]byte, error) {
	if p.Replicas == nil {
		p.Replicas = []int32{}
	}
	return encodeObject(nil, p.fields(), p.extra)
}

// topicRecord is the value of topics/<name>.
type topicRecord struct {
	Version    int
	Name       string
	ID         uuid.UUID
	Partitions []partitionRecord
	Configs    map[string]string
	Mirror     *mirrorRecord // absent for ordinary topics
	extra      map[string]json.RawMessage
}

func (r *topicRecord) fields() []field {
	f := []field{
		{"name", &r.Name},
		{"id", &r.ID},
		{"partitions", &r.Partitions},
		{"configs", &r.Configs},
	}
	if r.Mirror != nil {
		f = append(f, field{"mirror", &r.Mirror})
	}
	return f
}

// decodeFields are the keys read when decoding (the optional ones too).
func (r *topicRecord) decodeFields() []field {
	f := r.fields()
	if r.Mirror == nil {
		f = append(f, field{"mirror", &r.Mirror})
	}
	return f
}

// mirrorRecord is a topic record's "mirror" object.
type mirrorRecord struct {
	Link                 string
	LinkID               string
	SourceTopic          string
	SourceTopicID        uuid.UUID
	State                string
	StateTimeMs          int64
	Error                string
	ErrorMessage         string
	StartOffsets         []int64
	StoppedLogEndOffsets []int64
	StopKind             string
	extra                map[string]json.RawMessage
}

func (m *mirrorRecord) fields() []field {
	return []field{
		{"link", &m.Link},
		{"link_id", &m.LinkID},
		{"source_topic", &m.SourceTopic},
		{"source_topic_id", &m.SourceTopicID},
		{"state", &m.State},
		{"state_time_ms", &m.StateTimeMs},
		{"error", &m.Error},
		{"error_message", &m.ErrorMessage},
		{"start_offsets", &m.StartOffsets},
		{"stopped_log_end_offsets", &m.StoppedLogEndOffsets},
		{"stop_kind", &m.StopKind},
	}
}

func (m *mirrorRecord) UnmarshalJSON(data []byte) error {
	return decodeObject(data, nil, m.fields(), &m.extra)
}

func (m mirrorRecord) MarshalJSON() ([]byte, error) {
	return encodeObject(nil, m.fields(), m.extra)
}

func mirrorToRecord(m *Mirror) *mirrorRecord {
	if m == nil {
		return nil
	}
	return &mirrorRecord{
		Link: m.Link, LinkID: m.LinkID, SourceTopic: m.SourceTopic, SourceTopicID: m.SourceTopicID,
		State: m.State, StateTimeMs: m.StateTimeMs, Error: m.Error, ErrorMessage: m.ErrorMessage,
		StartOffsets: slices.Clone(m.StartOffsets), StoppedLogEndOffsets: slices.Clone(m.StoppedLogEndOffsets),
		StopKind: m.StopKind, extra: cloneExtra(m.Extra),
	}
}

func (m *mirrorRecord) mirror() *Mirror {
	if m == nil {
		return nil
	}
	return &Mirror{
		Link: m.Link, LinkID: m.LinkID, SourceTopic: m.SourceTopic, SourceTopicID: m.SourceTopicID,
		State: m.State, StateTimeMs: m.StateTimeMs, Error: m.Error, ErrorMessage: m.ErrorMessage,
		StartOffsets: slices.Clone(m.StartOffsets), StoppedLogEndOffsets: slices.Clone(m.StoppedLogEndOffsets),
		StopKind: m.StopKind, Extra: cloneExtra(m.extra),
	}
}

func cloneMirror(m *Mirror) *Mirror { return mirrorToRecord(m).mirror() }

// linkRecord is the value of links/<name>.
type linkRecord struct {
	Version         int
	Name            string
	ID              string
	SourceClusterID string
	Configs         map[string]string
	CreatedMs       int64
	extra           map[string]json.RawMessage
}

func (r *linkRecord) fields() []field {
	return []field{
		{"name", &r.Name},
		{"id", &r.ID},
		{"source_cluster_id", &r.SourceClusterID},
		{"configs", &r.Configs},
		{"created_ms", &r.CreatedMs},
	}
}

func decodeLink(data []byte) (linkRecord, error) {
	var r linkRecord
	if err := decodeObject(data, &r.Version, r.fields(), &r.extra); err != nil {
		return linkRecord{}, fmt.Errorf("link record: %w", err)
	}
	if r.Name == "" {
		return linkRecord{}, fmt.Errorf("link record: no name")
	}
	return r, nil
}

func (r linkRecord) encode() ([]byte, error) {
	if r.Configs == nil {
		r.Configs = map[string]string{}
	}
	return encodeObject(&r.Version, r.fields(), r.extra)
}

func (r linkRecord) link(rev int64) Link {
	return Link{Name: r.Name, ID: r.ID, SourceClusterID: r.SourceClusterID, Configs: cloneConfigs(r.Configs),
		CreatedMs: r.CreatedMs, Extra: cloneExtra(r.extra), Revision: rev}
}

func linkToRecord(l Link) linkRecord {
	return linkRecord{Version: recordVersion, Name: l.Name, ID: l.ID, SourceClusterID: l.SourceClusterID,
		Configs: cloneConfigs(l.Configs), CreatedMs: l.CreatedMs, extra: cloneExtra(l.Extra)}
}

func cloneLink(l Link) Link {
	l.Configs = cloneConfigs(l.Configs)
	l.Extra = cloneExtra(l.Extra)
	return l
}

func decodeTopic(data []byte) (topicRecord, error) {
	var r topicRecord
	if err := decodeObject(data, &r.Version, r.decodeFields(), &r.extra); err != nil {
		return topicRecord{}, fmt.Errorf("topic record: %w", err)
	}
	if r.Name == "" {
		return topicRecord{}, fmt.Errorf("topic record: no name")
	}
	if r.ID == uuid.Nil {
		return topicRecord{}, fmt.Errorf("topic record %q: no id", r.Name)
	}
	return r, nil
}

func (r topicRecord) encode() ([]byte, error) {
	if r.Partitions == nil {
		r.Partitions = []partitionRecord{}
	}
	if r.Configs == nil {
		r.Configs = map[string]string{}
	}
	return encodeObject(&r.Version, r.fields(), r.extra)
}

// topic converts a record to the API type; the result shares nothing with r.
func (r topicRecord) topic(rev int64) Topic {
	t := Topic{
		Name:       r.Name,
		ID:         r.ID,
		Partitions: make([]Partition, len(r.Partitions)),
		Configs:    cloneConfigs(r.Configs),
		Mirror:     r.Mirror.mirror(),
		Extra:      cloneExtra(r.extra),
		Revision:   rev,
	}
	for i, p := range r.Partitions {
		t.Partitions[i] = Partition{
			Replicas:    cloneReplicas(p.Replicas),
			Leader:      p.Leader,
			LeaderEpoch: p.LeaderEpoch,
		}
	}
	return t
}

func partitionRecords(parts []Partition) []partitionRecord {
	out := make([]partitionRecord, len(parts))
	for i, p := range parts {
		out[i] = partitionRecord{
			Replicas:    cloneReplicas(p.Replicas),
			Leader:      p.Leader,
			LeaderEpoch: p.LeaderEpoch,
		}
	}
	return out
}

// brokerRecord is the value of brokers/<node id>.
type brokerRecord struct {
	Version int
	NodeID  int32
	Host    string
	Port    int32
	Rack    string
	extra   map[string]json.RawMessage
}

func (r *brokerRecord) fields() []field {
	return []field{
		{"node_id", &r.NodeID},
		{"host", &r.Host},
		{"port", &r.Port},
		{"rack", &r.Rack},
	}
}

func decodeBroker(data []byte) (brokerRecord, error) {
	var r brokerRecord
	if err := decodeObject(data, &r.Version, r.fields(), &r.extra); err != nil {
		return brokerRecord{}, fmt.Errorf("broker record: %w", err)
	}
	return r, nil
}

func (r brokerRecord) encode() ([]byte, error) {
	return encodeObject(&r.Version, r.fields(), r.extra)
}

// configsRecord is the value of configs/brokers/<node or "default">.
type configsRecord struct {
	Version int
	Configs map[string]string
	extra   map[string]json.RawMessage
}

func (r *configsRecord) fields() []field {
	return []field{{"configs", &r.Configs}}
}

func decodeConfigs(data []byte) (configsRecord, error) {
	var r configsRecord
	if err := decodeObject(data, &r.Version, r.fields(), &r.extra); err != nil {
		return configsRecord{}, fmt.Errorf("configs record: %w", err)
	}
	return r, nil
}

func (r configsRecord) encode() ([]byte, error) {
	if r.Configs == nil {
		r.Configs = map[string]string{}
	}
	return encodeObject(&r.Version, r.fields(), r.extra)
}

// clusterRecord is the value of cluster/id. It is written once and never
// rewritten.
type clusterRecord struct {
	Version int
	ID      string
	extra   map[string]json.RawMessage
}

func (r *clusterRecord) fields() []field {
	return []field{{"id", &r.ID}}
}

func decodeCluster(data []byte) (clusterRecord, error) {
	var r clusterRecord
	if err := decodeObject(data, &r.Version, r.fields(), &r.extra); err != nil {
		return clusterRecord{}, fmt.Errorf("cluster record: %w", err)
	}
	if r.ID == "" {
		return clusterRecord{}, fmt.Errorf("cluster record: no id")
	}
	return r, nil
}

func (r clusterRecord) encode() ([]byte, error) {
	return encodeObject(&r.Version, r.fields(), r.extra)
}

// newClusterID returns a fresh cluster ID in Kafka's format: the 22-character
// unpadded base64url encoding of a random (version 4) UUID. Like Kafka it
// never starts with '-', so that it cannot be mistaken for a command-line
// flag.
func newClusterID() string {
	for {
		u := uuid.New()
		s := base64.RawURLEncoding.EncodeToString(u[:])
		if !strings.HasPrefix(s, "-") {
			return s
		}
	}
}

// newTopicID returns a random version 4 UUID; it is never the zero UUID (nor
// Kafka's reserved metadata topic ID, which is not a version 4 UUID).
func newTopicID() uuid.UUID {
	for {
		if id := uuid.New(); id != uuid.Nil {
			return id
		}
	}
}

func cloneConfigs(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneExtra(m map[string]json.RawMessage) map[string]json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = bytes.Clone(v)
	}
	return out
}

func cloneReplicas(r []int32) []int32 {
	out := make([]int32, len(r))
	copy(out, r)
	return out
}

func clonePartitions(ps []Partition) []Partition {
	out := make([]Partition, len(ps))
	for i, p := range ps {
		out[i] = p
		out[i].Replicas = cloneReplicas(p.Replicas)
	}
	return out
}

func cloneTopic(t Topic) Topic {
	t.Partitions = clonePartitions(t.Partitions)
	t.Configs = cloneConfigs(t.Configs)
	t.Mirror = cloneMirror(t.Mirror)
	t.Extra = cloneExtra(t.Extra)
	return t
}

// producerIDsRecord is the value of producer-ids/next: the first producer ID
// not yet handed out in the cluster.
type producerIDsRecord struct {
	Version int
	Next    int64
	extra   map[string]json.RawMessage
}

func (r *producerIDsRecord) fields() []field {
	return []field{{"next", &r.Next}}
}

func decodeProducerIDs(data []byte) (producerIDsRecord, error) {
	var r producerIDsRecord
	if err := decodeObject(data, &r.Version, r.fields(), &r.extra); err != nil {
		return producerIDsRecord{}, fmt.Errorf("producer ids record: %w", err)
	}
	return r, nil
}

func (r producerIDsRecord) encode() ([]byte, error) {
	return encodeObject(&r.Version, r.fields(), r.extra)
}
