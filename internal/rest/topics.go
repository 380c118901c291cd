package rest

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicData is Confluent's KafkaTopic.
type topicData struct {
	Kind              string       `json:"kind"`
	Metadata          resourceMeta `json:"metadata"`
	ClusterID         string       `json:"cluster_id"`
	TopicName         string       `json:"topic_name"`
	IsInternal        bool         `json:"is_internal"`
	ReplicationFactor int          `json:"replication_factor"`
	PartitionsCount   int          `json:"partitions_count"`
	Partitions        related      `json:"partitions"`
	Configs           related      `json:"configs"`
}

// partitionData is Confluent's KafkaPartition.
type partitionData struct {
	Kind        string       `json:"kind"`
	Metadata    resourceMeta `json:"metadata"`
	ClusterID   string       `json:"cluster_id"`
	TopicName   string       `json:"topic_name"`
	PartitionID int32        `json:"partition_id"`
	Leader      *related     `json:"leader"` // null without a leader
	Replicas    related      `json:"replicas"`
}

// topicConfigData is Confluent's KafkaTopicConfig.
type topicConfigData struct {
	Kind        string          `json:"kind"`
	Metadata    resourceMeta    `json:"metadata"`
	ClusterID   string          `json:"cluster_id"`
	TopicName   string          `json:"topic_name"`
	Name        string          `json:"name"`
	Value       *string         `json:"value"`
	IsDefault   bool            `json:"is_default"`
	IsReadOnly  bool            `json:"is_read_only"`
	IsSensitive bool            `json:"is_sensitive"`
	Source      string          `json:"source"`
	Synonyms    []configSynonym `json:"synonyms"`
}

type configSynonym struct {
	Name   string  `json:"name"`
	Value  *string `json:"value"`
	Source string  `json:"source"`
}

// createTopicBody is Confluent's CreateTopicRequestData (without explicit
// replica assignments).
type createTopicBody struct {
	TopicName         string       `json:"topic_name"`
	PartitionsCount   *int32       `json:"partitions_count"`
	ReplicationFactor *int16       `json:"replication_factor"`
	Configs           []configData `json:"configs"`
	ValidateOnly      bool         `json:"validate_only"`
}

func (s *Server) topic(r *http.Request, name string, internal bool, partitions, rf int) topicData {
	id := s.clusterID()
	return topicData{
		Kind:              "KafkaTopic",
		Metadata:          resourceMeta{Self: selfURL(r, pathOf("clusters", id, "topics", name)), ResourceName: crn("kafka="+id, "topic="+name)},
		ClusterID:         id,
		TopicName:         name,
		IsInternal:        internal,
		ReplicationFactor: rf,
		PartitionsCount:   partitions,
		Partitions:        related{selfURL(r, pathOf("clusters", id, "topics", name, "partitions"))},
		Configs:           related{selfURL(r, pathOf("clusters", id, "topics", name, "configs"))},
	}
}

// metadata asks the broker directly (never a client-side cache, so that a
// read right after a create or delete sees it) and never auto-creates.
func (s *Server) metadata(ctx context.Context, topics ...string) (*kmsg.MetadataResponse, error) {
	_, kcl, err := s.admin()
	if err != nil {
		return nil, err
	}
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	return req.RequestWith(ctx, kcl)
}

// oneTopic is the metadata of one existing topic.
func (s *Server) oneTopic(ctx context.Context, name string) (kmsg.MetadataResponseTopic, error) {
	resp, err := s.metadata(ctx, name)
	if err != nil {
		return kmsg.MetadataResponseTopic{}, kafkaError(err, name)
	}
	for _, t := range resp.Topics {
		if t.Topic != nil && *t.Topic == name {
			return t, kafkaError(kerr.ErrorForCode(t.ErrorCode), name)
		}
	}
	return kmsg.MetadataResponseTopic{}, kafkaError(kerr.UnknownTopicOrPartition, name)
}

func replicationFactor(t kmsg.MetadataResponseTopic) int {
	rf := 0
	for _, p := range t.Partitions {
		rf = max(rf, len(p.Replicas))
	}
	return rf
}

func (s *Server) listTopics(w http.ResponseWriter, r *http.Request) error {
	resp, err := s.metadata(r.Context())
	if err != nil {
		return kafkaError(err, "")
	}
	var out []topicData
	for _, t := range resp.Topics {
		if t.Topic == nil || t.ErrorCode != 0 {
			continue
		}
		out = append(out, s.topic(r, *t.Topic, t.IsInternal, len(t.Partitions), replicationFactor(t)))
	}
	slices.SortFunc(out, func(a, b topicData) int { return strings.Compare(a.TopicName, b.TopicName) })
	writeJSON(w, http.StatusOK, newList("KafkaTopicList", selfURL(r, pathOf("clusters", s.clusterID(), "topics")), out))
	return nil
}

