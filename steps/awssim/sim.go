package awssim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultAccountID is the simulated account's id.
const DefaultAccountID = "123456789012"

// Options configure a Sim. The zero value is a clean, fast, sandboxed account.
type Options struct {
	// AccountID is the 12-digit account id (default DefaultAccountID).
	AccountID string
	// Latency is added to every request before it is answered.
	Latency time.Duration
	// Faults injects throttling, 5xx answers and dropped connections.
	Faults Faults
	// Seed seeds the fault injection (same seed, same faults).
	Seed int64
	// Deny lists actions answered with AccessDenied ("iam:CreateUser").
	Deny []string
	// HangAfter names an operation ("CreateAccessKey"): the first time it
	// succeeds its effect stays but no response is ever sent. "OP#N"
	// hangs the Nth success instead (a test of `sesame rotate` lets
	// onboarding's CreateAccessKey through and hangs the rotation's).
	HangAfter string
	// Production starts the account out of the sandbox in every region.
	Production bool
	// VerifyDelay is how long after its DKIM records appear in a public
	// hosted zone an identity turns SUCCESS.
	VerifyDelay time.Duration
	// FailAfter turns a PENDING identity FAILED this long after creation
	// (0 = never).
	FailAfter time.Duration
	// ReviewDelay is how long a production-access request stays PENDING
	// before it is GRANTED.
	ReviewDelay time.Duration
	// ChangeDelay is how long a Route 53 change stays PENDING (0 means
	// DefaultChangeDelay, negative means INSYNC at once). GetChange reports
	// PENDING at least once unless the delay is negative.
	ChangeDelay time.Duration
	// IAMPropagation is how long a new IAM user stays unknown to
	// PutUserPolicy and CreateAccessKey (NoSuchEntity), as IAM's eventual
	// consistency lets it be (IAM User Guide, "Troubleshoot IAM", "Changes
	// that I make are not always immediately visible").
	IAMPropagation time.Duration
	// KeyPropagation is how long a new access key is refused by the SMTP
	// endpoint (535) before it works.
	KeyPropagation time.Duration
	// NoSMTPHost names regions whose email-smtp host the sim's DNS says
	// does not exist (NXDOMAIN), as for a region without an SMTP endpoint.
	NoSMTPHost []string
	// LegacyChangeBatchErrors answers a refused Route 53 batch in the
	// older <InvalidChangeBatch><Messages> form instead of today's
	// standard ErrorResponse (see invalidChangeBatch).
	LegacyChangeBatchErrors bool
	// DisabledRegions are opt-in regions not enabled for the account:
	// every request signed for one fails as AWS fails it (see
	// regionNotEnabled).
	DisabledRegions []string
	// IdentityQuota is the most SES identities a region holds (0 means
	// DefaultIdentityQuota, negative means none at all): one more is
	// LimitExceededException.
	IdentityQuota int
	// Log receives one line per API request: "<service> <Operation> <status>".
	Log io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultIdentityQuota is SES's quota of identities per region (Amazon SES
// Developer Guide, "Service quotas in Amazon SES").
const DefaultIdentityQuota = 10000

// identityQuota is Options.IdentityQuota with its defaults applied.
func (s *Sim) identityQuota() int {
	switch q := s.opts.IdentityQuota; {
	case q == 0:
		return DefaultIdentityQuota
	case q < 0:
		return 0
	default:
		return q
	}
}

// Faults are injection rates, each between 0 and 1.
type Faults struct {
	Throttle float64 // the service's own throttling error
	Server   float64 // 500 or 503
	Drop     float64 // the connection is closed mid-response
}

// Sim is the simulated account. It is safe for concurrent use.
type Sim struct {
	opts Options

	mu  sync.Mutex
	rng *rand.Rand
	// hung is set once HangAfter has fired; hangSeen counts the
	// successes of its operation so far.
	hung     bool
	hangSeen int

	iam   iamState
	r53   r53State
	ses   map[string]*sesRegion // by region
	smtp  smtpState
	calls []Call
	// hangs are released by Close so a test server can shut down.
	hangs chan struct{}
}

// Call is one API request the Sim answered, for tests that count calls.
type Call struct {
	Service, Operation, Region string
	Status                     int
}

// New returns a Sim with opts.
func New(opts Options) *Sim {
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Sim{
		opts:  opts,
		rng:   rand.New(rand.NewSource(opts.Seed)),
		ses:   map[string]*sesRegion{},
		hangs: make(chan struct{}),
	}
	s.initIAM()
	s.initRoute53()
	return s
}

// AccountID returns the simulated account's id.
func (s *Sim) AccountID() string { return s.opts.AccountID }

// Calls returns a copy of every request answered so far.
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Release unblocks every request held by HangAfter (they then get no
// answer: the connection is closed).
func (s *Sim) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.hangs:
	default:
		close(s.hangs)
	}
}

