// Package server accepts Kafka connections and runs the request loop of each.
//
// # Framing
//
//	request:  size int32 | api key int16 | api version int16 | correlation id int32
//	          | client id nullable string | [tagged fields, flexible versions] | body
//	response: size int32 | correlation id int32 | [tagged fields, flexible
//	          versions except ApiVersions] | body
//
// A frame whose size is negative or above socket.request.max.bytes, an
// unknown API key, a header or body that does not decode, or a version that
// is not served closes that connection only (the one exception: ApiVersions
// at an unknown version is answered with UNSUPPORTED_VERSION and the
// supported list, per KIP-511). Nothing a client sends can stop the broker.
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
