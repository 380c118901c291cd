// Package interop drives Kafka clients that no one here wrote against a
// running broker, as a user would, and checks what they report.
//
// Every test runs the same cases against two targets, as subtests:
//
//	TestInteropKcat/strait   the strait binary, built from ./cmd/strait
//	TestInteropKcat/kfake    franz-go's kfake, an independent Kafka implementation
//	                         (test/kfakeserver)
//
// A case that passes against kfake but fails against strait points at Strait;
// one that fails against both points at the case. A case may be skipped for
// kfake alone, saying why.
//
// The clients are kcat, confluent-kafka-python and kafka-python (run with
// /usr/bin/python3, where Debian installs them) and KafkaJS (under js/,
// pinned by its package-lock.json). scripts/install-test-deps.sh installs
// them; `make test` runs it first. The suite is skipped with -short and fails,
// naming the script, when a client is missing.
//
// The client scripts (python/*.py, js/*.js) take the bootstrap address and a
// topic on the command line, read the records to produce as JSON lines on
// stdin, and print JSON lines on stdout: one "ack" per record a producer had
// acknowledged, with its partition and offset, and one "record" per record a
// consumer read. Keys, values and header values travel as base64 (null for a
// null key or value), timestamps as Unix milliseconds. A script that fails
// exits non-zero with its reason on stderr. The Go tests check that every
// record read back equals the one sent, at the offset it was acknowledged at.
//
// The produce/consume cases assign partitions themselves and commit
// nothing. The group cases (groups_test.go) run real group members:
// confluent-kafka-python members steered through stdin (join, rebalance as
// members come and go, commit, leave), one-shot kafka-python and KafkaJS
// group consumers that must resume at their committed offsets, kcat -G, and
// franz-go with the cooperative-sticky balancer (KIP-429).
//
// Cluster link cases run against strait only (kfake cannot hold a mirror
// topic): producing into a mirror with kcat, confluent-kafka-python and the
// strait CLI must fail with INVALID_REQUEST and change nothing
// (mirror_readonly_test.go), and consumer offsets committed on a source by
// confluent-kafka-python and kafka-python groups must be synced to the
// destination, where the same clients resume exactly at them
// (offset_sync_test.go).
package interop
