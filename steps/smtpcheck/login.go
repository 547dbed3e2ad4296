package smtpcheck

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
)

// Login is how to reach an SMTP server and log in to it: the SES SMTP
// endpoint of the region, or --smtp-endpoint.
type Login struct {
	// Endpoint is host:port.
	Endpoint string
	// ServerName is the name the TLS certificate must carry; "" means the
	// host of Endpoint.
	ServerName string
	// Roots are the CAs trusted for the server's certificate; nil means the
	// system's.
	Roots *x509.CertPool
	// Implicit is TLS from the first byte (465, 2465) instead of STARTTLS.
	Implicit bool
	// Username is the access key id; Password its SMTP password.
	Username string
	Password mta.Secret
	// Region is the region the password was derived for, for explanations.
	Region string
	// Timeout bounds one connection (default 20 s).
	Timeout time.Duration
}

// DefaultLoginRetry is how long a 535 is retried: a new IAM access key can
// take several seconds (AWS says "5-10 seconds or more") to work over SMTP.
const DefaultLoginRetry = 15 * time.Second

// NewKeyLoginRetry is how long a 535 is retried when the key was created
// in this run: users report new keys refused over SMTP for longer than
// 15 s (aws/aws-sdk-js #559 needed about 15 s; HashiCorp Vault's AWS
// secrets engine documents "5-10 seconds (or more)"), and IAM is only
// eventually consistent (IAM User Guide, "Troubleshoot IAM"). An older
// key that is refused is wrong, not new, and keeps DefaultLoginRetry.
const NewKeyLoginRetry = 60 * time.Second

// RetryInterval is the pause between login attempts.
const RetryInterval = 3 * time.Second

// Clock is the time LoginTest reads and waits on; the wizard's clock
// satisfies it, and tests pass one that never sleeps.
type Clock interface {
	Now() time.Time
	// After waits like time.After.
	After(d time.Duration) <-chan time.Time
}

// Error is an SMTP conversation that failed: where, and what the server
// (or the network) said.
type Error struct {
	// Stage is "connect", "starttls", "auth", "mail", "rcpt" or "data".
	Stage    string
	Endpoint string
	// Code and Msg are the server's reply, when it gave one (Code 0 otherwise).
	Code int
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("SMTP %s at %s: %d %s", e.Stage, e.Endpoint, e.Code, e.Msg)
	}
	return fmt.Sprintf("SMTP %s at %s: %v", e.Stage, e.Endpoint, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Roots returns the system CAs plus the PEM certificates in caFile
// (--smtp-ca); "" means the system CAs alone (nil). A file that holds no
// certificate is a *NoPEMError.
func Roots(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read the SMTP CA file (--smtp-ca): %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &NoPEMError{File: caFile}
	}
	return pool, nil
}

// NoPEMError is a CA file (--smtp-ca) that holds no PEM certificate: the
// operator's input is at fault, so the wizard reports it as such.
type NoPEMError struct{ File string }

func (e *NoPEMError) Error() string { return e.File + " holds no PEM certificate" }

// session connects, secures the connection and logs in. The caller quits
// or closes the returned client.
func (l Login) session(ctx context.Context) (*smtp.Client, error) {
	host, _, err := net.SplitHostPort(l.Endpoint)
	if err != nil {
		return nil, &Error{Stage: "connect", Endpoint: l.Endpoint, Err: fmt.Errorf("the endpoint must be host:port: %w", err)}
	}
	name := cmp.Or(l.ServerName, host)
	tlsConf := &tls.Config{ServerName: name, RootCAs: l.Roots, MinVersion: tls.VersionTLS12}
	timeout := l.Timeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	dialer := &net.Dialer{Timeout: timeout}
	var conn net.Conn
	if l.Implicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConf}).DialContext(ctx, "tcp", l.Endpoint)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", l.Endpoint)
	}
	if err != nil {
		return nil, &Error{Stage: "connect", Endpoint: l.Endpoint, Err: err}
	}
	// net/smtp knows no context: a deadline bounds the whole conversation
	// and cancelling the context closes the connection.
	_ = conn.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, err := l.converse(conn, name, tlsConf)
	if !stop() && ctx.Err() != nil {
		if c != nil {
			c.Close()
		}
		return nil, ctx.Err()
	}
	return c, err
}

