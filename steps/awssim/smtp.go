package awssim

import (
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"io"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sesame-tool/sesame/steps/internal/sessmtp"
	"github.com/sesame-tool/sesame/steps/ses"
)

// SMTPConfig configures the simulated SES SMTP endpoint.
type SMTPConfig struct {
	// Addr is where to listen (default "127.0.0.1:0", a free port).
	Addr string
	// Region is the SES region the endpoint serves (default us-east-1):
	// only SMTP passwords derived for it are accepted.
	Region string
	// CertOut, when set, receives the generated certificate as PEM, for
	// clients to trust (Postfix's smtp_tls_CAfile, sesame's --smtp-ca).
	CertOut string
	// ImplicitTLS serves TLS from the first byte (SES's ports 465 and
	// 2465) instead of STARTTLS.
	ImplicitTLS bool
	// Log, when set, receives one line per SMTP session event, such as
	// "smtp AUTH <key id> 235" or "smtp DATA 250 <message id>" (the forms
	// are sessmtp.Config.Log's); never a password.
	Log io.Writer
}

// Message is one message the SMTP endpoint accepted.
type Message struct {
	ID       string // the id in "250 Ok <id>"
	From     string // the envelope sender
	To       []string
	Data     []byte // the message as sent, dot-unstuffed, CRLF line ends
	AuthUser string // the SMTP user name: an access key id
	Region   string
	Received time.Time
}

// smtpState is the simulated SMTP endpoint's state, guarded by Sim.mu.
type smtpState struct {
	messages []Message
	certs    map[string]smtpCert // by region
}

// smtpCert is a region endpoint's certificate and its PEM.
type smtpCert struct {
	cert tls.Certificate
	pem  []byte
}

// Messages returns a copy of every message the SMTP endpoints accepted.
func (s *Sim) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.smtp.messages))
	for i, m := range s.smtp.messages {
		m.To = slices.Clone(m.To)
		m.Data = slices.Clone(m.Data)
		out[i] = m
	}
	return out
}

// serveCert returns the region's endpoint certificate, made once: like
// SES's host, the STARTTLS and the implicit-TLS ports present the same
// one. Called with s.mu held.
func (s *Sim) serveCert(region string) (tls.Certificate, []byte, error) {
	if c, ok := s.smtp.certs[region]; ok {
		return c.cert, c.pem, nil
	}
	cert, pemBytes, err := selfSignedCert(region)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	if s.smtp.certs == nil {
		s.smtp.certs = map[string]smtpCert{}
	}
	s.smtp.certs[region] = smtpCert{cert, pemBytes}
	return cert, pemBytes, nil
}

// ServeSMTP starts an SES-like SMTP endpoint (steps/internal/sessmtp on
// emersion/go-smtp): STARTTLS, or TLS from the first byte, with a
// self-signed certificate for the region's host (the same for every
// endpoint of a region); AUTH PLAIN and LOGIN that accept only access keys
// the Sim issued with their SMTP password for cfg.Region; SES's sender and
// sandbox recipient rules at the end of DATA. stop closes the listener and
// every open session.
func (s *Sim) ServeSMTP(cfg SMTPConfig) (boundAddr string, stop func(), err error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	region := strings.ToLower(cfg.Region)
	s.mu.Lock()
	cert, pemBytes, err := s.serveCert(region)
	s.mu.Unlock()
	if err != nil {
		return "", nil, fmt.Errorf("SMTP endpoint: make a certificate: %w", err)
	}
	if cfg.CertOut != "" {
		if err := os.WriteFile(cfg.CertOut, pemBytes, 0o644); err != nil {
			return "", nil, fmt.Errorf("SMTP endpoint: write the certificate to %s: %w (check the directory exists and is writable)", cfg.CertOut, err)
		}
	}
	addr, stop, err := sessmtp.Serve(sessmtp.Config{
		Addr:        cfg.Addr,
		TLS:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ImplicitTLS: cfg.ImplicitTLS,
		Backend:     smtpBackend{sim: s, region: region},
		Log:         cfg.Log,
	})
	if err != nil {
		return "", nil, fmt.Errorf("SMTP endpoint on %s: %w (choose another address)", cfg.Addr, err)
	}
	return addr, stop, nil
}

// smtpBackend makes SES's decisions for one endpoint from the Sim's IAM
// keys and SES identities.
type smtpBackend struct {
	sim    *Sim
	region string
}

