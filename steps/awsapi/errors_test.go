package awsapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
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
			var ae *Error
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

// sdkHTTPError builds a failed call the way the SDK reports it: an
// OperationError around an awshttp.ResponseError holding the HTTP answer,
// around inner (the deserializer's error or an API error).
func sdkHTTPError(service, operation, url string, status int, inner error) error {
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		panic(err)
	}
	resp := &smithyhttp.Response{Response: &http.Response{StatusCode: status, Request: req}}
	return &smithy.OperationError{ServiceID: service, OperationName: operation,
		Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: resp, Err: inner}}}
}

// An HTTP status without an AWS error code is the endpoint's answer, not
// AWS's and not the network's: each is explained by what answered and
// which variable points there. Real AWS errors keep their explanation.
func TestExplainHTTPStatus(t *testing.T) {
	const ep = "http://127.0.0.1:4566"
	eof := errors.New("deserialization failed, EOF")
	unknown := &smithy.GenericAPIError{Code: "UnknownError", Message: "UnknownError"}
	tests := []struct {
		name     string
		op       string
		err      error
		wantCode string
		want     []string
		notWant  string
	}{
		{"404 from an endpoint without the API (query protocol)", "iam:GetUser",
			sdkHTTPError("IAM", "GetUser", ep+"/", 404, eof), "",
			[]string{"the endpoint at " + ep + " does not serve IAM GetUser (HTTP 404)", "AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_IAM"}, "network"},
		{"404 the SDK calls UnknownError (REST protocols)", "ses:GetAccount",
			sdkHTTPError("SESv2", "GetAccount", ep+"/v2/email/account", 404, unknown), "",
			[]string{"the endpoint at " + ep + "/v2/email/account does not serve SESv2 GetAccount (HTTP 404)", "AWS_ENDPOINT_URL_SESV2"}, "network"},
		{"404 on Route 53 names its variable with an underscore", "route53:ListHostedZonesByName",
			sdkHTTPError("Route 53", "ListHostedZonesByName", ep+"/2013-04-01/hostedzonesbyname?dnsname=example.com", 404, unknown), "",
			[]string{"does not serve Route 53 ListHostedZonesByName", "AWS_ENDPOINT_URL_ROUTE_53", ep + "/2013-04-01/hostedzonesbyname does"}, "dnsname"},
		{"403 without a code is a proxy or firewall", "sts:GetCallerIdentity",
			sdkHTTPError("STS", "GetCallerIdentity", ep, 403, eof), "",
			[]string{"refused STS GetCallerIdentity with HTTP 403 but no AWS error", "proxy or firewall", "HTTPS_PROXY"}, "sesame policy"},
		{"407 asks for the proxy's login", "sts:GetCallerIdentity",
			sdkHTTPError("STS", "GetCallerIdentity", ep, 407, eof), "",
			[]string{"proxy", "HTTPS_PROXY", "HTTP 407"}, "network"},
		{"502 without a code is a gateway in between", "iam:CreateUser",
			sdkHTTPError("IAM", "CreateUser", ep, 502, eof), "",
			[]string{"failed IAM CreateUser with HTTP 502 on every retry", "proxy or gateway", "run sesame again"}, ""},
		{"405 is something that is not the service", "iam:CreateUser",
			sdkHTTPError("IAM", "CreateUser", ep, 405, eof), "",
			[]string{"answered IAM CreateUser with HTTP 405", "it is not IAM", "AWS_ENDPOINT_URL_IAM"}, "network"},
		{"without the SDK's operation error the IAM action names the call", "iam:CreateUser",
			&awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 404}}, Err: eof}}, "",
			[]string{"the endpoint does not serve iam:CreateUser (HTTP 404)", "AWS_ENDPOINT_URL_<SERVICE>"}, ""},
		{"a real AWS 404 keeps its code and message", "iam:GetUser",
			sdkHTTPError("IAM", "GetUser", "https://iam.amazonaws.com/", 404, &smithy.GenericAPIError{Code: "NoSuchEntity", Message: "The user with name u cannot be found."}), "NoSuchEntity",
			[]string{"cannot be found"}, "does not serve"},
		{"a real AWS denial keeps its hint", "iam:CreateUser",
			sdkHTTPError("IAM", "CreateUser", "https://iam.amazonaws.com/", 403, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized"}), "AccessDenied",
			[]string{"sesame policy"}, "proxy"},
		{"AWS's own 5xx after the retries is AWS's side", "ses:CreateEmailIdentity",
			sdkHTTPError("SESv2", "CreateEmailIdentity", "https://email.us-east-1.amazonaws.com/v2/email/identities", 503, &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "Service Unavailable"}), "ServiceUnavailable",
			[]string{"AWS kept answering ServiceUnavailable (HTTP 503)", "run sesame again"}, "AWS_ENDPOINT_URL"},
		{"a credential provider's 404 (no IMDS role) is missing credentials", "sts:GetCallerIdentity",
			&smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity", Err: fmt.Errorf("get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, %w",
				sdkHTTPError("ec2imds", "GetMetadata", "http://169.254.169.254/latest/meta-data/iam/security-credentials/", 404, eof))}, "",
			[]string{"found no AWS credentials"}, "does not serve"},
		{"no HTTP answer at all is still the network", "iam:CreateUser",
			&smithy.OperationError{ServiceID: "IAM", OperationName: "CreateUser", Err: errors.New("dial tcp 10.0.0.1:443: connect: connection refused")}, "",
			[]string{"check the network connection"}, "does not serve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Explain(tt.op, "", tt.err)
			var ae *Error
			if !errors.As(got, &ae) {
				t.Fatalf("Explain = %T %v, want an *Error", got, got)
			}
			if ae.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q", ae.Code, tt.wantCode)
			}
			text := got.Error()
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("explanation lacks %q:\n%s", w, text)
				}
			}
			if tt.notWant != "" && strings.Contains(text, tt.notWant) {
				t.Errorf("explanation says %q:\n%s", tt.notWant, text)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("the explained error does not wrap the original")
			}
		})
	}
}

