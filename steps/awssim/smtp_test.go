package awssim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame-tool/sesame/steps/ses"
)

const (
	smtpTestKey    = "AKIASMTPTEST00000001"
	smtpTestSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSMTPTESTKEY"
)

// smtpHarness is a Sim with an issued access key, a verified sender domain
// (example.com) and a verified recipient address, serving SMTP for region.
type smtpHarness struct {
	*sesHarness
	addr, certFile string
	pool           *x509.CertPool
}

func newSMTPHarness(t *testing.T, opts Options, cfg SMTPConfig) *smtpHarness {
	t.Helper()
	h := newSESHarness(t, opts)
	h.sim.mu.Lock()
	// The SES console's own send policy (ses:SendRawEmail on "*"): these
	// tests are about SES's identity rules, smtp_policy_test.go about the
	// policy.
	h.sim.iam.users["smtp-user"] = &iamUser{Name: "smtp-user", ARN: "arn:aws:iam::" + DefaultAccountID + ":user/smtp-user",
		Policies: map[string]string{"AmazonSesSendingAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"*"}]}`}}
	h.sim.iam.keys[smtpTestKey] = &accessKey{ID: smtpTestKey, Secret: smtpTestSecret, Status: "Active", User: "smtp-user"}
	h.sim.mu.Unlock()
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	ctx := context.Background()
	c := h.client(region)
	out, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil {
		t.Fatal(err)
	}
	publishDKIM(h, "example.com", "example.com", out.DkimAttributes, 3, func(v string) string { return v })
	if _, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("verified@example.org")}); err != nil {
		t.Fatal(err)
	}
	cfg.CertOut = filepath.Join(t.TempDir(), "smtp.pem")
	addr, stop, err := h.sim.ServeSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	pemBytes, err := os.ReadFile(cfg.CertOut)
	if err != nil {
		t.Fatalf("certificate not written: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("CertOut holds no PEM certificate")
	}
	return &smtpHarness{sesHarness: h, addr: addr, certFile: cfg.CertOut, pool: pool}
}

// dial connects with net/smtp and upgrades with STARTTLS, trusting only
// the written certificate.
func (h *smtpHarness) dial(t *testing.T) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.StartTLS(&tls.Config{RootCAs: h.pool, ServerName: "127.0.0.1"}); err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	return c
}

func (h *smtpHarness) login(t *testing.T) *smtp.Client {
	t.Helper()
	c := h.dial(t)
	if err := c.Auth(smtp.PlainAuth("", smtpTestKey, ses.SMTPPassword(smtpTestSecret, "us-east-1"), "127.0.0.1")); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	return c
}

// send runs one transaction and returns the error of the first step that
// failed.
func send(c *smtp.Client, from string, to []string, msg string) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	return w.Close()
}

func smtpCode(err error) int {
	var pe *textproto.Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}

func TestSMTPRequiresSTARTTLS(t *testing.T) {
	h := newSMTPHarness(t, Options{}, SMTPConfig{})
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tp := textproto.NewConn(conn)
	if _, msg, err := tp.ReadResponse(220); err != nil || !strings.HasPrefix(msg, "email-smtp.amazonaws.com ESMTP SimpleEmailService-") {
		t.Fatalf("greeting %q %v", msg, err)
	}
	_ = tp.PrintfLine("EHLO client.example")
	_, ehlo, err := tp.ReadResponse(250)
	if err != nil || !strings.Contains(ehlo, "STARTTLS") || strings.Contains(ehlo, "AUTH") {
		t.Fatalf("EHLO before TLS = %q %v, want STARTTLS and no AUTH", ehlo, err)
	}
	for _, cmd := range []string{"AUTH PLAIN AGZvbwBiYXI=", "MAIL FROM:<a@example.com>"} {
		_ = tp.PrintfLine("%s", cmd)
		code, msg, _ := tp.ReadResponse(0)
		if code != 530 || msg != "Must issue a STARTTLS command first" {
			t.Errorf("%s in the clear: %d %s, want 530 Must issue a STARTTLS command first", cmd, code, msg)
		}
	}
}

