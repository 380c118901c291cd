package rest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strait-kafka/strait/internal/link"
	"github.com/strait-kafka/strait/internal/rest"
	"github.com/strait-kafka/strait/internal/rest/resttest"
	"github.com/strait-kafka/strait/internal/testutil"
)

// guard bounds how long a test waits on a connection before it fails. It
// only stops a broken server from hanging the test; no test asserts that
// anything happens within it.
const guard = 2 * time.Minute

// bigBody is the oversized body the tests send: a hundred times the
// default limit.
const bigBody = 100 << 20

// limitedServer serves a fixture's links (or svc, when not nil) with lim on
// a loopback port. The channel receives one value per connection the server
// closes.
func limitedServer(t *testing.T, svc link.Service, lim rest.Limits) (addr string, closed <-chan struct{}) {
	t.Helper()
	if svc == nil {
		svc, _ = fixture(t)
	}
	s := rest.New(rest.Options{Links: svc, ClusterID: clusterID, Limits: lim})
	t.Cleanup(s.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 64)
	srv := s.HTTPServer()
	srv.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			ch <- struct{}{}
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ln.Addr().String(), ch
}

// dial connects to addr; the connection is closed when the test ends.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(guard)); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitClosed waits until the server has closed a connection.
func waitClosed(t *testing.T, closed <-chan struct{}) {
	t.Helper()
	select {
	case <-closed:
	case <-time.After(guard):
		t.Fatal("the server never closed the connection")
	}
}

// readEOF reads from c until the server closes it, failing if the server
// sends anything first.
func readEOF(t *testing.T, c io.Reader) {
	t.Helper()
	b, err := io.ReadAll(c)
	if err != nil && !isReset(err) {
		t.Fatalf("reading until the server closes: %v", err)
	}
	if len(b) > 0 {
		t.Fatalf("the server sent %q before closing", b)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// checkError checks an error answer: status, JSON body with the same
// error_code, and a message containing want.
func checkError(t *testing.T, status int, body []byte, wantStatus int, want string) {
	t.Helper()
	var e struct {
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}
	if status != wantStatus || json.Unmarshal(body, &e) != nil || e.ErrorCode != wantStatus || !strings.Contains(e.Message, want) {
		t.Fatalf("answer %d %q, want %d with error_code %d and a message containing %q", status, body, wantStatus, wantStatus, want)
	}
}

// readAnswer reads one response from r and its whole body.
func readAnswer(t *testing.T, r *bufio.Reader) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer's body: %v", err)
	}
	return resp, b
}

// spaces is an endless body of blanks that allocates nothing per read.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// allocated is the process's cumulative heap allocation.
func allocated() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

func TestRESTSlowHeadersClosed(t *testing.T) {
	const timeout = 200 * time.Millisecond
	addr, closed := limitedServer(t, nil, rest.Limits{HeaderTimeout: timeout})
	for _, c := range []struct{ name, sent string }{
		{"nothing sent", ""},
		{"headers never finished", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := dial(t, addr)
			start := time.Now()
			if _, err := io.WriteString(conn, c.sent); err != nil {
				t.Fatal(err)
			}
			readEOF(t, conn)
			if d := time.Since(start); d < timeout {
				t.Fatalf("closed after %v, before the header timeout of %v", d, timeout)
			}
			waitClosed(t, closed)
		})
	}
}

// TestRESTStalledBodyTimesOut: a client that sends its headers and then
// stalls the body is answered 408 and its connection closed once the body
// timeout passes (it used to hold the connection and a goroutine for ever).
func TestRESTStalledBodyTimesOut(t *testing.T) {
	const timeout = 200 * time.Millisecond
	addr, closed := limitedServer(t, nil, rest.Limits{BodyTimeout: timeout})
	for _, c := range []struct{ name, head, part string }{
		{"content-length", "Content-Length: 100\r\n", `{"value":`},
		{"chunked", "Transfer-Encoding: chunked\r\n", "40\r\n" + `{"value":`},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := dial(t, addr)
			start := time.Now()
			_, err := fmt.Fprintf(conn, "PUT %s/links/link-1/configs/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s\r\n%s",
				base, c.head, c.part)
			if err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(conn)
			resp, body := readAnswer(t, r)
			if d := time.Since(start); d < timeout {
				t.Fatalf("answered after %v, before the body timeout of %v", d, timeout)
			}
			checkError(t, resp.StatusCode, body, http.StatusRequestTimeout, "did not arrive within 200ms")
			if !resp.Close {
				t.Fatal("the 408 does not close the connection")
			}
			readEOF(t, r)
			waitClosed(t, closed)
		})
	}
}

