package steps_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/awssim"
	"github.com/sesame-tool/sesame/steps/state"
)

// TestSandboxProductionRequestAgainstSim sends the production-access
// request to the simulator, which checks it by SES's documented rules, not
// sesame's: an operator who gives no extra contact (an empty answer, or
// --contact-email "") must not make sesame send an empty
// AdditionalContactEmailAddresses list, which SES refuses (1 to 4 items
// when present).
func TestSandboxProductionRequestAgainstSim(t *testing.T) {
	tests := []struct {
		name     string
		contacts []string
	}{
		{"no contacts given", nil},
		{"an empty contact list", []string{}},
		{"two contacts", []string{"ops@example.com", "postmaster@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := awssim.New(awssim.Options{})
			srv := httptest.NewServer(sim)
			t.Cleanup(srv.Close)
			cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("AKIASANDBOX000000000", "sandbox-secret", "")}
			env := steps.NewEnv(sdkClients(cfg), &state.Answers{Domain: "example.com", Region: "us-east-1"},
				steps.Options{NoInput: true, Yes: true, RequestProduction: true, Production: steps.ProductionRequest{
					MailType: "TRANSACTIONAL", WebsiteURL: "https://www.example.com", UseCase: "receipts", Contacts: tt.contacts}})
			ctx := context.Background()
			s := &steps.Sandbox{}
			if res, err := s.Check(ctx, env); err != nil || res.Status != steps.StatusTodo {
				t.Fatalf("Check = %+v %v, want todo", res, err)
			}
			if _, err := s.Plan(ctx, env); err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if err := s.Apply(ctx, env); err != nil {
				t.Fatalf("Apply: %v", err)
			}
		})
	}
}

// sdkClients builds the real SDK clients from cfg, without the front end's
// retryer and call deadline: what the tests against the simulator need.
func sdkClients(cfg aws.Config) awsapi.Clients {
	return awsapi.Clients{
		STS:     sts.NewFromConfig(cfg),
		SES:     sesv2.NewFromConfig(cfg),
		Route53: route53.NewFromConfig(cfg),
		IAM:     iam.NewFromConfig(cfg),
	}
}
