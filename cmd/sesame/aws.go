package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
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
	"github.com/sesame-tool/sesame/steps/awsapi"
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
// the operator when a call is retried ("retrying (2/5): throttled by Route 53")
// and a deadline of callTimeout on each attempt, so that an endpoint that
// never answers ends the run instead of holding it for ever.
func newClients(cfg aws.Config, emit func(steps.Event), callTimeout time.Duration) awsapi.Clients {
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), withAttemptTimeout(callTimeout))
	r := func(service string) func() aws.Retryer {
		return func() aws.Retryer {
			return &reportingRetryer{
				RetryerV2: retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = maxAttempts }),
				service:   service, emit: emit,
			}
		}
	}
	cfg.APIOptions = append(cfg.APIOptions, slowCallReporter(emit))
	return awsapi.Clients{
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

// IsErrorRetryable is the standard retryer's answer, except for an account
// quota reached (awsapi.IsQuotaExceeded): the SDK counts SES's
// LimitExceededException as throttling, but a quota does not clear by
// waiting, so the call fails at once and the operator is told why.
func (r *reportingRetryer) IsErrorRetryable(err error) bool {
	if awsapi.IsQuotaExceeded(err) {
		return false
	}
	return r.RetryerV2.IsErrorRetryable(err)
}

// RetryDelay reports the retry, then returns the standard delay. A call
// that went unanswered timeoutAttempts times is not tried again: the error
// returned here ends the call, counting the attempts made.
func (r *reportingRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	tries := r.MaxAttempts()
	var cte *awsapi.CallTimeoutError
	if errors.As(err, &cte) {
		if attempt >= timeoutAttempts {
			cte.Attempts = attempt
			return 0, err
		}
		tries = min(tries, timeoutAttempts)
	}
	d, derr := r.RetryerV2.RetryDelay(attempt, err)
	if derr == nil && r.emit != nil {
		r.emit(steps.Event{
			Kind: steps.EventRetrying, Attempt: attempt + 1, MaxAttempts: tries,
			Detail: retryReason(r.service, err), Time: time.Now(),
		})
	}
	return d, derr
}

// retryReason says in words why a call is retried.
func retryReason(service string, err error) string {
	var ae smithy.APIError
	var ne net.Error
	var cte *awsapi.CallTimeoutError
	switch {
	case errors.As(err, &cte):
		return cte.Summary()
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
	action := debugOperation(req)
	if err != nil {
		fmt.Fprintf(t.w, "debug: %s %s%s %s → error %v (%s)\n", req.Method, req.URL.Host, req.URL.Path, action, redactErr(err), time.Since(start).Round(time.Millisecond))
		return resp, err
	}
	fmt.Fprintf(t.w, "debug: %s %s%s %s → %d (%s)\n", req.Method, req.URL.Host, req.URL.Path, action, resp.StatusCode, time.Since(start).Round(time.Millisecond))
	return resp, nil
}

// debugOperation names the request's operation ("IAM CreateUser"). The
// SDK puts the service and operation in the request's context for every
// protocol: IAM and STS (awsQuery) carry their Action in the POST body,
// which is never read here (it can hold a secret), and Route 53 and SES v2
// (REST) carry it in neither the path nor the query. A request made
// outside an SDK operation falls back to the query's Action.
func debugOperation(req *http.Request) string {
	ctx := req.Context()
	if op := awsmiddleware.GetOperationName(ctx); op != "" {
		if svc := awsmiddleware.GetServiceID(ctx); svc != "" {
			return svc + " " + op
		}
		return op
	}
	return req.URL.Query().Get("Action")
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
