// Package server accepts Kafka connections and runs the request loop of each.
//
// # Framing
//
//	request:  size int32 | api key int16 | api version int16 | correlation id int32
//	          | client id nullable string | [tagged fields, flexible versions] | body
//	response: size int32 | correlation id int32 | [tagged fields, flexible
//	          versions except ApiVersions] | body
//
// A frame whose size is negative, above socket.request.max.bytes or above the
// whole of queued.max.request.bytes, an unknown API key, a header or body
// that does not decode, or a version that is not served closes that
// connection only (the one exception: ApiVersions
// at an unknown version is answered with UNSUPPORTED_VERSION and the
// supported list, per KIP-511). Nothing a client sends can stop the broker.
//
// # Limits
//
// These keep clients from exhausting the broker's descriptors or memory
// through their connections:
//
//   - A failed Accept (EMFILE, ENFILE, ENOBUFS, ENOMEM, ECONNABORTED, or
//     anything else) is retried after a backoff of 5 ms doubling to 1 s,
//     logged at most every 10 s and counted; Serve returns an error only if
//     the listener is closed by someone other than its context.
//   - Quotas, shared by all listeners, count connections against
//     max.connections and max.connections.per.ip(.overrides), read at every
//     accept so dynamic changes apply to the next connection. Over the
//     per-IP limit a connection is accepted and closed; at max.connections
//     the accept loop does not call Accept until a connection ends (or, at
//     the latest, a second later, to see a raised limit).
//   - Budget, shared by all listeners, holds queued.max.request.bytes. Each
//     request charges its frame size after the 4-byte length is read and
//     before the frame is allocated, and releases it once its response is
//     written; waiters are served first come, first served. charge.add is
//     also where a pre-decode estimate of decoded bytes is charged.
//   - Before a response is encoded, fitResponse cuts every string longer
//     than 32767 bytes at a UTF-8 boundary; arrays, byte fields and frames
//     that exceed their int32 length make an error that closes the
//     connection.
//
// # Ordering and concurrency
//
// Each connection has one goroutine that reads a request, hands it to the
// broker, writes the response and only then reads the next request — the
// order Kafka guarantees and clients rely on. Connections are independent.
// Serve owns every connection goroutine and joins them before it returns.
//
// # Zero copy
//
// A Fetch reply carries record ranges of segment files as splices: markers
// inside the encoded response that the writer replaces with the file bytes.
// On a plaintext TCP connection the bytes go from the page cache to the socket
// with sendfile(2), under TCP_CORK so header and data leave in full segments;
// other connections copy them through memory.
package server
