package rest

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/strait-kafka/strait/internal/link"
)

// alterMirrorsFunc applies one mirror verb to topics of a link.
type alterMirrorsFunc func(svc link.Service, ctx context.Context, linkName string, topics []string, validateOnly bool) ([]link.AlterResult, error)

// mirrorVerbs maps the verb of POST .../links/{link_name}/mirrors:<verb> to
// the Service method applying it. A new verb (promote, failover) is one line
// here once link.Service has the method.
var mirrorVerbs = map[string]alterMirrorsFunc{
	"pause":    link.Service.PauseMirrors,
	"promote":  link.Service.PromoteMirrors,
	"failover": link.Service.FailoverMirrors,
	"resume":   link.Service.ResumeMirrors,
}

func sortedVerbs() []string {
	vs := make([]string, 0, len(mirrorVerbs))
	for v := range mirrorVerbs {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// mirrorStatuses are the values mirror_status may filter on: Confluent
// Cloud's MirrorTopicStatus enum plus UNKNOWN.
var mirrorStatuses = []string{
	link.StateActive, link.StateFailed, link.StateLinkFailed, link.StateLinkPaused, link.StatePaused,
	link.StatePendingStopped, link.StateSourceUnavailable, link.StateStopped, link.StatePendingMirror,
	"PENDING_SYNCHRONIZE", "PENDING_SETUP_FOR_RESTORE", "PENDING_RESTORE", "UNKNOWN",
}

// mirrorData is Confluent's KafkaMirrorData (ListMirrorTopicsResponseData).
type mirrorData struct {
	Kind            string       `json:"kind"`
	Metadata        resourceMeta `json:"metadata"`
	LinkName        string       `json:"link_name"`
	MirrorTopicName string       `json:"mirror_topic_name"`
	SourceTopicName string       `json:"source_topic_name"`
	// SourceTopicID is Kafka's base64 form of the source topic's ID.
	SourceTopicID    string      `json:"source_topic_id"`
	NumPartitions    int         `json:"num_partitions"`
	MirrorLags       []mirrorLag `json:"mirror_lags"`
	MirrorStatus     string      `json:"mirror_status"`
	MirrorTopicError string      `json:"mirror_topic_error"`
	// MirrorTopicErrorMessage is a Strait addition: the text behind
	// mirror_topic_error.
	MirrorTopicErrorMessage     string        `json:"mirror_topic_error_message,omitempty"`
	StateTimeMs                 int64         `json:"state_time_ms"`
	MirrorStateTransitionErrors *[]errorEntry `json:"mirror_state_transition_errors,omitempty"`
}

type mirrorLag struct {
	Partition             int32 `json:"partition"`
	Lag                   int64 `json:"lag"`
	LastSourceFetchOffset int64 `json:"last_source_fetch_offset"`
	// Strait additions: the source high watermark last seen (-1 before the
	// first fetch), the mirror's log end offset, and the milliseconds since
	// the source last answered a fetch for the partition (-1 before any).
	SourceHighWatermark  int64 `json:"source_high_watermark"`
	MirrorLogEndOffset   int64 `json:"mirror_log_end_offset"`
	TimeSinceLastFetchMs int64 `json:"time_since_last_fetch_ms"`
}

// createMirrorBody is CreateMirrorTopicRequestData.
type createMirrorBody struct {
	SourceTopicName   string       `json:"source_topic_name"`
	MirrorTopicName   string       `json:"mirror_topic_name"`
	ReplicationFactor *int32       `json:"replication_factor"`
	Configs           []configData `json:"configs"`
}

// alterMirrorsBody is AlterMirrorsRequestData: names or a pattern.
type alterMirrorsBody struct {
	MirrorTopicNames       []string `json:"mirror_topic_names"`
	MirrorTopicNamePattern *string  `json:"mirror_topic_name_pattern"`
}

// alterMirrorsData is one topic's outcome (AlterMirrorStatusResponseData).
// Strait never truncates, so the truncation fields are always null.
type alterMirrorsData struct {
	Kind                         string       `json:"kind"`
	Metadata                     resourceMeta `json:"metadata"`
	MirrorTopicName              string       `json:"mirror_topic_name"`
	ErrorCode                    *int         `json:"error_code"`
	ErrorMessage                 *string      `json:"error_message"`
	MirrorLags                   []mirrorLag  `json:"mirror_lags"`
	MessagesTruncated            *int64       `json:"messages_truncated"`
	PartitionLevelTruncationData *[]struct{}  `json:"partition_level_truncation_data"`
}

// kafkaTopicID is Kafka's string form of a topic ID (base64url, unpadded).
func kafkaTopicID(id uuid.UUID) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func mirrorLags(ls []link.PartitionLag) []mirrorLag {
	out := make([]mirrorLag, 0, len(ls))
	for _, l := range ls {
		since := int64(-1)
		if !l.LastFetch.IsZero() {
			since = max(time.Since(l.LastFetch).Milliseconds(), 0)
		}
		out = append(out, mirrorLag{Partition: l.Partition, Lag: l.Lag, LastSourceFetchOffset: l.LastSourceFetchOffset,
			SourceHighWatermark: l.SourceHighWatermark, MirrorLogEndOffset: l.MirrorLogEndOffset, TimeSinceLastFetchMs: since})
	}
	slices.SortFunc(out, func(a, b mirrorLag) int { return cmp.Compare(a.Partition, b.Partition) })
	return out
}

func (s *Server) mirrorData(r *http.Request, m link.MirrorInfo, transitionErrors bool) mirrorData {
	d := mirrorData{
		Kind:                    "KafkaMirrorData",
		Metadata:                resourceMeta{Self: selfURL(r, pathOf("clusters", s.clusterID(), "links", m.Link, "mirrors", m.MirrorTopic))},
		LinkName:                m.Link,
		MirrorTopicName:         m.MirrorTopic,
		SourceTopicName:         m.SourceTopic,
		SourceTopicID:           kafkaTopicID(m.SourceTopicID),
		NumPartitions:           m.Partitions,
		MirrorLags:              mirrorLags(m.Lags),
		MirrorStatus:            m.State,
		MirrorTopicError:        cmp.Or(m.Error, "NO_ERROR"),
		MirrorTopicErrorMessage: m.ErrorMessage,
	}
	if !m.StateTime.IsZero() {
		d.StateTimeMs = m.StateTime.UnixMilli()
	}
	if transitionErrors {
		es := errorEntries(m.TransitionErrors)
		d.MirrorStateTransitionErrors = &es
	}
	return d
}

func (s *Server) listMirrors(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.links()
	if err != nil {
		return err
	}
	status := strings.ToUpper(r.URL.Query().Get("mirror_status"))
	if status != "" && !slices.Contains(mirrorStatuses, status) {
		return badRequest("invalid value %q for query parameter mirror_status (use one of %s)", r.URL.Query().Get("mirror_status"), strings.Join(mirrorStatuses, ", "))
	}
	name := r.PathValue("link_name")
	filter := name
	if name == "-" { // every link
		filter = ""
	}
	infos, err := svc.ListMirrors(r.Context(), filter, status)
	if err != nil {
		return err
	}
	out := make([]mirrorData, 0, len(infos))
	for _, m := range infos {
		out = append(out, s.mirrorData(r, m, false))
	}
	slices.SortFunc(out, func(a, b mirrorData) int {
		return cmp.Or(strings.Compare(a.LinkName, b.LinkName), strings.Compare(a.MirrorTopicName, b.MirrorTopicName))
	})
	writeJSON(w, http.StatusOK, newList("KafkaMirrorDataList", selfURL(r, pathOf("clusters", s.clusterID(), "links", name, "mirrors")), out))
	return nil
}

func (s *Server) createMirror(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.links()
	if err != nil {
		return err
	}
	validateOnly, err := queryBool(r.URL.Query(), "validate_only", false)
	if err != nil {
		return err
	}
	var body createMirrorBody
	if err := decodeBody(r, &body, false); err != nil {
		return err
	}
	if body.SourceTopicName == "" {
		return badRequest("source_topic_name is required")
	}
	var rf int16
	if body.ReplicationFactor != nil {
		if *body.ReplicationFactor <= 0 || *body.ReplicationFactor > 32767 {
			return badRequest("replication_factor must be between 1 and 32767, not %d", *body.ReplicationFactor)
		}
		rf = int16(*body.ReplicationFactor)
	}
	configs, err := configMap("configs", body.Configs)
	if err != nil {
		return err
	}
	err = svc.CreateMirror(r.Context(), link.CreateMirrorRequest{
		Link:              r.PathValue("link_name"),
		SourceTopic:       body.SourceTopicName,
		MirrorTopic:       body.MirrorTopicName,
		ReplicationFactor: rf,
		Configs:           configs,
		ValidateOnly:      validateOnly,
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getMirror(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.links()
	if err != nil {
		return err
	}
	transitionErrors, err := queryBool(r.URL.Query(), "include_state_transition_errors", false)
	if err != nil {
		return err
	}
	m, err := svc.DescribeMirror(r.Context(), r.PathValue("link_name"), r.PathValue("mirror_topic_name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.mirrorData(r, m, transitionErrors))
	return nil
}

// alterMirrors serves POST .../mirrors:<verb>. Per-topic failures are data
// in a 200 response; only a bad request or a failure of the whole call is
// an error status.
func (s *Server) alterMirrors(verb string) apiHandler {
	apply := mirrorVerbs[verb]
	return func(w http.ResponseWriter, r *http.Request) error {
		svc, err := s.links()
		if err != nil {
			return err
		}
		validateOnly, err := queryBool(r.URL.Query(), "validate_only", false)
		if err != nil {
			return err
		}
		var body alterMirrorsBody
		if err := decodeBody(r, &body, false); err != nil {
			return err
		}
		name := r.PathValue("link_name")
		topics, err := s.selectMirrors(r.Context(), svc, name, body)
		if err != nil {
			return err
		}
		var results []link.AlterResult
		if len(topics) > 0 {
			if results, err = apply(svc, r.Context(), name, topics, validateOnly); err != nil {
				return err
			}
		}
		id := s.clusterID()
		out := make([]alterMirrorsData, 0, len(results))
		for _, res := range results {
			d := alterMirrorsData{
				Kind:            "AlterMirrorsData",
				Metadata:        resourceMeta{Self: selfURL(r, pathOf("clusters", id, "links", name, "mirrors", res.Topic))},
				MirrorTopicName: res.Topic,
				MirrorLags:      mirrorLags(res.Lags),
			}
			if res.Err != nil {
				d.ErrorCode, d.ErrorMessage = &res.Err.Code, &res.Err.Message
			}
			out = append(out, d)
		}
		writeJSON(w, http.StatusOK, newList("AlterMirrorsDataList", selfURL(r, pathOf("clusters", id, "links", name, "mirrors")), out))
		return nil
	}
}

// selectMirrors resolves the request's topic names or, for a pattern, the
// link's mirror topics whose whole name matches it.
func (s *Server) selectMirrors(ctx context.Context, svc link.Service, linkName string, body alterMirrorsBody) ([]string, error) {
	switch {
	case body.MirrorTopicNames != nil && body.MirrorTopicNamePattern != nil:
		return nil, badRequest("give either mirror_topic_names or mirror_topic_name_pattern, not both")
	case body.MirrorTopicNamePattern != nil:
		// Compiled alone first, so that an error quotes the pattern as
		// given and not the anchored form.
		if _, err := regexp.Compile(*body.MirrorTopicNamePattern); err != nil {
			return nil, badRequest("mirror_topic_name_pattern: invalid regular expression %q: %s", *body.MirrorTopicNamePattern, regexpProblem(*body.MirrorTopicNamePattern, err))
		}
		re, err := regexp.Compile("^(?:" + *body.MirrorTopicNamePattern + ")$")
		if err != nil {
			return nil, badRequest("mirror_topic_name_pattern: invalid regular expression %q", *body.MirrorTopicNamePattern)
		}
		infos, err := svc.ListMirrors(ctx, linkName, "")
		if err != nil {
			return nil, err
		}
		var topics []string
		for _, m := range infos {
			if re.MatchString(m.MirrorTopic) {
				topics = append(topics, m.MirrorTopic)
			}
		}
		slices.Sort(topics)
		return topics, nil
	case len(body.MirrorTopicNames) == 0:
		return nil, badRequest("mirror_topic_names is required (or mirror_topic_name_pattern)")
	}
	var topics []string
	for i, t := range body.MirrorTopicNames {
		if t == "" {
			return nil, badRequest("mirror_topic_names[%d] is empty", i)
		}
		if !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	return topics, nil
}

// regexpProblem is what is wrong with pattern, without Go's "error parsing
// regexp:" prefix, quoting the offending part when it is not the whole.
func regexpProblem(pattern string, err error) string {
	var se *syntax.Error
	switch {
	case errors.As(err, &se) && se.Expr != pattern:
		return fmt.Sprintf("%s in `%s`", se.Code, se.Expr)
	case errors.As(err, &se):
		return se.Code.String()
	}
	return err.Error()
}