// TestRESTOversizedBodyGets413: a 100 MB body is answered 413 with the
// JSON error body, and every kind of client reads that answer, including
// one that writes the whole body before reading (it used to get a
// connection reset). The server discards the body with bounded memory.
func TestRESTOversizedBodyGets413(t *testing.T) {
	addr, _ := limitedServer(t, nil, rest.Limits{})
	path := base + "/links/link-1/configs:alter"
	const limitText = "larger than 1048576 bytes"

	t.Run("raw client writes the whole body first", func(t *testing.T) {
		conn := dial(t, addr)
		before := allocated()
		fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, bigBody)
		if n, err := io.Copy(conn, io.LimitReader(spaces{}, bigBody)); err != nil {
			t.Fatalf("writing the body failed after %d of %d bytes: %v", n, bigBody, err)
		}
		resp, body := readAnswer(t, bufio.NewReader(conn))
		checkError(t, resp.StatusCode, body, http.StatusRequestEntityTooLarge, limitText)
		if grew := allocated() - before; grew > 32<<20 {
			t.Errorf("the process allocated %d MB while the server discarded a %d MB body", grew>>20, bigBody>>20)
		}
	})

	t.Run("raw chunked body that grows past the limit", func(t *testing.T) {
		conn := dial(t, addr)
		before := allocated()
		w := bufio.NewWriterSize(conn, 70<<10)
		fmt.Fprintf(w, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", path)
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		for sent := 0; sent < bigBody; sent += len(chunk) {
			fmt.Fprintf(w, "%x\r\n", len(chunk))
			w.Write(chunk)
			w.WriteString("\r\n")
		}
		w.WriteString("0\r\n\r\n")
		if err := w.Flush(); err != nil {
			t.Fatalf("writing the chunked body: %v", err)
		}
		resp, body := readAnswer(t, bufio.NewReader(conn))
		checkError(t, resp.StatusCode, body, http.StatusRequestEntityTooLarge, limitText)
		if grew := allocated() - before; grew > 32<<20 {
			t.Errorf("the process allocated %d MB while the server discarded a %d MB body", grew>>20, bigBody>>20)
		}
	})

	t.Run("raw client waits for 100 Continue", func(t *testing.T) {
		conn := dial(t, addr)
		fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", path, bigBody)
		r := bufio.NewReader(conn)
		resp, body := readAnswer(t, r) // a 100 Continue here would fail the check
		checkError(t, resp.StatusCode, body, http.StatusRequestEntityTooLarge, limitText)
	})

	for _, c := range []struct {
		name   string
		length int64 // -1: chunked
		expect bool
	}{
		{"Go client", bigBody, false},
		{"Go client chunked", -1, false},
		{"Go client with Expect", bigBody, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := &http.Transport{ExpectContinueTimeout: guard}
			defer tr.CloseIdleConnections()
			req, err := http.NewRequest("PUT", "http://"+addr+path, io.LimitReader(spaces{}, bigBody))
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = c.length
			req.Header.Set("Content-Type", "application/json")
			if c.expect {
				req.Header.Set("Expect", "100-continue")
			}
			resp, err := (&http.Client{Transport: tr, Timeout: guard}).Do(req)
			if err != nil {
				t.Fatalf("sending %d MB: %v", bigBody>>20, err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			checkError(t, resp.StatusCode, body, http.StatusRequestEntityTooLarge, limitText)
		})
	}

	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Log("curl is not installed: the curl cases are not run")
		return
	}
	file := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, io.LimitReader(spaces{}, bigBody)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"curl", nil}, // curl asks for 100 Continue before a body this large
		{"curl without Expect", []string{"-H", "Expect:"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "answer")
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			args := append([]string{"-sS", "-X", "PUT", "-H", "Content-Type: application/json", "--data-binary", "@" + file,
				"-o", out, "-w", "%{http_code}", "http://" + addr + path}, c.args...)
			code, err := exec.CommandContext(ctx, curl, args...).Output()
			if err != nil {
				t.Fatalf("curl: %v (%s)", err, code)
			}
			body, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var status int
			fmt.Sscan(string(code), &status)
			checkError(t, status, body, http.StatusRequestEntityTooLarge, limitText)
		})
	}
}

