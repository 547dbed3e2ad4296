package steps_test

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/awssim"
	"github.com/sesame-tool/sesame/steps/internal/postfixtest"
	"github.com/sesame-tool/sesame/steps/ses"
)

// syncBuffer collects the simulator's SMTP session lines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRealPostfixWrapperMode relays with a real Postfix through the
// simulator's endpoints: smtp_tls_wrappermode = yes against the
// implicit-TLS endpoint (SES's 465/2465) delivers, authenticated with the
// key; a wrapper mode that does not match the endpoint leaves the message
// deferred with Postfix's own words for it, the messages `sesame doctor`
// maps to "wrong wrapper mode".
func TestRealPostfixWrapperMode(t *testing.T) {
	postfixtest.Skip(t)
	tests := []struct {
		name        string
		implicitTLS bool   // the endpoint speaks TLS from the first byte
		wrapper     string // smtp_tls_wrappermode
		// deferred is a regexp for the queue's reason; "" means delivered.
		deferred string
	}{
		{"wrapper mode on the implicit-TLS endpoint delivers", true, "yes", ""},
		{"no wrapper mode on the implicit-TLS endpoint waits for a greeting", true, "no", `timed out while receiving the initial server greeting`},
		{"wrapper mode on the STARTTLS endpoint fails the TLS handshake", false, "yes", `Cannot start TLS: handshake failure`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := awssim.New(awssim.Options{})
			keyID, secret := postfixtest.SimAccount(t, sim, "us-east-1")
			dir, err := os.MkdirTemp("", "sesame-smtp-cert-")
			if err != nil {
				t.Fatal(err)
			}
			os.Chmod(dir, 0o755)
			t.Cleanup(func() { os.RemoveAll(dir) })
			cert := filepath.Join(dir, "sim-smtp.pem")
			var smtpLog syncBuffer
			addr, stop, err := sim.ServeSMTP(awssim.SMTPConfig{Addr: "127.0.0.1:0", Region: "us-east-1", CertOut: cert,
				ImplicitTLS: tt.implicitTLS, Log: &smtpLog})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(stop)
			host, port, _ := net.SplitHostPort(addr)
			relay := "[" + host + "]:" + port

			pf := postfixtest.New(t)
			sasl := filepath.Join(pf.ConfDir, "sasl_passwd")
			if err := os.WriteFile(sasl, []byte(relay+" "+keyID+":"+ses.SMTPPassword(secret, "us-east-1")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := pf.Run("postmap", "hash:"+sasl); err != nil {
				t.Fatal(err)
			}
			if _, err := pf.Run("postconf", "-e",
				"relayhost = "+relay,
				"smtp_sasl_auth_enable = yes",
				"smtp_sasl_security_options = noanonymous",
				"smtp_sasl_password_maps = hash:"+sasl,
				"smtp_tls_security_level = encrypt",
				"smtp_tls_wrappermode = "+tt.wrapper,
				"smtp_tls_CAfile = "+cert,
				"smtp_helo_timeout = 3s",
			); err != nil {
				t.Fatal(err)
			}
			pf.Start()
			pf.Sendmail("sesame-test@example.com", "success@simulator.amazonses.com", "wrapper mode", "through the implicit-TLS endpoint")

			if tt.deferred == "" {
				if !postfixtest.WaitFor(60*time.Second, func() bool { return len(sim.Messages()) == 1 }) {
					t.Fatalf("the simulator received nothing in 60 s; queue:\n%s\nlog:\n%s", pf.Queue(), pf.Log())
				}
				if m := sim.Messages()[0]; m.AuthUser != keyID || !strings.Contains(string(m.Data), "Subject: wrapper mode") {
					t.Fatalf("received %+v, want the message authenticated as %s", m, keyID)
				}
				for _, want := range []string{"smtp AUTH " + keyID + " 235\n", "smtp DATA 250 " + sim.Messages()[0].ID + "\n"} {
					if !strings.Contains(smtpLog.String(), want) {
						t.Errorf("the simulator's SMTP log lacks %q:\n%s", want, smtpLog.String())
					}
				}
				return
			}
			re := regexp.MustCompile(tt.deferred)
			if !postfixtest.WaitFor(60*time.Second, func() bool { return re.MatchString(pf.Queue()) }) {
				t.Fatalf("no deferral matching %s in 60 s; queue:\n%s\nlog:\n%s", tt.deferred, pf.Queue(), pf.Log())
			}
			if n := len(sim.Messages()); n != 0 {
				t.Errorf("the simulator received %d messages", n)
			}
			t.Logf("queue:\n%s", pf.Queue())
		})
	}
}
