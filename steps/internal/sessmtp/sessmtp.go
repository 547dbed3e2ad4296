// Package sessmtp is Amazon SES's SMTP endpoint as a client sees it, built
// on github.com/emersion/go-smtp. The library speaks SMTP (commands,
// STARTTLS, implicit TLS, SASL framing, dot-stuffing, size and recipient
// limits); this package keeps only what SES does its own way, each piece
// citing where the behaviour is documented (the facts are collected in
// /work/shared/reference/ses-facts.md section 7, "SES SMTP endpoints &
// common errors", from the SES developer guide's smtp-connect.html and
// troubleshoot-smtp.html):
//
//   - nothing but the handshake in the clear: AUTH and MAIL before TLS get
//     "530 Must issue a STARTTLS command first", and AUTH is advertised
//     only once TLS is up ("TLS required on all connections");
//   - AUTH PLAIN and LOGIN, refused with "535 Authentication Credentials
//     Invalid" whatever the reason (unknown key, wrong region, the IAM
//     secret used as the password);
//   - MAIL before AUTH gets "530 Authentication required";
//   - the verdict on a message at the end of DATA: "250 Ok <message id>",
//     or the Backend's refusal (SES's 554 "Message rejected: Email address
//     is not verified ..." or "454 Throttling failure ..."), and "552
//     Message is too long." above 10 MB.
//
// SES's replies carry no enhanced status code, so these do not either
// (clients and sesame's own explanations match their text).
//
// Where go-smtp still answers in its own words, no client depends on the
// text: the greeting ends "ESMTP Service Ready" after SES's host and id;
// EHLO says "Hello <client>" and also offers PIPELINING, CHUNKING,
// ENHANCEDSTATUSCODES and LIMITS (Postfix's smtp client never uses BDAT;
// a BDAT message over 10 MB gets go-smtp's 552 text); 235, 250 to MAIL and
// RCPT, 221 and syntax errors carry go-smtp's texts; an idle session is
// closed with "421 4.4.2 Idle timeout" where SES says "451 Timeout waiting
// for data from client".
//
// Who may log in and which messages are accepted are the Backend's
// decisions: the simulator (steps/awssim) derives them from its IAM keys and
// SES identities, the test server (steps/internal/smtptest) from a fixed
// list. Every decision is logged as one line (see Config.Log).
package sessmtp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SES's replies (ses-facts.md §7, from the developer guide's "SMTP response
// codes"), without enhanced status codes as SES sends them.
var (
	// ErrStartTLSFirst answers AUTH and MAIL on a connection still in the
	// clear: SES requires TLS on every connection.
	ErrStartTLSFirst = sesReply(530, "Must issue a STARTTLS command first")
	// ErrAuthRequired answers MAIL before a successful AUTH. A Postfix
	// that found no sasl_passwd entry for its relayhost sees this, and
	// bounces the message.
	ErrAuthRequired = sesReply(530, "Authentication required")
	// ErrCredentialsInvalid answers every failed AUTH: SES does not say
	// whether the key is unknown or the password derived for another
	// region.
	ErrCredentialsInvalid = sesReply(535, "Authentication Credentials Invalid")
	// ErrTooLong answers a message above MaxMessageBytes.
	ErrTooLong = sesReply(552, "Message is too long.")
	// ErrDailyQuota answers a message beyond the account's 24-hour quota.
	ErrDailyQuota = sesReply(454, "Throttling failure: Daily message quota exceeded.")
)

// SES's limits on one message (ses-facts.md §7: 10 MB; the developer
// guide's quotas page: 50 recipients per message).
const (
	MaxMessageBytes = 10 << 20
	MaxRecipients   = 50
	// idle is how long a session may stay silent before it is closed.
	idle = 2 * time.Minute
	// greeting is what follows "220 ": SES greets as
	// "email-smtp.amazonaws.com ESMTP SimpleEmailService-d-<id> <token>";
	// go-smtp appends " ESMTP Service Ready" to it.
	greeting = "email-smtp.amazonaws.com ESMTP SimpleEmailService-d-SESAMESIM0"
)