func (l Login) converse(conn net.Conn, name string, tlsConf *tls.Config) (*smtp.Client, error) {
	fail := func(c *smtp.Client, stage string, err error) (*smtp.Client, error) {
		if c != nil {
			c.Close()
		} else {
			conn.Close()
		}
		return nil, smtpError(stage, l.Endpoint, err)
	}
	c, err := smtp.NewClient(conn, name)
	if err != nil {
		return fail(nil, "connect", err)
	}
	if err := c.Hello(ehloName()); err != nil {
		return fail(c, "connect", err)
	}
	if !l.Implicit {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fail(c, "starttls", errors.New("the server does not offer STARTTLS; SES always does: is --smtp-endpoint right?"))
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return fail(c, "starttls", err)
		}
	}
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return fail(c, "auth", errors.New("the server offers no AUTH after TLS"))
	}
	var auth smtp.Auth
	switch {
	case hasWord(mechs, "PLAIN"):
		auth = smtp.PlainAuth("", l.Username, l.Password.Reveal(), name)
	case hasWord(mechs, "LOGIN"):
		auth = loginAuth{user: l.Username, pass: l.Password.Reveal()}
	default:
		return fail(c, "auth", fmt.Errorf("the server offers neither AUTH PLAIN nor LOGIN (%s)", mechs))
	}
	if err := c.Auth(auth); err != nil {
		return fail(c, "auth", err)
	}
	return c, nil
}

// Test connects, secures the connection (STARTTLS or implicit TLS), logs in
// and quits: no mail is sent.
func (l Login) Test(ctx context.Context) error {
	c, err := l.session(ctx)
	if err != nil {
		return err
	}
	_ = c.Quit()
	return nil
}

// Message is the one message --test-to sends.
type Message struct {
	From, To string
	// Region and Host go into the text, so the recipient knows the path.
	Region, Host string
	Date         time.Time
}