func TestSMTPAuth(t *testing.T) {
	h := newSMTPHarness(t, Options{}, SMTPConfig{Region: "us-east-1"})
	tests := []struct {
		name     string
		auth     smtp.Auth
		wantCode int // 0: success (235)
	}{
		{"PLAIN, the region's password", smtp.PlainAuth("", smtpTestKey, ses.SMTPPassword(smtpTestSecret, "us-east-1"), "127.0.0.1"), 0},
		{"LOGIN, the region's password", loginAuth{smtpTestKey, ses.SMTPPassword(smtpTestSecret, "us-east-1")}, 0},
		{"another region's password", smtp.PlainAuth("", smtpTestKey, ses.SMTPPassword(smtpTestSecret, "eu-west-1"), "127.0.0.1"), 535},
		{"the IAM secret itself", smtp.PlainAuth("", smtpTestKey, smtpTestSecret, "127.0.0.1"), 535},
		{"a key the Sim never issued", smtp.PlainAuth("", "AKIANOTISSUED0000000", ses.SMTPPassword(smtpTestSecret, "us-east-1"), "127.0.0.1"), 535},
		{"the IAM user name as user", loginAuth{"smtp-user", ses.SMTPPassword(smtpTestSecret, "us-east-1")}, 535},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.dial(t)
			err := c.Auth(tt.auth)
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("AUTH: %v, want 235", err)
				}
				return
			}
			if smtpCode(err) != tt.wantCode || !strings.Contains(err.Error(), "Authentication Credentials Invalid") {
				t.Fatalf("AUTH: %v, want %d Authentication Credentials Invalid", err, tt.wantCode)
			}
		})
	}
}

// loginAuth is AUTH LOGIN, which net/smtp lacks.
type loginAuth struct{ user, pass string }

func (a loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) { return "LOGIN", nil, nil }

func (a loginAuth) Next(from []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch string(from) {
	case "Username:":
		return []byte(a.user), nil
	case "Password:":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected challenge %q", from)
}

func TestSMTPMailNeedsAuth(t *testing.T) {
	h := newSMTPHarness(t, Options{}, SMTPConfig{})
	c := h.dial(t)
	err := c.Mail("sender@example.com")
	if smtpCode(err) != 530 || !strings.Contains(err.Error(), "Authentication required") {
		t.Fatalf("MAIL before AUTH: %v, want 530 Authentication required", err)
	}
}

func TestSMTPIdentityRules(t *testing.T) {
	const msg = "From: Sender <sender@example.com>\r\nTo: someone\r\nSubject: hello\r\n\r\nbody\r\n"
	rejected := "Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: "
	tests := []struct {
		name       string
		production bool
		from       string
		to         []string
		msg        string
		wantCode   int    // 0: accepted
		wantText   string // for rejections
	}{
		{"verified domain to the simulator", false, "sender@example.com", []string{"success@simulator.amazonses.com"}, msg, 0, ""},
		{"subdomain of a verified domain", false, "bounce@mail.example.com", []string{"verified@example.org"}, msg, 0, ""},
		{"unverified sender", false, "nobody@unverified.example", []string{"success@simulator.amazonses.com"}, strings.Replace(msg, "sender@example.com", "nobody@unverified.example", 1), 554, rejected + "nobody@unverified.example"},
		{"unverified From header", false, "sender@example.com", []string{"success@simulator.amazonses.com"}, strings.Replace(msg, "sender@example.com", "boss@other.example", 1), 554, rejected + "boss@other.example"},
		{"sandbox: unverified recipients", false, "sender@example.com", []string{"verified@example.org", "a@customer.example", "b@customer.example"}, msg, 554, rejected + "a@customer.example, b@customer.example"},
		{"production: any recipient", true, "sender@example.com", []string{"a@customer.example"}, msg, 0, ""},
		{"production: the sender still must be verified", true, "nobody@unverified.example", []string{"a@customer.example"}, strings.Replace(msg, "sender@example.com", "nobody@unverified.example", 1), 554, rejected + "nobody@unverified.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSMTPHarness(t, Options{Production: tt.production}, SMTPConfig{})
			c := h.login(t)
			err := send(c, tt.from, tt.to, tt.msg)
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("send: %v", err)
				}
				if n := len(h.sim.Messages()); n != 1 {
					t.Fatalf("%d messages recorded, want 1", n)
				}
				return
			}
			var pe *textproto.Error
			if !errors.As(err, &pe) || pe.Code != tt.wantCode || pe.Msg != tt.wantText {
				t.Fatalf("send: %v\nwant: %d %s", err, tt.wantCode, tt.wantText)
			}
			if n := len(h.sim.Messages()); n != 0 {
				t.Errorf("%d messages recorded after a rejection", n)
			}
			// The session goes on after a rejection, as with SES.
			if err := send(c, "sender@example.com", []string{"success@simulator.amazonses.com"}, msg); err != nil {
				t.Errorf("next transaction: %v", err)
			}
		})
	}
}

