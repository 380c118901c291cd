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
// # Limits
//
// Options.Limits bounds requests (zero fields take the Default constants).
// ServeHTTP reads every request body whole before routing, within
// BodyTimeout and up to MaxBodyBytes, and hands the route a copy in memory,
// so one check covers every route, those that ignore bodies included. A
// body over the limit is 413, one that stalls 408, one that breaks off 400,
// and each closes the connection. A declared Content-Length over the limit
// is refused before reading, so a client waiting on 100 Continue never gets
// it. After a 413 the rest of the body is read and discarded through
// io.Discard for up to DiscardTimeout: closing with unread data would make
// the kernel send a reset, and a client that writes its whole body before
// reading would lose the 413 with it. The refusal enables full duplex
// first: Go's server then allows reading the body after the answer has
// gone out, and does not read it itself before.
//
// The write deadline (WriteTimeout) is armed when a response starts, not
// when the request arrives, so that a handler waiting on a remote cluster
// is not cut short. http.Server's own ReadTimeout and WriteTimeout stay
// zero for the same reason: they run from the end of the headers, and an
// expired read deadline cancels the request's context. HTTPServer builds
// the http.Server with the header, idle and header-size limits.
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
