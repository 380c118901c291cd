package testutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestTestutilFreeAddr(t *testing.T) {
	addr := FreeAddr(t)
	_, portText, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(portText)
	if !strings.HasPrefix(addr, "127.0.0.1:") || err != nil || port < fixedPortMin || port >= ephemeralLow() {
		t.Fatalf("FreeAddr = %q, want 127.0.0.1 and a port in [%d, %d)", addr, fixedPortMin, ephemeralLow())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on the address FreeAddr returned: %v", err)
	}
	ln.Close()
}

func TestTestutilRunCommand(t *testing.T) {
	out, errOut, err := RunCommand(t, time.Minute, []byte("from-stdin"), "sh", "-c", "cat; echo; echo to-stderr >&2; exit 3")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("err = %v, want exit status 3", err)
	}
	if out != "from-stdin\n" || errOut != "to-stderr\n" {
		t.Fatalf("stdout %q stderr %q", out, errOut)
	}
	if _, _, err := RunCommand(t, time.Minute, nil, "sh", "-c", "true"); err != nil {
		t.Fatalf("a command that exits 0 reported %v", err)
	}

	ft := runFake(t, func(ft testing.TB) { RunCommand(ft, 50*time.Millisecond, nil, "sh", "-c", "exec sleep 30") })
	if !ft.Failed() || !strings.Contains(ft.failure(), "no exit within") {
		t.Fatalf("a command that outlived its timeout: failed=%v %q", ft.Failed(), ft.failure())
	}
	ft = runFake(t, func(ft testing.TB) { RunCommand(ft, time.Minute, nil, "./no/such/program") })
	if !ft.Failed() || !strings.Contains(ft.failure(), "running ./no/such/program") {
		t.Fatalf("a program that cannot start: failed=%v %q", ft.Failed(), ft.failure())
	}
}

// TestTestutilWaitMirrorCaughtUp uses two kfake clusters as "source" and
// "mirror": equal end offsets are caught up, a shorter partition is not.
func TestTestutilWaitMirrorCaughtUp(t *testing.T) {
	ctx := context.Background()
	newCluster := func() *kgo.Client {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, "t"); err != nil {
			t.Fatal(err)
		}
		return cl
	}
	produce := func(cl *kgo.Client, partition int32, n int) {
		for i := range n {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Partition: partition, Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	src, dst := newCluster(), newCluster()
	produce(src, 0, 3)
	produce(src, 1, 2)
	produce(dst, 0, 3)
	produce(dst, 1, 1)

	lag, err := MirrorLag(ctx, src, dst, "t", "t")
	if err != nil || lag[0] != 0 || lag[1] != 1 || len(lag) != 2 {
		t.Fatalf("MirrorLag = %v, %v; want map[0:0 1:1]", lag, err)
	}
	ft := runFake(t, func(ft testing.TB) { WaitMirrorCaughtUp(ft, 100*time.Millisecond, src, dst, "t", "t") })
	if !ft.Failed() || !strings.Contains(ft.failure(), "mirror t-1 is 1 records behind source t-1") {
		t.Fatalf("WaitMirrorCaughtUp on a lagging partition: failed=%v %q", ft.Failed(), ft.failure())
	}
	if _, err := MirrorLag(ctx, src, dst, "t", "missing"); err == nil {
		t.Fatal("MirrorLag on a missing mirror topic reported no error")
	}

	produce(dst, 1, 1)
	WaitMirrorCaughtUp(t, 30*time.Second, src, dst, "t", "t")
}
