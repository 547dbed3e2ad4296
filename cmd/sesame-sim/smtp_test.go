package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/smtp"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/smtpcheck"
)

const (
	smtpKeyID  = "AKIASIMSMTPTEST00001"
	smtpSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSIMSMTPTES"
)

// waitStderr waits up to 5 s for a stderr line matching re and returns
// the whole stderr.
func waitStderr(stderr *lockedBuffer, re *regexp.Regexp) (string, bool) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		all := stderr.String()
		if re.MatchString(all) {
			return all, true
		}
		if time.Now().After(deadline) {
			return all, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSMTPSAndSessionLog: --smtps serves TLS from the first byte with the
// --smtp endpoint's certificate, sesame's login test (smtpcheck, port 465
// semantics) passes against it, and every SMTP session event is one stderr
// line, in order with the request lines, never showing a password.
func TestSMTPSAndSessionLog(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.json")
	// The user may send as the domain: the sim evaluates its policy on
	// every send, as SES does.
	policy := `{"sesame-ses-send-us-east-1":` + ses.SMTPUserPolicy("us-east-1", "123456789012", "example.com") + `}`
	if err := os.WriteFile(seed, []byte(`{"users":[{"name":"ses-smtp-example-com","policies":`+policy+`,"keys":[{"id":"`+smtpKeyID+`","secret":"`+smtpSecret+`"}]}],
	  "identities":[{"name":"example.com","region":"us-east-1","status":"verified"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(dir, "smtp.pem")
	lines, stderr, _ := startSim(t, "--seed-file", seed, "--smtp", "127.0.0.1:0", "--smtps", "127.0.0.1:0", "--smtp-cert-out", cert)
	if !strings.HasPrefix(lines[1], "smtp 127.0.0.1:") || !strings.HasPrefix(lines[2], "smtps 127.0.0.1:") {
		t.Fatalf("stdout = %q, want the URL, then smtp ADDR and smtps ADDR", lines)
	}
	starttls, implicit := strings.TrimPrefix(lines[1], "smtp "), strings.TrimPrefix(lines[2], "smtps ")
	roots, err := smtpcheck.Roots(cert)
	if err != nil {
		t.Fatal(err)
	}
	good := ses.SMTPPassword(smtpSecret, "us-east-1")
	wrongRegion := ses.SMTPPassword(smtpSecret, "us-west-2")
	login := func(endpoint string, implicit bool, pass string) smtpcheck.Login {
		return smtpcheck.Login{Endpoint: endpoint, Roots: roots, Implicit: implicit, Username: smtpKeyID,
			Password: mta.Secret(pass), Region: "us-east-1", Timeout: 10 * time.Second}
	}
	msg := func(to string) smtpcheck.Message {
		return smtpcheck.Message{From: "sesame-test@example.com", To: to, Region: "us-east-1", Host: ses.SMTPHost("us-east-1"), Date: time.Now()}
	}
	ctx := context.Background()
	tests := []struct {
		name    string
		do      func() error
		wantErr string // "" for success
		line    string // a regexp for the stderr line the event writes
	}{
		{"login test over implicit TLS (port 465 semantics)", func() error { return login(implicit, true, good).Test(ctx) },
			"", `(?m)^smtp AUTH ` + smtpKeyID + ` 235$`},
		{"login over STARTTLS, same certificate", func() error { return login(starttls, false, good).Test(ctx) },
			"", `(?m)^smtp AUTH ` + smtpKeyID + ` 235$`},
		{"a password for another region is refused", func() error { return login(implicit, true, wrongRegion).Test(ctx) },
			"535 Authentication Credentials Invalid", `(?m)^smtp AUTH ` + smtpKeyID + ` 535$`},
		{"a message to the mailbox simulator is accepted", func() error { return login(implicit, true, good).Send(ctx, msg(ses.MailboxSimulatorSuccess)) },
			"", `(?m)^smtp DATA 250 0100[0-9a-f]{12}-[0-9a-f-]+-000000$`},
		{"the sandbox refuses an unverified recipient", func() error { return login(implicit, true, good).Send(ctx, msg("someone@example.org")) },
			"554 Message rejected", `(?m)^smtp DATA 554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: someone@example.org$`},
		{"MAIL before AUTH", func() error { return mailWithoutAuth(implicit, roots) },
			"Authentication required", `(?m)^smtp MAIL 530 Authentication required$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(stderr.String())
			err := tt.do()
			if tt.wantErr == "" && err != nil {
				t.Fatalf("%v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			all, ok := waitStderr(stderr, regexp.MustCompile(tt.line))
			if !ok || !regexp.MustCompile(tt.line).MatchString(all[before:]) {
				t.Errorf("stderr since the event lacks %s:\n%s", tt.line, all[before:])
			}
		})
	}
	all := stderr.String()
	t.Logf("stderr:\n%s", all)
	for _, secret := range []string{good, wrongRegion, smtpSecret} {
		if strings.Contains(all, secret) {
			t.Fatalf("stderr shows a secret:\n%s", all)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(all), "\n") {
		if f := strings.Fields(l); len(f) < 3 || f[0] != "smtp" && len(f) != 3 {
			t.Errorf("stderr line %q is neither a request line nor an SMTP event line", l)
		}
	}
}

// mailWithoutAuth tries MAIL FROM over implicit TLS without logging in.
func mailWithoutAuth(addr string, roots *x509.CertPool) error {
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		return err
	}
	c, err := smtp.NewClient(conn, "127.0.0.1")
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.example"); err != nil {
		return err
	}
	return c.Mail("sesame-test@example.com")
}
