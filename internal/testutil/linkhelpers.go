package testutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// FreeAddr returns "127.0.0.1:PORT" for a TCP port that is free now, for
// a server that must keep its address across restarts (StartProcess's
// Restart reuses the arguments). The port is picked at random below the
// kernel's ephemeral range (where listeners on port 0 and outgoing
// connections take theirs), so nothing on this machine takes it by chance
// while the server is down; it was free when FreeAddr tried it.
func FreeAddr(t testing.TB) string {
	t.Helper()
	low := ephemeralLow()
	for range 100 {
		port := fixedPortMin + rand.IntN(low-fixedPortMin)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // taken
		}
		addr := ln.Addr().String()
		if err := ln.Close(); err != nil {
			t.Fatalf("testutil: closing %s: %v", addr, err)
		}
		return addr
	}
	t.Fatalf("testutil: no free port in [%d, %d) after 100 tries", fixedPortMin, low)
	return ""
}

// fixedPortMin is the lowest port FreeAddr picks: well above the ports
// services are usually configured on.
const fixedPortMin = 20000

// ephemeralLow is the first port of the kernel's ephemeral range, or
// Linux's default first port when the range cannot be read.
func ephemeralLow() int {
	const linuxDefault = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return linuxDefault
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return linuxDefault
	}
	low, err := strconv.Atoi(f[0])
	if err != nil || low <= fixedPortMin+1000 {
		return linuxDefault
	}
	return low
}

// RunCommand runs bin with args and stdin (nil: empty) to completion, or
// kills it when timeout passes, and returns what it printed on stdout and
// stderr and its exit error (nil for status 0). It fails the test only when
// the program cannot be started or runs out of time; a non-zero exit is for
// the caller to judge.
func RunCommand(t testing.TB, timeout time.Duration, stdin []byte, bin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	line := bin + " " + strings.Join(args, " ")
	if ctx.Err() != nil {
		t.Fatalf("testutil: %s: no exit within %v\nstdout:\n%s\nstderr:\n%s", line, timeout, out.Bytes(), errOut.Bytes())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("testutil: running %s: %v", line, err)
	}
	return out.String(), errOut.String(), err
}

// WaitMirrorCaughtUp waits until a mirror topic has caught up with its
// source: both list the same partitions, and each mirror partition's end
// offset equals the source partition's high watermark, both read with
// ListOffsets from the clusters themselves. dst must reach the cluster that
// holds the mirror; src the source. It fails the test when timeout passes,
// naming the first partition that was behind.
func WaitMirrorCaughtUp(t testing.TB, timeout time.Duration, src, dst *kgo.Client, srcTopic, mirrorTopic string) {
	t.Helper()
	WaitFor(t, timeout, func() (bool, string) {
		lag, err := MirrorLag(context.Background(), src, dst, srcTopic, mirrorTopic)
		if err != nil {
			return false, err.Error()
		}
		for p, l := range lag {
			if l != 0 {
				return false, fmt.Sprintf("mirror %s-%d is %d records behind source %s-%d", mirrorTopic, p, l, srcTopic, p)
			}
		}
		return true, ""
	})
}

// MirrorLag returns, per partition, the source high watermark minus the
// mirror's end offset, as ListOffsets reports them on the two clusters. It
// fails when the topics' partitions differ.
func MirrorLag(ctx context.Context, src, dst *kgo.Client, srcTopic, mirrorTopic string) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	srcEnds, err := listEnds(ctx, src, srcTopic)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", srcTopic, err)
	}
	dstEnds, err := listEnds(ctx, dst, mirrorTopic)
	if err != nil {
		return nil, fmt.Errorf("mirror %s: %w", mirrorTopic, err)
	}
	if len(srcEnds) == 0 || len(srcEnds) != len(dstEnds) {
		return nil, fmt.Errorf("source %s lists %d partitions, mirror %s %d", srcTopic, len(srcEnds), mirrorTopic, len(dstEnds))
	}
	lag := make(map[int32]int64, len(srcEnds))
	for p, se := range srcEnds {
		de, ok := dstEnds[p]
		if !ok {
			return nil, fmt.Errorf("mirror %s lacks partition %d", mirrorTopic, p)
		}
		lag[p] = se - de
	}
	return lag, nil
}

// listEnds lists the end offsets of every partition of topic.
func listEnds(ctx context.Context, cl *kgo.Client, topic string) (map[int32]int64, error) {
	listed, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, err
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	return ends, nil
}
