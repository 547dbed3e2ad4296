package sessmtp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLogName(t *testing.T) {
	tests := []struct{ user, want string }{
		{"AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"},
		{"ses-smtp-example-com", "ses-smtp-example-com"},
		{"ops@example.com", "ops@example.com"},
		{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "?"},     // a secret access key
		{"BLsbM4yGB2sFJ2vNzAMbzVT7pwR0ESrB1wy9ObOYBcWl", "?"}, // an SMTP password
		{"user with spaces", "?"},
		{"", "?"},
		{"line\nbreak", "?"},
	}
	for _, tt := range tests {
		if got := logName(tt.user); got != tt.want {
			t.Errorf("logName(%q) = %q, want %q", tt.user, got, tt.want)
		}
	}
}

// TestLoginServer: AUTH LOGIN prompts as SES does, with or without an
// initial response, and hands the pair to the login check once.
func TestLoginServer(t *testing.T) {
	tests := []struct {
		name      string
		responses [][]byte // what the client sends, the first being the initial response (nil: none)
		prompts   []string
	}{
		{"no initial response", [][]byte{nil, []byte("AKIAKEY"), []byte("pass")}, []string{"Username:", "Password:"}},
		{"user name as the initial response", [][]byte{[]byte("AKIAKEY"), []byte("pass")}, []string{"Password:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			l := &loginServer{login: func(u, p string) error { calls = append(calls, u+":"+p); return errors.New("refused") }}
			var prompts []string
			for i, r := range tt.responses {
				ch, done, err := l.Next(r)
				if done != (i == len(tt.responses)-1) {
					t.Fatalf("step %d: done = %v", i, done)
				}
				if done {
					if err == nil || err.Error() != "refused" {
						t.Fatalf("the login check's refusal was not passed on: %v", err)
					}
					break
				}
				prompts = append(prompts, string(ch))
			}
			if strings.Join(prompts, ",") != strings.Join(tt.prompts, ",") || len(calls) != 1 || calls[0] != "AKIAKEY:pass" {
				t.Errorf("prompts %q, login calls %q", prompts, calls)
			}
		})
	}
}

type refuseAll struct{}

func (refuseAll) Login(string, string) bool       { return false }
func (refuseAll) Deliver(Message) (string, error) { return "", ErrDailyQuota }

type lines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestImplicitTLSRefusedHandshakeLogged: a client speaking plain SMTP to
// the implicit-TLS port (Postfix without smtp_tls_wrappermode) is one
// "smtp ERROR" line.
func TestImplicitTLSRefusedHandshakeLogged(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	var log lines
	addr, stop, err := Serve(Config{Addr: "127.0.0.1:0", ImplicitTLS: true, Backend: refuseAll{}, Log: &log,
		TLS: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = conn.Write([]byte("EHLO client.example\r\n"))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = conn.Read(make([]byte, 512))
	conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.HasPrefix(log.String(), "smtp ERROR ") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := log.String(); !strings.HasPrefix(got, "smtp ERROR ") || strings.Count(got, "\n") != 1 {
		t.Errorf("log = %q, want one smtp ERROR line", got)
	}
}
