package broker

// Duplicate topics, partitions, groups and resources in one request.
//
// A client never names a partition twice in one request, but a hostile one
// can name it 20,000 times, and a Fetch answered once per mention returned
// the partition's data 20,000 times (295 MB for a 240 KB request). Before a
// handler runs, Handle rewrites the request so that each is named once,
// following Kafka, which reads most of these lists into a map:
//
//   - collapsed (answered once; the last mention's values win, at the
//     first mention's place): Produce, Fetch, Metadata, OffsetCommit,
//     OffsetFetch, DescribeGroups, DeleteRecords, OffsetForLeaderEpoch,
//     DescribeConfigs (the config names asked for are merged), DeleteGroups,
//     OffsetDelete;
//   - refused (answered once, with INVALID_REQUEST, and not acted on):
//     ListOffsets (Kafka's duplicatePartitions), DeleteTopics ("Duplicate
//     topic name."), CreatePartitions ("Duplicate topic in request."),
//     AlterConfigs and IncrementalAlterConfigs ("Each resource must appear
//     at most once.").
//
// CreateTopics refuses duplicates in its own handler. Everything else is in
// this file, so that the handlers stay as the protocol describes them.

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// dedupe rewrites req so that it names each partition, topic, group or
// resource once, and returns what must be added to the response for the
// duplicates it refused (nil when there is nothing to add).
func dedupe(req kmsg.Request) func(kmsg.Response) {
	switch r := req.(type) {
	case *kmsg.ProduceRequest:
		r.Topics = collapseTopics(r.Topics,
			func(t *kmsg.ProduceRequestTopic) topicKey { return topicKey{name: t.Topic, id: t.TopicID} },
			func(t *kmsg.ProduceRequestTopic) *[]kmsg.ProduceRequestTopicPartition { return &t.Partitions },
			func(p *kmsg.ProduceRequestTopicPartition) int32 { return p.Partition })
	case *kmsg.FetchRequest:
		r.Topics = collapseTopics(r.Topics,
			func(t *kmsg.FetchRequestTopic) topicKey { return topicKey{name: t.Topic, id: t.TopicID} },
			func(t *kmsg.FetchRequestTopic) *[]kmsg.FetchRequestTopicPartition { return &t.Partitions },
			func(p *kmsg.FetchRequestTopicPartition) int32 { return p.Partition })
	case *kmsg.ListOffsetsRequest:
		return refuseListOffsets(r)
	case *kmsg.MetadataRequest:
		if r.Topics != nil { // nil asks for every topic
			r.Topics = collapse(r.Topics, func(t *kmsg.MetadataRequestTopic) topicKey {
				if t.Topic == nil {
					return topicKey{id: t.TopicID, byID: true}
				}
				return topicKey{name: *t.Topic}
			})
		}
	case *kmsg.OffsetCommitRequest:
		r.Topics = collapseTopics(r.Topics,
			func(t *kmsg.OffsetCommitRequestTopic) topicKey { return topicKey{name: t.Topic, id: t.TopicID} },
			func(t *kmsg.OffsetCommitRequestTopic) *[]kmsg.OffsetCommitRequestTopicPartition { return &t.Partitions },
			func(p *kmsg.OffsetCommitRequestTopicPartition) int32 { return p.Partition })
	case *kmsg.OffsetFetchRequest:
		if r.Topics != nil { // nil asks for every committed partition
			r.Topics = collapseTopics(r.Topics,
				func(t *kmsg.OffsetFetchRequestTopic) string { return t.Topic },
				func(t *kmsg.OffsetFetchRequestTopic) *[]int32 { return &t.Partitions },
				func(p *int32) int32 { return *p })
		}
		r.Groups = collapseTopics(r.Groups,
			func(g *kmsg.OffsetFetchRequestGroup) string { return g.Group },
			func(g *kmsg.OffsetFetchRequestGroup) *[]kmsg.OffsetFetchRequestGroupTopic { return &g.Topics },
			func(t *kmsg.OffsetFetchRequestGroupTopic) topicKey { return topicKey{name: t.Topic, id: t.TopicID} })
		for i := range r.Groups {
			for j := range r.Groups[i].Topics {
				t := &r.Groups[i].Topics[j]
				t.Partitions = collapse(t.Partitions, func(p *int32) int32 { return *p })
			}
		}
	case *kmsg.DescribeGroupsRequest:
		r.Groups = collapse(r.Groups, func(g *string) string { return *g })
	case *kmsg.DeleteGroupsRequest:
		r.Groups = collapse(r.Groups, func(g *string) string { return *g })
	case *kmsg.DeleteTopicsRequest:
		return refuseDeleteTopics(r)
	case *kmsg.DeleteRecordsRequest:
		r.Topics = collapseTopics(r.Topics,
			func(t *kmsg.DeleteRecordsRequestTopic) string { return t.Topic },
			func(t *kmsg.DeleteRecordsRequestTopic) *[]kmsg.DeleteRecordsRequestTopicPartition {
				return &t.Partitions
			},
			func(p *kmsg.DeleteRecordsRequestTopicPartition) int32 { return p.Partition })
	case *kmsg.OffsetForLeaderEpochRequest:
		r.Topics = collapseTopics(r.Topics,
			func(t *kmsg.OffsetForLeaderEpochRequestTopic) string { return t.Topic },
			func(t *kmsg.OffsetForLeaderEpochRequestTopic) *[]kmsg.OffsetForLeaderEpochRequestTopicPartition {
				return &t.Partitions
			},
			func(p *kmsg.OffsetForLeaderEpochRequestTopicPartition) int32 { return p.Partition })
	case *kmsg.DescribeConfigsRequest:
		r.Resources = collapseDescribeConfigs(r.Resources)
	case *kmsg.AlterConfigsRequest:
		var dups []resourceKey
		r.Resources, dups = refuse(r.Resources, func(rr *kmsg.AlterConfigsRequestResource) resourceKey {
			return resourceKey{rr.ResourceType, rr.ResourceName}
		})
		return func(m kmsg.Response) {
			resp := m.(*kmsg.AlterConfigsResponse)
			for _, k := range dups {
				sr := kmsg.NewAlterConfigsResponseResource()
				sr.ResourceType, sr.ResourceName = k.typ, k.name
				sr.ErrorCode, sr.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr(duplicateResource)
				resp.Resources = append(resp.Resources, sr)
			}
		}
	case *kmsg.IncrementalAlterConfigsRequest:
		var dups []resourceKey
		r.Resources, dups = refuse(r.Resources, func(rr *kmsg.IncrementalAlterConfigsRequestResource) resourceKey {
			return resourceKey{rr.ResourceType, rr.ResourceName}
		})
		return func(m kmsg.Response) {
			resp := m.(*kmsg.IncrementalAlterConfigsResponse)
			for _, k := range dups {
				sr := kmsg.NewIncrementalAlterConfigsResponseResource()
				sr.ResourceType, sr.ResourceName = k.typ, k.name
				sr.ErrorCode, sr.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr(duplicateResource)
				resp.Resources = append(resp.Resources, sr)
			}
		}
	case *kmsg.CreatePartitionsRequest:
		var dups []string
		r.Topics, dups = refuse(r.Topics, func(t *kmsg.CreatePartitionsRequestTopic) string { return t.Topic })
		return func(m kmsg.Response) {
			resp := m.(*kmsg.CreatePartitionsResponse)
			for _, name := range dups {
				st := kmsg.NewCreatePartitionsResponseTopic()
				st.Topic, st.ErrorCode = name, kerr.InvalidRequest.Code
				st.ErrorMessage = kmsg.StringPtr("Duplicate topic in request.")
				resp.Topics = append(resp.Topics, st)
			}
		}
	case *kmsg.OffsetDeleteRequest:
		r.Topics = collapseTopics(r.Topics,
			func(t *kmsg.OffsetDeleteRequestTopic) string { return t.Topic },
			func(t *kmsg.OffsetDeleteRequestTopic) *[]kmsg.OffsetDeleteRequestTopicPartition { return &t.Partitions },
			func(p *kmsg.OffsetDeleteRequestTopicPartition) int32 { return p.Partition })
	}
	return nil
}

