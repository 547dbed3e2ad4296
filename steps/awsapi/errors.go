package awsapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Error is a failed AWS call explained for the operator: what failed,
// AWS's code and message, and what to do next.
type Error struct {
	// Op is "iam:CreateUser" style: the IAM action of the call.
	Op string
	// Resource is what the call was about (a user name, a zone id, a domain).
	Resource string
	Code     string
	Message  string
	// Hint is the next action, in the operator's words.
	Hint string
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", e.Op)
	if e.Resource != "" {
		fmt.Fprintf(&b, " on %s", e.Resource)
	}
	b.WriteString(" failed")
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "\n  → %s", e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// accessDeniedCodes are the codes AWS services use for a denied action.
var accessDeniedCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
	"AuthorizationError": true, "NotAuthorized": true,
}

// IsAccessDenied reports whether err is an AWS access-denied error.
func IsAccessDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && accessDeniedCodes[ae.ErrorCode()]
}

// ErrorCode returns the AWS error code of err, or "".
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Explain wraps a failed AWS call in an Error with a next action. op is
// the IAM action ("route53:ChangeResourceRecordSets"); resource what it was
// about. Context cancellation passes through unchanged so that Ctrl-C is
// not reported as an AWS failure.
func Explain(op, resource string, err error) error {
	if err == nil {
		return nil
	}
	// Before the cancellation check: a call nobody answered is not a
	// cancelled run, and CallTimeoutError does not wrap DeadlineExceeded.
	var cte *CallTimeoutError
	if errors.As(err, &cte) {
		return &Error{Op: op, Resource: resource, Message: cte.Summary(), Hint: cte.Advice(), Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	e := &Error{Op: op, Resource: resource, Err: err}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e.Code, e.Message = ae.ErrorCode(), ae.ErrorMessage()
	} else {
		e.Message = err.Error()
	}
	// An HTTP answer without an AWS error code ("UnknownError" is the
	// SDK's word for none) came from something that is not the AWS API:
	// an emulator lacking the API, a wrong AWS_ENDPOINT_URL, a proxy.
	resp := httpResponseOf(err)
	if resp != nil && resp.StatusCode >= 300 && (e.Code == "" || e.Code == "UnknownError") {
		e.Code = ""
		e.Message, e.Hint = explainHTTPStatus(op, err, resp)
		return e
	}
	switch {
	case accessDeniedCodes[e.Code]:
		e.Hint = fmt.Sprintf("your AWS identity is not allowed %s: ask your AWS administrator for it (`sesame policy` prints every permission sesame needs), then run sesame again: it resumes where it stopped", op)
	case e.Code == "ExpiredToken" || e.Code == "ExpiredTokenException" || isExpiredSSO(err):
		e.Hint = "your AWS session has expired: run `aws sso login` (with --profile if you use one) and run sesame again"
	case isClockSkew(e.Code, e.Message):
		e.Hint = "this machine's clock is off from AWS's: sync it (for example `sudo timedatectl set-ntp true` or `sudo chronyc makestep`) and run sesame again"
	case (e.Code == "InvalidClientTokenId" || e.Code == "UnrecognizedClientException") && IsOptInRegion(signedRegion(resp)):
		r := signedRegion(resp)
		e.Hint = fmt.Sprintf("%s is an opt-in region, and AWS answers %s there when the region is not enabled for the account (the credentials may be fine): enable it (AWS console → Account → AWS Regions, or `aws account enable-region --region-name %s`; it can take minutes to hours), or choose another --region", r, e.Code, r)
	case e.Code == "InvalidClientTokenId" || e.Code == "UnrecognizedClientException" || e.Code == "SignatureDoesNotMatch" || e.Code == "InvalidSignatureException":
		e.Hint = "AWS does not accept these credentials: check AWS_PROFILE / --profile, `aws sts get-caller-identity`, and that the secret key is complete"
	case IsQuotaExceeded(err):
		e.Hint = quotaHint(op)
	case isThrottle(e.Code):
		e.Hint = "AWS kept throttling after several retries: wait a minute and run sesame again; it resumes where it stopped"
	case resp != nil && resp.StatusCode >= 500:
		e.Hint = fmt.Sprintf("AWS kept answering %s (HTTP %d) after several retries, a failure on AWS's side: wait a few minutes and run sesame again; it resumes where it stopped", e.Code, resp.StatusCode)
	case e.Code == "":
		if isCredentialsFailure(e.Message) {
			e.Hint = "sesame found no AWS credentials: set AWS_PROFILE or pass --profile, run `aws configure` or `aws sso login`, or try `sesame --demo`"
		} else {
			e.Hint = "check the network connection to AWS and run sesame again; it resumes where it stopped"
		}
	}
	return e
}

// isCredentialsFailure reports whether an error text is the SDK's word for
// credentials that could not be loaded (no profile, no IMDS role).
func isCredentialsFailure(msg string) bool {
	return strings.Contains(msg, "no EC2 IMDS role found") || strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "get credentials")
}

