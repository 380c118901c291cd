package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helperMain(mode))
	}
	Main(m)
}

// helperEnv makes the test binary act as the program under test instead of
// running tests.
const helperEnv = "TESTUTIL_HELPER_MODE"

// helperMain is a stand-in server: it prints to stderr, a stray stdout line,
// then the ready line, and exits with a mode-dependent status on SIGTERM.
func helperMain(mode string) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	fmt.Fprintf(os.Stderr, "helper %d starting in mode %s\n", os.Getpid(), mode)
	switch mode {
	case "die":
		fmt.Fprintln(os.Stderr, "helper: boom")
		return 2
	case "malformed":
		fmt.Println("strait serving kafka=127.0.0.1:1 nonsense")
	default:
		fmt.Println("a line that is not the ready line")
		fmt.Printf("strait serving kafka=127.0.0.1:%d http=- cluster.id=pid-%d\n", 1000+os.Getpid()%50000, os.Getpid())
	}
	<-sigs
	fmt.Fprintln(os.Stderr, "helper: got SIGTERM")
	if mode == "term-fails" {
		return 3
	}
	return 0
}

// startHelper starts this test binary as a helper in mode; the arguments
// only label the process.
func startHelper(t testing.TB, mode string) *Process {
	t.Helper()
	t.Setenv(helperEnv, mode)
	return StartProcess(t, os.Args[0], "-test.run=^$", "helper-"+mode)
}

func TestTestutilProcessLifecycle(t *testing.T) {
	p := startHelper(t, "serve")
	if !strings.HasPrefix(p.ClusterID(), "pid-") || p.HTTPAddr() != "-" || !strings.HasPrefix(p.Addr(), "127.0.0.1:") {
		t.Fatalf("ready line parsed as kafka=%q http=%q cluster.id=%q", p.Addr(), p.HTTPAddr(), p.ClusterID())
	}
	first := p.ClusterID()

	p.Kill()
	p.Restart()
	second := p.ClusterID()
	if second == first {
		t.Fatalf("Restart kept cluster.id %q: no new process was started", first)
	}

	p.Stop()
	p.Restart()
	if p.ClusterID() == second {
		t.Fatalf("second Restart kept cluster.id %q", second)
	}
	p.Stop()

	log, err := os.ReadFile(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"stdout: a line that is not the ready line",
		"helper: got SIGTERM",
		"---- testutil: restart ----",
	} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks %q; log:\n%s", want, log)
		}
	}
	if got := strings.Count(string(log), "starting in mode serve"); got != 3 {
		t.Errorf("log shows %d starts, want 3; log:\n%s", got, log)
	}
}

func TestTestutilProcessFailures(t *testing.T) {
	tests := []struct {
		name string
		mode string
		run  func(t testing.TB, p *Process)
		want string // in the failure message
		log  string // in what was logged
	}{
		{name: "exits before ready", mode: "die", want: "exited before it was ready: exit status 2", log: "helper: boom"},
		{name: "malformed ready line", mode: "malformed", want: "malformed ready line"},
		{name: "non-zero exit on SIGTERM", mode: "term-fails", run: func(_ testing.TB, p *Process) { p.Stop() }, want: "exit status 3", log: "helper: got SIGTERM"},
		{name: "Restart while running", mode: "serve", run: func(_ testing.TB, p *Process) { p.Restart() }, want: "while it is running"},
		{name: "Stop after Kill", mode: "serve", run: func(_ testing.TB, p *Process) { p.Kill(); p.Stop() }, want: "already exited: signal: killed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(helperEnv, tc.mode)
			ft := runFake(t, func(ft testing.TB) {
				p := StartProcess(ft, os.Args[0], "-test.run=^$", tc.name)
				if tc.run != nil {
					tc.run(ft, p)
				}
			})
			if !ft.Failed() {
				t.Fatalf("the test did not fail; want a failure containing %q", tc.want)
			}
			if !strings.Contains(ft.failure(), tc.want) {
				t.Errorf("failure %q does not contain %q", ft.failure(), tc.want)
			}
			if tc.log != "" && !strings.Contains(ft.logs(), tc.log) {
				t.Errorf("logged output does not contain %q:\n%s", tc.log, ft.logs())
			}
		})
	}
}

func TestTestutilParseReady(t *testing.T) {
	tests := []struct {
		line                 string
		kafka, http, cluster string
		bad                  bool
	}{
		{line: "strait serving kafka=127.0.0.1:9092 http=127.0.0.1:8090 cluster.id=abc", kafka: "127.0.0.1:9092", http: "127.0.0.1:8090", cluster: "abc"},
		{line: "strait serving kafka=[::1]:1 http=- cluster.id=kfake", kafka: "[::1]:1", http: "-", cluster: "kfake"},
		{line: "strait serving http=- cluster.id=x kafka=h:1", kafka: "h:1", http: "-", cluster: "x"},
		{line: "strait serving kafka=h:1 http=-", bad: true},
		{line: "strait serving kafka=h:1 http= cluster.id=x", bad: true},
		{line: "strait serving kafka h:1", bad: true},
	}
	for _, tc := range tests {
		got := parseReady(tc.line)
		if tc.bad {
			if got.err == nil {
				t.Errorf("parseReady(%q) = %+v, want an error", tc.line, got)
			}
			continue
		}
		if got.err != nil || got.kafka != tc.kafka || got.http != tc.http || got.clusterID != tc.cluster {
			t.Errorf("parseReady(%q) = %+v, want kafka=%s http=%s cluster.id=%s", tc.line, got, tc.kafka, tc.http, tc.cluster)
		}
	}
}

