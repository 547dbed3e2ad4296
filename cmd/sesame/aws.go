package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	smithymw "github.com/aws/smithy-go/middleware"

	"github.com/sesame-tool/sesame/steps"
)

// maxAttempts is how often one AWS call is tried before sesame gives up
// (and leaves a resumable state).
const maxAttempts = 5

// loadAWSConfig loads the AWS configuration as the AWS CLI does: profiles
// (SSO included), environment variables, AWS_ENDPOINT_URL and the
// per-service AWS_ENDPOINT_URL_<SERVICE>. It reads files but makes no
// network call: credentials resolve lazily, on the first request.
// The SDK's own log lines go to logger, never to the terminal.
func loadAWSConfig(ctx context.Context, profile, region string, logger logging.Logger) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithLogger(logger)}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var pe config.SharedConfigProfileNotExistError
		if errors.As(err, &pe) {
			return cfg, &steps.InputError{Field: "profile", Flag: "--profile", Msg: fmt.Sprintf("AWS profile %q does not exist in ~/.aws/config or ~/.aws/credentials; name an existing one (`aws configure list-profiles`)", pe.Profile)}
		}
		return cfg, fmt.Errorf("load the AWS configuration: %w", err)
	}
	return cfg, nil
}

// newClients builds the four SDK clients, each with a retryer that tells
// the operator when a call is retried ("retrying (2/5): throttled by Route 53").
func newClients(cfg aws.Config, emit func(steps.Event)) steps.Clients {
	r := func(service string) func() aws.Retryer {
		return func() aws.Retryer {
			return &reportingRetryer{
				RetryerV2: retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = maxAttempts }),
				service:   service, emit: emit,
			}
		}
	}
	cfg.APIOptions = append(cfg.APIOptions, slowCallReporter(emit))
	return steps.Clients{
		STS:     sts.NewFromConfig(cfg, func(o *sts.Options) { o.Retryer = r("STS")() }),
		SES:     sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.Retryer = r("SES")() }),
		Route53: route53.NewFromConfig(cfg, func(o *route53.Options) { o.Retryer = r("Route 53")() }, withRoute53Limit(route53Limit)),
		IAM:     iam.NewFromConfig(cfg, func(o *iam.Options) { o.Retryer = r("IAM")() }),
	}
}

// slowCallAfter is how long a call waits before the front end is told
// which call the run waits for.
const slowCallAfter = 3 * time.Second

// slowCallReporter adds a middleware that publishes a *steps.SlowCall when
// a call (retries included) has waited slowCallAfter, and again when it
// ends: a hung call then says what it is waiting for.
func slowCallReporter(emit func(steps.Event)) func(*smithymw.Stack) error {
	return func(stack *smithymw.Stack) error {
		return stack.Initialize.Add(smithymw.InitializeMiddlewareFunc("sesameSlowCall",
			func(ctx context.Context, in smithymw.InitializeInput, next smithymw.InitializeHandler) (smithymw.InitializeOutput, smithymw.Metadata, error) {
				if emit == nil {
					return next.HandleInitialize(ctx, in)
				}
				call := &steps.SlowCall{Service: awsmw.GetServiceID(ctx), Operation: awsmw.GetOperationName(ctx), Started: time.Now()}
				var mu sync.Mutex
				reported := false
				t := time.AfterFunc(slowCallAfter, func() {
					mu.Lock()
					defer mu.Unlock()
					reported = true
					c := *call
					emit(steps.Event{Kind: steps.EventData, Data: &c, Time: time.Now()})
				})
				out, md, err := next.HandleInitialize(ctx, in)
				t.Stop()
				mu.Lock()
				if reported {
					c := *call
					c.Done = true
					emit(steps.Event{Kind: steps.EventData, Data: &c, Time: time.Now()})
				}
				mu.Unlock()
				return out, md, err
			}), smithymw.Before)
	}
}

// reportingRetryer is the SDK's standard retryer (backoff with jitter,
// throttling and 5xx and dropped connections retried) that reports each
// retry as an Event.
type reportingRetryer struct {
	aws.RetryerV2
	service string
	emit    func(steps.Event)
}

// RetryDelay reports the retry, then returns the standard delay.
func (r *reportingRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, derr := r.RetryerV2.RetryDelay(attempt, err)
	if derr == nil && r.emit != nil {
		r.emit(steps.Event{
			Kind: steps.EventRetrying, Attempt: attempt + 1, MaxAttempts: r.MaxAttempts(),
			Detail: retryReason(r.service, err), Time: time.Now(),
		})
	}
	return d, derr
}

// retryReason says in words why a call is retried.
func retryReason(service string, err error) string {
	var ae smithy.APIError
	var ne net.Error
	switch {
	case errors.As(err, &ae) && retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool():
		return fmt.Sprintf("throttled by %s (%s)", service, ae.ErrorCode())
	case errors.As(err, &ae):
		return fmt.Sprintf("%s answered %s", service, ae.ErrorCode())
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("%s timed out", service)
	case strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "connection reset"):
		return fmt.Sprintf("connection to %s dropped", service)
	default:
		var re interface{ HTTPStatusCode() int }
		if errors.As(err, &re) {
			return fmt.Sprintf("%s answered HTTP %d", service, re.HTTPStatusCode())
		}
		return fmt.Sprintf("%s call failed: %v", service, err)
	}
}

// debugTransport logs each AWS request's method, host, path, status and
// duration: never a header (so never a credential or a signature) and
// never a body (which can hold a secret access key).
type debugTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	w    io.Writer
}

func (t *debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	t.mu.Lock()
	defer t.mu.Unlock()
	action := req.URL.Query().Get("Action")
	if err != nil {
		fmt.Fprintf(t.w, "debug: %s %s%s %s → error %v (%s)\n", req.Method, req.URL.Host, req.URL.Path, action, redactErr(err), time.Since(start).Round(time.Millisecond))
		return resp, err
	}
	fmt.Fprintf(t.w, "debug: %s %s%s %s → %d (%s)\n", req.Method, req.URL.Host, req.URL.Path, action, resp.StatusCode, time.Since(start).Round(time.Millisecond))
	return resp, nil
}

// redactErr keeps an error's text but drops any query string (presigned
// URLs carry signatures there).
func redactErr(err error) string {
	s := err.Error()
	if i := strings.Index(s, "?"); i >= 0 {
		if j := strings.IndexAny(s[i:], " \""); j >= 0 {
			return s[:i] + "?…" + s[i+j:]
		}
		return s[:i] + "?…"
	}
	return s
}

// withDebug makes the config's HTTP client log through debugTransport.
func withDebug(cfg *aws.Config, w io.Writer) {
	base := http.DefaultTransport
	if hc, ok := cfg.HTTPClient.(*http.Client); ok && hc.Transport != nil {
		base = hc.Transport
	}
	cfg.HTTPClient = &http.Client{Transport: &debugTransport{base: base, w: w}}
}
