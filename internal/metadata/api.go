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
)

// Topic is a topic as stored. Version is the record format version; Extra
// keeps JSON fields this version does not know, written back unchanged.
type Topic struct {
	Name       string
	ID         uuid.UUID
	Partitions []Partition       // index = partition number
	Configs    map[string]string // topic-level overrides only
	Extra      map[string]json.RawMessage
	Revision   int64 // store revision of the last change (read only)
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

// TopicSpec is what CreateTopic needs; the store assigns the ID.
type TopicSpec struct {
	Name       string
	Partitions []Partition
	Configs    map[string]string
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