func TestTestutilWaitFor(t *testing.T) {
	calls := 0
	WaitFor(t, time.Minute, func() (bool, string) {
		calls++
		return calls == 4, fmt.Sprintf("call %d", calls)
	})
	if calls != 4 {
		t.Fatalf("WaitFor returned after %d calls, want 4", calls)
	}

	n := 0
	ft := runFake(t, func(ft testing.TB) {
		WaitFor(ft, 30*time.Millisecond, func() (bool, string) {
			n++
			return false, fmt.Sprintf("still waiting after %d", n)
		})
	})
	if !ft.Failed() || !strings.Contains(ft.failure(), fmt.Sprintf("still waiting after %d", n)) {
		t.Fatalf("timed-out WaitFor: failed=%v message %q, want the last explanation (call %d)", ft.Failed(), ft.failure(), n)
	}
}

func TestTestutilBuildBinary(t *testing.T) {
	bin := BuildBinary(t, "./internal/testutil/testdata/hello")
	out, err := exec.Command(bin).Output()
	if err != nil || string(out) != "hello from a built binary\n" {
		t.Fatalf("running %s: %q, %v", bin, out, err)
	}
	if again := BuildBinary(t, "./internal/testutil/testdata/hello"); again != bin {
		t.Errorf("second BuildBinary = %s, want the cached %s", again, bin)
	}

	t.Setenv("TEST_HELLO_BIN", bin)
	if got := BuildBinary(t, "example.com/elsewhere/hello"); got != bin {
		t.Errorf("with TEST_HELLO_BIN set, BuildBinary = %s, want %s", got, bin)
	}
}

func TestTestutilBuildBinaryFailureIsShared(t *testing.T) {
	const pkg = "./internal/testutil/testdata/does-not-exist"
	var msgs []string
	for range 2 {
		ft := runFake(t, func(ft testing.TB) { BuildBinary(ft, pkg) })
		if !ft.Failed() {
			t.Fatalf("BuildBinary(%s) did not fail", pkg)
		}
		msgs = append(msgs, ft.failure())
	}
	if msgs[0] != msgs[1] || !strings.Contains(msgs[0], "building "+pkg) {
		t.Fatalf("failures differ or do not name the package:\n%s\n%s", msgs[0], msgs[1])
	}
}

func TestTestutilBinEnv(t *testing.T) {
	for pkg, want := range map[string]string{
		"./cmd/strait":         "TEST_STRAIT_BIN",
		"./test/kfakeserver/":  "TEST_KFAKESERVER_BIN",
		"example.com/x/my-cmd": "TEST_MY_CMD_BIN",
	} {
		if got := binEnv(pkg); got != want {
			t.Errorf("binEnv(%q) = %s, want %s", pkg, got, want)
		}
	}
}

// fakeTB records failures instead of failing the real test, so tests can
// check that the helpers fail when they should. Fatal ends the goroutine the
// body runs on, as testing does.
type fakeTB struct {
	testing.TB // the real test, for TempDir and Setenv

	mu       sync.Mutex
	failed   bool
	messages []string
	logged   []string
	cleanups []func()
}

func runFake(t *testing.T, body func(testing.TB)) *fakeTB {
	t.Helper()
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer ft.runCleanups()
		body(ft)
	}()
	<-done
	return ft
}

func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		func() {
			// A Fatal inside a cleanup ends only that cleanup.
			done := make(chan struct{})
			go func() {
				defer close(done)
				f.cleanups[i]()
			}()
			<-done
		}()
	}
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Log(args ...any)   { f.record(&f.logged, fmt.Sprint(args...)) }
func (f *fakeTB) Logf(s string, a ...any) {
	f.record(&f.logged, fmt.Sprintf(s, a...))
}
func (f *fakeTB) Errorf(s string, a ...any) {
	f.fail(fmt.Sprintf(s, a...))
}
func (f *fakeTB) Error(args ...any) { f.fail(fmt.Sprint(args...)) }
func (f *fakeTB) Fatalf(s string, a ...any) {
	f.fail(fmt.Sprintf(s, a...))
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any) {
	f.fail(fmt.Sprint(args...))
	runtime.Goexit()
}
func (f *fakeTB) FailNow() {
	f.fail("FailNow")
	runtime.Goexit()
}
func (f *fakeTB) Fail() { f.fail("Fail") }

func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

func (f *fakeTB) fail(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = true
	f.messages = append(f.messages, msg)
}

func (f *fakeTB) record(to *[]string, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*to = append(*to, msg)
}

func (f *fakeTB) failure() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.messages, "\n")
}

func (f *fakeTB) logs() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.logged, "\n")
}
