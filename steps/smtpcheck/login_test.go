package smtpcheck

import (
	"cmp"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/internal/fakeclock"
	"github.com/sesame-tool/sesame/steps/internal/smtptest"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
)

const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func TestLoginTest(t *testing.T) {
	good := ses.SMTPPassword(testSecret, "us-east-1")
	tests := []struct {
		name        string
		implicit    bool
		user        string
		pass        string
		refuseFirst int
		wantErr     []string // substrings of the error; nil means success
		wantAuths   int
	}{
		{name: "starttls ok", user: testKeyID, pass: good, wantAuths: 1},
		{name: "implicit tls ok", implicit: true, user: testKeyID, pass: good, wantAuths: 1},
		{name: "new key propagates after two refusals", user: testKeyID, pass: good, refuseFirst: 2, wantAuths: 3},
		{name: "password for another region", user: testKeyID, pass: ses.SMTPPassword(testSecret, "us-west-2"),
			wantErr: []string{"535 Authentication Credentials Invalid", "derived for another region than us-east-1", "retries"}, wantAuths: 6},
		{name: "secret key as password", user: testKeyID, pass: testSecret,
			wantErr: []string{"535", "secret access key was used as the password", "does not have the shape"}},
		{name: "user name as login", user: "ses-smtp-example-com", pass: good,
			wantErr: []string{"535", "IAM user name was used as the login", `"ses-smtp-example-com"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.New(t, tt.implicit)
			srv.AddUser(testKeyID, good)
			srv.RefuseFirst(tt.refuseFirst)
			l := Login{Endpoint: srv.Addr, Roots: srv.Roots(), Implicit: tt.implicit,
				Username: tt.user, Password: mta.Secret(tt.pass), Region: "us-east-1"}
			retries := 0
			err := LoginTest(context.Background(), fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)), DefaultLoginRetry, l, func(int, error) { retries++ })
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("LoginTest: %v", err)
				}
			} else {
				var ae *AuthError
				if !errors.As(err, &ae) {
					t.Fatalf("LoginTest error = %v, want an *AuthError", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				if strings.Contains(err.Error(), tt.pass) {
					t.Errorf("error reveals the password:\n%v", err)
				}
			}
			if tt.wantAuths != 0 && srv.Auths() != tt.wantAuths {
				t.Errorf("server saw %d AUTH attempts, want %d", srv.Auths(), tt.wantAuths)
			}
			if srv.Auths() != retries+1 {
				t.Errorf("%d retries reported for %d attempts", retries, srv.Auths())
			}
		})
	}
}

func TestLoginTestUntrustedCertificate(t *testing.T) {
	srv := smtptest.New(t, false)
	l := Login{Endpoint: srv.Addr, Username: testKeyID, Password: "x"}
	err := LoginTest(context.Background(), fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)), DefaultLoginRetry, l, nil)
	if err == nil || !strings.Contains(err.Error(), "--smtp-ca") {
		t.Fatalf("LoginTest with an unknown CA = %v, want the --smtp-ca hint", err)
	}
}

func TestSendTestMessage(t *testing.T) {
	good := ses.SMTPPassword(testSecret, "us-east-1")
	tests := []struct {
		name    string
		from    string
		to      string
		wantErr []string
	}{
		{name: "mailbox simulator", to: ses.MailboxSimulatorSuccess},
		{name: "verified recipient", to: "ops@example.net"},
		{name: "unverified sender", from: "sesame-test@unverified.example", to: ses.MailboxSimulatorSuccess,
			wantErr: []string{"554 Message rejected", "sender's domain unverified.example is not verified in SES in us-east-1"}},
		{name: "sandbox rejects an unverified recipient", to: "someone@example.org",
			wantErr: []string{"554 Message rejected: Email address is not verified", "SES sandbox in us-east-1", "verified addresses", ses.MailboxSimulatorSuccess}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.New(t, false)
			srv.AddUser(testKeyID, good)
			srv.Verify("sesame-test@example.com")
			srv.Verify("ops@example.net")
			l := Login{Endpoint: srv.Addr, Roots: srv.Roots(), Username: testKeyID, Password: mta.Secret(good), Region: "us-east-1"}
			m := Message{From: cmp.Or(tt.from, "sesame-test@example.com"), To: tt.to, Region: "us-east-1", Host: ses.SMTPHost("us-east-1"), Date: time.Now()}
			err := ExplainSend(l.Send(context.Background(), m), m)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				got := srv.Messages()
				if len(got) != 1 || got[0].From != m.From || len(got[0].To) != 1 || got[0].To[0] != tt.to || got[0].AuthUser != testKeyID {
					t.Fatalf("server received %+v", got)
				}
				return
			}
			if err == nil {
				t.Fatal("Send succeeded, want a sandbox rejection")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestRoots(t *testing.T) {
	srv := smtptest.New(t, false)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, srv.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(notPEM, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	roots, err := Roots(ca)
	if err != nil {
		t.Fatal(err)
	}
	l := Login{Endpoint: srv.Addr, Roots: roots, Username: testKeyID, Password: "p"}
	srv.AddUser(testKeyID, "p")
	if err := l.Test(context.Background()); err != nil {
		t.Fatalf("login trusting --smtp-ca: %v", err)
	}
	var np *NoPEMError
	if _, err := Roots(notPEM); !errors.As(err, &np) || np.File != notPEM {
		t.Errorf("Roots(non-PEM) = %v, want a *NoPEMError naming %s", err, notPEM)
	}
	if _, err := Roots(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("Roots(missing file) succeeded")
	}
}
