package steps

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/sesame-tool/sesame/steps/awsapi"
)

// An AWS call nobody answered is an error (exit 1), not a cancelled run
// (130), however the SDK wrapped it; a real cancellation stays 130.
func TestExitCodeOfAWSFailures(t *testing.T) {
	cte := &awsapi.CallTimeoutError{Service: "IAM", Operation: "CreateUser", Limit: 30 * time.Second, Attempts: 3}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"unanswered call", awsapi.Explain("iam:CreateUser", "u", cte), 1},
		{"unanswered call after retries", awsapi.Explain("iam:CreateUser", "u",
			&smithy.OperationError{ServiceID: "IAM", OperationName: "CreateUser", Err: &retry.MaxAttemptsError{Attempt: 5, Err: cte}}), 1},
		{"denied", awsapi.Explain("iam:CreateUser", "u", &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}), 1},
		{"cancelled", awsapi.Explain("iam:CreateUser", "u", fmt.Errorf("operation error IAM: CreateUser, %w", context.Canceled)), 130},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
			if tt.want == 1 && !errors.As(tt.err, new(*awsapi.Error)) {
				t.Errorf("%v is not explained", tt.err)
			}
		})
	}
}
