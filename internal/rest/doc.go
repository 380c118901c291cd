// Package rest serves Strait's HTTP surface: /healthz, /metrics (Prometheus)
// and the Confluent-compatible REST API v3 under /kafka/v3.
//
// # Routes
//
// Paths are relative to /kafka/v3; {cluster_id} must be this cluster's ID.
//
//	GET    /clusters
//	GET    /clusters/{cluster_id}
//	GET    /clusters/{cluster_id}/topics
//	POST   /clusters/{cluster_id}/topics
//	GET    /clusters/{cluster_id}/topics/{topic_name}
//	DELETE /clusters/{cluster_id}/topics/{topic_name}
//	GET    /clusters/{cluster_id}/topics/{topic_name}/partitions
//	GET    /clusters/{cluster_id}/topics/{topic_name}/configs
//	GET    /clusters/{cluster_id}/links
//	POST   /clusters/{cluster_id}/links?link_name=&validate_only=&validate_link=
//	GET    /clusters/{cluster_id}/links/{link_name}?include_tasks=
//	DELETE /clusters/{cluster_id}/links/{link_name}?force=&validate_only=
//	GET    /clusters/{cluster_id}/links/{link_name}/configs
//	GET    /clusters/{cluster_id}/links/{link_name}/configs/{config_name}
//	PUT    /clusters/{cluster_id}/links/{link_name}/configs/{config_name}
//	DELETE /clusters/{cluster_id}/links/{link_name}/configs/{config_name}
//	PUT    /clusters/{cluster_id}/links/{link_name}/configs:alter?validate_only=
//	GET    /clusters/{cluster_id}/links/{link_name}/mirrors?mirror_status=
//	POST   /clusters/{cluster_id}/links/{link_name}/mirrors
//	GET    /clusters/{cluster_id}/links/{link_name}/mirrors/{mirror_topic_name}?include_state_transition_errors=
//	POST   /clusters/{cluster_id}/links/{link_name}/mirrors:<verb>?validate_only=
//
// The link name "-" in GET .../links/-/mirrors lists the mirrors of every
// link. The mirror verbs (pause, resume) come from one table, mirrorVerbs,
// that maps each verb to the link.Service method applying it; a new verb is
// one entry there.
//
// # Bodies and errors
//
// Responses are JSON with Confluent's field names. A single resource carries
// "kind" and "metadata": {"self": <absolute URL>}; a list is
// {"kind": "<Kind>List", "metadata": {"self", "next": null}, "data": [...]}.
// Every failure, including unknown paths (404) and wrong methods (405), is
//
//	{"error_code": <int>, "message": "<text>"}
//
// with the HTTP status and code of a *link.Error when the link manager
// returns one, 400 with a message naming the offending field or query
// parameter for bad input, and 500/500 for anything unexpected. Request
// bodies are decoded strictly: unknown fields and trailing data are errors,
// and a number too large for its field names the limit. A request that
// changes something (any method but GET) with a query parameter it does not
// take is refused (mutationQuery), so that a misspelt validate_only never
// turns a dry run into a change; GET ignores unknown parameters, as
// Confluent's API does.
//
// # Topics
//
// The topic endpoints speak the Kafka protocol to the broker's own listener
// (Options.KafkaAddr) with a franz-go client created on first use; Close
// closes it. Kafka error codes map to REST errors in one table (kafkaError).
//
// # Concurrency
//
// A Server is safe for concurrent use: handlers share only the lazily
// created Kafka client, guarded by a mutex. Close it after the HTTP server
// has stopped; topics requests still in flight when it closes fail, and
// later ones get 503 (the client is not re-created).
package rest
