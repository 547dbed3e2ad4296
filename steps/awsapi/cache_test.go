package awsapi

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/sesame-tool/sesame/steps/stepstest"
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

// TestReadCache: through wrapped clients a read is made once and shared; a
// write forgets its own service's reads only; during an Apply every read
// goes to AWS; Forget forgets everything; Unwrap gives back the clients.
func TestReadCache(t *testing.T) {
	getIdentity := func(ctx context.Context, cl Clients) {
		_, _ = cl.SES.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	}
	getUser := func(ctx context.Context, cl Clients) {
		_, _ = cl.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("ses-smtp-example-com")})
	}
	tests := []struct {
		name string
		// between runs after the first reads, before the second ones.
		between          func(ctx context.Context, c *ReadCache, cl Clients)
		wantSES, wantIAM int
	}{
		{"a read is made once", func(context.Context, *ReadCache, Clients) {}, 1, 1},
		{"a write forgets its service's reads only", func(ctx context.Context, _ *ReadCache, cl Clients) {
			_, _ = cl.SES.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("other.example")})
		}, 2, 1},
		{"Forget forgets every read", func(_ context.Context, c *ReadCache, _ Clients) { c.Forget() }, 2, 2},
		{"Stop forgets every read", func(_ context.Context, c *ReadCache, _ Clients) { c.Stop() }, 2, 2},
		{"an Apply reads AWS", func(ctx context.Context, c *ReadCache, cl Clients) {
			c.BeginApply()
			getIdentity(ctx, cl)
			c.EndApply()
		}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			fses, fiam := stepstest.NewFakeSES("us-east-1"), stepstest.NewFakeIAM("123456789012")
			raw := Clients{SES: fses, IAM: fiam}
			c := NewReadCache()
			cl := c.Wrap(raw)
			getIdentity(ctx, cl)
			getUser(ctx, cl)
			tt.between(ctx, c, cl)
			getIdentity(ctx, cl)
			getUser(ctx, cl)
			if n := fses.Calls("GetEmailIdentity"); n != tt.wantSES {
				t.Errorf("GetEmailIdentity: %d calls, want %d", n, tt.wantSES)
			}
			if n := fiam.Calls("GetUser"); n != tt.wantIAM {
				t.Errorf("GetUser: %d calls, want %d", n, tt.wantIAM)
			}
			if got := Unwrap(cl); got != raw {
				t.Errorf("Unwrap(Wrap(cl)) = %+v, want %+v", got, raw)
			}
		})
	}
}

// A nil cache caches nothing and its Apply marks are no-ops, so a run
// without a prefetch needs no checks.
func TestNilReadCache(t *testing.T) {
	var c *ReadCache
	c.BeginApply()
	c.EndApply()
	c.Forget()
	c.Stop()
	calls := 0
	for range 2 {
		_, _ = cachedRead(context.Background(), c, "ses:GetAccount", "in", 0, func(context.Context) (string, error) { calls++; return "", nil })
	}
	if calls != 2 {
		t.Errorf("%d calls through a nil cache, want 2", calls)
	}
}
