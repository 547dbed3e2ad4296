package steps

import (
	"cmp"
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame-tool/sesame/steps/internal/fakeclock"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

func TestSandboxReport(t *testing.T) {
	pending := &sestypes.AccountDetails{ReviewDetails: &sestypes.ReviewDetails{Status: sestypes.ReviewStatusPending, CaseId: aws.String("case-7")}}
	tests := []struct {
		name       string
		acct       stepstest.SESAccount
		opts       Options
		want       Status
		wantDetail string
		wantWarn   string
	}{
		{name: "production", acct: stepstest.SESAccount{ProductionAccess: true, SendingEnabled: true, Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 12},
			opts: Options{NoInput: true}, want: StatusDone, wantDetail: "production access in eu-west-1: 12 of 50000 messages"},
		{name: "sandbox is a state, not an error", acct: stepstest.SESAccount{SendingEnabled: true, Max24HourSend: 200, MaxSendRate: 1},
			opts: Options{NoInput: true}, want: StatusDone, wantDetail: "554 Message rejected: Email address is not verified", wantWarn: "--request-production"},
		{name: "review pending", acct: stepstest.SESAccount{SendingEnabled: true, Max24HourSend: 200, MaxSendRate: 1, Details: pending},
			opts: Options{NoInput: true, RequestProduction: true}, want: StatusDone, wantDetail: "case case-7"},
		{name: "request asked for", acct: stepstest.SESAccount{SendingEnabled: true, Max24HourSend: 200, MaxSendRate: 1},
			opts: Options{NoInput: true, RequestProduction: true}, want: StatusTodo, wantDetail: "will be requested"},
		{name: "sending paused", acct: stepstest.SESAccount{Max24HourSend: 200, MaxSendRate: 1},
			opts: Options{NoInput: true}, want: StatusDone, wantWarn: "paused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSMTPEnv(t)
			e.Options = tt.opts
			e.ses.SetAccount(tt.acct)
			res, err := (&Sandbox{}).Check(context.Background(), e.Env)
			if err != nil || res.Status != tt.want || !strings.Contains(res.Detail, tt.wantDetail) {
				t.Fatalf("Check = %s %q %v, want %s with %q", res.Status, res.Detail, err, tt.want, tt.wantDetail)
			}
			if w := strings.Join(res.Warnings, "\n"); !strings.Contains(w, tt.wantWarn) {
				t.Errorf("warnings %q, want %q", w, tt.wantWarn)
			}
			var published *SandboxReport
			for _, ev := range e.events {
				if r, ok := ev.Data.(*SandboxReport); ok && ev.Step == "sandbox" {
					published = r
				}
			}
			if published == nil || published.ProductionAccess != tt.acct.ProductionAccess {
				t.Errorf("published %+v", published)
			}
		})
	}
}

func TestSandboxReusesAccountFacts(t *testing.T) {
	e := newSMTPEnv(t)
	e.Facts.Sandbox = &SandboxReport{ProductionAccess: true, SendingEnabled: true}
	if _, err := (&Sandbox{}).Check(context.Background(), e.Env); err != nil {
		t.Fatal(err)
	}
	if e.ses.Calls("GetAccount") != 0 {
		t.Error("GetAccount called again though the account step had the answer")
	}
}

