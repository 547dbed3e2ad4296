package postfixtest

import (
	"context"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame-tool/sesame/steps/awssim"
	"github.com/sesame-tool/sesame/steps/ses"
)

// OperatorCreds are the operator's credentials toward the Sim (it takes
// any).
var OperatorCreds = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIATESTOPERATOR0000", SecretAccessKey: "operator-secret"}, nil
})

// SimUser is the IAM user SimAccount makes, the wizard's default name.
const SimUser = "ses-smtp-example-com"

// ServeSim serves the Sim's AWS APIs on a loopback HTTP endpoint for the
// rest of the test and returns its URL.
func ServeSim(t testing.TB, sim *awssim.Sim) string {
	t.Helper()
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Release(); srv.Close() })
	return srv.URL
}

// SimAccount makes in the Sim, through the real SDK clients, what the
// wizard's AWS steps would for region: the IAM user SimUser with sesame's
// send policy (the Sim evaluates it on every SMTP send, as SES does) and
// an access key, and example.com verified in SES (identity, DKIM CNAMEs in
// its hosted zone). It returns the key's id and secret.
func SimAccount(t testing.TB, sim *awssim.Sim, region string) (keyID, secret string) {
	t.Helper()
	url := ServeSim(t, sim)
	ctx := context.Background()
	ic := iam.New(iam.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: OperatorCreds})
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(SimUser)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(SimUser), PolicyName: aws.String(ses.SMTPUserPolicyName(region)),
		PolicyDocument: aws.String(ses.SMTPUserPolicy(region, awssim.DefaultAccountID, "example.com"))}); err != nil {
		t.Fatal(err)
	}
	key, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(SimUser)})
	if err != nil {
		t.Fatal(err)
	}
	sc := sesv2.New(sesv2.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: OperatorCreds})
	id, err := sc.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil {
		t.Fatal(err)
	}
	zone := sim.CreateZone("example.com", false)
	for _, tok := range id.DkimAttributes.Tokens {
		if err := sim.PutRecordSet(zone, tok+"._domainkey.example.com", "CNAME", 300, tok+".dkim.amazonses.com"); err != nil {
			t.Fatal(err)
		}
	}
	if !WaitFor(10*time.Second, func() bool {
		got, err := sc.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
		return err == nil && got.VerifiedForSendingStatus
	}) {
		t.Fatal("example.com did not verify in the Sim")
	}
	return aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
}

// SimSMTP is the Sim's SES-like SMTP endpoint for a region.
type SimSMTP struct {
	// Addr is its address: SES's own port 587 on a loopback address of
	// its own, so a private Postfix reaches it under SES's host name
	// (Instance.StartResolving) and matches the certificate against
	// that name, as it does with SES.
	Addr string
	// IP is Addr's address alone.
	IP string
	// CertFile holds its certificate, which names
	// email-smtp.<region>.amazonaws.com.
	CertFile string
}

// StartSimSMTP serves the Sim's SMTP endpoint for region for the rest of
// the test.
func StartSimSMTP(t testing.TB, sim *awssim.Sim, region string) SimSMTP {
	t.Helper()
	// The certificate sits in a directory of its own that Postfix's smtp
	// client (not root) can read.
	dir, err := os.MkdirTemp("", "sesame-smtp-cert-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	cert := filepath.Join(dir, "sim-smtp.pem")
	for range 5 {
		ip := FreeLoopback()
		addr, stop, err := sim.ServeSMTP(awssim.SMTPConfig{Addr: net.JoinHostPort(ip, "587"), Region: region, CertOut: cert})
		if err == nil {
			t.Cleanup(stop)
			return SimSMTP{Addr: addr, IP: ip, CertFile: cert}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no free loopback address for the SMTP endpoint")
	return SimSMTP{}
}
