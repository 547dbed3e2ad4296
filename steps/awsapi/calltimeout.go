package awsapi

import (
	"fmt"
	"strings"
	"time"
)

// CallTimeoutError is an AWS call that got no answer within its deadline:
// the endpoint accepted the connection (or never did) and stayed silent.
// The front end's per-attempt deadline makes it; the SDK's retryer retries
// it like any transient failure, so it reaches a step only once every
// attempt went unanswered. It deliberately does not wrap
// context.DeadlineExceeded: the run was not cancelled, AWS did not answer.
type CallTimeoutError struct {
	// Service is the SDK's service id ("IAM", "Route 53", "SESv2", "STS");
	// Operation the API operation ("CreateUser").
	Service, Operation string
	// Endpoint is where the request went ("https://iam.amazonaws.com"),
	// or "" if unknown.
	Endpoint string
	// Limit is the deadline of one attempt.
	Limit time.Duration
	// Attempts is how many attempts went unanswered; 0 while the retryer
	// has not yet counted them.
	Attempts int
}

// Summary says what went unanswered, without the advice:
// "IAM (https://iam.amazonaws.com) did not answer CreateUser within 30s, 3 times".
func (e *CallTimeoutError) Summary() string {
	var b strings.Builder
	b.WriteString(e.Service)
	if e.Endpoint != "" {
		fmt.Fprintf(&b, " at %s", e.Endpoint)
	}
	fmt.Fprintf(&b, " did not answer %s within %s", e.Operation, e.Limit)
	switch {
	case e.Attempts == 1:
		b.WriteString(" (1 attempt)")
	case e.Attempts > 1:
		fmt.Fprintf(&b, ", %d times", e.Attempts)
	}
	return b.String()
}

// Advice is the next action for the operator.
func (e *CallTimeoutError) Advice() string {
	return fmt.Sprintf("check the network connection to AWS and, if set, AWS_ENDPOINT_URL / %s, then run sesame again; it resumes where it stopped", EndpointEnvVar(e.Service))
}

// Error is the summary and the advice in one line, so that the error says
// what to do even where no step explained it.
func (e *CallTimeoutError) Error() string { return e.Summary() + ": " + e.Advice() }

// Timeout marks the error as a timeout (net.Error's meaning) so the SDK's
// retry quota charges it as one.
func (e *CallTimeoutError) Timeout() bool { return true }

// RetryableError tells the SDK's standard retryer to retry the call: a
// silent endpoint is a transient failure until the attempts run out.
func (e *CallTimeoutError) RetryableError() bool { return true }

// EndpointEnvVar is the variable that sets one service's endpoint, as the
// SDK and the AWS CLI read it: AWS_ENDPOINT_URL_ plus the service id in
// capitals with spaces as underscores ("Route 53" → AWS_ENDPOINT_URL_ROUTE_53).
func EndpointEnvVar(serviceID string) string {
	if serviceID == "" {
		return "AWS_ENDPOINT_URL_<SERVICE>"
	}
	return "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(serviceID, " ", "_"))
}