// optInRegions are the regions disabled by default: AWS Account Management
// Reference Guide, "Enable or disable AWS Regions in your account":
// regions launched after March 20, 2019 are opt-in and must be enabled
// before use. A request to a region that is not enabled fails with
// InvalidClientTokenId (STS, IAM-style query APIs) or
// UnrecognizedClientException (JSON APIs such as SES v2): the token is
// not known there, whatever the credentials are.
var optInRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2",
	"il-central-1", "me-central-1", "me-south-1", "mx-central-1",
}

// OptInRegions returns the regions that are disabled by default (see
// optInRegions for the source).
func OptInRegions() []string { return append([]string(nil), optInRegions...) }

// IsOptInRegion reports whether region must be enabled for an account
// before use.
func IsOptInRegion(region string) bool {
	for _, r := range optInRegions {
		if r == region {
			return true
		}
	}
	return false
}

// signedRegion returns the region the failed request was signed for, from
// its SigV4 credential scope (".../20260101/af-south-1/ses/aws4_request"),
// or "". Only the scope is read: never the key id or the signature.
func signedRegion(resp *http.Response) string {
	if resp == nil || resp.Request == nil {
		return ""
	}
	h := resp.Request.Header.Get("Authorization")
	_, cred, ok := strings.Cut(h, "Credential=")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(cred, ", "); i >= 0 {
		cred = cred[:i]
	}
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[2]
}

// IsQuotaExceeded reports whether err is an account quota reached, not a
// rate: SES's LimitExceededException ("There are too many instances of
// the specified resource type", SESv2 API Reference, Common Errors and the
// Errors of CreateEmailIdentity) and IAM's LimitExceeded ("the request
// was rejected because it attempted to create resources beyond the
// current AWS account limits", IAM API Reference, CreateUser and
// CreateAccessKey, Errors). The Go SDK's standard retryer counts
// LimitExceededException among its throttle codes (aws/retry
// DefaultThrottles) and would retry it five times: it never clears by
// waiting, so sesame does not retry it.
func IsQuotaExceeded(err error) bool {
	switch ErrorCode(err) {
	case "LimitExceededException", "LimitExceeded":
		return true
	}
	return false
}

// quotaHint says what to do about an account quota reached in op.
func quotaHint(op string) string {
	service, _, _ := strings.Cut(op, ":")
	switch service {
	case "ses":
		return "an SES account quota is reached (a limit on how many, not on how fast: waiting does not help). An account holds at most 10,000 identities per region (Amazon SES Developer Guide, \"Service quotas in Amazon SES\"): delete identities you no longer use (`aws sesv2 list-email-identities`), or ask for more in the Service Quotas console, then run sesame again; it resumes where it stopped"
	case "iam":
		return "an IAM account quota is reached (a limit on how many, not on how fast: waiting does not help): delete what you no longer use (IAM users, access keys) or ask for more in the Service Quotas console, then run sesame again; it resumes where it stopped"
	}
	return "an AWS account quota is reached (a limit on how many, not on how fast: waiting does not help): free some of it or ask for more in the Service Quotas console, then run sesame again"
}

func isThrottle(code string) bool {
	switch code {
	case "Throttling", "ThrottlingException", "TooManyRequestsException", "PriorRequestNotComplete", "RequestLimitExceeded", "SlowDown":
		return true
	}
	return false
}

