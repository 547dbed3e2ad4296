package steps_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/awssim"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/smtpcheck"
)

// instantClock makes the login test's retries immediate.
type instantClock struct{ now time.Time }

func (c *instantClock) Now() time.Time { return c.now }
func (c *instantClock) After(d time.Duration) <-chan time.Time {
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// TestLoginAgainstSim runs the login test and the test message against
// awssim's SES-like SMTP endpoint, with a key made through the IAM API.
func TestLoginAgainstSim(t *testing.T) {
	sim := awssim.New(awssim.Options{})
	keyID, secret := simAccount(t, sim)
	endpoint := startSimSMTP(t, sim, "us-east-1")
	roots, err := smtpcheck.Roots(endpoint.certFile)
	if err != nil {
		t.Fatal(err)
	}
	login := func(region string) smtpcheck.Login {
		return smtpcheck.Login{Endpoint: endpoint.addr, Roots: roots, Username: keyID,
			Password: mta.Secret(ses.SMTPPassword(secret, region)), Region: "us-east-1"}
	}
	ctx := context.Background()

	t.Run("login", func(t *testing.T) {
		if err := smtpcheck.LoginTest(ctx, &instantClock{}, smtpcheck.DefaultLoginRetry, login("us-east-1"), nil); err != nil {
			t.Fatal(err)
		}
		if n := len(sim.Messages()); n != 0 {
			t.Errorf("the login test sent %d messages", n)
		}
	})
	t.Run("password for another region", func(t *testing.T) {
		err := smtpcheck.LoginTest(ctx, &instantClock{}, smtpcheck.DefaultLoginRetry, login("us-west-2"), nil)
		var ae *smtpcheck.AuthError
		if !errors.As(err, &ae) || ae.Err.Code != 535 || !strings.Contains(err.Error(), "derived for another region than us-east-1") {
			t.Fatalf("LoginTest = %v, want a 535 explained by the region", err)
		}
		if strings.Contains(err.Error(), ses.SMTPPassword(secret, "us-west-2")) || strings.Contains(err.Error(), secret) {
			t.Fatal("the explanation reveals a secret")
		}
	})
	for _, tt := range []struct {
		to, wantErr string
	}{
		{ses.MailboxSimulatorSuccess, ""},
		{"someone@example.org", "the account is in the SES sandbox in us-east-1"},
	} {
		t.Run("test message to "+tt.to, func(t *testing.T) {
			m := smtpcheck.Message{From: "sesame-test@example.com", To: tt.to, Region: "us-east-1", Host: ses.SMTPHost("us-east-1"), Date: time.Now()}
			err := smtpcheck.ExplainSend(login("us-east-1").Send(ctx, m), m)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				msgs := sim.Messages()
				if len(msgs) != 1 || msgs[0].AuthUser != keyID || msgs[0].To[0] != tt.to {
					t.Fatalf("the simulator received %+v", msgs)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "554 Message rejected: Email address is not verified") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Send = %v, want the sandbox 554 explained", err)
			}
		})
	}
}

// TestLoginAgainstSimImplicitTLS checks the wrapper-mode path (465, 2465).
func TestLoginAgainstSimImplicitTLS(t *testing.T) {
	sim := awssim.New(awssim.Options{})
	keyID, secret := simAccount(t, sim)
	cert := t.TempDir() + "/cert.pem"
	addr, stop, err := sim.ServeSMTP(awssim.SMTPConfig{Region: "us-east-1", CertOut: cert, ImplicitTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	roots, err := smtpcheck.Roots(cert)
	if err != nil {
		t.Fatal(err)
	}
	l := smtpcheck.Login{Endpoint: addr, Roots: roots, Implicit: true, Username: keyID,
		Password: mta.Secret(ses.SMTPPassword(secret, "us-east-1")), Region: "us-east-1"}
	if err := l.Test(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cert); err != nil {
		t.Fatal(err)
	}
}
