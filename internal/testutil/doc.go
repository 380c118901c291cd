// Package testutil holds the helpers that Strait's tests share. It depends on
// the standard library only, so any package's tests can import it.
//
// # Binaries under test
//
// End-to-end and interop tests drive built programs as a user would:
//
//	bin := testutil.BuildBinary(t, "./cmd/strait")   // built once per test binary
//	p := testutil.StartProcess(t, bin, "serve", "--listeners", "PLAINTEXT://127.0.0.1:0", ...)
//	p.Addr()      // Kafka address from the ready line
//	p.Kill()      // SIGKILL, wait
//	p.Restart()   // same binary, same arguments
//	p.Stop()      // SIGTERM, wait; fails the test unless it exits 0 by itself
//
// BuildBinary takes a package path relative to the module root ("./cmd/strait")
// or a full import path. It builds each package once per test binary (with
// -race when the test binary itself was built with -race), and every test then
// shares that build, including its failure: when the package does not build,
// every test that asks for it fails at once with the compiler's output. The
// environment variable TEST_<NAME>_BIN, where NAME is the upper-cased last
// element of the package path (TEST_STRAIT_BIN for ./cmd/strait), names a
// prebuilt binary to use instead. Test packages that build binaries call Main
// from their TestMain so the builds are removed at exit.
//
// A process is ready when it prints its ready line on stdout:
//
//	strait serving kafka=HOST:PORT http=HOST:PORT cluster.id=ID
//
// StartProcess waits for that line (ReadyTimeout), failing the test at once if
// the process exits first. Everything else the process prints, stdout and
// stderr, goes to a log that is shown through t.Log when the test fails. When
// the test ends, a process still running is killed.
//
// # Waiting
//
// Tests never sleep to synchronise; they poll a condition with WaitFor, which
// backs off briefly between attempts and fails the test with the condition's
// last explanation when time runs out.
//
// # Concurrency
//
// A Process belongs to the test goroutine that started it: its methods fail the
// test through testing.TB and must be called from that goroutine. Addr,
// HTTPAddr and ClusterID are safe to call from any goroutine. BuildBinary is
// safe for concurrent use.
package testutil
