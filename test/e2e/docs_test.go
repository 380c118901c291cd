package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strait-kafka/strait/internal/testutil"
)

// The user documentation's tutorials and runbooks are executable: every
// ```sh block of a document runs, in order, in one bash session (so shell
// variables and background jobs carry over), with the built strait binary
// first on PATH, in a fresh directory. An ```output block right after a
// ```sh block is what that block must print on stdout, exactly. The
// document is therefore tested exactly as a user would run it.
//
// The documents use fixed ports, each its own, all between 11000 and 16999:
// below the kernel's ephemeral range (where concurrently running tests' own
// connections take ports) and below testutil.FreeAddr's range.

func TestE2EDocsLinking(t *testing.T)          { runDoc(t, "linking.md") }
func TestE2EDocsMigration(t *testing.T)        { runDoc(t, "migration.md") }
func TestE2EDocsDisasterRecovery(t *testing.T) { runDoc(t, "disaster-recovery.md") }

// docBlock is one ```sh block and, if given, the output it must print.
type docBlock struct {
	line     int
	script   string
	want     string
	wantSeen bool
}

func parseDoc(t *testing.T, path string) []docBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks []docBlock
		cur    *strings.Builder
		kind   string
		indent string // a fence inside a list item is indented; so is its body
		start  int
		n      int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			kind, start, cur = strings.TrimPrefix(trimmed, "```"), n, &strings.Builder{}
			indent = line[:len(line)-len(trimmed)]
		case cur != nil && trimmed == "```":
			switch kind {
			case "sh":
				blocks = append(blocks, docBlock{line: start, script: cur.String()})
			case "output":
				if len(blocks) == 0 || blocks[len(blocks)-1].wantSeen {
					t.Fatalf("%s:%d: an output block must follow a sh block", path, start)
				}
				blocks[len(blocks)-1].want, blocks[len(blocks)-1].wantSeen = cur.String(), true
			}
			cur = nil
		case cur != nil:
			cur.WriteString(strings.TrimPrefix(line, indent))
			cur.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: unterminated code block", path, start)
	}
	return blocks
}

func runDoc(t *testing.T, name string) {
	if testing.Short() {
		t.Skip("runs the documentation end to end")
	}
	path := filepath.Join("..", "..", "docs", name)
	blocks := parseDoc(t, path)
	if len(blocks) == 0 {
		t.Fatalf("%s has no sh blocks", path)
	}
	bin := testutil.BuildBinary(t, "./cmd/strait")
	const marker = "@@@strait-doc-block@@@"
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for i, b := range blocks {
		fmt.Fprintf(&script, "echo %s%d\n%s", marker, i, b.script)
	}
	script.WriteString("echo " + marker + "end\n")

	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// Whatever happened, nothing the document started may outlive the test.
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	outputs := splitByMarker(stdout.String(), marker)
	logs := func() string {
		var b strings.Builder
		for _, f := range []string{"east.log", "west.log", "old.log", "new.log", "primary.log", "dr.log"} {
			if data, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
				fmt.Fprintf(&b, "--- %s (last 3000 bytes)\n%s\n", f, tail(string(data), 3000))
			}
		}
		return b.String()
	}
	if err != nil {
		blockIdx := -1
		for i := range blocks {
			if _, ok := outputs[fmt.Sprint(i)]; ok {
				blockIdx = i
			}
		}
		where := "before the first block"
		if blockIdx >= 0 {
			where = fmt.Sprintf("in the block at %s:%d:\n%s", path, blocks[blockIdx].line, blocks[blockIdx].script)
		}
		t.Fatalf("the document failed (%v) %s\nstdout of that block:\n%s\nstderr:\n%s\n%s", err, where,
			outputs[fmt.Sprint(blockIdx)], tail(stderr.String(), 4000), logs())
	}
	if _, ok := outputs["end"]; !ok {
		t.Fatalf("the document did not run to its end\nstderr:\n%s\n%s", stderr.String(), logs())
	}
	for i, b := range blocks {
		if !b.wantSeen {
			continue
		}
		if got := outputs[fmt.Sprint(i)]; got != b.want {
			t.Errorf("%s:%d: the block printed\n%s\nbut the document says\n%s\nstderr of the whole document:\n%s\n%s",
				path, b.line, got, b.want, tail(stderr.String(), 4000), logs())
		}
	}
	t.Logf("%s: %d blocks run, %d outputs checked", name, len(blocks), countChecked(blocks))
}

// splitByMarker maps each block index (and "end") to what it printed.
func splitByMarker(out, marker string) map[string]string {
	m := map[string]string{}
	key := ""
	var cur strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), marker); ok {
			if key != "" {
				m[key] = cur.String()
			}
			key = rest
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	if key != "" {
		m[key] = cur.String()
	}
	return m
}

func countChecked(blocks []docBlock) int {
	n := 0
	for _, b := range blocks {
		if b.wantSeen {
			n++
		}
	}
	return n
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
