package testutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// ReadyTimeout bounds how long StartProcess and Restart wait for the
	// ready line.
	ReadyTimeout = 90 * time.Second
	// StopTimeout bounds how long Stop waits after SIGTERM before it kills
	// the process and fails the test.
	StopTimeout = 30 * time.Second
	// killTimeout bounds the wait after SIGKILL, which the kernel honours at
	// once; running out of it means something is badly wrong.
	killTimeout = 30 * time.Second
	// logTail is how much of the end of a process's log a failing test shows.
	logTail = 64 << 10
)

// readyPrefix starts the one stdout line that announces a ready server.
const readyPrefix = "strait serving "

// Process is a server program started by StartProcess: a strait broker, or
// anything else that prints the same ready line.
type Process struct {
	t       testing.TB
	bin     string
	args    []string
	logPath string
	logFile *os.File // appended to by the child (stderr) and by us (stdout)

	// Owned by the test goroutine.
	run      *run // the current or last run; nil before the first start
	shownLog bool // the log was already shown through t.Log

	// mu guards the addresses from the last ready line.
	mu        sync.Mutex
	addr      string
	httpAddr  string
	clusterID string
}

// run is one start of the program, from exec to exit.
type run struct {
	cmd    *exec.Cmd
	ready  chan readyLine // receives the ready line, at most once
	exited chan struct{}  // closed when the process has exited and err is set
	err    error          // cmd.Wait's result, readable once exited is closed
	// stdoutDone is closed when the stdout reader has finished.
	stdoutDone chan struct{}
	stdout     *os.File // our end of the stdout pipe
}

type readyLine struct {
	kafka, http, clusterID string
	err                    error
}

// StartProcess starts bin with args and waits until it prints its ready line.
// The process is killed when the test ends, if it is still running; if the
// test failed, the end of its log is shown.
func StartProcess(t testing.TB, bin string, args ...string) *Process {
	t.Helper()
	dir := t.TempDir()
	logPath := filepath.Join(dir, filepath.Base(bin)+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	p := &Process{
		t:       t,
		bin:     bin,
		args:    append([]string(nil), args...),
		logPath: logPath,
		logFile: logFile,
	}
	t.Cleanup(func() {
		if p.running() {
			p.kill()
		} else if p.run != nil {
			p.join(p.run)
		}
		if t.Failed() && !p.shownLog {
			p.logTail()
		}
		if err := p.logFile.Close(); err != nil {
			t.Errorf("testutil: closing %s: %v", p.logPath, err)
		}
	})
	p.start()
	return p
}

// Addr is the Kafka listener's address from the last ready line.
func (p *Process) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// HTTPAddr is the HTTP listener's address from the last ready line ("-" when
// the program has none).
func (p *Process) HTTPAddr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.httpAddr
}

// ClusterID is the cluster ID from the last ready line.
func (p *Process) ClusterID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.clusterID
}

// Args returns the arguments the process was started with.
func (p *Process) Args() []string { return append([]string(nil), p.args...) }

// Log returns everything the process has written to stderr so far, across
// restarts: tests poll it for a line that shows an internal event.
func (p *Process) Log() string {
	p.t.Helper()
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		p.t.Fatalf("testutil: reading log of %s: %v", p.name(), err)
	}
	return string(b)
}

// Stop sends SIGTERM and waits for the process to exit. The test fails if it
// does not exit by itself within StopTimeout (it is then killed) or if it
// exits with a non-zero status.
func (p *Process) Stop() {
	p.t.Helper()
	r := p.mustRun("Stop")
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Fatalf("testutil: SIGTERM to %s: %v", p.name(), err)
	}
	select {
	case <-r.exited:
	case <-time.After(StopTimeout):
		p.kill()
		p.logTail()
		p.t.Fatalf("testutil: %s did not exit within %v of SIGTERM; killed it", p.name(), StopTimeout)
	}
	p.join(r)
	if r.err != nil {
		p.logTail()
		p.t.Fatalf("testutil: %s after SIGTERM: %v", p.name(), r.err)
	}
}

// Kill sends SIGKILL and waits for the process to exit.
func (p *Process) Kill() {
	p.t.Helper()
	p.mustRun("Kill")
	p.kill()
}

// Restart starts the program again with the same arguments and waits for its
// ready line. The process must have been stopped or killed first. Addresses
// chosen by the program (port 0) may differ from the last run's.
func (p *Process) Restart() {
	p.t.Helper()
	if p.running() {
		p.t.Fatalf("testutil: Restart of %s while it is running; Stop or Kill it first", p.name())
	}
	fmt.Fprintf(p.logFile, "---- testutil: restart ----\n")
	p.start()
}

