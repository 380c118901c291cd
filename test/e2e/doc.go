// Package e2e tests the built strait binary as an operator runs it: separate
// processes, real signals, data on disk.
//
// The tests build ./cmd/strait once (TEST_STRAIT_BIN names a prebuilt binary
// instead), start it on ephemeral ports with a temporary log.dirs, drive it
// with franz-go, and kill or stop it in the middle of work:
//
//   - TestE2ECrash...: SIGKILL while an idempotent acks=all producer is
//     streaming; after a restart on the same log.dirs, every acknowledged
//     record must be present byte for byte at the offset it was acknowledged
//     at, offsets must be dense, no record may appear twice, and every record
//     in the log, acknowledged or not, must be one that was sent, intact.
//
//   - TestE2EGracefulRestart: SIGTERM must end the process by itself with
//     status 0; after a restart the data, the cluster ID and the topic ID are
//     unchanged and appends continue at the old log end.
//
//   - TestE2EGroup...: groups commit offsets (as members and as an admin);
//     after SIGTERM and restart, and after SIGKILL and restart, a new member
//     of each group starts exactly at its committed offsets, and a group that
//     was committing when killed has its last acknowledged commit (or the
//     one in flight).
//
// Other consumers read partitions directly from the start to the end
// offsets the broker reports.
//
//   - TestE2ELink...: cluster links between separate strait processes (and
//     a kfake source with SASL/SCRAM): the destination and the source killed
//     with SIGKILL mid-mirroring, a source outage longer than the
//     availability threshold, a source topic deleted and recreated, sealed
//     credentials, metrics. After each, the byte-for-byte oracle
//     (testutil.CheckMirrorTopic) passes.
//
//   - TestE2EDocs...: docs/linking.md, docs/migration.md and
//     docs/disaster-recovery.md run command by command (docs_test.go).
package e2e
