package awssim

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// sesTestClock is a fake clock a test moves by hand, so delays are tested
// without sleeping.
type sesTestClock struct {
	mu  sync.Mutex
	now time.Time
}

func newSESTestClock() *sesTestClock {
	return &sesTestClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *sesTestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *sesTestClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sesHarness is a Sim behind an httptest server, with real SES v2 clients.
type sesHarness struct {
	sim   *Sim
	clock *sesTestClock
	url   string
}

func newSESHarness(t *testing.T, opts Options) *sesHarness {
	t.Helper()
	clock := newSESTestClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	sim := New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &sesHarness{sim: sim, clock: clock, url: srv.URL}
}

// client is a real sesv2 client signing for region, with static
// credentials and no retries (a test wants the first answer).
func (h *sesHarness) client(region string) *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region:           region,
		BaseEndpoint:     aws.String(h.url),
		RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAOPERATOR00000000", SecretAccessKey: "operator-secret"}, nil
		}),
	})
}

// zone returns the public zone named name, creating it if needed.
func (h *sesHarness) zone(name string) *hostedZone {
	h.sim.mu.Lock()
	defer h.sim.mu.Unlock()
	for _, z := range h.sim.r53.zones {
		if z.Name == fqdn(name) && !z.Private {
			return z
		}
	}
	return h.sim.createZone(name, "test-"+name, "", nil)
}

// put writes a record set into the public zone named zone.
func (h *sesHarness) put(zone, name, typ string, values ...string) {
	z := h.zone(zone)
	h.sim.mu.Lock()
	defer h.sim.mu.Unlock()
	h.sim.putSet(z, name, typ, 300, values...)
}

// del removes a record set from the public zone named zone.
func (h *sesHarness) del(zone, name, typ string) {
	z := h.zone(zone)
	h.sim.mu.Lock()
	defer h.sim.mu.Unlock()
	delete(z.Sets, rrKey{fqdn(name), typ})
}

// syncWriter is a log shared with server goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
