package link

// This file fixes the package's exported surface for the REST API, the CLI
// and the broker. The Manager implements Service.

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Mirror topic states (REST mirror_status).
const (
	StatePendingMirror     = "PENDING_MIRROR"
	StateActive            = "ACTIVE"
	StatePaused            = "PAUSED"
	StateLinkPaused        = "LINK_PAUSED"
	StateSourceUnavailable = "SOURCE_UNAVAILABLE"
	StateFailed            = "FAILED"
	StateLinkFailed        = "LINK_FAILED"
	StatePendingStopped    = "PENDING_STOPPED"
	StateStopped           = "STOPPED"
)

// Link states (REST link_state).
const (
	LinkStateActive      = "ACTIVE"
	LinkStatePaused      = "PAUSED"
	LinkStateUnavailable = "UNAVAILABLE"
	LinkStateFailed      = "FAILED"
)

// Task names and states (REST tasks[]).
const (
	TaskTopicConfigsSync   = "TopicConfigsSync"
	TaskConsumerOffsetSync = "ConsumerOffsetSync"
	TaskAutoCreateMirror   = "AutoCreateMirror"
	TaskAclSync            = "AclSync"

	TaskStateActive        = "ACTIVE"
	TaskStateInError       = "IN_ERROR"
	TaskStateNotConfigured = "NOT_CONFIGURED"
	TaskStateLinkPaused    = "LINK_PAUSED"
	TaskStateLinkFailed    = "LINK_FAILED"
	TaskStateUnavailable   = "LINK_UNAVAILABLE"
)

// LinkInfo describes a link (REST KafkaLinkData).
type LinkInfo struct {
	Name                 string
	ID                   string // cluster_link_id
	SourceClusterID      string
	DestinationClusterID string // this cluster
	State                string // LinkState*
	Error                string // link_error: NO_ERROR, AUTHENTICATION_ERROR, TIMEOUT_ERROR, ...
	ErrorMessage         string
	Topics               []string       // mirror topic names, sorted
	MirrorStateCounts    map[string]int // mirror partitions by state category (ACTIVE, PAUSED, IN_ERROR, PENDING)
	Tasks                []TaskStatus   // filled when asked for
	Created              time.Time
}

// TaskStatus is one periodic task of a link.
type TaskStatus struct {
	Name   string
	State  string
	Errors []TaskError
}

// TaskError is an error code and message (REST {error_code, error_message}).
type TaskError struct {
	Code    string
	Message string
}

// ConfigEntry is one link config as described (REST KafkaLinkConfigData).
type ConfigEntry struct {
	Name      string
	Value     *string // nil when sensitive
	IsDefault bool
	ReadOnly  bool
	Sensitive bool
	Source    string // DYNAMIC_CLUSTER_LINK_CONFIG or DEFAULT_CONFIG
	Synonyms  []string
}

// MirrorInfo describes a mirror topic (REST KafkaMirrorData).
type MirrorInfo struct {
	Link             string
	MirrorTopic      string
	SourceTopic      string
	SourceTopicID    uuid.UUID
	Partitions       int
	State            string // State*
	Error            string // mirror_topic_error, "" when none
	ErrorMessage     string
	StateTime        time.Time
	Lags             []PartitionLag
	TransitionErrors []TaskError
}

// PartitionLag is the per-partition mirroring position (REST MirrorLag).
type PartitionLag struct {
	Partition int32
	// Lag is the source high watermark last seen minus the mirror's log end offset.
	Lag int64
	// LastSourceFetchOffset is the offset the last source fetch asked for (-1 before any).
	LastSourceFetchOffset int64
	SourceHighWatermark   int64 // last seen, -1 before any fetch
	MirrorLogEndOffset    int64
	// LastFetch is when the source last answered a fetch for it (zero before any).
	LastFetch time.Time
}

// AlterResult is the per-topic outcome of pause, resume, promote or failover.
type AlterResult struct {
	Topic string
	Err   *Error // nil on success
	Lags  []PartitionLag
}

// CreateLinkRequest creates a link.
type CreateLinkRequest struct {
	Name            string
	SourceClusterID string // expected source cluster ID; "" = accept what the source reports
	Configs         map[string]string
	ValidateOnly    bool // dry run: validate everything, store nothing
	SkipValidation  bool // do not contact the source
}

// CreateMirrorRequest creates a mirror topic.
type CreateMirrorRequest struct {
	Link              string
	SourceTopic       string
	MirrorTopic       string // "" = prefix + source topic
	ReplicationFactor int16  // <= 0: the broker default
	Configs           map[string]string
	ValidateOnly      bool
}

// Error is a failure with an HTTP status and a Confluent REST error code;
// the REST layer writes it as {"error_code": Code, "message": Message}.
type Error struct {
	HTTPStatus int
	Code       int
	Message    string
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an *Error.
func Errorf(status, code int, format string, args ...any) *Error {
	return &Error{HTTPStatus: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Service is what the REST API and in-process callers use. Every method is
// safe for concurrent use; errors are *Error.
type Service interface {
	ClusterID() string

	CreateLink(ctx context.Context, req CreateLinkRequest) error
	ListLinks(ctx context.Context) ([]LinkInfo, error)
	DescribeLink(ctx context.Context, name string, includeTasks bool) (LinkInfo, error)
	DeleteLink(ctx context.Context, name string, force, validateOnly bool) error
	LinkConfigs(ctx context.Context, name string) ([]ConfigEntry, error)
	// AlterLinkConfigs sets and resets (deletes) configs in one change.
	AlterLinkConfigs(ctx context.Context, name string, set map[string]string, reset []string, validateOnly bool) error

	CreateMirror(ctx context.Context, req CreateMirrorRequest) error
	// ListMirrors lists the mirrors of link ("" = every link), optionally
	// only those in state status ("" = any).
	ListMirrors(ctx context.Context, link, status string) ([]MirrorInfo, error)
	DescribeMirror(ctx context.Context, link, topic string) (MirrorInfo, error)
	PauseMirrors(ctx context.Context, link string, topics []string, validateOnly bool) ([]AlterResult, error)
	ResumeMirrors(ctx context.Context, link string, topics []string, validateOnly bool) ([]AlterResult, error)
	// PromoteMirrors stops mirrors that are fully caught up (planned cutover).
	PromoteMirrors(ctx context.Context, link string, topics []string, validateOnly bool) ([]AlterResult, error)
	// FailoverMirrors stops mirrors whatever their lag (disaster recovery).
	FailoverMirrors(ctx context.Context, link string, topics []string, validateOnly bool) ([]AlterResult, error)
}