// A call nobody answered is explained (what went unanswered, what to do)
// even when the SDK wrapped it, and is not taken for a cancelled run.
func TestExplainCallTimeout(t *testing.T) {
	cte := &CallTimeoutError{Service: "IAM", Operation: "CreateUser", Endpoint: "https://iam.amazonaws.com", Limit: 30 * time.Second, Attempts: 3}
	for _, err := range []error{
		cte,
		&smithy.OperationError{ServiceID: "IAM", OperationName: "CreateUser", Err: cte},
		&smithy.OperationError{ServiceID: "IAM", OperationName: "CreateUser", Err: &retry.MaxAttemptsError{Attempt: 5, Err: cte}},
	} {
		got := Explain("iam:CreateUser", "arn:aws:iam::123456789012:user/u", err)
		var ae *Error
		if !errors.As(got, &ae) {
			t.Fatalf("Explain(%v) = %v, want an *Error", err, got)
		}
		if ae.Message != "IAM at https://iam.amazonaws.com did not answer CreateUser within 30s, 3 times" {
			t.Errorf("Message = %q", ae.Message)
		}
		for _, w := range []string{"network", "AWS_ENDPOINT_URL_IAM", "run sesame again"} {
			if !strings.Contains(ae.Hint, w) {
				t.Errorf("Hint lacks %q: %q", w, ae.Hint)
			}
		}
		if errors.Is(got, context.Canceled) || errors.Is(got, context.DeadlineExceeded) {
			t.Errorf("Explain(%v) = %v, which reads as a cancelled run", err, got)
		}
	}
}

// The summary counts what it knows; the error alone says what to do.
func TestCallTimeoutErrorText(t *testing.T) {
	tests := []struct {
		e    CallTimeoutError
		want string
	}{
		{CallTimeoutError{Service: "IAM", Operation: "GetUser", Limit: time.Second}, "IAM did not answer GetUser within 1s"},
		{CallTimeoutError{Service: "STS", Operation: "GetCallerIdentity", Endpoint: "http://127.0.0.1:1", Limit: 2 * time.Second, Attempts: 1}, "STS at http://127.0.0.1:1 did not answer GetCallerIdentity within 2s (1 attempt)"},
		{CallTimeoutError{Service: "Route 53", Operation: "GetChange", Limit: 30 * time.Second, Attempts: 3}, "Route 53 did not answer GetChange within 30s, 3 times"},
	}
	for _, tt := range tests {
		if got := tt.e.Summary(); got != tt.want {
			t.Errorf("Summary() = %q, want %q", got, tt.want)
		}
		if got := tt.e.Error(); !strings.HasPrefix(got, tt.want+": ") || !strings.Contains(got, "run sesame again") {
			t.Errorf("Error() = %q, want the summary and what to do", got)
		}
	}
}

func TestEndpointEnvVar(t *testing.T) {
	for in, want := range map[string]string{
		"IAM": "AWS_ENDPOINT_URL_IAM", "STS": "AWS_ENDPOINT_URL_STS", "SESv2": "AWS_ENDPOINT_URL_SESV2",
		"Route 53": "AWS_ENDPOINT_URL_ROUTE_53", "": "AWS_ENDPOINT_URL_<SERVICE>",
	} {
		if got := EndpointEnvVar(in); got != want {
			t.Errorf("EndpointEnvVar(%q) = %q, want %q", in, got, want)
		}
	}
}