// isExpiredSSO reports whether err is the SDK's word for an expired SSO
// login or session token. These carry no AWS error code: the SDK fails
// while loading credentials, so the texts are what there is to match
// (ssocreds' InvalidTokenError, the SSO token provider, the session token
// services' "token has expired").
func isExpiredSSO(err error) bool {
	s := strings.ToLower(err.Error())
	for _, m := range []string{"sso session has expired", "cached sso token is expired", "refresh cached sso token", "token has expired", "token is expired"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// isClockSkew reports whether an AWS error says the request's time is off:
// RequestTimeTooSkewed, or a signature error whose message says the
// signature expired or is not yet current (what STS, IAM, Route 53 and the
// JSON services' InvalidSignatureException answer to a skewed clock).
func isClockSkew(code, msg string) bool {
	if code == "RequestTimeTooSkewed" {
		return true
	}
	if code != "SignatureDoesNotMatch" && code != "InvalidSignatureException" {
		return false
	}
	m := strings.ToLower(msg)
	return strings.Contains(m, "signature expired") || strings.Contains(m, "not yet current") || strings.Contains(m, "time")
}

// httpResponseOf returns the HTTP answer the failed call itself got, or nil
// if it got none (no connection, a cancelled run). An answer to a call the
// credential providers made on its behalf (IMDS, SSO, an assumed role) is
// not the endpoint's: it sits inside a second operation error, or the SDK
// says it failed to get credentials. awshttp.ResponseError passes
// errors.As on to the smithy one it embeds.
func httpResponseOf(err error) *http.Response {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil || re.Response.Response == nil {
		return nil
	}
	var outer, inner *smithy.OperationError
	if errors.As(err, &outer) && errors.As(outer.Err, &inner) {
		return nil
	}
	if isCredentialsFailure(err.Error()) || isExpiredSSO(err) {
		return nil
	}
	return re.Response.Response
}

// explainHTTPStatus explains an HTTP error status that carries no AWS
// error: the message says what came back, the hint where to look. op
// ("ses:GetAccount") names the call when the SDK's operation error is
// missing.
func explainHTTPStatus(op string, err error, resp *http.Response) (msg, hint string) {
	service, call, envVar := "", op, EndpointEnvVar("")
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		service, call, envVar = oe.ServiceID, oe.ServiceID+" "+oe.OperationName, EndpointEnvVar(oe.ServiceID)
	}
	if service == "" {
		service = "the AWS service"
	}
	endpoint := "the endpoint"
	if resp.Request != nil && resp.Request.URL != nil {
		u := resp.Request.URL
		endpoint = "the endpoint at " + u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/")
	}
	code := resp.StatusCode
	msg = fmt.Sprintf("HTTP %d %s with no AWS error in the answer", code, http.StatusText(code))
	check := fmt.Sprintf("check AWS_ENDPOINT_URL / %s", envVar)
	switch {
	case code == http.StatusNotFound:
		hint = fmt.Sprintf("%s does not serve %s (HTTP 404): %s", endpoint, call, check)
	case code == http.StatusProxyAuthRequired:
		hint = fmt.Sprintf("a proxy between here and AWS wants a login (HTTP 407) for %s: check HTTPS_PROXY / HTTP_PROXY and the proxy's credentials", call)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		hint = fmt.Sprintf("%s refused %s with HTTP %d but no AWS error, so it is not %s itself: a proxy or firewall in between (check HTTPS_PROXY), or %s", endpoint, call, code, service, check)
	case code >= 500:
		hint = fmt.Sprintf("%s failed %s with HTTP %d on every retry, without an AWS error: a proxy or gateway in between, or the endpoint itself, is failing; %s (and HTTPS_PROXY), or wait a few minutes and run sesame again; it resumes where it stopped", endpoint, call, code, check)
	default:
		hint = fmt.Sprintf("%s answered %s with HTTP %d, not with an AWS answer: it is not %s; %s (and HTTPS_PROXY)", endpoint, call, code, service, check)
	}
	return msg, hint
}
