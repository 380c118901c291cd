package testutil

import (
	"testing"
	"time"
)

// WaitFor polls cond until it reports true, backing off from a few
// milliseconds up to a quarter of a second between attempts. cond's string
// explains why it is not yet true; if timeout passes first, the test fails
// with the last explanation.
func WaitFor(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	if msg, ok := poll(timeout, cond); !ok {
		t.Fatalf("testutil: condition not met within %v: %s", timeout, msg)
	}
}

// poll is WaitFor without the test: it reports the last explanation and
// whether cond became true in time.
func poll(timeout time.Duration, cond func() (bool, string)) (string, bool) {
	const (
		firstDelay = 5 * time.Millisecond
		maxDelay   = 250 * time.Millisecond
	)
	deadline := time.Now().Add(timeout)
	delay := firstDelay
	for {
		ok, msg := cond()
		if ok {
			return msg, true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return msg, false
		}
		time.Sleep(min(delay, left))
		delay = min(2*delay, maxDelay)
	}
}