// TestRESTBodyLimitOnEveryRoute: a declared length over the limit is
// refused on every path, also on those that never read a body, and the
// limit holds when the handler runs under a server other than HTTPServer.
func TestRESTBodyLimitOnEveryRoute(t *testing.T) {
	_, s := fixture(t)
	for _, path := range []string{"/healthz", "/metrics", base, base + "/links/link-1", "/kafka/v3/nowhere", "/"} {
		req := httptest.NewRequest("GET", path, io.LimitReader(spaces{}, rest.DefaultMaxBodyBytes+1))
		req.ContentLength = rest.DefaultMaxBodyBytes + 1
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		checkError(t, rec.Code, rec.Body.Bytes(), http.StatusRequestEntityTooLarge, "1048576")
	}
}

// TestRESTBodyAtLimit: a body of exactly MaxBodyBytes is served; one byte
// more is a 413, also when chunked.
func TestRESTBodyAtLimit(t *testing.T) {
	const limit = 64 << 10
	f, _ := fixture(t)
	addr, _ := limitedServer(t, f, rest.Limits{MaxBodyBytes: limit})
	body := func(n int) string {
		v := `{"value":"at-limit"}`
		return v + strings.Repeat(" ", n-len(v))
	}
	cl := &http.Client{Timeout: guard}
	for _, c := range []struct {
		name    string
		size    int
		chunked bool
		want    int
	}{
		{"at the limit", limit, false, http.StatusNoContent},
		{"at the limit chunked", limit, true, http.StatusNoContent},
		{"one byte over", limit + 1, false, http.StatusRequestEntityTooLarge},
		{"one byte over chunked", limit + 1, true, http.StatusRequestEntityTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(body(c.size))
			if c.chunked {
				r = io.MultiReader(r) // hides the length: sent chunked
			}
			req, err := http.NewRequest("PUT", "http://"+addr+base+"/links/link-1/configs/x", r)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := cl.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if c.want != http.StatusNoContent {
				checkError(t, resp.StatusCode, b, c.want, fmt.Sprintf("larger than %d bytes", limit))
				return
			}
			if resp.StatusCode != c.want {
				t.Fatalf("answer %s %q, want %d", resp.Status, b, c.want)
			}
			if last := f.Calls()[len(f.Calls())-1]; last.Method != "AlterLinkConfigs" || !strings.Contains(fmt.Sprint(last.Args), "at-limit") {
				t.Fatalf("last call %+v, want AlterLinkConfigs with the value", last)
			}
		})
	}
}

// TestRESTIdleConnectionClosed: a kept-alive connection that starts no new
// request is closed after the idle timeout.
func TestRESTIdleConnectionClosed(t *testing.T) {
	const idle = 200 * time.Millisecond
	addr, closed := limitedServer(t, nil, rest.Limits{IdleTimeout: idle})
	conn := dial(t, addr)
	io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	r := bufio.NewReader(conn)
	resp, _ := readAnswer(t, r)
	answered := time.Now()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("healthz: %s, close %v", resp.Status, resp.Close)
	}
	readEOF(t, r)
	if d := time.Since(answered); d < idle {
		t.Fatalf("closed %v after the answer, before the idle timeout of %v", d, idle)
	}
	waitClosed(t, closed)
}

