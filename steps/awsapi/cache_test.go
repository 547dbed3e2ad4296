package awsapi

import (
	"context"
	"testing"
)

// TestCancelledPrefetchIsNotServed: a read the prefetch abandoned (its
// context ended) is made again for a caller whose context is live.
func TestCancelledPrefetchIsNotServed(t *testing.T) {
	c := NewReadCache()
	pctx, cancel := context.WithCancel(context.Background())
	started, calls := make(chan struct{}), 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = cachedRead(pctx, c, "op", "in", 0, func(ctx context.Context) (string, error) {
			calls++
			close(started)
			<-ctx.Done()
			return "", ctx.Err()
		})
	}()
	<-started
	cancel()
	<-done
	got, err := cachedRead(context.Background(), c, "op", "in", 0, func(context.Context) (string, error) { calls++; return "fresh", nil })
	if err != nil || got != "fresh" || calls != 2 {
		t.Fatalf("got %q, %v after %d calls; want a fresh call", got, err, calls)
	}
}
