package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
)

// silentListener accepts connections and never answers on them: the
// endpoint of issue 10 that held CreateUser for ever.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

// hangFirst answers IAM GetUser, but holds the first request unanswered
// until the client gives up on it.
func hangFirst(t *testing.T) string {
	t.Helper()
	var n atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body, so the server notices when the client hangs up.
		_, _ = io.Copy(io.Discard, r.Body)
		if n.Add(1) == 1 {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetUserResult><User><UserName>u</UserName><Path>/</Path><UserId>AIDAEXAMPLE</UserId><Arn>arn:aws:iam::123456789012:user/u</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate></User></GetUserResult></GetUserResponse>`))
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: Close waits for handlers
	return srv.URL
}

// Every attempt of an AWS call has a deadline: a silent endpoint ends the
// call after timeoutAttempts attempts with an awsapi.CallTimeoutError naming the
// service, the operation and the deadline; an attempt that hangs once is
// retried and the call succeeds; a cancelled run stays a cancellation.
func TestAttemptTimeout(t *testing.T) {
	const limit = 200 * time.Millisecond
	tests := []struct {
		name     string
		endpoint func(t *testing.T) string
		// cancelAfter cancels the caller's context (0: never).
		cancelAfter time.Duration
		wantErr     func(t *testing.T, err error)
		wantRetries int
	}{
		{"a silent endpoint fails the call after 3 attempts", silentListener, 0, func(t *testing.T, err error) {
			var cte *awsapi.CallTimeoutError
			if !errors.As(err, &cte) {
				t.Fatalf("err = %v, want an awsapi.CallTimeoutError", err)
			}
			if cte.Service != "IAM" || cte.Operation != "GetUser" || cte.Limit != limit || cte.Attempts != timeoutAttempts || !strings.HasPrefix(cte.Endpoint, "http://127.0.0.1:") {
				t.Errorf("awsapi.CallTimeoutError = %+v", cte)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a call timeout must not look like the run's own deadline: %v", err)
			}
		}, timeoutAttempts - 1},
		{"an attempt that hangs once is retried", hangFirst, 0, func(t *testing.T, err error) {
			if err != nil {
				t.Fatalf("err = %v, want the retry to succeed", err)
			}
		}, 1},
		{"a cancelled run is a cancellation, not a timeout", silentListener, limit / 2, func(t *testing.T, err error) {
			var cte *awsapi.CallTimeoutError
			if errors.As(err, &cte) || !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(tt.endpoint(t)), Credentials: aws.AnonymousCredentials{}}
			var mu sync.Mutex
			var events []steps.Event
			c := newClients(cfg, func(e steps.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }, limit)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelAfter > 0 {
				time.AfterFunc(tt.cancelAfter, cancel)
			}
			done := make(chan error, 1)
			go func() {
				_, err := c.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("u")})
				done <- err
			}()
			select {
			case err := <-done:
				tt.wantErr(t, err)
			case <-time.After(time.Minute):
				t.Fatal("the call did not end within a minute")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(events) != tt.wantRetries {
				t.Fatalf("%d retry events, want %d: %+v", len(events), tt.wantRetries, events)
			}
			for _, e := range events {
				if e.Kind != steps.EventRetrying || e.MaxAttempts != timeoutAttempts || !strings.Contains(e.Detail, "did not answer GetUser within 200ms") {
					t.Errorf("retry event %+v, want it to say what went unanswered, out of %d attempts", e, timeoutAttempts)
				}
			}
		})
	}
}

// SESAME_AWS_CALL_TIMEOUT sets the deadline; a bad value is bad input.
func TestCallTimeoutEnv(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration
		bad   bool
	}{
		{"", defaultCallTimeout, false},
		{"2s", 2 * time.Second, false},
		{"1m30s", 90 * time.Second, false},
		{"0s", 0, true},
		{"-5s", 0, true},
		{"30", 0, true},
		{"soon", 0, true},
	}
	for _, tt := range tests {
		got, err := callTimeout(func(k string) string {
			if k == callTimeoutEnv {
				return tt.value
			}
			return ""
		})
		var ie *steps.InputError
		if tt.bad != errors.As(err, &ie) || got != tt.want {
			t.Errorf("callTimeout(%q) = %v, %v; want %v, bad input %v", tt.value, got, err, tt.want, tt.bad)
		}
	}
}

// Any SESAME_AWS_CALL_TIMEOUT is either a positive deadline or bad input
// (exit 2): never a zero or negative deadline, which would fail every call.
func FuzzCallTimeout(f *testing.F) {
	for _, s := range []string{"", "30s", "1m30s", "0", "-5s", "1ns", "9999999h", "soon", "1e3s", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, err := callTimeout(func(k string) string {
			if k == callTimeoutEnv {
				return v
			}
			return ""
		})
		var ie *steps.InputError
		switch {
		case err != nil && !errors.As(err, &ie):
			t.Fatalf("callTimeout(%q) error %v is not an InputError", v, err)
		case err == nil && d <= 0:
			t.Fatalf("callTimeout(%q) = %v, a deadline that fails every call", v, d)
		}
	})
}