// Login accepts an access key id the Sim issued with its SMTP password for
// this endpoint's region (ses-facts.md §1: the password is derived per
// region, so another region's is refused with 535, §7), compared in
// constant time, and records the key as used by ses in the region.
func (b smtpBackend) Login(user, pass string) bool {
	secret, ok := b.sim.SecretForKey(user)
	if !ok {
		return false
	}
	want := ses.SMTPPassword(secret, b.region)
	if subtle.ConstantTimeCompare([]byte(want), []byte(pass)) != 1 {
		return false
	}
	b.sim.mu.Lock()
	b.sim.touchKey(user, "ses", b.region)
	b.sim.mu.Unlock()
	return true
}

// Deliver applies acceptMessage.
func (b smtpBackend) Deliver(m sessmtp.Message) (string, error) {
	return b.sim.acceptMessage(b.region, m.User, m.From, m.To, m.Data)
}

// acceptMessage applies SES's rules to a message at the end of DATA, where
// SES answers: the sender (envelope and From header) must be a verified
// identity of the region, and in the sandbox every recipient must be one
// too or the mailbox simulator. It returns the message id, or SES's reply
// refusing the message (ses-facts.md §7: the 554 names every identity that
// failed and the region in capitals; 454 past the daily quota).
func (s *Sim) acceptMessage(region, user, from string, rcpts []string, data []byte) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg := s.sesRegionFor(region)
	s.settleReview(reg)
	var failed []string
	fail := func(addr string) {
		if !slices.ContainsFunc(failed, func(f string) bool { return strings.EqualFold(f, addr) }) {
			failed = append(failed, addr)
		}
	}
	senders := []string{from}
	if m, err := mail.ReadMessage(strings.NewReader(string(data))); err == nil {
		if list, err := m.Header.AddressList("From"); err == nil {
			for _, a := range list {
				senders = append(senders, a.Address)
			}
		}
	}
	for _, a := range senders {
		if !s.canSendAs(reg, a) {
			fail(a)
		}
	}
	if !reg.account.production {
		for _, r := range rcpts {
			if !isSimulator(r) && !s.canSendAs(reg, r) {
				fail(r)
			}
		}
	}
	if len(failed) > 0 {
		return "", sessmtp.Rejected(strings.ToUpper(reg.name), failed)
	}
	if denied := s.authorizeSend(reg, user, from, rcpts, data); denied != "" {
		return "", sessmtp.AccessDenied(denied) // the SMTP user's IAM policy: smtp_policy.go
	}
	now := s.opts.Now()
	if float64(reg.sentLast24h(now)) >= s.sendQuota(reg).Max24HourSend {
		return "", sessmtp.ErrDailyQuota
	}
	id := "0100" + randHex(s.rng, 12) + "-" + randHex(s.rng, 8) + "-" + randHex(s.rng, 4) + "-" + randHex(s.rng, 4) + "-" + randHex(s.rng, 4) + "-" + randHex(s.rng, 12) + "-000000"
	reg.sent = append(reg.sent, now)
	s.smtp.messages = append(s.smtp.messages, Message{
		ID: id, From: from, To: slices.Clone(rcpts), Data: data, AuthUser: user, Region: reg.name, Received: now,
	})
	return id, nil
}

// canSendAs reports whether addr is covered by a verified identity of the
// region: the address itself, its domain, or a parent domain (SES lets a
// verified domain send from its subdomains). Called with s.mu held.
func (s *Sim) canSendAs(reg *sesRegion, addr string) bool {
	at := strings.LastIndex(addr, "@")
	if at < 0 {
		return false
	}
	if id := reg.identities[identityKey(addr)]; id != nil && s.identityStatus(reg, id).verified {
		return true
	}
	for d := strings.ToLower(addr[at+1:]); d != ""; d = strings.TrimSuffix(parentName(d+"."), ".") {
		if id := reg.identities[identityKey(d)]; id != nil && id.Type == "DOMAIN" && s.identityStatus(reg, id).verified {
			return true
		}
	}
	return false
}

// isSimulator reports whether addr is at SES's mailbox simulator, which
// the sandbox lets anyone send to.
func isSimulator(addr string) bool {
	at := strings.LastIndex(addr, "@")
	return at >= 0 && strings.EqualFold(addr[at+1:], "simulator.amazonses.com")
}