// Serve answers HTTP on l until it is closed.
func (s *Sim) Serve(l net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(l)
}

// request is one decoded API request, handed to a service handler.
type request struct {
	*http.Request
	Body      []byte
	Service   string // iam, sts, route53, sesv2
	Region    string // from the signature's credential scope
	AccessKey string
	// Op is the operation, once the service router has found it.
	Op string
	// Form is the decoded awsQuery body (IAM, STS).
	Form map[string][]string
}

// reply is a handler's answer.
type reply struct {
	status      int
	contentType string
	body        []byte
	// location, when set, is sent as the Location header (Route 53's
	// CreateHostedZone answers 201 with one).
	location string
}

// apiError is an AWS error, rendered in the service's wire format.
type apiError struct {
	status  int
	code    string
	message string
	// raw, when set, is sent as the body instead of the generic shape
	// (Route 53's InvalidChangeBatch has its own root element).
	raw []byte
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// router finds the operation of a request for one service and returns the
// function that performs it. Handlers run with s.mu held.
type router func(s *Sim, r *request) (op string, do func() (reply, *apiError))

var routers = map[string]router{}

// ServeHTTP dispatches by the credential scope's service, then by path and
// Action, applies the knobs, and logs one line per request.
func (s *Sim) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	body, _ := io.ReadAll(hr.Body)
	r := &request{Request: hr, Body: body}
	r.Service, r.Region, r.AccessKey = parseAuth(hr.Header.Get("Authorization"))
	if r.Service == "" {
		r.Service = guessService(hr, body)
	}
	if r.Service == "" {
		http.Error(w, "sesame-sim: unknown service", http.StatusNotFound)
		return
	}
	if r.Region == "" {
		r.Region = "us-east-1"
	}
	if strings.HasPrefix(hr.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || (hr.Method == http.MethodPost && hr.URL.Path == "/") {
		r.Form = parseForm(body)
	}
	rt := routers[r.Service]
	if rt == nil {
		s.respond(w, r, reply{}, errf(404, "UnknownService", "sesame-sim does not serve %s", r.Service))
		return
	}
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}
	s.mu.Lock()
	op, do := rt(s, r)
	r.Op = op
	if do == nil {
		s.mu.Unlock()
		s.respond(w, r, reply{}, errf(404, "UnknownOperation", "sesame-sim does not implement %s %s %s", r.Service, hr.Method, hr.URL.Path))
		return
	}
	if hr.Header.Get("Authorization") == "" {
		s.mu.Unlock()
		s.respond(w, r, reply{}, missingAuth(r.Service))
		return
	}
	if ae := s.regionNotEnabled(r); ae != nil {
		s.mu.Unlock()
		s.respond(w, r, reply{}, ae)
		return
	}
	s.touchKey(r.AccessKey, r.Service, r.Region)
	if ae := s.denied(r); ae != nil {
		s.mu.Unlock()
		s.respond(w, r, reply{}, ae)
		return
	}
	fault := s.pickFault()
	switch fault {
	case "throttle":
		s.mu.Unlock()
		s.respond(w, r, reply{}, throttleError(r.Service))
		return
	case "5xx":
		s.mu.Unlock()
		code := []int{500, 503}[s.rng.Intn(2)]
		s.respond(w, r, reply{}, errf(code, map[int]string{500: "InternalFailure", 503: "ServiceUnavailable"}[code], "sesame-sim injected a server error"))
		return
	}
	rep, ae := do()
	hang := false
	if hangOp, nth := hangAfter(s.opts.HangAfter); ae == nil && !s.hung && hangOp != "" && hangOp == op {
		s.hangSeen++
		hang = s.hangSeen == nth
	}
	if hang {
		s.hung = true
	}
	s.mu.Unlock()
	if hang {
		s.logLine(r, 0)
		// The effect stays; the answer never comes. The client gives up
		// (or is killed); Release lets a test server shut down.
		select {
		case <-s.hangs:
		case <-hr.Context().Done():
		}
		dropConn(w)
		return
	}
	if fault == "drop" {
		s.logLine(r, 0)
		dropConn(w)
		return
	}
	s.respond(w, r, rep, ae)
}