// Bytes renders the message with CRLF line ends.
func (m Message) Bytes() []byte {
	var id [8]byte
	_, _ = rand.Read(id[:])
	_, domain, _ := strings.Cut(m.From, "@")
	lines := []string{
		"From: sesame test <" + m.From + ">",
		"To: <" + m.To + ">",
		"Subject: sesame: test message through Amazon SES (" + m.Region + ")",
		"Date: " + m.Date.Format(time.RFC1123Z),
		"Message-ID: <sesame-" + hex.EncodeToString(id[:]) + "@" + domain + ">",
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"",
		"This message was sent by sesame to test the Amazon SES SMTP relay",
		"at " + m.Host + " with the SMTP credentials it wrote for Postfix.",
		"If it arrived, SES accepts mail from " + domain + ".",
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// Send logs in and sends one message.
func (l Login) Send(ctx context.Context, m Message) error {
	c, err := l.session(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail(m.From); err != nil {
		return smtpError("mail", l.Endpoint, err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return smtpError("rcpt", l.Endpoint, err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpError("data", l.Endpoint, err)
	}
	if _, err := w.Write(m.Bytes()); err != nil {
		return smtpError("data", l.Endpoint, err)
	}
	if err := w.Close(); err != nil {
		return smtpError("data", l.Endpoint, err)
	}
	_ = c.Quit()
	return nil
}

// LoginTest runs the login test, retrying a refused login (535, or SES's
// 454 temporary authentication failure) for up to window, because a new
// access key takes a few seconds to work over SMTP. onRetry (may be nil) is
// told of each retry. A login still refused at the end is explained: see
// AuthError.
func LoginTest(ctx context.Context, clock Clock, window time.Duration, l Login, onRetry func(attempt int, err error)) error {
	start := clock.Now()
	for attempt := 1; ; attempt++ {
		err := l.Test(ctx)
		if err == nil || !retryableLogin(err) {
			return explainLogin(err, l, clock.Now().Sub(start))
		}
		if clock.Now().Add(RetryInterval).Sub(start) > window {
			return explainLogin(err, l, clock.Now().Sub(start))
		}
		if onRetry != nil {
			onRetry(attempt, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-clock.After(RetryInterval):
		}
	}
}

func retryableLogin(err error) bool {
	var se *Error
	return errors.As(err, &se) && se.Stage == "auth" && (se.Code == 535 || se.Code == 454)
}

// AuthError is a login SES kept refusing, with its likely causes.
type AuthError struct {
	Endpoint, Username, Region string
	// Waited is how long the login was retried.
	Waited time.Duration
	// Causes are the likely causes, the most likely first.
	Causes []string
	Err    *Error
}

func (e *AuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the SMTP login as %s at %s was refused: %d %s", e.Username, e.Endpoint, e.Err.Code, e.Err.Msg)
	if e.Waited > 0 {
		fmt.Fprintf(&b, " (still after %s of retries while a new key propagates)", e.Waited.Round(time.Second))
	}
	b.WriteString(". Likely causes:")
	for _, c := range e.Causes {
		b.WriteString("\n  - " + c)
	}
	b.WriteString("\n  → run sesame again to check the key (the smtp-user step makes a new one when needed), or `sesame smtp-password --region " + cmp.Or(e.Region, "REGION") + "` to derive a password from a secret key you have; --no-smtp-test skips this test")
	return b.String()
}

func (e *AuthError) Unwrap() error { return e.Err }

// loginCauses lists the likely causes of a refused login, the ones the
// credentials themselves point at first.
func loginCauses(l Login) []string {
	region := cmp.Or(l.Region, "the endpoint's region")
	user := "the IAM user name was used as the login instead of the access key id (it starts with AKIA)"
	secret := "the IAM secret access key was used as the password instead of the SMTP password derived from it"
	other := fmt.Sprintf("the password was derived for another region than %s: SMTP passwords are bound to their region, so relayhost and the password must name the same one", region)
	var first, rest []string
	switch {
	case !ses.LooksLikeAccessKeyID(l.Username):
		first = append(first, fmt.Sprintf("%s: %q does not look like an access key id", user, l.Username))
		rest = append(rest, other, secret)
	case !ses.LooksLikeSMTPPassword(l.Password.Reveal()):
		first = append(first, secret+": the password does not have the shape of an SES SMTP password (44 characters starting with B)")
		rest = append(rest, other)
	case strings.HasPrefix(l.Username, "ASIA"):
		first = append(first, "the access key is temporary (ASIA…, from STS or SSO): SES SMTP accepts only long-term IAM user keys")
		rest = append(rest, other)
	default:
		rest = append(rest, other, secret, user)
	}
	rest = append(rest, "the access key was deleted or deactivated in IAM, or the user lost its ses:SendRawEmail policy")
	return append(first, rest...)
}

func explainLogin(err error, l Login, waited time.Duration) error {
	var se *Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch {
	case se.Stage == "auth" && se.Code == 535:
		return &AuthError{Endpoint: l.Endpoint, Username: l.Username, Region: l.Region, Waited: waited, Causes: loginCauses(l), Err: se}
	case se.Stage == "connect" || se.Stage == "starttls":
		var ue x509.UnknownAuthorityError
		var he x509.HostnameError
		hint := "check that this machine reaches it (outbound TCP to the SMTP port; some networks block it), or skip the test with --no-smtp-test"
		if errors.As(err, &ue) || errors.As(err, &he) {
			hint = "the server's TLS certificate is not trusted for this name: for a test server pass its CA with --smtp-ca; for SES, check the system CA bundle"
		}
		return fmt.Errorf("the SMTP login test could not reach %s: %w\n  → %s", l.Endpoint, err, hint)
	case se.Code == 454:
		return fmt.Errorf("SES could not check the login just now: %w\n  → this is temporary: run sesame again in a minute", err)
	case se.Code == 530:
		return fmt.Errorf("%w\n  → the server wants authentication the client could not offer: check --smtp-endpoint", err)
	}
	return err
}

// ExplainSend puts a failed test message in words: the SES sandbox (554
// "Email address is not verified"), a missing ses:SendRawEmail permission,
// or a sending quota.
func ExplainSend(err error, m Message) error {
	var se *Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	msg := strings.ToLower(se.Msg)
	_, fromDomain, _ := strings.Cut(m.From, "@")
	_, failed, _ := strings.Cut(msg, "failed the check in region")
	senderFailed := fromDomain != "" && strings.Contains(failed, strings.ToLower(fromDomain))
	switch {
	case se.Code == 554 && strings.Contains(msg, "not verified") && senderFailed:
		return fmt.Errorf("SES refused the test message from %s: %w\n  → the sender's domain %s is not verified in SES in %s yet: run sesame again to finish the verification step, then send the test again",
			m.From, err, fromDomain, cmp.Or(m.Region, "this region"))
	case se.Code == 554 && strings.Contains(msg, "not verified"):
		return fmt.Errorf("SES refused the test message to %s: %w\n  → the account is in the SES sandbox in %s: it sends only to verified addresses (and the mailbox simulator, %s) until AWS grants production access. Verify %s in SES, send to the simulator, or request production access (sesame's sandbox step files the request)",
			m.To, err, cmp.Or(m.Region, "this region"), ses.MailboxSimulatorSuccess, m.To)
	case se.Code == 554 && strings.Contains(msg, "not authorized"):
		return fmt.Errorf("SES refused the test message: %w\n  → %s", err, deniedHint(se.Msg, m))
	case se.Code == 454 && strings.Contains(msg, "quota"):
		return fmt.Errorf("SES refused the test message: %w\n  → the account's daily sending quota is used up: wait, or request a higher quota", err)
	case se.Code == 454 && strings.Contains(msg, "rate"):
		return fmt.Errorf("SES refused the test message: %w\n  → the account's sending rate is exceeded: wait a second and try again", err)
	}
	return err
}

func smtpError(stage, endpoint string, err error) error {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return &Error{Stage: stage, Endpoint: endpoint, Code: tp.Code, Msg: tp.Msg, Err: err}
	}
	return &Error{Stage: stage, Endpoint: endpoint, Err: err}
}

func hasWord(list, word string) bool {
	for _, w := range strings.Fields(list) {
		if strings.EqualFold(w, word) {
			return true
		}
	}
	return false
}

// ehloName is the name sesame greets with: this machine's name, or
// "localhost" when it has none a server would take.
func ehloName() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.ContainsAny(h, " \t") {
		return "localhost"
	}
	return h
}

// loginAuth is AUTH LOGIN, which net/smtp lacks; SES offers it beside PLAIN.
// It is only used on a TLS connection (session secures it first).
type loginAuth struct{ user, pass string }

func (a loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, errors.New("refusing AUTH LOGIN without TLS")
	}
	return "LOGIN", nil, nil
}

func (a loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(fromServer))) {
	case "username:":
		return []byte(a.user), nil
	case "password:":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected AUTH LOGIN challenge %s", strconv.Quote(string(fromServer)))
}

// ImplicitTLS reports whether an endpoint's port speaks TLS from the first
// byte (465, 2465).
func ImplicitTLS(endpoint string) bool {
	_, p, err := net.SplitHostPort(endpoint)
	if err != nil {
		return false
	}
	n, _ := strconv.Atoi(p)
	return ses.ImplicitTLS(n)
}

// deniedHint says what a "554 Access denied … on resource `ARN'" means.
// SES authorizes an SMTP send (ses:SendRawEmail) against the sender's
// identity, in the sandbox against every recipient's identity too, and
// against the configuration set when one applies (Amazon SES Developer
// Guide, "Identity and access management in Amazon SES"; "Troubleshooting
// SMTP" for the 554 text).
func deniedHint(text string, m Message) string {
	res := ""
	if _, rest, ok := strings.Cut(text, "on resource `"); ok {
		res, _, _ = strings.Cut(rest, "'")
	}
	_, kind, _ := strings.Cut(res, ":identity/")
	what := "the resource SES checked"
	switch {
	case strings.Contains(res, ":configuration-set/"):
		what = "the configuration set the message uses (the identity's default, or an X-SES-CONFIGURATION-SET header)"
	case kind != "" && strings.EqualFold(kind, m.To):
		what = "the recipient's identity, which SES checks in the sandbox"
	case kind != "":
		what = "the sender's identity"
	}
	if res == "" {
		res = "the resource SES named"
	}
	_, domain, _ := strings.Cut(m.From, "@")
	return fmt.Sprintf("the SMTP user's IAM policy does not allow ses:SendRawEmail on %s (%s). sesame's policy allows sending as any address at %s on the identities and configuration sets of %s: run sesame again and its smtp-user step replaces a policy that differs. If that step reports the policy current, something else refuses the send: another policy on the user with a Deny (aws iam list-user-policies, list-attached-user-policies), a permissions boundary, or an organization SCP",
		res, what, domain, cmp.Or(m.Region, "this region"))
}