func TestSMTPRecordsAcceptedMessages(t *testing.T) {
	h := newSMTPHarness(t, Options{}, SMTPConfig{Region: "eu-west-1"})
	c := h.dial(t)
	if err := c.Auth(smtp.PlainAuth("", smtpTestKey, ses.SMTPPassword(smtpTestSecret, "eu-west-1"), "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	msg := "From: sender@example.com\r\nSubject: relay test\r\n\r\n.leading dot\r\nbye\r\n"
	if err := send(c, "sender@example.com", []string{"verified@example.org"}, msg); err != nil {
		t.Fatal(err)
	}
	msgs := h.sim.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != "sender@example.com" || strings.Join(m.To, ",") != "verified@example.org" || m.AuthUser != smtpTestKey || m.Region != "eu-west-1" || m.ID == "" {
		t.Errorf("recorded %+v", m)
	}
	if !bytes.Equal(m.Data, []byte(msg)) {
		t.Errorf("Data = %q, want %q", m.Data, msg)
	}
	acct, err := h.client("eu-west-1").GetAccount(context.Background(), &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if acct.SendQuota.SentLast24Hours != 1 {
		t.Errorf("SentLast24Hours = %v, want 1", acct.SendQuota.SentLast24Hours)
	}
	h.clock.Advance(24 * time.Hour)
	acct, _ = h.client("eu-west-1").GetAccount(context.Background(), &sesv2.GetAccountInput{})
	if acct.SendQuota.SentLast24Hours != 0 {
		t.Errorf("a day later SentLast24Hours = %v, want 0", acct.SendQuota.SentLast24Hours)
	}
	h.sim.mu.Lock()
	k := h.sim.iam.keys[smtpTestKey]
	used, svc, region := k.LastUsed, k.LastUsedService, k.LastUsedRegion
	h.sim.mu.Unlock()
	if used.IsZero() || svc != "ses" || region != "eu-west-1" {
		t.Errorf("key last used %v %q %q, want now, ses, eu-west-1", used, svc, region)
	}
}

func TestSMTPDailyQuota(t *testing.T) {
	h := newSMTPHarness(t, Options{}, SMTPConfig{})
	h.sim.mu.Lock()
	reg := h.sim.sesRegionFor("us-east-1")
	for range 200 {
		reg.sent = append(reg.sent, h.clock.Now())
	}
	h.sim.mu.Unlock()
	c := h.login(t)
	err := send(c, "sender@example.com", []string{"success@simulator.amazonses.com"}, "Subject: x\r\n\r\nx\r\n")
	if smtpCode(err) != 454 || !strings.Contains(err.Error(), "Daily message quota exceeded") {
		t.Fatalf("201st message: %v, want 454 Daily message quota exceeded", err)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	h := newSMTPHarness(t, Options{}, SMTPConfig{ImplicitTLS: true})
	conn, err := tls.Dial("tcp", h.addr, &tls.Config{RootCAs: h.pool, ServerName: "localhost"})
	if err != nil {
		t.Fatalf("TLS from the first byte: %v", err)
	}
	c, err := smtp.NewClient(conn, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(smtp.PlainAuth("", smtpTestKey, ses.SMTPPassword(smtpTestSecret, "us-east-1"), "localhost")); err != nil {
		t.Fatal(err)
	}
	if err := send(c, "sender@example.com", []string{"success@simulator.amazonses.com"}, "Subject: x\r\n\r\nx\r\n"); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPCertificateNamesTheRegionHost(t *testing.T) {
	h := newSMTPHarness(t, Options{}, SMTPConfig{Region: "ap-southeast-2"})
	c, err := smtp.Dial(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The client dials 127.0.0.1 but checks the name Postfix would use.
	if err := c.StartTLS(&tls.Config{RootCAs: h.pool, ServerName: "email-smtp.ap-southeast-2.amazonaws.com"}); err != nil {
		t.Fatalf("STARTTLS naming the SES host: %v", err)
	}
}

func TestSMTPWithSwaks(t *testing.T) {
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		t.Skip("swaks is not installed (apt-get install swaks); skipping the third-party SMTP client test")
	}
	if out, _ := exec.Command(swaks, "--support").CombinedOutput(); !strings.Contains(string(out), "=== TLS supported") {
		t.Skip("swaks cannot do TLS here (it needs Net::SSLeay: apt-get install libnet-ssleay-perl); skipping the third-party SMTP client test")
	}
	h := newSMTPHarness(t, Options{}, SMTPConfig{})
	host, port, _ := net.SplitHostPort(h.addr)
	tests := []struct {
		name, password, auth string
		wantOK               bool
		want                 string
	}{
		{"PLAIN accepted", ses.SMTPPassword(smtpTestSecret, "us-east-1"), "PLAIN", true, "250 Ok 0100"},
		{"LOGIN accepted", ses.SMTPPassword(smtpTestSecret, "us-east-1"), "LOGIN", true, "250 Ok 0100"},
		{"wrong region", ses.SMTPPassword(smtpTestSecret, "us-west-2"), "PLAIN", false, "535 Authentication Credentials Invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, swaks, "--server", host, "--port", port,
				"--tls", "--tls-verify", "--tls-ca-path", h.certFile,
				"--auth", tt.auth, "--auth-user", smtpTestKey, "--auth-password", tt.password,
				"--from", "sender@example.com", "--to", "success@simulator.amazonses.com",
				"--header", "Subject: swaks", "--body", "relay test", "--hide-informational", "--hide-send") // the client side carries the AUTH exchange
			out, err := cmd.CombinedOutput()
			if (err == nil) != tt.wantOK || !strings.Contains(string(out), tt.want) {
				t.Fatalf("swaks: %v, want ok=%v and %q in:\n%s", err, tt.wantOK, tt.want, out)
			}
		})
	}
}

// syncLog collects SMTP session lines from the server's goroutines.
type syncLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !bytes.HasSuffix(p, []byte("\n")) || bytes.Count(p, []byte("\n")) != 1 {
		l.lines = append(l.lines, fmt.Sprintf("NOT ONE LINE PER WRITE: %q", p))
		return len(p), nil
	}
	l.lines = append(l.lines, strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func (l *syncLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

// TestSMTPSessionLog: each session event is one line, written in one
// Write, with SES's reply code and text; never a password, and a user
// name that could be a misplaced secret shows as "?".
func TestSMTPSessionLog(t *testing.T) {
	var log syncLog
	h := newSMTPHarness(t, Options{}, SMTPConfig{Log: &log})
	good := ses.SMTPPassword(smtpTestSecret, "us-east-1")
	const msg = "From: sender@example.com\r\nSubject: x\r\n\r\nx\r\n"
	rejected := "smtp DATA 554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: "
	tests := []struct {
		name string
		run  func(t *testing.T)
		want []string // a leading "~" matches by prefix
	}{
		{"AUTH and MAIL in the clear", func(t *testing.T) {
			conn, err := net.Dial("tcp", h.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			tp := textproto.NewConn(conn)
			_, _, _ = tp.ReadResponse(220)
			for _, cmd := range []string{"EHLO client.example", "AUTH PLAIN AGZvbwBiYXI=", "MAIL FROM:<a@example.com>"} {
				_ = tp.PrintfLine("%s", cmd)
				_, _, _ = tp.ReadResponse(0)
			}
		}, []string{"smtp AUTH - 530 Must issue a STARTTLS command first", "smtp MAIL 530 Must issue a STARTTLS command first"}},
		{"MAIL before AUTH", func(t *testing.T) {
			_ = h.dial(t).Mail("sender@example.com")
		}, []string{"smtp MAIL 530 Authentication required"}},
		{"a password for another region", func(t *testing.T) {
			_ = h.dial(t).Auth(smtp.PlainAuth("", smtpTestKey, ses.SMTPPassword(smtpTestSecret, "eu-west-1"), "127.0.0.1"))
		}, []string{"smtp AUTH " + smtpTestKey + " 535"}},
		{"the secret typed as the user name", func(t *testing.T) {
			_ = h.dial(t).Auth(loginAuth{smtpTestSecret, good})
		}, []string{"smtp AUTH ? 535"}},
		{"an accepted message", func(t *testing.T) {
			if err := send(h.login(t), "sender@example.com", []string{"success@simulator.amazonses.com"}, msg); err != nil {
				t.Fatal(err)
			}
		}, []string{"smtp AUTH " + smtpTestKey + " 235", "smtp MAIL 250 <sender@example.com>", "smtp RCPT 250 <success@simulator.amazonses.com>", "~smtp DATA 250 0100"}},
		{"the sandbox 554", func(t *testing.T) {
			_ = send(h.login(t), "sender@example.com", []string{"a@customer.example"}, msg)
		}, []string{"smtp AUTH " + smtpTestKey + " 235", "smtp MAIL 250 <sender@example.com>", "smtp RCPT 250 <a@customer.example>", rejected + "a@customer.example"}},
		{"a message over 10 MB", func(t *testing.T) {
			big := msg + strings.Repeat(strings.Repeat("x", 998)+"\r\n", 11<<10)
			err := send(h.login(t), "sender@example.com", []string{"success@simulator.amazonses.com"}, big)
			if smtpCode(err) != 552 || !strings.Contains(err.Error(), "Message is too long.") {
				t.Errorf("send = %v, want SES's 552 Message is too long.", err)
			}
		}, []string{"smtp AUTH " + smtpTestKey + " 235", "smtp MAIL 250 <sender@example.com>", "smtp RCPT 250 <success@simulator.amazonses.com>", "smtp DATA 552 Message is too long."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log.take()
			tt.run(t)
			var got []string
			for deadline := time.Now().Add(2 * time.Second); len(got) < len(tt.want) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				got = append(got, log.take()...)
			}
			time.Sleep(50 * time.Millisecond) // and nothing more
			got = append(got, log.take()...)
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(got); i++ {
				w, prefix := strings.CutPrefix(tt.want[i], "~")
				ok = got[i] == w || prefix && strings.HasPrefix(got[i], w)
			}
			if !ok {
				t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for _, l := range got {
				if strings.Contains(l, good) || strings.Contains(l, smtpTestSecret) {
					t.Errorf("a log line shows a secret: %s", l)
				}
			}
		})
	}
}