const duplicateResource = "Each resource must appear at most once."

// topicKey names a topic by name, by ID, or (in requests that carry both
// fields) by whichever the version uses; the other field is then zero.
type topicKey struct {
	name string
	id   [16]byte
	byID bool
}

type resourceKey struct {
	typ  kmsg.ConfigResourceType
	name string
}

// collapse keeps one element per key: at the first one's place, with the
// last one's value, as a Java LinkedHashMap does when Kafka reads the list.
func collapse[E any, K comparable](list []E, key func(*E) K) []E {
	if len(list) < 2 {
		return list
	}
	at := make(map[K]int, len(list))
	out := make([]E, 0, len(list))
	for i := range list {
		k := key(&list[i])
		if j, ok := at[k]; ok {
			out[j] = list[i]
			continue
		}
		at[k] = len(out)
		out = append(out, list[i])
	}
	if len(out) == len(list) {
		return list
	}
	return out
}

// collapseTopics merges the entries of one topic (or group) into the first
// and collapses its partitions (or topics) with collapse.
func collapseTopics[T any, P any, K, PK comparable](topics []T, key func(*T) K, parts func(*T) *[]P, partKey func(*P) PK) []T {
	topics = mergeTopics(topics, key, parts)
	for i := range topics {
		ps := parts(&topics[i])
		*ps = collapse(*ps, partKey)
	}
	return topics
}

// mergeTopics appends the partitions of each repeated topic entry to its
// first entry and drops the repeats.
func mergeTopics[T any, P any, K comparable](topics []T, key func(*T) K, parts func(*T) *[]P) []T {
	if len(topics) < 2 {
		return topics
	}
	at := make(map[K]int, len(topics))
	out := make([]T, 0, len(topics))
	for i := range topics {
		k := key(&topics[i])
		if j, ok := at[k]; ok {
			first := parts(&out[j])
			*first = slices.Concat(*first, *parts(&topics[i]))
			continue
		}
		at[k] = len(out)
		out = append(out, topics[i])
	}
	if len(out) == len(topics) {
		return topics
	}
	return out
}

