package metadata

// This file fixes the package's exported surface for the rest of the broker.

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/google/uuid"
)

var (
	ErrTopicExists   = errors.New("metadata: topic already exists")
	ErrTopicNotFound = errors.New("metadata: topic not found")
	// ErrInvalid: a request that can never succeed (e.g. fewer partitions).
	ErrInvalid = errors.New("metadata: invalid request")
	ErrClosed  = errors.New("metadata: store closed")
	// ErrLinkExists and ErrLinkNotFound are the link counterparts.
	ErrLinkExists   = errors.New("metadata: cluster link already exists")
	ErrLinkNotFound = errors.New("metadata: cluster link not found")
	// ErrUnavailable: the store refuses writes for now (too little free
	// disk space for the embedded etcd, or the embedded etcd failed); the
	// error wrapping it says why and what brings writes back. Reads keep
	// answering from the snapshot.
	ErrUnavailable = errors.New("metadata: store unavailable for writes")
)

// Topic is a topic as stored. Version is the record format version; Extra
// keeps JSON fields this version does not know, written back unchanged.
type Topic struct {
	Name       string
	ID         uuid.UUID
	Partitions []Partition       // index = partition number
	Configs    map[string]string // topic-level overrides only
	// Mirror is set for mirror topics (and kept, with State STOPPED, after
	// a mirror is promoted or failed over). nil for ordinary topics.
	Mirror   *Mirror
	Extra    map[string]json.RawMessage
	Revision int64 // store revision of the last change (read only)
}

// Mirror is the persisted state of a mirror topic: which link and source
// topic incarnation it copies, and its persisted state. Derived states
// (LINK_PAUSED, SOURCE_UNAVAILABLE) are not stored here.
type Mirror struct {
	Link          string // cluster link name
	LinkID        string // cluster_link_id of that link
	SourceTopic   string
	SourceTopicID uuid.UUID // zero when the source has no topic IDs
	// State is one of ACTIVE, PAUSED, FAILED, LINK_FAILED, PENDING_STOPPED, STOPPED.
	State        string
	StateTimeMs  int64  // when State was entered (Unix ms)
	Error        string // mirror_topic_error (e.g. SOURCE_TOPIC_ID_CHANGED), "" if none
	ErrorMessage string
	// StartOffsets are the per-partition offsets mirroring started from
	// (mirror.start.offset.spec), set when the mirror is created.
	StartOffsets []int64
	// StoppedLogEndOffsets are the per-partition log end offsets recorded
	// when the mirror was stopped (promote or failover).
	StoppedLogEndOffsets []int64
	// StopKind is "promote" or "failover" once stopping was requested.
	StopKind string
	// Extra keeps JSON fields this version does not know.
	Extra map[string]json.RawMessage
}

// Link is a cluster link as stored. Configs hold the link's configuration
// with secret values already encrypted by the link package (the store
// never sees plaintext credentials).
type Link struct {
	Name            string
	ID              string // cluster_link_id: 22-char base64url UUID
	SourceClusterID string
	Configs         map[string]string
	CreatedMs       int64
	Extra           map[string]json.RawMessage
	Revision        int64 // read only
}

// Partition is the replica assignment and leadership of one partition.
type Partition struct {
	Replicas    []int32
	Leader      int32
	LeaderEpoch int32
}

// Broker is a live broker registration (kept alive by a lease).
type Broker struct {
	NodeID int32
	Host   string
	Port   int32
	Rack   string
}

// TopicSpec is what CreateTopic needs. The store assigns the ID unless ID
// is set (a broker that prepares the partitions' files before the topic
// exists chooses it); an ID another topic has is ErrInvalid.
type TopicSpec struct {
	ID         uuid.UUID
	Name       string
	Partitions []Partition
	Configs    map[string]string
	Mirror     *Mirror // set to create a mirror topic
}

// Store is the cluster metadata. Reads come from a local snapshot kept
// current by a watch; a write returns only after the local snapshot reflects
// it (read-your-writes). Safe for concurrent use.
type Store interface {
	ClusterID() string

	Topics() []Topic // sorted by name
	Topic(name string) (Topic, bool)
	TopicByID(id uuid.UUID) (Topic, bool)
	CreateTopic(ctx context.Context, spec TopicSpec) (Topic, error)
	DeleteTopic(ctx context.Context, name string) error
	// AddPartitions appends partitions; ErrInvalid if it would not grow.
	AddPartitions(ctx context.Context, name string, parts []Partition) error
	// SetTopicConfigs replaces the topic's config overrides.
	SetTopicConfigs(ctx context.Context, name string, configs map[string]string) error

	// UpdateTopic rewrites a topic through fn under compare-and-swap (fn
	// may run more than once and must only change the Topic it is given:
	// Configs, Mirror and Partitions' LeaderEpoch; name and ID are fixed).
	// ErrTopicNotFound if absent; an error from fn aborts and is returned.
	UpdateTopic(ctx context.Context, name string, fn func(*Topic) error) error

	// Links are the cluster links of this cluster, sorted by name.
	Links() []Link
	Link(name string) (Link, bool)
	// CreateLink stores a new link (ErrLinkExists if the name is taken).
	CreateLink(ctx context.Context, l Link) error
	// UpdateLink rewrites a link through fn under compare-and-swap (fn may
	// run more than once). ErrLinkNotFound if absent.
	UpdateLink(ctx context.Context, name string, fn func(*Link) error) error
	// DeleteLink removes a link (ErrLinkNotFound if absent).
	DeleteLink(ctx context.Context, name string) error

	// BrokerConfigs are dynamic broker configs; node "" is the cluster default.
	BrokerConfigs(node string) map[string]string
	SetBrokerConfigs(ctx context.Context, node string, configs map[string]string) error

	// RegisterBroker keeps b registered until ctx ends or Close.
	RegisterBroker(ctx context.Context, b Broker) error
	Brokers() []Broker // sorted by NodeID

	// AllocateProducerIDs reserves count consecutive producer IDs that were
	// never reserved before in this cluster and returns the first.
	AllocateProducerIDs(ctx context.Context, count int64) (int64, error)

	// Changes returns a channel that receives (without blocking the store;
	// it has capacity 1 and coalesces) after every change to the snapshot.
	Changes() <-chan struct{}

	Close() error
}
