package steps

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/state"
)

// Env is everything a step needs: the AWS clients, the operator's answers,
// what earlier steps discovered, how to ask questions and how to report.
// One Env lives for one run of the wizard.
type Env struct {
	Clients awsapi.Clients
	// Answers are the operator's answers; they are saved in the state file.
	Answers *state.Answers
	// Record holds the ids sesame created; it is saved in the state file.
	Record *state.Record
	// Options are this run's switches, as the operator gave them; they are
	// never saved, and the steps never change them.
	Options Options
	// Decisions are what the operator decided during this run by answering
	// a question (a key to delete, consent to re-create an identity, a
	// production request, a test message); never saved as such (the
	// test-message address is also kept in Answers.TestTo until sent).
	Decisions Decisions
	// Facts are what steps discovered from AWS during this run; never saved.
	Facts *Facts
	// MTA is the mail transfer agent whose files hold the SMTP credentials
	// (nil means Postfix): the smtp-user and relay steps go through it.
	MTA mta.Target
	// Prompt asks the operator. Non-interactive runs use NoInput, which
	// answers with an error naming the flag.
	Prompt Prompter
	// Clock is the time source; tests use a fake.
	Clock Clock
	// DNS looks up records for the visibility checks (may be nil: the
	// checks then report "unknown").
	DNS dns.Resolver
	// Emit reports an event to the front end. Never nil after NewEnv.
	Emit func(Event)
	// Save persists Answers and Record; nil means nothing is saved (tests,
	// status). Steps call env.SaveState() after they create something.
	Save func() error
	// AnswersChecked is set once the run got past its checks before the
	// first change (the preflight) in a run that may change things, or
	// finished; until then Save keeps the answers saved before, so an
	// answer AWS refused, or one given only to a dry run, is never saved.
	AnswersChecked bool
	// Bind is the front end's part of the run's bind phase: the runner
	// calls it right after the Check of the step that learns the account
	// (a SetupBinder: the account step), so the front end loads that
	// setup's saved record, takes its lock and writes its state before any
	// later step checks or anything changes. nil means nothing to bind.
	Bind func(*AccountInfo) error

	// reads is the run's read cache, installed by Prefetch; nil means
	// every read goes to AWS.
	reads *awsapi.ReadCache
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
	// RewriteLocalSenders is the address local senders (root@host) are
	// rewritten to by Postfix's smtp_generic_maps (--rewrite-local-senders).
	RewriteLocalSenders string

	// ConfirmDomain is the punycode form of a look-alike domain (see
	// Lookalike) the operator confirms is theirs (--confirm-domain). It
	// confirms that one domain only.
	ConfirmDomain string

	// ReplaceKeys names access keys the operator allows sesame to delete
	// (--replace-key).
	ReplaceKeys []string
	// RecreateIdentity allows deleting and re-creating a FAILED identity
	// (--recreate-identity).
	RecreateIdentity bool

	// RequestProduction asks SES for production access (with consent).
	RequestProduction bool
	Production        ProductionRequest
	// VerifyRecipient is an email address to verify as an SES identity, so
	// a sandboxed account can send test mail to it (SES mails it a link).
	VerifyRecipient string
}

// Decisions are the answers the operator gave during a run to the
// questions that stand in for a switch: they add to the switches in
// Options (which stay as the operator gave them), and Plan and Apply read
// both through the Env's methods, so they agree. What outlives the run is
// kept by others: the command saves the production-access answers (so a
// request interrupted halfway is not asked again), and the test-message
// address goes to the saved answers (Answers.TestTo), which a resumed run
// needs.
type Decisions struct {
	// ReplaceKeys are access keys the operator chose to delete when the
	// SMTP user was at IAM's limit.
	ReplaceKeys []string
	// RecreateIdentity is the consent, given when asked, to delete and
	// re-create a FAILED identity.
	RecreateIdentity bool
	// RequestProduction is a yes to the sandbox step's offer of production
	// access.
	RequestProduction bool
	// ProductionOffered is true once the sandbox step offered production
	// access: a run asks once.
	ProductionOffered bool
	// Production is the production request as completed by the saved
	// answers of an interrupted request and the questions (Options.Production
	// with the missing fields filled); nil until either gave a field.
	Production *ProductionRequest
	// TestTo is the address the operator chose for the relay step's test
	// message when the sandbox step offered one (the SES mailbox
	// simulator, or an address of theirs that the sandbox step verifies);
	// "" for none. A resumed run takes it from the saved answers
	// (state.Answers.TestTo), where it stays until SES accepts the message.
	TestTo string
	// TestMailOffered is true once the sandbox step offered a test
	// message, or found the answer saved by an earlier run: a run asks once.
	TestMailOffered bool
}

// replaceKey reports whether the operator allows deleting access key id:
// named with --replace-key, or chosen when asked.
func (e *Env) replaceKey(id string) bool {
	return slices.Contains(e.Options.ReplaceKeys, id) || slices.Contains(e.Decisions.ReplaceKeys, id)
}

// recreateIdentity reports whether the operator consented to re-creating a
// FAILED identity, by flag or when asked.
func (e *Env) recreateIdentity() bool {
	return e.Options.RecreateIdentity || e.Decisions.RecreateIdentity
}

// requestProduction reports whether production access is to be requested,
// by flag or by a yes to the sandbox step's offer.
func (e *Env) requestProduction() bool {
	return e.Options.RequestProduction || e.Decisions.RequestProduction
}

// Production is the production-access request: as completed by saved
// answers and the questions, else as the flags gave it.
func (e *Env) Production() ProductionRequest {
	if p := e.Decisions.Production; p != nil {
		return *p
	}
	return e.Options.Production
}

// testTo is the address of the relay step's test message: --test-to,
// else the answer to the sandbox step's offer; "" sends none.
func (e *Env) testTo() string {
	return cmp.Or(e.Options.TestTo, e.Decisions.TestTo)
}

// verifyRecipient is the address the sandbox step verifies as an SES
// identity for test mail: --verify-recipient, else the operator's own
// address chosen for the test message. The mailbox simulator needs no
// verification (Amazon SES Developer Guide, "Using the mailbox simulator").
func (e *Env) verifyRecipient() string {
	if v := e.Options.VerifyRecipient; v != "" {
		return v
	}
	if to := e.Decisions.TestTo; to != "" && !isMailboxSimulator(to) {
		return to
	}
	return ""
}

// ProductionRequest holds the fields of an SES production-access request.
type ProductionRequest struct {
	MailType        string   `json:"mail_type,omitempty"`        // MARKETING or TRANSACTIONAL
	WebsiteURL      string   `json:"website_url,omitempty"`      // the sender's website
	UseCase         string   `json:"use_case,omitempty"`         // how the mail is sent and to whom
	ContactLanguage string   `json:"contact_language,omitempty"` // EN or JA
	Contacts        []string `json:"contacts"`                   // extra contact email addresses (nil: not asked)
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

// NewEnv returns an Env with defaults for everything optional.
func NewEnv(c awsapi.Clients, a *state.Answers, opts Options) *Env {
	return &Env{
		Clients: c,
		Answers: a,
		Record:  &state.Record{},
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

// AcceptAnswers marks the answers checked (see AnswersChecked) and saves
// them. A dry run or a read-only run accepts nothing.
func (e *Env) AcceptAnswers() error {
	if e.Options.DryRun || e.Options.ReadOnly || e.AnswersChecked {
		return nil
	}
	e.AnswersChecked = true
	return e.SaveState()
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
