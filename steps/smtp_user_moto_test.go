package steps

import (
	"context"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
)

// startMoto runs moto_server on a free loopback port for the test and
// returns its URL; it skips the test when moto_server is not installed.
func startMoto(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server is not on PATH (pip install 'moto[server]'): skipping the test against moto")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	// Wait until it serves; moto takes a moment to import its services.
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not start on %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSMTPUserAgainstMoto runs the step against moto's IAM with the real
// SDK client, so the wire format (awsQuery, URL-encoded policies, typed
// errors) is exercised. moto is more lenient than IAM in places; the
// two-key limit and the races are proved against the fakes instead.
func TestSMTPUserAgainstMoto(t *testing.T) {
	url := startMoto(t)
	ctx := context.Background()
	client := iam.New(iam.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing", Source: "test"}, nil
		}),
		RetryMaxAttempts: 1,
	})
	e := newSMTPEnv(t)
	e.Clients.IAM = client
	e.Facts.Account = &AccountInfo{ID: "123456789012", Region: "eu-west-1"}
	s := SMTPUser{}

	res, err := s.Check(ctx, e.Env)
	if err != nil || res.Status != StatusTodo {
		t.Fatalf("Check = %s %q %v, want todo", res.Status, res.Detail, err)
	}
	if _, err := s.Plan(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	res, err = s.Check(ctx, e.Env)
	if err != nil || res.Status != StatusDone {
		t.Fatalf("Check after Apply = %s %q %v, want done", res.Status, res.Detail, err)
	}
	if err := s.Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	keys, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(testUser)})
	if err != nil {
		t.Fatal(err)
	}
	entry, err := postfix.ReadSASLPasswd(e.Answers.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != entry.Username {
		t.Errorf("after two Applies: %d keys, on disk %s", len(keys.AccessKeyMetadata), entry.Username)
	}
	pol, err := client.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(testUser), PolicyName: aws.String(ses.SMTPUserPolicyName("eu-west-1"))})
	if err != nil || !samePolicy(aws.ToString(pol.PolicyDocument), ses.SMTPUserPolicy("eu-west-1", "123456789012", "example.com")) {
		t.Errorf("policy in moto = %q, %v", aws.ToString(pol.PolicyDocument), err)
	}
}