func TestSandboxProductionRequest(t *testing.T) {
	full := ProductionRequest{MailType: "transactional", WebsiteURL: "https://example.com", UseCase: "password resets", Contacts: []string{"ops@example.com"}}
	tests := []struct {
		name      string
		opts      Options
		confirm   *bool
		input     map[string]string
		choose    map[string]string
		conflict  bool
		wantExit  int
		wantFlag  string
		wantCheck Status
	}{
		{name: "flags", opts: Options{NoInput: true, RequestProduction: true, Production: full}, wantCheck: StatusDone},
		{name: "no-input with a missing field names its flag", opts: Options{NoInput: true, RequestProduction: true, Production: ProductionRequest{MailType: "TRANSACTIONAL"}}, wantExit: 2, wantFlag: "--website-url"},
		{name: "bad mail type", opts: Options{NoInput: true, RequestProduction: true, Production: ProductionRequest{MailType: "spam", WebsiteURL: "https://example.com"}}, wantExit: 2, wantFlag: "--mail-type"},
		{name: "offered and asked interactively", opts: Options{}, confirm: ptrTo(true),
			choose: map[string]string{"mail-type": "MARKETING"},
			input:  map[string]string{"website-url": "https://example.com", "use-case": "newsletter", "contact-email": "a@example.com, b@example.com"}, wantCheck: StatusDone},
		{name: "already under review", opts: Options{NoInput: true, RequestProduction: true, Production: full}, conflict: true, wantCheck: StatusDone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newSMTPEnv(t)
			e.Options = tt.opts
			if tt.confirm != nil {
				e.prompt.confirm["request-production"] = *tt.confirm
			}
			for k, v := range tt.input {
				e.prompt.input[k] = v
			}
			for k, v := range tt.choose {
				e.prompt.choose[k] = v
			}
			s := &Sandbox{}
			res, err := s.Check(ctx, e.Env)
			if err != nil || res.Status != StatusTodo {
				t.Fatalf("Check = %s %q %v", res.Status, res.Detail, err)
			}
			p, err := s.Plan(ctx, e.Env)
			if tt.wantExit != 0 {
				if ExitCode(err) != tt.wantExit || !strings.Contains(err.Error(), tt.wantFlag) {
					t.Fatalf("Plan err = %v, want exit %d naming %s", err, tt.wantExit, tt.wantFlag)
				}
				return
			}
			if err != nil || len(p.Changes) != 1 || p.Changes[0].Action != ActionRequest || !strings.Contains(p.Changes[0].Value, "website: https://example.com") {
				t.Fatalf("Plan = %+v %v", p.Changes, err)
			}
			if tt.conflict {
				e.ses.FailNext("PutAccountDetails", &sestypes.ConflictException{Message: aws.String("There is already an ongoing account details update under review.")})
			}
			if err := s.Apply(ctx, e.Env); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			res, err = s.Check(ctx, e.Env)
			if err != nil || res.Status != tt.wantCheck || !strings.Contains(res.Detail, "under review") {
				t.Fatalf("Check after Apply = %s %q %v", res.Status, res.Detail, err)
			}
			if !tt.conflict {
				d := e.ses.Account().Details
				if d == nil || e.Record.ProductionCaseID == "" || e.Record.ProductionCaseID != aws.ToString(d.ReviewDetails.CaseId) {
					t.Errorf("case id %q, details %+v", e.Record.ProductionCaseID, d)
				}
			}
			if tt.input["contact-email"] != "" && len(e.ses.Account().Details.AdditionalContactEmailAddresses) != 2 {
				t.Errorf("contacts = %v", e.ses.Account().Details.AdditionalContactEmailAddresses)
			}
			// Answers to questions are this run's decisions: the
			// operator's switches stay as given.
			if !reflect.DeepEqual(e.Options, tt.opts) {
				t.Errorf("options changed to %+v, given %+v", e.Options, tt.opts)
			}
		})
	}
}

func TestSandboxOfferDeclinedIsDone(t *testing.T) {
	e := newSMTPEnv(t)
	e.Options = Options{}
	e.prompt.confirm["request-production"] = false
	s := &Sandbox{}
	res, err := s.Check(context.Background(), e.Env)
	if err != nil || res.Status != StatusDone {
		t.Fatalf("Check = %s %v", res.Status, err)
	}
	if _, err := s.Check(context.Background(), e.Env); err != nil || countAsked(e.prompt.asked, "request-production") != 1 {
		t.Errorf("asked %v, want the offer once", e.prompt.asked)
	}
}