// Rejected is SES's 554 for senders or (in the sandbox) recipients that
// are not verified identities of the region, listing every one of them
// (ses-facts.md §7; re:Post "ses-554-400-message-rejected-error").
func Rejected(region string, ids []string) *smtp.SMTPError {
	msg := "Message rejected: Email address is not verified. The following identities failed the check in region " + region + ": "
	for i, id := range ids {
		if i > 0 {
			msg += ", "
		}
		msg += id
	}
	return sesReply(554, msg)
}

// AccessDenied is SES's 554 when the SMTP user's IAM policy does not
// allow the send; msg is SES's text ("Access denied: User `arn:…' is not
// authorized to perform `ses:SendRawEmail' on resource `arn:…'").
func AccessDenied(msg string) *smtp.SMTPError { return sesReply(554, msg) }

func sesReply(code int, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.NoEnhancedCode, Message: msg}
}

// Message is a message at the end of DATA, for the Backend to judge.
type Message struct {
	User string   // the logged-in user (an access key id)
	From string   // the envelope sender ("" for <>)
	To   []string // the envelope recipients
	Data []byte   // the message as sent, dot-unstuffed, CRLF line ends
}

// Backend makes SES's decisions for a server.
type Backend interface {
	// Login reports whether user may log in with pass.
	Login(user, pass string) bool
	// Deliver judges a message: its id when accepted, else the refusal
	// (an *smtp.SMTPError such as Rejected or ErrDailyQuota).
	Deliver(m Message) (id string, err error)
}

// Config says where and how to serve.
type Config struct {
	// Addr is where to listen ("127.0.0.1:0" picks a free port).
	Addr string
	// TLS holds the certificate; required.
	TLS *tls.Config
	// ImplicitTLS serves TLS from the first byte (SES's ports 465 and
	// 2465, "TLS Wrapper") instead of STARTTLS (25, 587, 2587).
	ImplicitTLS bool
	// Backend decides logins and messages; required.
	Backend Backend
	// Log, when set, receives one line per session event, written at
	// once (one Write per line): "smtp AUTH <user> 235", "smtp AUTH <user>
	// 535", "smtp AUTH - 530 Must issue a STARTTLS command first", "smtp
	// MAIL 250 <from>", "smtp MAIL 530 Authentication required", "smtp
	// RCPT 250 <to>", "smtp DATA 250 <message id>", "smtp DATA 554
	// Message rejected: ...", and "smtp ERROR <what>" for a connection
	// that failed below SMTP (a refused TLS handshake). A password never
	// appears; a user name that could be a misplaced secret is "?".
	Log io.Writer
}

// Serve starts a server; stop closes the listener and every session.
func Serve(cfg Config) (addr string, stop func(), err error) {
	if cfg.TLS == nil || cfg.Backend == nil {
		return "", nil, errors.New("sessmtp: Config needs TLS and a Backend")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return "", nil, err
	}
	if cfg.ImplicitTLS {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	ev := &events{w: cfg.Log}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{be: cfg.Backend, conn: c, ev: ev}, nil
	}))
	srv.Domain = greeting
	srv.TLSConfig = cfg.TLS
	srv.MaxMessageBytes = MaxMessageBytes
	srv.MaxRecipients = MaxRecipients
	srv.ReadTimeout, srv.WriteTimeout = idle, idle
	// AUTH in the clear must reach the session so that it can answer SES's
	// 530; it is not advertised there (session.AuthMechanisms).
	srv.AllowInsecureAuth = true
	srv.ErrorLog = ev
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	stop = sync.OnceFunc(func() {
		_ = srv.Close()
		_ = ln.Close() // in case Close ran before Serve registered it
		<-done
	})
	return ln.Addr().String(), stop, nil
}

// session is one client's SMTP session, as go-smtp drives it.
type session struct {
	be   Backend
	conn *smtp.Conn
	ev   *events
	user string // the logged-in user, "" before AUTH
	from string
	to   []string
}

func (s *session) secure() bool {
	_, ok := s.conn.TLSConnectionState()
	return ok
}

