package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

// Explain gives each kind of failure its next action: the fix for a skewed
// clock, an expired SSO login, rejected credentials, throttling, a denial,
// and no credentials at all.
func TestExplainHints(t *testing.T) {
	api := func(code, msg string) error {
		return fmt.Errorf("operation error STS: GetCallerIdentity, https response error StatusCode: 403, RequestID: 1, %w", &smithy.GenericAPIError{Code: code, Message: msg})
	}
	const (
		clock   = "clock is off"
		sso     = "aws sso login"
		creds   = "does not accept these credentials"
		noCreds = "found no AWS credentials"
	)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"RequestTimeTooSkewed", api("RequestTimeTooSkewed", "The difference between the request time and the current time is too large."), clock},
		{"signature expired", api("SignatureDoesNotMatch", "Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z (20260101T002500Z - 15 min.)"), clock},
		{"signature not yet current", api("SignatureDoesNotMatch", "Signature not yet current: 20260101T003000Z is still later than 20260101T002000Z (20260101T000500Z + 15 min.)"), clock},
		{"JSON service signature expired", api("InvalidSignatureException", "Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z"), clock},
		{"wrong secret key", api("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."), creds},
		{"unknown key", api("InvalidClientTokenId", "The security token included in the request is invalid."), creds},
		{"ExpiredToken", api("ExpiredToken", "The security token included in the request is expired"), sso},
		{"ExpiredTokenException", api("ExpiredTokenException", "The security token included in the request is expired"), sso},
		{"SSO session expired (no code)", errors.New("operation error STS: GetCallerIdentity, get identity: get credentials: failed to refresh cached credentials, the SSO session has expired or is invalid: open /home/op/.aws/sso/cache/abc.json: no such file or directory"), sso},
		{"cached SSO token expired", errors.New("operation error SES: GetAccount, get identity: get credentials: failed to refresh cached credentials, refresh cached SSO token failed, cached SSO token is expired, or not present, and cannot be refreshed"), sso},
		{"throttled out of tries", api("Throttling", "Rate exceeded"), "kept throttling"},
		{"PriorRequestNotComplete out of tries", api("PriorRequestNotComplete", "still processing a prior request"), "kept throttling"},
		{"denied", api("AccessDenied", "User: arn:aws:iam::123456789012:user/op is not authorized to perform: iam:CreateUser"), "sesame policy"},
		{"no credentials", errors.New("operation error STS: GetCallerIdentity, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found"), noCreds},
		{"network", errors.New("dial tcp 10.0.0.1:443: connect: connection refused"), "network connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Explain("sts:GetCallerIdentity", "", tt.err)
			var ae *AWSError
			if !errors.As(got, &ae) || !strings.Contains(ae.Hint, tt.want) {
				t.Fatalf("Explain(%v) = %v, want a hint with %q", tt.err, got, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("the explained error does not wrap the original")
			}
		})
	}
}

// Cancellation is not an AWS failure: Explain passes it through, so the
// front ends exit 130, not 1.
func TestExplainPassesCancellation(t *testing.T) {
	for _, err := range []error{context.Canceled, fmt.Errorf("operation error IAM: CreateUser, %w", context.Canceled), context.DeadlineExceeded} {
		if got := Explain("iam:CreateUser", "u", err); got != err {
			t.Errorf("Explain(%v) = %v, want it unchanged", err, got)
		}
	}
}