// hangAfter splits HangAfter into the operation and which success of it
// hangs: "OP" is the first, "OP#N" the Nth.
func hangAfter(v string) (op string, nth int) {
	op, n, ok := strings.Cut(v, "#")
	if !ok {
		return op, 1
	}
	nth, err := strconv.Atoi(n)
	if err != nil || nth < 1 {
		return op, 1
	}
	return op, nth
}

// pickFault decides, with s.mu held, whether to inject a fault.
func (s *Sim) pickFault() string {
	f := s.opts.Faults
	if f.Throttle == 0 && f.Server == 0 && f.Drop == 0 {
		return ""
	}
	x := s.rng.Float64()
	switch {
	case x < f.Throttle:
		return "throttle"
	case x < f.Throttle+f.Server:
		return "5xx"
	case x < f.Throttle+f.Server+f.Drop:
		return "drop"
	}
	return ""
}

// regionNotEnabled answers a request signed for a region the account has
// not enabled (Options.DisabledRegions). AWS does not know the caller's
// token there (AWS Account Management Reference Guide, "Enable or disable
// AWS Regions in your account"): STS and the query APIs answer
// InvalidClientTokenId, the JSON APIs (SES v2) UnrecognizedClientException,
// both "The security token included in the request is invalid." (HTTP
// 403). IAM and Route 53 are global (signed for us-east-1) and still
// answer.
func (s *Sim) regionNotEnabled(r *request) *apiError {
	for _, d := range s.opts.DisabledRegions {
		if !strings.EqualFold(strings.TrimSpace(d), r.Region) {
			continue
		}
		code := "InvalidClientTokenId"
		if r.Service == "sesv2" {
			code = "UnrecognizedClientException"
		}
		return &apiError{status: 403, code: code, message: "The security token included in the request is invalid."}
	}
	return nil
}

// denied answers AccessDenied for actions named in Options.Deny.
func (s *Sim) denied(r *request) *apiError {
	prefix := map[string]string{"iam": "iam", "sts": "sts", "route53": "route53", "sesv2": "ses"}[r.Service]
	action := prefix + ":" + r.Op
	for _, d := range s.opts.Deny {
		if strings.EqualFold(strings.TrimSpace(d), action) {
			arn := s.callerARN(r.AccessKey)
			msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action", arn, action, s.resourceARN(r), action)
			code := "AccessDenied"
			if r.Service == "sesv2" {
				code = "AccessDeniedException"
			}
			return &apiError{status: 403, code: code, message: msg}
		}
	}
	return nil
}

// callerARN is the ARN STS reports for an access key.
func (s *Sim) callerARN(accessKey string) string {
	if u := s.iam.keyOwner(accessKey); u != "" {
		return fmt.Sprintf("arn:aws:iam::%s:user/%s", s.opts.AccountID, u)
	}
	return fmt.Sprintf("arn:aws:iam::%s:user/operator", s.opts.AccountID)
}

// resourceARN names the resource of a request for AccessDenied messages.
func (s *Sim) resourceARN(r *request) string {
	acct := s.opts.AccountID
	switch r.Service {
	case "iam":
		if u := first(r.Form["UserName"]); u != "" {
			return fmt.Sprintf("arn:aws:iam::%s:user/%s", acct, u)
		}
		return fmt.Sprintf("arn:aws:iam::%s:user/*", acct)
	case "route53":
		if i := strings.Index(r.URL.Path, "/hostedzone/"); i >= 0 {
			id := strings.SplitN(r.URL.Path[i+len("/hostedzone/"):], "/", 2)[0]
			return "arn:aws:route53:::hostedzone/" + id
		}
		return "*"
	case "sesv2":
		if i := strings.Index(r.URL.Path, "/identities/"); i >= 0 {
			id := strings.SplitN(r.URL.Path[i+len("/identities/"):], "/", 2)[0]
			return fmt.Sprintf("arn:aws:ses:%s:%s:identity/%s", r.Region, acct, id)
		}
		return fmt.Sprintf("arn:aws:ses:%s:%s:*", r.Region, acct)
	}
	return "*"
}

