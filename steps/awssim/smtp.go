package awssim

import (
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

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

// SES's limits on one message.
const (
	smtpMaxMessage = 10 << 20 // "552 Message is too long." above 10 MB
	smtpMaxRcpts   = 50
	smtpIdle       = 2 * time.Minute
	smtpHost       = "email-smtp.amazonaws.com"
)

// smtpServer is one running SMTP endpoint.
type smtpServer struct {
	sim    *Sim
	region string
	tls    *tls.Config
	ln     net.Listener
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

// ServeSMTP starts an SES-like SMTP endpoint: STARTTLS (or implicit TLS)
// with a self-signed certificate made at start, AUTH PLAIN and LOGIN that
// accept only access keys the Sim issued with their SMTP password for
// cfg.Region, and SES's sender and sandbox recipient rules. stop closes the
// listener and every open session.
func (s *Sim) ServeSMTP(cfg SMTPConfig) (boundAddr string, stop func(), err error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	cert, pemBytes, err := selfSignedCert(cfg.Region)
	if err != nil {
		return "", nil, fmt.Errorf("SMTP endpoint: make a certificate: %w", err)
	}
	if cfg.CertOut != "" {
		if err := os.WriteFile(cfg.CertOut, pemBytes, 0o644); err != nil {
			return "", nil, fmt.Errorf("SMTP endpoint: write the certificate to %s: %w (check the directory exists and is writable)", cfg.CertOut, err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return "", nil, fmt.Errorf("SMTP endpoint on %s: %w (choose another address)", cfg.Addr, err)
	}
	srv := &smtpServer{
		sim:    s,
		region: strings.ToLower(cfg.Region),
		tls:    &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ln:     ln,
		conns:  map[net.Conn]bool{},
	}
	srv.wg.Add(1)
	go srv.accept(cfg.ImplicitTLS)
	var once sync.Once
	stop = func() { once.Do(srv.stop) }
	return ln.Addr().String(), stop, nil
}

func (srv *smtpServer) accept(implicitTLS bool) {
	defer srv.wg.Done()
	for {
		c, err := srv.ln.Accept()
		if err != nil {
			return
		}
		srv.mu.Lock()
		if srv.closed {
			srv.mu.Unlock()
			c.Close()
			return
		}
		srv.conns[c] = true
		srv.wg.Add(1)
		srv.mu.Unlock()
		go func() {
			defer srv.wg.Done()
			defer func() {
				srv.mu.Lock()
				delete(srv.conns, c)
				srv.mu.Unlock()
			}()
			sess := &smtpSession{srv: srv, conn: c}
			if implicitTLS {
				tc := tls.Server(c, srv.tls)
				_ = tc.SetDeadline(time.Now().Add(smtpIdle))
				if err := tc.Handshake(); err != nil {
					c.Close()
					return
				}
				sess.conn, sess.tls = tc, true
			}
			sess.run()
		}()
	}
}

func (srv *smtpServer) stop() {
	srv.mu.Lock()
	srv.closed = true
	srv.ln.Close()
	for c := range srv.conns {
		c.Close()
	}
	srv.mu.Unlock()
	srv.wg.Wait()
}

// smtpSession is one client connection.
type smtpSession struct {
	srv  *smtpServer
	conn net.Conn
	tp   *textproto.Conn
	tls  bool

	greeted bool
	user    string // authenticated access key id
	from    string
	hasFrom bool
	rcpts   []string
}

// errQuit ends a session after its last reply.
var errQuit = errors.New("quit")

func (ss *smtpSession) run() {
	ss.tp = textproto.NewConn(ss.conn)
	defer ss.conn.Close()
	ss.reply(220, smtpHost+" ESMTP SimpleEmailService-d-SESAMESIM0 sesame-sim")
	for {
		_ = ss.conn.SetDeadline(time.Now().Add(smtpIdle))
		line, err := ss.tp.ReadLine()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				ss.reply(451, "4.4.2 Timeout waiting for data from client.")
			}
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		if err := ss.command(strings.ToUpper(verb), strings.TrimSpace(arg)); err != nil {
			return
		}
	}
}

func (ss *smtpSession) reply(code int, msg string) {
	_ = ss.tp.PrintfLine("%d %s", code, msg)
}

// command performs one SMTP command; an error ends the session.
func (ss *smtpSession) command(verb, arg string) error {
	switch verb {
	case "QUIT":
		ss.reply(221, "Bye")
		return errQuit
	case "NOOP":
		ss.reply(250, "Ok")
		return nil
	case "RSET":
		ss.resetMail()
		ss.reply(250, "Ok")
		return nil
	case "HELO", "EHLO":
		return ss.hello(verb, arg)
	case "STARTTLS":
		return ss.startTLS()
	}
	if !ss.tls {
		// SES refuses everything but the handshake in the clear.
		ss.reply(530, "Must issue a STARTTLS command first")
		return nil
	}
	switch verb {
	case "AUTH":
		return ss.auth(arg)
	case "MAIL":
		ss.mail(arg)
	case "RCPT":
		ss.rcpt(arg)
	case "DATA":
		return ss.data()
	default:
		ss.reply(502, "5.5.1 Unrecognized command")
	}
	return nil
}

func (ss *smtpSession) resetMail() {
	ss.from, ss.hasFrom, ss.rcpts = "", false, nil
}

func (ss *smtpSession) hello(verb, arg string) error {
	if arg == "" {
		ss.reply(501, "5.5.4 Syntax: "+verb+" hostname")
		return nil
	}
	ss.greeted = true
	ss.resetMail()
	if verb == "HELO" {
		ss.reply(250, smtpHost)
		return nil
	}
	lines := []string{smtpHost, "8BITMIME", fmt.Sprintf("SIZE %d", smtpMaxMessage)}
	if ss.tls {
		lines = append(lines, "AUTH PLAIN LOGIN")
	} else {
		lines = append(lines, "STARTTLS")
	}
	lines = append(lines, "Ok")
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		_ = ss.tp.PrintfLine("250%s%s", sep, l)
	}
	return nil
}

func (ss *smtpSession) startTLS() error {
	if ss.tls {
		ss.reply(503, "5.5.1 TLS already active")
		return nil
	}
	ss.reply(220, "Ready to start TLS")
	tc := tls.Server(ss.conn, ss.srv.tls)
	_ = tc.SetDeadline(time.Now().Add(smtpIdle))
	if err := tc.Handshake(); err != nil {
		return err
	}
	// Everything said in the clear is forgotten (RFC 3207).
	ss.conn, ss.tls, ss.tp = tc, true, textproto.NewConn(tc)
	ss.greeted, ss.user = false, ""
	ss.resetMail()
	return nil
}

// auth performs AUTH PLAIN or LOGIN. Only an access key id the Sim issued,
// with its SMTP password for this endpoint's region, gets in.
func (ss *smtpSession) auth(arg string) error {
	if ss.user != "" {
		ss.reply(503, "5.5.1 Already authenticated")
		return nil
	}
	mech, initial, _ := strings.Cut(arg, " ")
	var user, pass string
	switch strings.ToUpper(mech) {
	case "PLAIN":
		resp, ok, err := ss.challenge("", initial)
		if err != nil || !ok {
			return err
		}
		parts := strings.Split(string(resp), "\x00")
		if len(parts) != 3 {
			ss.reply(501, "5.5.2 Invalid PLAIN response")
			return nil
		}
		user, pass = parts[1], parts[2]
	case "LOGIN":
		u, ok, err := ss.challenge("Username:", initial)
		if err != nil || !ok {
			return err
		}
		p, ok, err := ss.challenge("Password:", "")
		if err != nil || !ok {
			return err
		}
		user, pass = string(u), string(p)
	default:
		ss.reply(504, "5.5.4 Unrecognized authentication type")
		return nil
	}
	if !ss.srv.checkLogin(user, pass) {
		ss.reply(535, "Authentication Credentials Invalid")
		return nil
	}
	ss.user = user
	ss.reply(235, "Authentication successful.")
	return nil
}

// challenge returns the decoded client response: the initial response
// when given, else the answer to a 334 prompt. ok is false when the
// exchange was refused or cancelled (the reply is already sent).
func (ss *smtpSession) challenge(prompt, initial string) (resp []byte, ok bool, err error) {
	line := initial
	if line == "" {
		_ = ss.tp.PrintfLine("334 %s", base64.StdEncoding.EncodeToString([]byte(prompt)))
		if line, err = ss.tp.ReadLine(); err != nil {
			return nil, false, err
		}
	}
	line = strings.TrimSpace(line)
	if line == "*" {
		ss.reply(501, "5.0.0 Authentication cancelled")
		return nil, false, nil
	}
	if line == "=" {
		return nil, true, nil
	}
	b, err := base64.StdEncoding.DecodeString(line)
	if err != nil {
		ss.reply(501, "5.5.2 Invalid base64 data")
		return nil, false, nil
	}
	return b, true, nil
}

// checkLogin compares the password with the key's SMTP password for this
// endpoint's region, in constant time, and records the key as used.
func (srv *smtpServer) checkLogin(user, pass string) bool {
	secret, ok := srv.sim.SecretForKey(user)
	if !ok {
		return false
	}
	want := ses.SMTPPassword(secret, srv.region)
	if subtle.ConstantTimeCompare([]byte(want), []byte(pass)) != 1 {
		return false
	}
	srv.sim.mu.Lock()
	srv.sim.touchKey(user, "ses", srv.region)
	srv.sim.mu.Unlock()
	return true
}

func (ss *smtpSession) mail(arg string) {
	switch {
	case !ss.greeted:
		ss.reply(503, "5.5.1 Error: send HELO/EHLO first")
	case ss.user == "":
		ss.reply(530, "Authentication required")
	case ss.hasFrom:
		ss.reply(503, "5.5.1 Error: nested MAIL command")
	default:
		addr, ok := pathArg(arg, "FROM:")
		if !ok {
			ss.reply(501, "Invalid MAIL FROM address provided")
			return
		}
		ss.from, ss.hasFrom = addr, true
		ss.reply(250, "Ok")
	}
}

func (ss *smtpSession) rcpt(arg string) {
	switch {
	case !ss.hasFrom:
		ss.reply(503, "5.5.1 Error: need MAIL command")
	case len(ss.rcpts) >= smtpMaxRcpts:
		ss.reply(452, "4.5.3 Too many recipients")
	default:
		addr, ok := pathArg(arg, "TO:")
		if !ok || addr == "" {
			ss.reply(501, "Invalid RCPT TO address provided")
			return
		}
		ss.rcpts = append(ss.rcpts, addr)
		ss.reply(250, "Ok")
	}
}

// pathArg reads "FROM:<addr> PARAMS" (or TO:). The angle brackets may be
// missing, as some clients send them.
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	p := strings.TrimSpace(arg[len(prefix):])
	if strings.HasPrefix(p, "<") {
		end := strings.Index(p, ">")
		if end < 0 {
			return "", false
		}
		p = p[1:end]
	} else if f := strings.Fields(p); len(f) > 0 {
		p = f[0]
	}
	if p == "" {
		return "", true // the null sender <>
	}
	if _, err := mail.ParseAddress(p); err != nil || !strings.Contains(p, "@") {
		return "", false
	}
	return p, true
}

func (ss *smtpSession) data() error {
	if !ss.hasFrom || len(ss.rcpts) == 0 {
		ss.reply(503, "5.5.1 Error: need RCPT command")
		return nil
	}
	ss.reply(354, "End data with <CR><LF>.<CR><LF>")
	dr := ss.tp.DotReader()
	body, err := io.ReadAll(io.LimitReader(dr, smtpMaxMessage+1))
	if err != nil {
		return err
	}
	if len(body) > smtpMaxMessage {
		if _, err := io.Copy(io.Discard, dr); err != nil {
			return err
		}
		ss.resetMail()
		ss.reply(552, "Message is too long.")
		return nil
	}
	// DotReader turns CRLF into LF; keep the wire's CRLF in what tests read.
	body = []byte(strings.ReplaceAll(string(body), "\n", "\r\n"))
	code, msg := ss.srv.sim.acceptMessage(ss.srv.region, ss.user, ss.from, ss.rcpts, body)
	ss.resetMail()
	ss.reply(code, msg)
	return nil
}

// acceptMessage applies SES's rules to a message at the end of DATA, where
// SES answers: the sender (envelope and From header) must be a verified
// identity of the region, and in the sandbox every recipient must be one
// too or the mailbox simulator. It returns the SMTP reply.
func (s *Sim) acceptMessage(region, user, from string, rcpts []string, data []byte) (int, string) {
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
		return 554, fmt.Sprintf("Message rejected: Email address is not verified. The following identities failed the check in region %s: %s",
			strings.ToUpper(reg.name), strings.Join(failed, ", "))
	}
	if denied := s.authorizeSend(reg, user, from, rcpts, data); denied != "" {
		return 554, denied // the SMTP user's IAM policy: smtp_policy.go
	}
	now := s.opts.Now()
	if float64(reg.sentLast24h(now)) >= s.sendQuota(reg).Max24HourSend {
		return 454, "Throttling failure: Daily message quota exceeded."
	}
	id := "0100" + randHex(s.rng, 12) + "-" + randHex(s.rng, 8) + "-" + randHex(s.rng, 4) + "-" + randHex(s.rng, 4) + "-" + randHex(s.rng, 4) + "-" + randHex(s.rng, 12) + "-000000"
	reg.sent = append(reg.sent, now)
	s.smtp.messages = append(s.smtp.messages, Message{
		ID: id, From: from, To: slices.Clone(rcpts), Data: data, AuthUser: user, Region: reg.name, Received: now,
	})
	return 250, "Ok " + id
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