func TestSandboxVerifyRecipient(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	e.Options.VerifyRecipient = "me@example.org"
	s := &Sandbox{}
	if res, _ := s.Check(ctx, e.Env); res.Status != StatusTodo {
		t.Fatalf("Check = %s", res.Status)
	}
	if p, err := s.Plan(ctx, e.Env); err != nil || !p.NeedsApproval {
		t.Errorf("Plan = %+v %v, want the identity to need approval", p, err)
	}
	if err := s.Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	res, _ := s.Check(ctx, e.Env)
	if res.Status != StatusDone || !e.ses.HasIdentity("me@example.org") || !strings.Contains(strings.Join(res.Warnings, " "), "verification link") {
		t.Errorf("Check = %s %q %v", res.Status, res.Detail, res.Warnings)
	}
	e.Options.VerifyRecipient = "not an address"
	if _, err := s.Check(ctx, e.Env); ExitCode(err) != 2 || !strings.Contains(err.Error(), "--verify-recipient") {
		t.Errorf("bad address: %v", err)
	}
}

// One validator serves the flags (before any AWS call: only what is given)
// and the request the sandbox step sends (complete).
func TestProductionRequestValidate(t *testing.T) {
	ok := ProductionRequest{MailType: "transactional", WebsiteURL: "https://www.example.com", ContactLanguage: "ja", Contacts: []string{"ops@example.com"}}
	tests := []struct {
		name         string
		pr           ProductionRequest
		wantGiven    string // the flag ValidateGiven names, "" for none
		wantComplete string // the flag Validate names, "" for none
	}{
		{"complete", ok, "", ""},
		{"nothing given yet", ProductionRequest{}, "", "--mail-type"},
		{"no website yet", ProductionRequest{MailType: "MARKETING"}, "", "--website-url"},
		{"bad mail type", ProductionRequest{MailType: "BULK", WebsiteURL: ok.WebsiteURL}, "--mail-type", "--mail-type"},
		{"bad website", ProductionRequest{WebsiteURL: "ftp://example.com"}, "--website-url", "--mail-type"},
		{"bad language", ProductionRequest{MailType: "MARKETING", WebsiteURL: ok.WebsiteURL, ContactLanguage: "FR"}, "--contact-language", "--contact-language"},
		{"bad contact", ProductionRequest{Contacts: []string{"not-an-address"}}, "--contact-email", "--mail-type"},
		// Amazon SES API v2 Reference, PutAccountDetails,
		// AdditionalContactEmailAddresses: 1 to 4 items, 6 to 254 characters.
		{"four contacts", ProductionRequest{MailType: "MARKETING", WebsiteURL: ok.WebsiteURL, Contacts: []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"}}, "", ""},
		{"a fifth contact", ProductionRequest{Contacts: []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"}}, "--contact-email", "--mail-type"},
		{"a fifth contact, complete request", ProductionRequest{MailType: "MARKETING", WebsiteURL: ok.WebsiteURL, Contacts: []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"}}, "--contact-email", "--contact-email"},
		{"a contact under 6 characters", ProductionRequest{Contacts: []string{"a@b.c"}}, "--contact-email", "--mail-type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				what string
				err  error
				want string
			}{{"ValidateGiven", tt.pr.ValidateGiven(), tt.wantGiven}, {"Validate", tt.pr.Validate(), tt.wantComplete}} {
				switch {
				case c.want == "" && c.err != nil:
					t.Errorf("%s = %v, want nil", c.what, c.err)
				case c.want != "" && (ExitCode(c.err) != 2 || !strings.Contains(c.err.Error(), c.want)):
					t.Errorf("%s = %v, want an input error naming %s", c.what, c.err, c.want)
				}
			}
		})
	}
}

// questionLog records the questions asked, with their words.
type questionLog struct {
	*answers
	questions map[string]Question
}

func (q *questionLog) Input(ctx context.Context, qu Question, validate func(string) error) (string, error) {
	q.questions[qu.ID] = qu
	return q.answers.Input(ctx, qu, validate)
}

// TestSandboxUseCaseIsOptional: UseCaseDescription is optional and
// deprecated (Amazon SES API v2 Reference, PutAccountDetails; SDK
// v1.33.0): the question says so, claims nothing about the review's
// speed, and an empty answer sends no UseCaseDescription.
func TestSandboxUseCaseIsOptional(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	e.Options = Options{}
	e.prompt.confirm["request-production"] = true
	e.prompt.choose["mail-type"] = "TRANSACTIONAL"
	e.prompt.input["website-url"] = "https://example.com"
	e.prompt.input["use-case"] = ""
	e.prompt.input["contact-email"] = ""
	log := &questionLog{answers: e.prompt, questions: map[string]Question{}}
	e.Prompt = log
	s := &Sandbox{}
	if _, err := s.Check(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Plan(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	q, ok := log.questions["use-case"]
	if !ok {
		t.Fatal("the use case was not asked")
	}
	words := strings.ToLower(q.Title + " " + q.Detail)
	for _, want := range []string{"optional", "deprecated"} {
		if !strings.Contains(words, want) {
			t.Errorf("the question %q does not say %q", words, want)
		}
	}
	for _, claim := range []string{"sooner", "faster", "speed", "quicker"} {
		if strings.Contains(words, claim) {
			t.Errorf("the question claims the review goes %s: %q", claim, words)
		}
	}
	if err := s.Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	d := e.ses.Account().Details
	if d == nil || d.UseCaseDescription != nil || d.AdditionalContactEmailAddresses != nil {
		t.Errorf("details sent = %+v, want no UseCaseDescription and no AdditionalContactEmailAddresses", d)
	}
}

// Choose records the question asked, like Input.
func (q *questionLog) Choose(ctx context.Context, qu Question, options []Option) (string, error) {
	q.questions[qu.ID] = qu
	return q.answers.Choose(ctx, qu, options)
}

// newAnswers is a prompter with no answers yet.
func newAnswers() *answers {
	return &answers{confirm: map[string]bool{}, choose: map[string]string{}, input: map[string]string{}}
}

func countAsked(asked []string, id string) int {
	n := 0
	for _, a := range asked {
		if a == id {
			n++
		}
	}
	return n
}

// TestSandboxTestMailOffer: an interactive run of a sandboxed account
// that no flag answered is offered a test message once; --test-to,
// --verify-recipient, --no-smtp-test, production access, --no-input and a
// dry run are not asked, and a resumed run takes the address it saved.
func TestSandboxTestMailOffer(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		production bool
		saved      string // state.Answers.TestTo of a run that stopped
		choose     string // the answer to "test-mail", "" for none given
		input      string // the answer to "test-to"
		wantAsked  int
		wantTo     string // Decisions.TestTo
		wantVerify string // the address the step verifies
	}{
		{name: "offered once; the simulator", choose: "simulator", wantAsked: 1, wantTo: ses.MailboxSimulatorSuccess},
		{name: "an address of the operator's is verified", choose: "own", input: " me@example.org ", wantAsked: 1, wantTo: "me@example.org", wantVerify: "me@example.org"},
		{name: "no test message", choose: "none", wantAsked: 1},
		{name: "a front end that cannot ask sends none", wantAsked: 1},
		{name: "--test-to answers it", opts: Options{TestTo: "ops@example.org"}, choose: "simulator"},
		{name: "--verify-recipient answers it", opts: Options{VerifyRecipient: "ops@example.org"}, choose: "simulator", wantVerify: "ops@example.org"},
		{name: "--no-smtp-test sends no message", opts: Options{NoSMTPTest: true}, choose: "simulator"},
		{name: "production access", production: true, choose: "simulator"},
		{name: "--no-input", opts: Options{NoInput: true}, choose: "simulator"},
		{name: "dry run", opts: Options{DryRun: true}, choose: "simulator"},
		{name: "a resumed run sends what it saved, unasked", saved: "me@example.org", choose: "none", wantTo: "me@example.org", wantVerify: "me@example.org"},
		{name: "a resumed run with --no-input too", opts: Options{NoInput: true}, saved: ses.MailboxSimulatorSuccess, wantTo: ses.MailboxSimulatorSuccess},
		{name: "a flag wins over the saved address", opts: Options{TestTo: ses.MailboxSimulatorSuccess}, saved: "me@example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newSMTPEnv(t)
			e.Options = tt.opts
			e.Answers.TestTo = tt.saved
			e.ses.SetAccount(stepstest.SESAccount{ProductionAccess: tt.production, SendingEnabled: true, Max24HourSend: 200, MaxSendRate: 1})
			if tt.choose != "" {
				e.prompt.choose["test-mail"] = tt.choose
			}
			if tt.input != "" {
				e.prompt.input["test-to"] = tt.input
			}
			log := &questionLog{answers: e.prompt, questions: map[string]Question{}}
			e.Prompt = log
			s := &Sandbox{}
			for range 2 { // the Check after Apply asks nothing again
				if _, err := s.Check(ctx, e.Env); err != nil {
					t.Fatal(err)
				}
			}
			if got := countAsked(e.prompt.asked, "test-mail"); got != tt.wantAsked {
				t.Errorf("offered %d times, want %d (asked %v)", got, tt.wantAsked, e.prompt.asked)
			}
			if e.Decisions.TestTo != tt.wantTo || e.verifyRecipient() != tt.wantVerify {
				t.Errorf("decided %q, verifying %q; want %q, %q", e.Decisions.TestTo, e.verifyRecipient(), tt.wantTo, tt.wantVerify)
			}
			if want := cmp.Or(tt.opts.TestTo, tt.wantTo); e.testTo() != want {
				t.Errorf("test message to %q, want %q", e.testTo(), want)
			}
			if tt.wantAsked > 0 && tt.saved == "" && e.Answers.TestTo != tt.wantTo {
				t.Errorf("saved answer %q, want %q", e.Answers.TestTo, tt.wantTo)
			}
			if !reflect.DeepEqual(e.Options, tt.opts) {
				t.Errorf("options changed to %+v, given %+v", e.Options, tt.opts)
			}
			// Each question names the flag that answers it next time.
			if q, ok := log.questions["test-mail"]; ok && (q.Flag != "--test-to" || q.Default == "") {
				t.Errorf("the offer names %q with default %q, want --test-to and a default", q.Flag, q.Default)
			}
			if q, ok := log.questions["test-to"]; ok && (!strings.Contains(q.Flag, "--verify-recipient") || !strings.Contains(q.Flag, "--test-to")) {
				t.Errorf("the address question names %q, want --verify-recipient and --test-to", q.Flag)
			}
		})
	}
}

// sandboxRelay is a run of the sandbox and relay steps against a fake SES
// in the sandbox and the in-test SMTP server, asking through e.prompt.
func sandboxRelay(t *testing.T, opts Options) (*relayFixture, *stepstest.FakeSES, *answers) {
	t.Helper()
	f := newRelayFixture(t, opts)
	f.credentials(t, "us-east-1", 587)
	fake := stepstest.NewFakeSES("us-east-1")
	fake.SetAccount(stepstest.SESAccount{SendingEnabled: true, Max24HourSend: 200, MaxSendRate: 1})
	f.env.Clients.SES = fake
	prompt := newAnswers()
	f.env.Prompt = prompt
	return f, fake, prompt
}

func (f *relayFixture) runSandboxRelay() (*Report, error) {
	return (&Runner{Steps: []Step{&Sandbox{}, &Relay{OSRelease: filepath.Join(f.out, "none")}}}).Run(context.Background(), f.env)
}

func (f *relayFixture) sentTo() [][]string {
	var to [][]string
	for _, m := range f.srv.Messages() {
		to = append(to, m.To)
	}
	return to
}

// TestSandboxTestMailToSimulator: picking the mailbox simulator sends the
// relay step's test message there, verifies nothing, shows the send in
// the relay plan and on the end report, and leaves no saved test behind.
func TestSandboxTestMailToSimulator(t *testing.T) {
	f, fake, prompt := sandboxRelay(t, Options{})
	prompt.choose["test-mail"] = "simulator"
	if _, err := f.runSandboxRelay(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := f.sentTo(); !reflect.DeepEqual(got, [][]string{{ses.MailboxSimulatorSuccess}}) {
		t.Errorf("messages to %v, want one to the simulator", got)
	}
	if n := fake.Calls("CreateEmailIdentity"); n != 0 {
		t.Errorf("%d identities created for the simulator, want none", n)
	}
	var summary string
	for _, ev := range f.events {
		if ev.Kind == EventPlan && ev.Step == "relay" {
			summary = ev.Plan.Summary
		}
	}
	if !strings.Contains(summary, "send one test message to "+ses.MailboxSimulatorSuccess) {
		t.Errorf("relay plan %q does not say where the test goes", summary)
	}
	if reps := f.relayReports(); len(reps) == 0 || reps[len(reps)-1].TestSentTo != ses.MailboxSimulatorSuccess {
		t.Errorf("relay reports %+v, want the test message accepted for the simulator", reps)
	}
	if f.env.Answers.TestTo != "" {
		t.Errorf("saved test address %q after SES accepted the message, want none", f.env.Answers.TestTo)
	}
}

// TestSandboxTestMailOwnAddress: an address of the operator's is created
// as an SES identity by the sandbox step, and the relay step waits until
// its link is opened, then sends to it.
func TestSandboxTestMailOwnAddress(t *testing.T) {
	const me = "me@example.org"
	f, fake, prompt := sandboxRelay(t, Options{})
	prompt.choose["test-mail"] = "own"
	prompt.input["test-to"] = me
	polls := 0
	fake.SetBefore(func(fs *stepstest.FakeSES, op string) {
		// The operator opens the link while the relay step polls.
		if op == "GetEmailIdentity" && fs.HasIdentity(me) {
			if polls++; polls == 4 {
				fs.SetIdentityStatus(me, true, "SUCCESS")
				f.srv.Verify(me)
			}
		}
	})
	if _, err := f.runSandboxRelay(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !fake.HasIdentity(me) || fake.Calls("CreateEmailIdentity") != 1 {
		t.Errorf("identity %s created %d times, want once", me, fake.Calls("CreateEmailIdentity"))
	}
	// Choosing the address (told SES mails it a link) was the consent:
	// no second question for the same thing.
	if countAsked(prompt.asked, "approve-sandbox") != 0 {
		t.Errorf("the chosen address's identity was asked for again: asked %v", prompt.asked)
	}
	waited := false
	for _, ev := range f.events {
		waited = waited || strings.Contains(ev.Detail, "the test message waits for "+me)
	}
	if !waited || polls < 4 {
		t.Errorf("the relay step did not wait for the link (%d polls)", polls)
	}
	if got := f.sentTo(); !reflect.DeepEqual(got, [][]string{{me}}) {
		t.Errorf("messages to %v, want one to %s", got, me)
	}
}

// TestSandboxTestMailResumed: a run stopped while its test recipient was
// unverified (--no-wait here; a closed laptop alike) keeps the address in
// the saved answers; the next run asks nothing and sends the test once the
// address is verified, then forgets it.
func TestSandboxTestMailResumed(t *testing.T) {
	const me = "me@example.org"
	f, fake, prompt := sandboxRelay(t, Options{NoWait: true, Yes: true})
	prompt.choose["test-mail"] = "own"
	prompt.input["test-to"] = me
	_, err := f.runSandboxRelay()
	if ExitCode(err) != 3 || !strings.Contains(err.Error(), "open the link") {
		t.Fatalf("first run: %v (exit %d), want pending on the link", err, ExitCode(err))
	}
	if f.env.Answers.TestTo != me || len(f.srv.Messages()) != 0 {
		t.Fatalf("after the stop: saved %q, %d messages", f.env.Answers.TestTo, len(f.srv.Messages()))
	}

	fake.SetIdentityStatus(me, true, "SUCCESS")
	f.srv.Verify(me)
	saved := *f.env.Answers
	again := newAnswers()
	f.env = NewEnv(f.env.Clients, &saved, f.env.Options)
	f.env.Clock = fakeclock.New(time.Date(2026, 5, 1, 13, 0, 0, 0, time.UTC))
	f.env.Prompt = again
	if _, err := f.runSandboxRelay(); err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	if countAsked(again.asked, "test-mail") != 0 {
		t.Errorf("the resumed run asked again: %v", again.asked)
	}
	if got := f.sentTo(); !reflect.DeepEqual(got, [][]string{{me}}) {
		t.Errorf("messages to %v, want one to %s", got, me)
	}
	if saved.TestTo != "" {
		t.Errorf("saved test address %q after SES accepted the message, want none", saved.TestTo)
	}
}
