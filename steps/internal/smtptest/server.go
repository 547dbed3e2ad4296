// Package smtptest is a tiny SES-like SMTP server for sesame's tests: the
// unit tests of the login test use it, and the real-Postfix test can relay
// into it. It listens on loopback only.
package smtptest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
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
	Data     string
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		ln = tls.NewListener(ln, s.tlsConf)
	}
	s.Addr = ln.Addr().String()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c, implicit)
		}
	}()
	return s
}

// Roots trusts only the server's certificate.
func (s *Server) Roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(s.CertPEM)
	return p
}

func (s *Server) serve(c net.Conn, secure bool) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(lines ...string) {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		w.Flush()
	}
	read := func() string {
		l, _ := r.ReadString('\n')
		return strings.TrimRight(l, "\r\n")
	}
	authed, from, authUser := false, "", ""
	var to []string
	say("220 test-smtp ESMTP")
	for {
		line := read()
		cmd := strings.ToUpper(strings.Fields(line + " x")[0])
		switch {
		case line == "":
			return
		case cmd == "EHLO":
			if secure {
				say("250-test-smtp", "250-AUTH PLAIN LOGIN", "250 8BITMIME")
			} else {
				say("250-test-smtp", "250 STARTTLS")
			}
		case cmd == "STARTTLS":
			say("220 Ready to start TLS")
			tc := tls.Server(c, s.tlsConf)
			if tc.Handshake() != nil {
				return
			}
			c, secure = tc, true
			r, w = bufio.NewReader(c), bufio.NewWriter(c)
		case cmd == "AUTH" && !secure:
			say("530 Must issue a STARTTLS command first")
		case cmd == "AUTH":
			f := strings.Fields(line)
			var user, pass string
			if strings.EqualFold(f[1], "PLAIN") {
				raw := ""
				if len(f) > 2 {
					raw = f[2]
				} else {
					say("334 ")
					raw = read()
				}
				b, _ := base64.StdEncoding.DecodeString(raw)
				parts := strings.Split(string(b), "\x00")
				if len(parts) == 3 {
					user, pass = parts[1], parts[2]
				}
			} else {
				say("334 " + base64.StdEncoding.EncodeToString([]byte("Username:")))
				b, _ := base64.StdEncoding.DecodeString(read())
				user = string(b)
				say("334 " + base64.StdEncoding.EncodeToString([]byte("Password:")))
				b, _ = base64.StdEncoding.DecodeString(read())
				pass = string(b)
			}
			s.mu.Lock()
			s.auths++
			ok := s.users[user] == pass && pass != ""
			if ok && s.refuseFirst > 0 {
				s.refuseFirst--
				ok = false
			}
			s.mu.Unlock()
			if ok {
				authed, authUser = true, user
				say("235 Authentication successful.")
			} else {
				say("535 Authentication Credentials Invalid")
			}
		case cmd == "MAIL":
			if !authed {
				say("530 Authentication required")
				continue
			}
			from = strings.Trim(strings.Fields(line[len("MAIL FROM:"):])[0], "<>")
			to = nil
			say("250 Ok")
		case cmd == "RCPT":
			to = append(to, strings.Trim(strings.TrimSpace(line[len("RCPT TO:"):]), "<>"))
			say("250 Ok")
		case cmd == "DATA":
			say("354 End data with <CR><LF>.<CR><LF>")
			var data strings.Builder
			for l := read(); l != "."; l = read() {
				data.WriteString(l + "\n")
			}
			s.mu.Lock()
			var bad []string
			for _, a := range append([]string{from}, to...) {
				if !s.verified[a] && !strings.HasSuffix(a, "@simulator.amazonses.com") {
					bad = append(bad, a)
				}
			}
			if len(bad) == 0 {
				s.received = append(s.received, Message{From: from, To: to, Data: data.String(), AuthUser: authUser})
			}
			s.mu.Unlock()
			if len(bad) > 0 {
				say("554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: " + strings.Join(bad, ", "))
			} else {
				say("250 Ok 0100018f-test")
			}
		case cmd == "QUIT":
			say("221 Bye")
			return
		default:
			say("502 unknown command")
		}
	}
}
