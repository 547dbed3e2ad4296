package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/route53"
)

// Route 53 allows five API requests per second per account, and answers
// more with Throttling. sesame's reads are bunched (the prefetch sends
// them at once), so every Route 53 request, retries included, first takes
// a slot from one limiter shared by the whole process.
const (
	route53Requests = 5
	route53Window   = time.Second
)

// route53Limit is the process's one Route 53 limiter: a run that builds
// its clients again (the TUI's retry) still shares it.
var route53Limit = newWindowLimiter(route53Requests, route53Window, time.Now, sleepCtx)

// windowLimiter lets at most n requests start in any window of length
// per: a request waits until the n-th request before it is a window old.
// That is exactly "n per second", where a token bucket of rate n and
// burst n would let 2n through across a window's edge.
type windowLimiter struct {
	mu     sync.Mutex
	n      int
	per    time.Duration
	starts []time.Time // the last n start times, oldest first
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
}

func newWindowLimiter(n int, per time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) *windowLimiter {
	return &windowLimiter{n: n, per: per, now: now, sleep: sleep}
}

// Wait blocks until a request may start, or the context ends.
func (l *windowLimiter) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		t := l.now()
		if len(l.starts) < l.n {
			l.starts = append(l.starts, t)
			l.mu.Unlock()
			return nil
		}
		wait := l.starts[0].Add(l.per).Sub(t)
		if wait <= 0 {
			l.starts = append(l.starts[1:], t)
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		if err := l.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// limitedHTTPClient takes a slot from the limiter before each request.
type limitedHTTPClient struct {
	base interface {
		Do(*http.Request) (*http.Response, error)
	}
	limit *windowLimiter
}

func (c *limitedHTTPClient) Do(req *http.Request) (*http.Response, error) {
	if err := c.limit.Wait(req.Context()); err != nil {
		return nil, err
	}
	return c.base.Do(req)
}

// withRoute53Limit makes a Route 53 client's requests wait for limit.
func withRoute53Limit(limit *windowLimiter) func(*route53.Options) {
	return func(o *route53.Options) {
		o.HTTPClient = &limitedHTTPClient{base: o.HTTPClient, limit: limit}
	}
}
