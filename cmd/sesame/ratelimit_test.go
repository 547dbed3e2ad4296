package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
)

// fakeTime is a clock whose sleep advances it at once.
type fakeTime struct {
	mu     sync.Mutex
	t      time.Time
	slept  []time.Duration
	cancel bool
}

func (f *fakeTime) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }

func (f *fakeTime) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slept = append(f.slept, d)
	f.t = f.t.Add(d)
	return nil
}

// TestWindowLimiter: whatever the pattern of requests, no window of one
// second holds more than five starts, and requests under the limit never
// wait.
func TestWindowLimiter(t *testing.T) {
	tests := []struct {
		name string
		gaps []time.Duration // time passing before each request
		// wantWaits is how many requests had to wait.
		wantWaits int
	}{
		{"five at once pass", make([]time.Duration, 5), 0},
		{"the sixth at once waits", make([]time.Duration, 6), 1},
		{"twelve in a row: the sixth and the eleventh wait a window", make([]time.Duration, 12), 2},
		{"spread at 5/s never wait", []time.Duration{0, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}, 0},
		{"a burst after a pause passes", []time.Duration{0, 0, 0, 0, 0, 2 * time.Second, 0, 0, 0, 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeTime{t: time.Unix(1700000000, 0)}
			l := newWindowLimiter(route53Requests, route53Window, ft.now, ft.sleep)
			var starts []time.Time
			waits := 0
			for _, g := range tt.gaps {
				ft.t = ft.t.Add(g)
				before := len(ft.slept)
				if err := l.Wait(context.Background()); err != nil {
					t.Fatal(err)
				}
				if len(ft.slept) > before {
					waits++
				}
				starts = append(starts, ft.now())
			}
			if waits != tt.wantWaits {
				t.Errorf("%d requests waited, want %d (sleeps %v)", waits, tt.wantWaits, ft.slept)
			}
			for i := range starts {
				in := 0
				for j := i; j < len(starts) && starts[j].Sub(starts[i]) < route53Window; j++ {
					in++
				}
				if in > route53Requests {
					t.Fatalf("%d requests started within a second of request %d: %v", in, i, starts)
				}
			}
		})
	}
}

func TestWindowLimiterCancelled(t *testing.T) {
	ft := &fakeTime{t: time.Unix(1700000000, 0)}
	l := newWindowLimiter(1, time.Second, ft.now, ft.sleep)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a cancelled context = %v, want context.Canceled", err)
	}
}

// TestRoute53ClientIsLimited: the Route 53 client that newClients builds
// takes a slot for every request, so a sixth request in the same instant
// waits for the window.
func TestRoute53ClientIsLimited(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<?xml version="1.0"?><GetHostedZoneResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><HostedZone><Id>/hostedzone/Z1</Id><Name>example.com.</Name><CallerReference>r</CallerReference></HostedZone></GetHostedZoneResponse>`))
	}))
	defer srv.Close()
	ft := &fakeTime{t: time.Unix(1700000000, 0)}
	l := newWindowLimiter(route53Requests, route53Window, ft.now, ft.sleep)
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}}
	c := route53.NewFromConfig(cfg, withRoute53Limit(l))
	for i := 0; i < 6; i++ {
		if _, err := c.GetHostedZone(context.Background(), &route53.GetHostedZoneInput{Id: aws.String("Z1")}); err != nil {
			t.Fatal(err)
		}
	}
	if len(ft.slept) != 1 || ft.slept[0] != route53Window {
		t.Fatalf("six requests in one instant slept %v, want one wait of %s", ft.slept, route53Window)
	}
}