func (s *Sim) respond(w http.ResponseWriter, r *request, rep reply, ae *apiError) {
	if ae != nil {
		rep = renderError(r.Service, ae)
	}
	if rep.status == 0 {
		rep.status = 200
	}
	if rep.contentType != "" {
		w.Header().Set("Content-Type", rep.contentType)
	}
	w.Header().Set("X-Amzn-RequestId", s.requestID())
	if rep.location != "" {
		w.Header().Set("Location", rep.location)
	}
	if ae != nil && r.Service == "sesv2" {
		w.Header().Set("X-Amzn-ErrorType", ae.code)
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
	s.logLine(r, rep.status)
}

func (s *Sim) logLine(r *request, status int) {
	op := r.Op
	if op == "" {
		op = "Unknown"
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Service: r.Service, Operation: op, Region: r.Region, Status: status})
	s.mu.Unlock()
	if s.opts.Log != nil {
		st := fmt.Sprint(status)
		if status == 0 {
			st = "-" // no answer: dropped or hung
		}
		fmt.Fprintf(s.opts.Log, "%s %s %s\n", r.Service, op, st)
		if f, ok := s.opts.Log.(interface{ Sync() error }); ok {
			_ = f.Sync()
		}
	}
}

func (s *Sim) requestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return randHex(s.rng, 8) + "-" + randHex(s.rng, 4) + "-" + randHex(s.rng, 4) + "-" + randHex(s.rng, 4) + "-" + randHex(s.rng, 12)
}

// dropConn closes the connection without an HTTP answer.
func dropConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// parseAuth reads service, region and access key from a SigV4 header:
// "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/ses/aws4_request, ...".
func parseAuth(h string) (service, region, key string) {
	i := strings.Index(h, "Credential=")
	if i < 0 {
		return "", "", ""
	}
	cred := h[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return "", "", ""
	}
	key, region, service = parts[0], parts[2], parts[3]
	if service == "ses" || service == "email" {
		service = "sesv2"
	}
	return service, region, key
}

// guessService routes unsigned requests by path and Action so they get the
// right service's missing-authentication error.
func guessService(r *http.Request, body []byte) string {
	switch {
	case strings.HasPrefix(r.URL.Path, "/2013-04-01/"):
		return "route53"
	case strings.HasPrefix(r.URL.Path, "/v2/email/"):
		return "sesv2"
	case bytes.Contains(body, []byte("Action=GetCallerIdentity")) || r.URL.Query().Get("Action") == "GetCallerIdentity":
		return "sts"
	case bytes.Contains(body, []byte("Action=")) || r.URL.Query().Get("Action") != "":
		return "iam"
	}
	return ""
}

func missingAuth(service string) *apiError {
	switch service {
	case "sesv2":
		return errf(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
	case "route53":
		return errf(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	return errf(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
}

func throttleError(service string) *apiError {
	switch service {
	case "sesv2":
		return errf(429, "TooManyRequestsException", "Too many requests have been made to the operation.")
	case "route53":
		return errf(400, "Throttling", "Rate exceeded")
	}
	return errf(400, "Throttling", "Rate exceeded")
}

// renderError renders an apiError in the wire format of the service.
func renderError(service string, ae *apiError) reply {
	if ae.raw != nil {
		return reply{status: ae.status, contentType: "text/xml", body: ae.raw}
	}
	switch service {
	case "sesv2":
		b, _ := json.Marshal(map[string]string{"message": ae.message})
		return reply{status: ae.status, contentType: "application/json", body: b}
	case "route53":
		var b bytes.Buffer
		b.WriteString(xml.Header)
		fmt.Fprintf(&b, `<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			xmlEscape(ae.code), xmlEscape(ae.message), "00000000-0000-0000-0000-000000000000")
		return reply{status: ae.status, contentType: "text/xml", body: b.Bytes()}
	default: // awsQuery: iam, sts
		typ := "Sender"
		if ae.status >= 500 {
			typ = "Receiver"
		}
		ns := "https://iam.amazonaws.com/doc/2010-05-08/"
		if service == "sts" {
			ns = "https://sts.amazonaws.com/doc/2011-06-15/"
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			ns, typ, xmlEscape(ae.code), xmlEscape(ae.message), "00000000-0000-0000-0000-000000000000")
		return reply{status: ae.status, contentType: "text/xml", body: b.Bytes()}
	}
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func randHex(r *rand.Rand, n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hex[r.Intn(16)]
	}
	return string(b)
}

// parseForm decodes an awsQuery body (and never fails: a bad body simply
// lacks the fields the handler then reports missing).
func parseForm(body []byte) map[string][]string {
	v, _ := url.ParseQuery(string(body))
	return v
}