func (s *Server) createTopic(w http.ResponseWriter, r *http.Request) error {
	var body createTopicBody
	if err := decodeBody(r, &body, false); err != nil {
		return err
	}
	if body.TopicName == "" {
		return badRequest("topic_name is required")
	}
	partitions, rf := int32(-1), int16(-1)
	if body.PartitionsCount != nil {
		if *body.PartitionsCount <= 0 {
			return badRequest("partitions_count must be positive, not %d", *body.PartitionsCount)
		}
		partitions = *body.PartitionsCount
	}
	if body.ReplicationFactor != nil {
		if *body.ReplicationFactor <= 0 {
			return badRequest("replication_factor must be positive, not %d", *body.ReplicationFactor)
		}
		rf = *body.ReplicationFactor
	}
	configs, err := configMap("configs", body.Configs)
	if err != nil {
		return err
	}
	adm, _, err := s.admin()
	if err != nil {
		return err
	}
	kconfigs := make(map[string]*string, len(configs))
	for k, v := range configs {
		kconfigs[k] = &v
	}
	create := adm.CreateTopics
	if body.ValidateOnly {
		create = adm.ValidateCreateTopics
	}
	resps, err := create(r.Context(), partitions, rf, kconfigs, body.TopicName)
	if err != nil {
		return kafkaError(err, body.TopicName)
	}
	resp, ok := resps[body.TopicName]
	if !ok {
		return internalError("the broker's CreateTopics response lacks topic %q", body.TopicName)
	}
	if resp.Err != nil {
		return kafkaErrorMessage(resp.Err, resp.ErrMessage, body.TopicName)
	}
	writeJSON(w, http.StatusCreated, s.topic(r, body.TopicName, false, int(resp.NumPartitions), int(resp.ReplicationFactor)))
	return nil
}

func (s *Server) getTopic(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("topic_name")
	t, err := s.oneTopic(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.topic(r, name, t.IsInternal, len(t.Partitions), replicationFactor(t)))
	return nil
}

func (s *Server) deleteTopic(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("topic_name")
	adm, _, err := s.admin()
	if err != nil {
		return err
	}
	resps, err := adm.DeleteTopics(r.Context(), name)
	if err != nil {
		return kafkaError(err, name)
	}
	resp, ok := resps[name]
	if !ok {
		return internalError("the broker's DeleteTopics response lacks topic %q", name)
	}
	if resp.Err != nil {
		return kafkaErrorMessage(resp.Err, resp.ErrMessage, name)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listPartitions(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("topic_name")
	t, err := s.oneTopic(r.Context(), name)
	if err != nil {
		return err
	}
	id := s.clusterID()
	ps := slices.Clone(t.Partitions)
	slices.SortFunc(ps, func(a, b kmsg.MetadataResponseTopicPartition) int { return int(a.Partition - b.Partition) })
	out := make([]partitionData, 0, len(ps))
	for _, p := range ps {
		pid := strconv.Itoa(int(p.Partition))
		pd := partitionData{
			Kind:        "KafkaPartition",
			Metadata:    resourceMeta{Self: selfURL(r, pathOf("clusters", id, "topics", name, "partitions", pid)), ResourceName: crn("kafka="+id, "topic="+name, "partition="+pid)},
			ClusterID:   id,
			TopicName:   name,
			PartitionID: p.Partition,
			Replicas:    related{selfURL(r, pathOf("clusters", id, "topics", name, "partitions", pid, "replicas"))},
		}
		if p.Leader >= 0 {
			pd.Leader = &related{selfURL(r, pathOf("clusters", id, "topics", name, "partitions", pid, "replicas", strconv.Itoa(int(p.Leader))))}
		}
		out = append(out, pd)
	}
	writeJSON(w, http.StatusOK, newList("KafkaPartitionList", selfURL(r, pathOf("clusters", id, "topics", name, "partitions")), out))
	return nil
}

func (s *Server) listTopicConfigs(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("topic_name")
	_, kcl, err := s.admin()
	if err != nil {
		return err
	}
	res, err := describeTopicConfigs(r.Context(), kcl, name)
	if err != nil {
		return err
	}
	id := s.clusterID()
	out := make([]topicConfigData, 0, len(res.Configs))
	for _, c := range res.Configs {
		cd := topicConfigData{
			Kind:        "KafkaTopicConfig",
			Metadata:    resourceMeta{Self: selfURL(r, pathOf("clusters", id, "topics", name, "configs", c.Name)), ResourceName: crn("kafka="+id, "topic="+name, "config="+c.Name)},
			ClusterID:   id,
			TopicName:   name,
			Name:        c.Name,
			Value:       c.Value,
			IsDefault:   c.IsDefault || c.Source == kmsg.ConfigSourceDefaultConfig,
			IsReadOnly:  c.ReadOnly,
			IsSensitive: c.IsSensitive,
			Source:      c.Source.String(),
			Synonyms:    []configSynonym{},
		}
		if c.IsSensitive {
			cd.Value = nil
		}
		for _, syn := range c.ConfigSynonyms {
			cs := configSynonym{Name: syn.Name, Value: syn.Value, Source: syn.Source.String()}
			if c.IsSensitive {
				cs.Value = nil
			}
			cd.Synonyms = append(cd.Synonyms, cs)
		}
		out = append(out, cd)
	}
	slices.SortFunc(out, func(a, b topicConfigData) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(w, http.StatusOK, newList("KafkaTopicConfigList", selfURL(r, pathOf("clusters", id, "topics", name, "configs")), out))
	return nil
}

// describeTopicConfigs sends DescribeConfigs itself because kadm's result
// drops the read-only flag, which mirror topics set.
func describeTopicConfigs(ctx context.Context, kcl *kgo.Client, topic string) (kmsg.DescribeConfigsResponseResource, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.IncludeSynonyms = true
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType = kmsg.ConfigResourceTypeTopic
	rr.ResourceName = topic
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(ctx, kcl)
	if err != nil {
		return kmsg.DescribeConfigsResponseResource{}, kafkaError(err, topic)
	}
	for _, res := range resp.Resources {
		if res.ResourceName != topic {
			continue
		}
		msg := ""
		if res.ErrorMessage != nil {
			msg = *res.ErrorMessage
		}
		return res, kafkaErrorMessage(kerr.ErrorForCode(res.ErrorCode), msg, topic)
	}
	return kmsg.DescribeConfigsResponseResource{}, internalError("the broker's DescribeConfigs response lacks topic %q", topic)
}
