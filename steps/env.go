package steps

import (
	"context"
	"time"
)

// Env is everything a step needs: the AWS clients, the operator's answers,
// what earlier steps discovered, how to ask questions and how to report.
// One Env lives for one run of the wizard.
type Env struct {
	Clients Clients
	// Answers are the operator's answers; they are saved in the state file.
	Answers *Answers
	// Record holds the ids sesame created; it is saved in the state file.
	Record *Record
	// Options are this run's switches; they are never saved.
	Options Options
	// Facts are what steps discovered from AWS during this run; never saved.
	Facts *Facts
	// Prompt asks the operator. Non-interactive runs use NoInput, which
	// answers with an error naming the flag.
	Prompt Prompter
	// Clock is the time source; tests use a fake.
	Clock Clock
	// DNS looks up records for the visibility checks (may be nil: the
	// checks then report "unknown").
	DNS Resolver
	// Emit reports an event to the front end. Never nil after NewEnv.
	Emit func(Event)
	// Save persists Answers and Record; nil means nothing is saved (tests,
	// status). Steps call env.SaveState() after they create something.
	Save func() error
	// Bind is called by the account step once the account is known, so the
	// front end can load that setup's saved record and take its lock before
	// any change. nil means nothing to bind.
	Bind func(*AccountInfo) error

	// reads is the run's read cache, installed by Prefetch; nil means
	// every read goes to AWS.
	reads *readCache
}

// Options are the switches of one run. None of them is persisted.
type Options struct {
	Yes     bool // approve planned changes without asking
	DryRun  bool // show every plan, change nothing
	NoInput bool // never ask: a missing answer is an error naming its flag
	NoWait  bool // stop with exit 3 while verification is pending
	// Timeout bounds the wait for verification; 0 means the step's default.
	Timeout time.Duration
	// Demo is true when the account is sesame's simulator.
	Demo bool
	// ReadOnly is set by `sesame status`: the runner only checks, and
	// checks that would need a live test (the SMTP login) report what
	// the disk says instead.
	ReadOnly bool

	// SMTPEndpoint overrides the host:port of the SMTP login test.
	SMTPEndpoint string
	// SMTPCA is a PEM file of extra CAs to trust for the SMTP login test.
	SMTPCA string
	// NoSMTPTest skips the SMTP login test.
	NoSMTPTest bool
	// SMTPPort is the SES SMTP port the relay uses: 587 (default), 2587, 465, 2465.
	SMTPPort int
	// TestTo sends one test message to this address after the login test.
	TestTo string
	// ApplyPostfix installs the relay files into the local Postfix (root).
	ApplyPostfix bool
	// PostfixDir is where --apply-postfix writes (default /etc/postfix).
	PostfixDir string

	// ReplaceKeys names access keys the operator allows sesame to delete.
	ReplaceKeys []string
	// RecreateIdentity allows deleting and re-creating a FAILED identity.
	RecreateIdentity bool

	// RequestProduction asks SES for production access (with consent).
	RequestProduction bool
	Production        ProductionRequest
	// VerifyRecipient is an email address to verify as an SES identity, so
	// a sandboxed account can send test mail to it (SES mails it a link).
	VerifyRecipient string
}

// ProductionRequest holds the fields of an SES production-access request.
type ProductionRequest struct {
	MailType        string   `json:"mail_type,omitempty"`        // MARKETING or TRANSACTIONAL
	WebsiteURL      string   `json:"website_url,omitempty"`      // the sender's website
	UseCase         string   `json:"use_case,omitempty"`         // how the mail is sent and to whom
	ContactLanguage string   `json:"contact_language,omitempty"` // EN or JA
	Contacts        []string `json:"contacts"`                   // extra contact email addresses (nil: not asked)
}

// Answers are the operator's answers to the wizard's questions. Each has a
// flag and a SESAME_* variable; the state file keeps them so a resumed run
// asks nothing twice.
type Answers struct {
	Domain   string `json:"domain"`
	Region   string `json:"region"`
	Profile  string `json:"profile,omitempty"`
	SMTPUser string `json:"smtp_user,omitempty"`
	// MailFrom is the MAIL FROM subdomain label ("mail"); empty for none.
	MailFrom string `json:"mail_from,omitempty"`
	// MailFromAsked is true once the operator answered (empty is an answer).
	MailFromAsked bool   `json:"mail_from_asked,omitempty"`
	DMARC         bool   `json:"dmarc,omitempty"`
	DMARCAsked    bool   `json:"dmarc_asked,omitempty"`
	ZoneID        string `json:"zone_id,omitempty"`
	// OutDir is where the relay files (and the SMTP password) are written.
	OutDir string `json:"out_dir,omitempty"`
}

