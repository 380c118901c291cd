package server

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/broker"
	"github.com/strait-kafka/strait/internal/testutil"
)

// blockingHandler answers Produce only when the test lets it, and reports
// each request it holds.
type blockingHandler struct {
	entered chan int32 // the partition of each Produce that reached the handler
	release chan struct{}
}

func (h *blockingHandler) Handle(ctx context.Context, _ *broker.Session, req kmsg.Request) (broker.Reply, error) {
	pr, ok := req.(*kmsg.ProduceRequest)
	if !ok {
		return broker.Reply{}, errors.New("unexpected request")
	}
	h.entered <- pr.Topics[0].Partitions[0].Partition
	select {
	case <-h.release:
	case <-ctx.Done():
	}
	resp := pr.ResponseKind().(*kmsg.ProduceResponse)
	return broker.Reply{Msg: resp}, nil
}

// produceOf is a Produce request for partition p whose frame is about
// size bytes.
func produceOf(p int32, size int) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version = 9
	req.Acks = 1
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = p
	rp.Records = bytes.Repeat([]byte{'x'}, size)
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// TestServerBudgetAdmitsOneLargeFrameAtATime is the regression test for
// "four 100 MB Produce frames take GBs": each connection allocated its frame
// as soon as it read the size. With queued.max.request.bytes, frames larger
// than half the budget are read, handled and answered one at a time.
func TestServerBudgetAdmitsOneLargeFrameAtATime(t *testing.T) {
	const capacity = 10000
	budget := NewBudget(capacity)
	h := &blockingHandler{entered: make(chan int32, 4), release: make(chan struct{})}
	ts := startServer(t, Options{Broker: h, Budget: budget, MaxRequestBytes: func() int32 { return capacity }})

	const n = 4
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = dial(t, ts.addr)
		if err := send(conns[i], produceOf(int32(i), 6000), int32(i)); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < n; round++ {
		first := <-h.entered
		// Everyone else is parked on the budget, not in the handler.
		testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
			w := budget.waiting()
			return w == n-1-round, "waiting " + strconv.Itoa(w)
		})
		select {
		case p := <-h.entered:
			t.Fatalf("partition %d entered the handler while %d held the budget", p, first)
		default:
		}
		if used := budget.InUse(); used <= capacity/2 || used > capacity {
			t.Fatalf("budget in use %d while one frame is held", used)
		}
		h.release <- struct{}{}
		resp := kmsg.NewPtrProduceResponse()
		resp.Version = 9
		if err := readResponse(conns[first], resp, first, 30*time.Second); err != nil {
			t.Fatalf("response to %d: %v", first, err)
		}
	}
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		return budget.InUse() == 0, "budget still in use: " + strconv.Itoa(int(budget.InUse()))
	})
	if got := ts.metricValue(t, "strait_kafka_request_budget_waits_total"); got < n-1 {
		t.Errorf("budget waits %v, want at least %d", got, n-1)
	}
}

// TestServerBudgetRefusesFrameLargerThanBudget: a frame that could never be
// admitted closes its connection, and the server goes on serving.
func TestServerBudgetRefusesFrameLargerThanBudget(t *testing.T) {
	budget := NewBudget(4000)
	ts := startServer(t, Options{Budget: budget, MaxRequestBytes: func() int32 { return 1 << 20 }})
	c := dial(t, ts.addr)
	if err := send(c, produceOf(0, 5000), 1); err != nil {
		t.Fatal(err)
	}
	expectClosedByPeer(t, c)
	if got := ts.metricValue(t, "strait_kafka_request_budget_refused_total"); got != 1 {
		t.Errorf("refused %v, want 1", got)
	}
	if ok, msg := served(t, ts.addr); !ok {
		t.Fatalf("server not serving after the refusal: %s", msg)
	}
	if budget.InUse() != 0 {
		t.Errorf("budget in use %d after the refusal", budget.InUse())
	}
}

// TestServerBudgetGrowDoesNotDeadlock: two requests each holding part of
// the budget and each asking for more must not wait for each other.
func TestServerBudgetGrowDoesNotDeadlock(t *testing.T) {
	b := NewBudget(1000)
	ctx := context.Background()
	a, c := &charge{b: b}, &charge{b: b}
	if _, err := a.add(ctx, 400); err != nil {
		t.Fatal(err)
	}
	if _, err := c.add(ctx, 400); err != nil {
		t.Fatal(err)
	}
	done := make(chan *charge, 2)
	for _, ch := range []*charge{a, c} {
		go func() {
			if _, err := ch.add(ctx, 300); err != nil {
				t.Error(err)
			}
			done <- ch
		}()
	}
	first := <-done
	if first.held != 700 {
		t.Fatalf("grown charge holds %d, want 700", first.held)
	}
	first.release()
	second := <-done
	if second.held != 700 || b.InUse() != 700 {
		t.Fatalf("second holds %d, budget %d; want 700 and 700", second.held, b.InUse())
	}
	second.release()
	if b.InUse() != 0 {
		t.Fatalf("budget in use %d after both released", b.InUse())
	}
	if _, err := (&charge{b: b}).add(ctx, 1001); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("over-budget add: %v", err)
	}
}

// TestServerBudgetWaitersInOrder: a large request waiting is not overtaken
// by small ones that would fit.
func TestServerBudgetWaitersInOrder(t *testing.T) {
	b := NewBudget(100)
	ctx := context.Background()
	if _, err := b.acquire(ctx, 60, false); err != nil {
		t.Fatal(err)
	}
	big := make(chan error, 1)
	go func() { _, err := b.acquire(ctx, 80, false); big <- err }()
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) { return b.waiting() == 1, "big not waiting" })
	if b.tryAcquire(10) {
		t.Fatal("a small request overtook a waiting large one")
	}
	b.release(60)
	if err := <-big; err != nil {
		t.Fatal(err)
	}
	// A cancelled waiter leaves no trace.
	cctx, cancel := context.WithCancel(ctx)
	res := make(chan error, 1)
	go func() { _, err := b.acquire(cctx, 50, false); res <- err }()
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) { return b.waiting() == 1, "not waiting" })
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled acquire: %v", err)
	}
	b.release(80)
	if b.InUse() != 0 || b.waiting() != 0 {
		t.Fatalf("after all released: in use %d, waiting %d", b.InUse(), b.waiting())
	}
}
