package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
)

// defaultCallTimeout bounds one attempt of one AWS call: every call sesame
// makes answers in a second or two, so 30 s of silence means the endpoint
// (or the path to it) is not going to answer.
const defaultCallTimeout = 30 * time.Second

// timeoutAttempts is how many unanswered attempts of one call sesame makes
// before it gives up: fewer than maxAttempts, so that a silent endpoint
// ends an unattended run in about a minute and a half, not two and a half.
const timeoutAttempts = 3

// callTimeoutEnv sets the per-attempt deadline (a Go duration). It is
// there for tests, which need a silent endpoint to fail in seconds, and
// for operators behind very slow links; it is not advertised.
const callTimeoutEnv = "SESAME_AWS_CALL_TIMEOUT"

// callTimeout reads the per-attempt deadline from SESAME_AWS_CALL_TIMEOUT,
// defaultCallTimeout when unset.
func callTimeout(getenv func(string) string) (time.Duration, error) {
	v := getenv(callTimeoutEnv)
	if v == "" {
		return defaultCallTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, &steps.InputError{Field: callTimeoutEnv, Msg: fmt.Sprintf("%q is not a positive duration; use for example 30s or 2m, or unset it for the default %s", v, defaultCallTimeout)}
	}
	return d, nil
}

// attemptTimeout is a Finalize middleware placed right after the SDK's
// retry middleware, so it runs once per attempt: it gives the attempt a
// deadline and turns the attempt's silence into a *awsapi.CallTimeoutError,
// which the retryer retries (a hung attempt is retried like a dropped
// connection) and awsapi.Explain explains.
type attemptTimeout struct{ limit time.Duration }

func (attemptTimeout) ID() string { return "SesameAttemptTimeout" }

func (m attemptTimeout) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	actx, cancel := context.WithTimeout(ctx, m.limit)
	defer cancel()
	// Every output sesame reads is deserialized inside next (no streaming
	// bodies), so cancelling when next returns cuts nothing short.
	out, md, err := next.HandleFinalize(actx, in)
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		cte := &awsapi.CallTimeoutError{
			Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx), Limit: m.limit,
		}
		if req, ok := in.Request.(*smithyhttp.Request); ok && req.URL != nil {
			cte.Endpoint = req.URL.Scheme + "://" + req.URL.Host
		}
		return out, md, cte
	}
	return out, md, err
}

// withAttemptTimeout adds attemptTimeout to a client's stack (as an
// APIOptions entry).
func withAttemptTimeout(limit time.Duration) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Insert(attemptTimeout{limit: limit}, "Retry", middleware.After)
	}
}