// AuthMechanisms offers PLAIN and LOGIN, as SES does, once TLS is up.
func (s *session) AuthMechanisms() []string {
	if !s.secure() {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

// Auth starts PLAIN or LOGIN; in the clear it refuses with SES's 530.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if !s.secure() {
		// No user yet: "-" keeps AUTH lines "AUTH <user> <code> ...".
		return nil, s.refuse("AUTH -", ErrStartTLSFirst)
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return s.login(user, pass) }), nil
	case sasl.Login:
		return &loginServer{login: s.login}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) login(user, pass string) error {
	if !s.be.Login(user, pass) {
		s.ev.printf("AUTH %s 535", logName(user))
		return ErrCredentialsInvalid
	}
	s.user = user
	s.ev.printf("AUTH %s 235", logName(user))
	return nil
}

// Mail needs TLS and a login, as on SES; the sender is judged at the end
// of DATA, where SES judges it.
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	switch {
	case !s.secure():
		return s.refuse("MAIL", ErrStartTLSFirst)
	case s.user == "":
		return s.refuse("MAIL", ErrAuthRequired)
	}
	s.from, s.to = from, nil
	s.ev.printf("MAIL 250 <%s>", from)
	return nil
}

// Rcpt takes any recipient: SES judges them (the sandbox rule) at the end
// of DATA. go-smtp enforces MaxRecipients.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	s.ev.printf("RCPT 250 <%s>", to)
	return nil
}

// Data reads the message and answers SES's verdict.
func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if errors.Is(err, smtp.ErrDataTooLarge) {
		return s.refuse("DATA", ErrTooLong)
	}
	if err != nil {
		return err
	}
	id, err := s.be.Deliver(Message{User: s.user, From: s.from, To: s.to, Data: data})
	if err != nil {
		return s.refuse("DATA", err)
	}
	s.ev.printf("DATA 250 %s", id)
	// SES's "250 Ok <message id>": go-smtp sends a Data error's code and
	// text as the reply, and would otherwise say "250 2.0.0 OK: queued".
	return sesReply(250, "Ok "+id)
}

// Reset forgets the transaction (RSET, a new EHLO, after DATA).
func (s *session) Reset() { s.from, s.to = "", nil }

// Logout ends the session; nothing is held.
func (s *session) Logout() error { return nil }

// refuse logs the refusal of verb and returns it as the reply.
func (s *session) refuse(verb string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		s.ev.printf("%s %d %s", verb, se.Code, se.Message)
	} else {
		s.ev.printf("%s 554 %s", verb, err)
	}
	return err
}

// loginServer is AUTH LOGIN (go-sasl has its client only): SES prompts
// "Username:" then "Password:"; an initial response is the user name.
type loginServer struct {
	login func(user, pass string) error
	user  []byte
	step  int
}

func (l *loginServer) Next(resp []byte) (challenge []byte, done bool, err error) {
	l.step++
	switch {
	case l.step == 1 && resp == nil:
		return []byte("Username:"), false, nil
	case l.step == 1 || l.step == 2 && l.user == nil:
		l.user = resp
		return []byte("Password:"), false, nil
	}
	return nil, true, l.login(string(l.user), string(resp))
}

// safeName is what a log line may show of a user name: an access key id
// or an IAM user name. Anything longer or with other characters could be
// a secret typed into the wrong field.
var safeName = regexp.MustCompile(`^[A-Za-z0-9._@+=,-]{1,32}$`)

func logName(user string) string {
	if safeName.MatchString(user) {
		return user
	}
	return "?"
}

// events writes the log lines, one Write each, serialized.
type events struct {
	mu sync.Mutex
	w  io.Writer
}

func (e *events) printf(format string, args ...any) {
	if e.w == nil {
		return
	}
	// One event, one line, whatever the text holds (a panic's stack).
	line := "smtp " + strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " ") + "\n"
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = io.WriteString(e.w, line)
	if f, ok := e.w.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}
}

// Printf and Println make events go-smtp's ErrorLog: what fails below SMTP
// (a refused TLS handshake on the implicit-TLS port) is one "smtp ERROR"
// line.
func (e *events) Printf(format string, v ...any) { e.printf("ERROR "+format, v...) }

func (e *events) Println(v ...any) { e.printf("ERROR %s", fmt.Sprint(v...)) }
