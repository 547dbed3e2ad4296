// Package smtptest is a tiny SES-like SMTP server for sesame's tests: the
// unit tests of the login test use it, and the real-Postfix test can relay
// into it. It listens on loopback only. The session (SES's replies, TLS
// first, AUTH PLAIN/LOGIN) is sessmtp's, on emersion/go-smtp; this package
// only decides logins and messages from what the test told it.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/internal/sessmtp"
)

// Server is an SES-like SMTP server: STARTTLS (or TLS from the first
// byte), AUTH PLAIN/LOGIN against a fixed set of credentials answering
// SES's 535 otherwise, and SES's sandbox 554 for addresses it was not told
// are verified (the mailbox simulator always is).
type Server struct {
	// Addr is the host:port it listens on (127.0.0.1).
	Addr string
	// CertPEM is its self-signed certificate (for 127.0.0.1 and localhost).
	CertPEM []byte
	tlsConf *tls.Config

	mu       sync.Mutex
	users    map[string]string // user → password
	verified map[string]bool   // addresses the "sandbox" sends to
	// refuseFirst is how many good logins are refused first, like a key
	// that has not propagated yet.
	refuseFirst int
	auths       int
	received    []Message
}

// Message is one message the server accepted.
type Message struct {
	From     string
	To       []string
	Data     string // as sent, dot-unstuffed, CRLF line ends
	AuthUser string
}

// AddUser lets user log in with password.
func (s *Server) AddUser(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[user] = password
}

// Verify makes addr a verified address, which the sandbox sends from and to.
func (s *Server) Verify(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verified[addr] = true
}

// RefuseFirst refuses the next n good logins with 535, like a new key.
func (s *Server) RefuseFirst(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseFirst = n
}

// Auths is how many AUTH attempts the server saw.
func (s *Server) Auths() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

// Messages are the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.received...)
}

// New starts a server on 127.0.0.1 that stops when the test ends.
// implicit makes it speak TLS from the first byte (like port 465).
func New(t testing.TB, implicit bool) *Server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{users: map[string]string{}, verified: map[string]bool{}}
	s.CertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	s.tlsConf = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	addr, stop, err := sessmtp.Serve(sessmtp.Config{Addr: "127.0.0.1:0", TLS: s.tlsConf, ImplicitTLS: implicit, Backend: s})
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = addr
	t.Cleanup(stop)
	return s
}

// Roots trusts only the server's certificate.
func (s *Server) Roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(s.CertPEM)
	return p
}

// Login is the Backend's: a known user with its password, unless the
// server was told to refuse the first good logins (RefuseFirst).
func (s *Server) Login(user, pass string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auths++
	ok := pass != "" && s.users[user] == pass
	if ok && s.refuseFirst > 0 {
		s.refuseFirst--
		ok = false
	}
	return ok
}

// Deliver is the Backend's: the sandbox rule, simplified. The envelope
// sender and every recipient must be addresses Verify was told of, or at
// the mailbox simulator; otherwise SES's 554 names them.
func (s *Server) Deliver(m sessmtp.Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var bad []string
	for _, a := range append([]string{m.From}, m.To...) {
		if !s.verified[a] && !strings.HasSuffix(a, "@simulator.amazonses.com") {
			bad = append(bad, a)
		}
	}
	if len(bad) > 0 {
		return "", sessmtp.Rejected("US-EAST-1", bad)
	}
	s.received = append(s.received, Message{From: m.From, To: slices.Clone(m.To), Data: string(m.Data), AuthUser: m.User})
	return fmt.Sprintf("0100018f-test-%06d", len(s.received)), nil
}