func TestRESTHeaderTooLarge(t *testing.T) {
	addr, _ := limitedServer(t, nil, rest.Limits{MaxHeaderBytes: 1 << 10})
	cl := &http.Client{Timeout: guard}
	for _, c := range []struct {
		name string
		size int
		want int
	}{
		{"within", 512, http.StatusOK},
		{"over", 16 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
			req.Header.Set("X-Big", strings.Repeat("b", c.size))
			resp, err := cl.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %s, want %d", resp.Status, c.want)
			}
		})
	}
}

// slowLinks answers ListLinks only after wait, and ListMirrors with many
// mirrors.
type slowLinks struct {
	*resttest.Fake
	wait    time.Duration
	mirrors []link.MirrorInfo
}

func (s *slowLinks) ListLinks(ctx context.Context) ([]link.LinkInfo, error) {
	select {
	case <-time.After(s.wait): // the handler's own work, longer than the write timeout
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Fake.ListLinks(ctx)
}

func (s *slowLinks) ListMirrors(context.Context, string, string) ([]link.MirrorInfo, error) {
	return s.mirrors, nil
}

// TestRESTSlowHandlerOutlastsWriteTimeout: the write timeout runs from the
// start of the response, so a handler that works longer than it (a link
// validated against a slow source cluster) still gets its answer out.
func TestRESTSlowHandlerOutlastsWriteTimeout(t *testing.T) {
	const timeout = 100 * time.Millisecond
	f, _ := fixture(t)
	addr, _ := limitedServer(t, &slowLinks{Fake: f, wait: 3 * timeout}, rest.Limits{WriteTimeout: timeout})
	resp, err := (&http.Client{Timeout: guard}).Get("http://" + addr + base + "/links")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "link-1") {
		t.Fatalf("answer %s %q (%v)", resp.Status, b, err)
	}
}

// TestRESTSlowReaderCutOff: a client that stops reading a large response
// is disconnected after the write timeout instead of holding the handler.
func TestRESTSlowReaderCutOff(t *testing.T) {
	const timeout = 200 * time.Millisecond
	f, _ := fixture(t)
	svc := &slowLinks{Fake: f}
	for i := range 40_000 {
		svc.mirrors = append(svc.mirrors, link.MirrorInfo{Link: "link-1", MirrorTopic: fmt.Sprintf("topic-%06d", i), SourceTopic: "s",
			Partitions: 1, State: link.StateActive})
	}
	addr, closed := limitedServer(t, svc, rest.Limits{WriteTimeout: timeout})
	conn := dial(t, addr)
	if err := conn.(*net.TCPConn).SetReadBuffer(4 << 10); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	io.WriteString(conn, "GET "+base+"/links/link-1/mirrors HTTP/1.1\r\nHost: x\r\n\r\n")
	waitClosed(t, closed) // without a write timeout this never happens
	if d := time.Since(start); d < timeout {
		t.Fatalf("closed after %v, before the write timeout of %v", d, timeout)
	}
}

// TestRESTBodyLimitsConcurrent: many oversized and stalled bodies at once
// are all answered, and the server goes on serving.
func TestRESTBodyLimitsConcurrent(t *testing.T) {
	addr, _ := limitedServer(t, nil, rest.Limits{MaxBodyBytes: 4 << 10, BodyTimeout: 200 * time.Millisecond})
	var wg sync.WaitGroup
	var answered atomic.Int32
	const n = 16
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(guard))
			want := http.StatusRequestEntityTooLarge
			if i%2 == 0 {
				fmt.Fprintf(c, "PUT %s/links/link-1/configs/x HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", base, 8<<20)
				io.Copy(c, io.LimitReader(spaces{}, 8<<20))
			} else {
				want = http.StatusRequestTimeout
				fmt.Fprintf(c, "PUT %s/links/link-1/configs/x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{", base)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("status %d, want %d", resp.StatusCode, want)
				return
			}
			answered.Add(1)
		}()
	}
	wg.Wait()
	if answered.Load() != n {
		t.Fatalf("%d of %d answered", answered.Load(), n)
	}
	testutil.WaitFor(t, guard, func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}