// Record is what sesame made, so a later run can tell its own resources
// from the operator's. It holds ids only, never a secret.
type Record struct {
	// UserCreated is true when sesame created the IAM user: its CreateUser
	// answer said so, or the user carries sesame's managed-by tag (the
	// answer may have been lost while the user was made).
	UserCreated bool `json:"user_created,omitempty"`
	// KeyIntent is written before CreateAccessKey is called and cleared
	// when the call answered. A key made around an intent that was never
	// cleared may be the one whose answer was lost, or a colleague's:
	// timing is no proof, so the next run only says so, and keeps it.
	KeyIntent *KeyIntent `json:"key_intent,omitempty"`
	// AccessKeyID is the key whose SMTP password is on disk.
	AccessKeyID string `json:"access_key_id,omitempty"`
	// KeysCreated lists every access key id sesame created on this user
	// and whose SMTP password it wrote into a sasl_passwd (from there it
	// may have been installed into Postfix). These keys may be in use:
	// they are never deleted unless the operator names one
	// (--replace-key). Older sesame versions added a key here only after
	// writing its password too, so their state files mean the same.
	KeysCreated []string `json:"keys_created,omitempty"`
	// KeyFiles says, for keys of KeysCreated, which sasl_passwd sesame
	// wrote each one's password to, so a plan can say where it is used.
	KeyFiles map[string]string `json:"key_files,omitempty"`
	// KeysPending are the keys IAM returned to sesame whose password was
	// not written yet: saved right after CreateAccessKey answers, before
	// the password is written. A pending key whose password is in no file
	// is provably unusable (its secret died with the run) and is the only
	// kind of key sesame deletes on its own.
	KeysPending []PendingKey `json:"keys_pending,omitempty"`
	// IdentityCreated is true when sesame created the SES identity.
	IdentityCreated bool `json:"identity_created,omitempty"`
	// ZoneID is the hosted zone the DNS records went into.
	ZoneID string `json:"zone_id,omitempty"`
	// ChangeID is the last Route 53 change sesame submitted.
	ChangeID string `json:"change_id,omitempty"`
	// ProductionCaseID is the support case of a production-access request.
	ProductionCaseID string `json:"production_case_id,omitempty"`
	// Files are the files sesame wrote, by role ("sasl_passwd", "main.cf", ...).
	Files map[string]string `json:"files,omitempty"`
}

// PendingKey is an access key IAM returned to sesame, and the sasl_passwd
// its password was about to be written to.
type PendingKey struct {
	ID   string `json:"id"`
	File string `json:"file"`
}

// KeyIntent records that sesame was about to create an access key.
type KeyIntent struct {
	UserName  string    `json:"user_name"`
	StartedAt time.Time `json:"started_at"`
}

// Prompter asks the operator questions. The TUI, the plain line prompter
// and the non-interactive NoInput implement it.
type Prompter interface {
	// Confirm asks a yes/no question.
	Confirm(ctx context.Context, q Question) (bool, error)
	// Choose asks to pick one of the options and returns its Value.
	Choose(ctx context.Context, q Question, options []Option) (string, error)
	// Input asks for a line of text; validate (if not nil) rejects bad
	// answers with a message, and the question is asked again.
	Input(ctx context.Context, q Question, validate func(string) error) (string, error)
}

// Question is one thing sesame asks.
type Question struct {
	// ID identifies the question for tests ("approve-dns", "domain").
	ID string
	// Step is the step asking, where one is.
	Step string
	// Title is the question itself: "Create these DNS records?".
	Title string
	// Detail is a paragraph of context shown with it.
	Detail string
	// Flag is the flag that answers it without asking ("--domain").
	Flag string
	// Default is the answer taken on Enter ("y"/"n" for Confirm).
	Default string
	// Plan is the plan being approved, for approval questions.
	Plan *Plan
	// Secret hides what is typed.
	Secret bool
}

// Option is one choice of a Choose question.
type Option struct {
	Value  string
	Label  string
	Detail string
}

// Clock is the time source of the steps, so tests can use a fake one.
type Clock interface {
	Now() time.Time
	// After waits like time.After.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Resolver looks up DNS records for the visibility checks. Lookups are
// bounded (about 2 s); a failure is reported as "unknown", never a hang.
type Resolver interface {
	// Lookup returns the record values of type qtype ("CNAME", "TXT", "MX")
	// at name, as the authoritative servers or the configured resolver see
	// them. TXT values are returned joined (without quotes), MX as
	// "10 host.", CNAME targets with a trailing dot.
	Lookup(ctx context.Context, name, qtype string) ([]string, error)
}

// NewEnv returns an Env with defaults for everything optional.
func NewEnv(c Clients, a *Answers, opts Options) *Env {
	return &Env{
		Clients: c,
		Answers: a,
		Record:  &Record{},
		Options: opts,
		Facts:   &Facts{},
		Prompt:  NoInput{},
		Clock:   RealClock{},
		Emit:    func(Event) {},
	}
}

// SaveState persists the answers and the record, if this run saves.
func (e *Env) SaveState() error {
	if e.Save == nil {
		return nil
	}
	return e.Save()
}

// Info reports an informational line for a step.
func (e *Env) Info(step, format string, args ...any) {
	e.Emit(Event{Kind: EventInfo, Step: step, Detail: sprintf(format, args...), Time: e.Clock.Now()})
}

// Warn reports a warning for a step.
func (e *Env) Warn(step, format string, args ...any) {
	e.Emit(Event{Kind: EventWarning, Step: step, Detail: sprintf(format, args...), Time: e.Clock.Now()})
}

// Publish reports step-specific data (a *Credentials, *SandboxReport, ...)
// for front ends to render.
func (e *Env) Publish(step string, data any) {
	e.Emit(Event{Kind: EventData, Step: step, Data: data, Time: e.Clock.Now()})
}
