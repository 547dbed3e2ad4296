package awssim

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Clients of the real SDK pointed at an endpoint: static credentials,
// retries off, so every error a test sees is the first answer.

// testCreds are dummy static credentials the Sim accepts (any signature is).
var testCreds = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIATESTOPERATOR0000", SecretAccessKey: "test-secret"}, nil
})

// endpoint serves sim on a loopback httptest server for the test.
func endpoint(t *testing.T, sim *Sim) string {
	t.Helper()
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		sim.Release()
		srv.Close()
	})
	return srv.URL
}

func iamClient(url string) *iam.Client {
	return iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: testCreds, RetryMaxAttempts: 1})
}

func stsClient(url string) *sts.Client {
	return sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: testCreds, RetryMaxAttempts: 1})
}

func r53Client(url string) *route53.Client {
	return route53.New(route53.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: testCreds, RetryMaxAttempts: 1})
}