// refuse removes every element whose key appears more than once and
// returns those keys, each once, in order of first appearance.
func refuse[E any, K comparable](list []E, key func(*E) K) ([]E, []K) {
	if len(list) < 2 {
		return list, nil
	}
	count := make(map[K]int, len(list))
	for i := range list {
		count[key(&list[i])]++
	}
	if len(count) == len(list) {
		return list, nil
	}
	var dups []K
	out := make([]E, 0, len(count))
	for i := range list {
		k := key(&list[i])
		switch n := count[k]; {
		case n == 1:
			out = append(out, list[i])
		case n > 1:
			dups = append(dups, k)
			count[k] = 0 // reported once
		}
	}
	return out, dups
}

// refuseListOffsets answers a partition named more than once with
// INVALID_REQUEST, once, as Kafka's ReplicaManager.fetchOffset does.
func refuseListOffsets(r *kmsg.ListOffsetsRequest) func(kmsg.Response) {
	r.Topics = mergeTopics(r.Topics,
		func(t *kmsg.ListOffsetsRequestTopic) string { return t.Topic },
		func(t *kmsg.ListOffsetsRequestTopic) *[]kmsg.ListOffsetsRequestTopicPartition { return &t.Partitions })
	type dup struct {
		topic string
		parts []int32
	}
	var dups []dup
	for i := range r.Topics {
		t := &r.Topics[i]
		var parts []int32
		t.Partitions, parts = refuse(t.Partitions, func(p *kmsg.ListOffsetsRequestTopicPartition) int32 { return p.Partition })
		if len(parts) > 0 {
			dups = append(dups, dup{t.Topic, parts})
		}
	}
	if len(dups) == 0 {
		return nil
	}
	return func(m kmsg.Response) {
		resp := m.(*kmsg.ListOffsetsResponse)
		for _, d := range dups {
			i := slices.IndexFunc(resp.Topics, func(t kmsg.ListOffsetsResponseTopic) bool { return t.Topic == d.topic })
			if i < 0 {
				st := kmsg.NewListOffsetsResponseTopic()
				st.Topic = d.topic
				resp.Topics = append(resp.Topics, st)
				i = len(resp.Topics) - 1
			}
			for _, p := range d.parts {
				sp := kmsg.NewListOffsetsResponseTopicPartition()
				sp.Partition, sp.ErrorCode = p, kerr.InvalidRequest.Code
				sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, -1
				resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, sp)
			}
		}
	}
}

// refuseDeleteTopics answers a topic named (or identified) more than once
// with INVALID_REQUEST and deletes nothing for it, as Kafka's controller does.
func refuseDeleteTopics(r *kmsg.DeleteTopicsRequest) func(kmsg.Response) {
	var dupNames []string
	var dupTopics []topicKey
	if r.Version >= 6 {
		r.Topics, dupTopics = refuse(r.Topics, func(t *kmsg.DeleteTopicsRequestTopic) topicKey {
			if t.Topic == nil {
				return topicKey{id: t.TopicID, byID: true}
			}
			return topicKey{name: *t.Topic}
		})
	} else {
		r.TopicNames, dupNames = refuse(r.TopicNames, func(n *string) string { return *n })
	}
	if len(dupNames) == 0 && len(dupTopics) == 0 {
		return nil
	}
	return func(m kmsg.Response) {
		resp := m.(*kmsg.DeleteTopicsResponse)
		add := func(name *string, id [16]byte, msg string) {
			st := kmsg.NewDeleteTopicsResponseTopic()
			st.Topic, st.TopicID, st.ErrorCode = name, id, kerr.InvalidRequest.Code
			if r.Version >= 5 {
				st.ErrorMessage = kmsg.StringPtr(msg)
			}
			resp.Topics = append(resp.Topics, st)
		}
		for _, n := range dupNames {
			add(kmsg.StringPtr(n), [16]byte{}, "Duplicate topic name.")
		}
		for _, k := range dupTopics {
			if k.byID {
				add(nil, k.id, "Duplicate topic id.")
			} else {
				add(kmsg.StringPtr(k.name), [16]byte{}, "Duplicate topic name.")
			}
		}
	}
}

// collapseDescribeConfigs describes each resource once, with the union of
// the config names its mentions ask for (a null list, all of them, wins).
func collapseDescribeConfigs(rs []kmsg.DescribeConfigsRequestResource) []kmsg.DescribeConfigsRequestResource {
	if len(rs) < 2 {
		return rs
	}
	at := make(map[resourceKey]int, len(rs))
	out := make([]kmsg.DescribeConfigsRequestResource, 0, len(rs))
	for _, r := range rs {
		k := resourceKey{r.ResourceType, r.ResourceName}
		j, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, r)
			continue
		}
		switch {
		case out[j].ConfigNames == nil:
		case r.ConfigNames == nil:
			out[j].ConfigNames = nil
		default:
			out[j].ConfigNames = collapse(slices.Concat(out[j].ConfigNames, r.ConfigNames), func(s *string) string { return *s })
		}
	}
	return out
}