// start execs the program and waits for its ready line.
func (p *Process) start() {
	p.t.Helper()
	rd, wr, err := os.Pipe()
	if err != nil {
		p.t.Fatalf("testutil: %v", err)
	}
	cmd := exec.Command(p.bin, p.args...)
	// Both are *os.File, so the child writes to them directly and cmd.Wait
	// does not wait on any copying of ours.
	cmd.Stdout = wr
	cmd.Stderr = p.logFile
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		rd.Close()
		wr.Close()
		p.t.Fatalf("testutil: starting %s: %v", p.name(), err)
	}
	// The child has its copy; ours would keep the pipe open after it exits.
	wr.Close()

	r := &run{
		cmd:        cmd,
		ready:      make(chan readyLine, 1),
		exited:     make(chan struct{}),
		stdoutDone: make(chan struct{}),
		stdout:     rd,
	}
	p.run = r
	go func() {
		r.err = cmd.Wait()
		close(r.exited)
	}()
	go func() {
		defer close(r.stdoutDone)
		p.readStdout(r)
	}()

	select {
	case line := <-r.ready:
		if line.err != nil {
			p.kill()
			p.logTail()
			p.t.Fatalf("testutil: %s: %v", p.name(), line.err)
		}
		p.mu.Lock()
		p.addr, p.httpAddr, p.clusterID = line.kafka, line.http, line.clusterID
		p.mu.Unlock()
	case <-r.exited:
		p.join(r)
		p.logTail()
		p.t.Fatalf("testutil: %s exited before it was ready: %v", p.name(), exitStatus(r.err))
	case <-time.After(ReadyTimeout):
		p.kill()
		p.logTail()
		p.t.Fatalf("testutil: %s printed no ready line within %v", p.name(), ReadyTimeout)
	}
}

// readStdout hands the ready line to r.ready and copies every other line to
// the log. It returns when the pipe is closed at the child's exit (or by join).
func (p *Process) readStdout(r *run) {
	sc := bufio.NewScanner(r.stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sawReady := false
	for sc.Scan() {
		line := sc.Text()
		if !sawReady && strings.HasPrefix(line, readyPrefix) {
			sawReady = true
			r.ready <- parseReady(line)
			continue
		}
		fmt.Fprintf(p.logFile, "stdout: %s\n", line)
	}
	if err := sc.Err(); err != nil {
		// Keep draining, or the child would block writing to a full pipe.
		fmt.Fprintf(p.logFile, "testutil: reading stdout: %v\n", err)
		_, _ = io.Copy(p.logFile, r.stdout)
	}
}

// parseReady parses "strait serving kafka=H:P http=H:P cluster.id=ID".
func parseReady(line string) readyLine {
	fields := map[string]string{}
	for _, f := range strings.Fields(strings.TrimPrefix(line, readyPrefix)) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || v == "" {
			return readyLine{err: fmt.Errorf("malformed ready line %q", line)}
		}
		fields[k] = v
	}
	rl := readyLine{kafka: fields["kafka"], http: fields["http"], clusterID: fields["cluster.id"]}
	if rl.kafka == "" || rl.http == "" || rl.clusterID == "" {
		rl.err = fmt.Errorf("ready line %q lacks kafka=, http= or cluster.id=", line)
	}
	return rl
}

func (p *Process) running() bool {
	if p.run == nil {
		return false
	}
	select {
	case <-p.run.exited:
		return false
	default:
		return true
	}
}

func (p *Process) mustRun(op string) *run {
	p.t.Helper()
	if p.run == nil {
		p.t.Fatalf("testutil: %s of %s, which never started", op, p.name())
	}
	if !p.running() {
		p.join(p.run)
		p.logTail()
		p.t.Fatalf("testutil: %s of %s, which already exited: %v", op, p.name(), exitStatus(p.run.err))
	}
	return p.run
}

// kill sends SIGKILL and waits for the exit. It is safe to call when the
// process has already exited.
func (p *Process) kill() {
	p.t.Helper()
	r := p.run
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Errorf("testutil: SIGKILL to %s: %v", p.name(), err)
	}
	select {
	case <-r.exited:
	case <-time.After(killTimeout):
		p.t.Fatalf("testutil: %s did not exit within %v of SIGKILL", p.name(), killTimeout)
	}
	p.join(r)
}

// join waits for the stdout reader of an exited run. A grandchild that kept
// the pipe open would block it, so after a grace period we close our end.
func (p *Process) join(r *run) {
	select {
	case <-r.stdoutDone:
	case <-time.After(5 * time.Second):
		r.stdout.Close()
		<-r.stdoutDone
	}
	r.stdout.Close()
}

// logTail shows the end of the process's log through t.Log.
func (p *Process) logTail() {
	p.t.Helper()
	p.shownLog = true
	f, err := os.Open(p.logPath)
	if err != nil {
		p.t.Logf("testutil: reading log of %s: %v", p.name(), err)
		return
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		p.t.Logf("testutil: reading log of %s: %v", p.name(), err)
		return
	}
	from := max(size-logTail, 0)
	buf := make([]byte, size-from)
	if _, err := f.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
		p.t.Logf("testutil: reading log of %s: %v", p.name(), err)
		return
	}
	note := ""
	if from > 0 {
		note = fmt.Sprintf(" (last %d of %d bytes)", len(buf), size)
	}
	p.t.Logf("testutil: log of %s%s:\n%s", p.name(), note, buf)
}

func (p *Process) name() string {
	return filepath.Base(p.bin) + " " + strings.Join(p.args, " ")
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
