package smtpcheck

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/awssim"
	"github.com/sesame-tool/sesame/steps/internal/fakeclock"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
)

// simAccount seeds sim with what the wizard's AWS steps would have made:
// an IAM user with an access key, and example.com verified in SES in
// us-east-1.
func simAccount(t *testing.T, sim *awssim.Sim) (keyID, secret string) {
	t.Helper()
	keyID, secret = testKeyID, testSecret
	err := sim.ApplySeed(awssim.Seed{
		Users: []awssim.SeedUser{{Name: "ses-smtp-example-com", Keys: []awssim.SeedKey{{ID: keyID, Secret: secret}},
			// sesame's policy: the sim evaluates it on every send, as SES does.
			Policies: map[string]json.RawMessage{ses.SMTPUserPolicyName("us-east-1"): json.RawMessage(ses.SMTPUserPolicy("us-east-1", awssim.DefaultAccountID, "example.com"))}}},
		Identities: []awssim.SeedIdentity{{Name: "example.com", Region: "us-east-1", Status: "verified"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Release)
	return keyID, secret
}

// serveSMTP starts sim's SES-like SMTP endpoint for us-east-1 and returns
// its address and the file holding its certificate.
func serveSMTP(t *testing.T, sim *awssim.Sim, implicit bool) (addr, certFile string) {
	t.Helper()
	certFile = filepath.Join(t.TempDir(), "sim-smtp.pem")
	addr, stop, err := sim.ServeSMTP(awssim.SMTPConfig{Addr: "127.0.0.1:0", Region: "us-east-1", CertOut: certFile, ImplicitTLS: implicit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr, certFile
}

// TestLoginAgainstSim runs the login test and the test message against
// awssim's SES-like SMTP endpoint, with an access key seeded in its IAM.
func TestLoginAgainstSim(t *testing.T) {
	sim := awssim.New(awssim.Options{})
	keyID, secret := simAccount(t, sim)
	addr, certFile := serveSMTP(t, sim, false)
	roots, err := Roots(certFile)
	if err != nil {
		t.Fatal(err)
	}
	login := func(region string) Login {
		return Login{Endpoint: addr, Roots: roots, Username: keyID,
			Password: mta.Secret(ses.SMTPPassword(secret, region)), Region: "us-east-1"}
	}
	ctx := context.Background()

	t.Run("login", func(t *testing.T) {
		if err := LoginTest(ctx, fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)), DefaultLoginRetry, login("us-east-1"), nil); err != nil {
			t.Fatal(err)
		}
		if n := len(sim.Messages()); n != 0 {
			t.Errorf("the login test sent %d messages", n)
		}
	})
	t.Run("password for another region", func(t *testing.T) {
		err := LoginTest(ctx, fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)), DefaultLoginRetry, login("us-west-2"), nil)
		var ae *AuthError
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
			m := Message{From: "sesame-test@example.com", To: tt.to, Region: "us-east-1", Host: ses.SMTPHost("us-east-1"), Date: time.Now()}
			err := ExplainSend(login("us-east-1").Send(ctx, m), m)
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
	addr, cert := serveSMTP(t, sim, true)
	roots, err := Roots(cert)
	if err != nil {
		t.Fatal(err)
	}
	l := Login{Endpoint: addr, Roots: roots, Implicit: true, Username: keyID,
		Password: mta.Secret(ses.SMTPPassword(secret, "us-east-1")), Region: "us-east-1"}
	if err := l.Test(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cert); err != nil {
		t.Fatal(err)
	}
}
