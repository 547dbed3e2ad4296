package steps

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

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
	if _, err := s.Check(context.Background(), e.Env); err != nil || len(e.prompt.asked) != 1 {
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
