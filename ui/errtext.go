package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sesame-tool/sesame/steps/awsapi"
)

// sayError is a run's error in the operator's words, and the Go or SDK
// text behind it (details, "" when there is none to add). An AWS error
// with a code says what AWS answered; one without (the call never got an
// answer: no credentials, no network, a dropped connection) says which,
// and keeps the SDK's chain of "operation error …" for the details.
func sayError(err error) (msg, details string) {
	if err == nil {
		return "", ""
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted: the run was stopped before it ended", ""
	}
	var ae *awsapi.Error
	if !errors.As(err, &ae) {
		return err.Error(), ""
	}
	what := ae.Op
	if ae.Resource != "" {
		what += " on " + ae.Resource
	}
	if ae.Code != "" {
		s := fmt.Sprintf("%s failed: AWS answered %s", what, ae.Code)
		if ae.Message != "" {
			s += ": " + ae.Message
		}
		return s, ""
	}
	return what + " failed: " + sdkCause(ae.Message), ae.Message
}

// sdkCause says in words why an AWS call got no answer, from the SDK's
// text (these failures carry no AWS error code).
func sdkCause(s string) string {
	l := strings.ToLower(s)
	switch {
	case strings.Contains(l, "no ec2 imds role found") || strings.Contains(l, "failed to retrieve credentials") || strings.Contains(l, "get credentials"):
		return "no AWS credentials were found (environment, ~/.aws, SSO or the EC2 instance role)"
	case strings.Contains(l, "deadline exceeded") || strings.Contains(l, "timeout") || strings.Contains(l, "timed out"):
		return "AWS did not answer in time"
	case strings.Contains(l, "connection refused"):
		return "the AWS endpoint refused the connection"
	case strings.Contains(l, "no such host") || strings.Contains(l, "server misbehaving"):
		return "the AWS endpoint's name does not resolve (DNS)"
	case strings.Contains(l, "eof") || strings.Contains(l, "connection reset") || strings.Contains(l, "statuscode: 0"):
		return "the connection to AWS dropped before an answer came"
	case strings.Contains(l, "certificate") || strings.Contains(l, "x509") || strings.Contains(l, "tls"):
		return "the TLS connection to AWS failed (a proxy or a missing CA certificate?)"
	default:
		return "the call got no answer from AWS"
	}
}
