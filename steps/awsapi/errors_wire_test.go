package awsapi

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// signedError is an AWS error answered to a request signed for region.
func signedError(service, operation, region string, status int, code, msg string) error {
	req, err := http.NewRequest(http.MethodPost, "https://example.invalid/", nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/"+region+"/"+strings.ToLower(service)+"/aws4_request, SignedHeaders=host, Signature=abc")
	resp := &smithyhttp.Response{Response: &http.Response{StatusCode: status, Request: req}}
	return &smithy.OperationError{ServiceID: service, OperationName: operation,
		Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: resp, Err: &smithy.GenericAPIError{Code: code, Message: msg}}}}
}

// An unknown token in an opt-in region means the region is not enabled
// (AWS Account Management Reference Guide, "Enable or disable AWS Regions
// in your account"); in a default region it means the credentials. An
// account quota (SES LimitExceededException, IAM LimitExceeded) is said to
// be a quota, not throttling.
func TestExplainRegionAndQuota(t *testing.T) {
	const invalid = "The security token included in the request is invalid."
	tests := []struct {
		name, op string
		err      error
		want     []string
		notWant  string
	}{
		{"STS in an opt-in region not enabled", "sts:GetCallerIdentity",
			signedError("STS", "GetCallerIdentity", "af-south-1", 403, "InvalidClientTokenId", invalid),
			[]string{"af-south-1 is an opt-in region", "not enabled for the account", "aws account enable-region --region-name af-south-1", "--region"}, "does not accept these credentials"},
		{"SES v2 in an opt-in region not enabled", "ses:GetAccount",
			signedError("SESv2", "GetAccount", "eu-south-1", 403, "UnrecognizedClientException", invalid),
			[]string{"eu-south-1 is an opt-in region", "UnrecognizedClientException"}, "does not accept these credentials"},
		{"the same answer in a default region is the credentials", "sts:GetCallerIdentity",
			signedError("STS", "GetCallerIdentity", "us-east-1", 403, "InvalidClientTokenId", invalid),
			[]string{"does not accept these credentials"}, "opt-in"},
		{"SES LimitExceededException is a quota, not a rate", "ses:CreateEmailIdentity",
			signedError("SESv2", "CreateEmailIdentity", "us-east-1", 400, "LimitExceededException", "Maximum number of identities reached."),
			[]string{"SES account quota", "waiting does not help", "10,000 identities per region", "Service Quotas"}, "throttl"},
		{"IAM LimitExceeded is a quota", "iam:CreateUser",
			signedError("IAM", "CreateUser", "us-east-1", 409, "LimitExceeded", "Cannot exceed quota for UsersPerAccount: 5000"),
			[]string{"IAM account quota", "Service Quotas"}, "throttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Explain(tt.op, "", tt.err)
			var ae *Error
			if !errors.As(got, &ae) {
				t.Fatalf("Explain = %T %v", got, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(ae.Error(), w) {
					t.Errorf("explanation lacks %q:\n%s", w, ae.Error())
				}
			}
			if tt.notWant != "" && strings.Contains(ae.Hint, tt.notWant) {
				t.Errorf("hint has %q:\n%s", tt.notWant, ae.Hint)
			}
		})
	}
}

func TestIsQuotaExceeded(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"LimitExceededException", true},
		{"LimitExceeded", true},
		{"TooManyRequestsException", false},
		{"Throttling", false},
	}
	for _, tt := range tests {
		if got := IsQuotaExceeded(&smithy.GenericAPIError{Code: tt.code}); got != tt.want {
			t.Errorf("IsQuotaExceeded(%s) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

// The opt-in list holds the regions launched after March 20, 2019 that
// sesame can be pointed at, and none of the default ones.
func TestOptInRegions(t *testing.T) {
	for _, r := range []string{"af-south-1", "ap-southeast-3", "eu-south-1", "il-central-1", "me-south-1", "eu-central-2", "ap-south-2"} {
		if !IsOptInRegion(r) {
			t.Errorf("%s is an opt-in region", r)
		}
	}
	for _, r := range []string{"us-east-1", "eu-west-1", "ap-northeast-3", "eu-north-1", "eu-west-3", ""} {
		if IsOptInRegion(r) {
			t.Errorf("%q is enabled by default", r)
		}
	}
	l := OptInRegions()
	l[0] = "changed"
	if OptInRegions()[0] == "changed" {
		t.Error("OptInRegions shares its list")
	}
}
