package steps

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/state"
)

// answering is a Prompter that answers by question id and records what it
// was asked. Input answers are checked with the question's validator, as
// a front end does.
type answering struct {
	answers map[string]string
	asked   []string
	invalid map[string]error // the validator's verdict on each answer
}

func (a *answering) Confirm(_ context.Context, q Question) (bool, error) {
	a.asked = append(a.asked, q.ID)
	return a.answers[q.ID] == "y", nil
}

func (a *answering) Choose(_ context.Context, q Question, opts []Option) (string, error) {
	a.asked = append(a.asked, q.ID)
	if v, ok := a.answers[q.ID]; ok {
		return v, nil
	}
	return opts[0].Value, nil
}

func (a *answering) Input(_ context.Context, q Question, validate func(string) error) (string, error) {
	a.asked = append(a.asked, q.ID)
	v := a.answers[q.ID]
	if validate != nil {
		if err := validate(v); err != nil {
			if a.invalid == nil {
				a.invalid = map[string]error{}
			}
			a.invalid[q.ID] = err
			return "", err
		}
	}
	return v, nil
}

func outDir(domain, region string) string { return "/out/" + domain + "-" + region }

func TestAskAnswersNoInput(t *testing.T) {
	tests := []struct {
		name     string
		in       state.Answers
		defReg   string
		wantFlag string
		want     state.Answers
	}{
		{"the domain is required", state.Answers{}, "us-east-1", "--domain", state.Answers{}},
		{"a region is required without a configured one", state.Answers{Domain: "example.com"}, "", "--region", state.Answers{}},
		{"a region without SMTP is refused", state.Answers{Domain: "example.com", Region: "eu-central-2"}, "", "--region", state.Answers{}},
		{"a bad domain is refused", state.Answers{Domain: "https://example.com/"}, "us-east-1", "--domain", state.Answers{}},
		{"defaults fill the rest", state.Answers{Domain: "Example.COM."}, "eu-west-1", "",
			state.Answers{Domain: "example.com", Region: "eu-west-1", SMTPUser: "ses-smtp-example-com", MailFromAsked: true, DMARCAsked: true, OutDir: "/out/example.com-eu-west-1"}},
		{"flags are kept and checked", state.Answers{Domain: "example.com", Region: "US-WEST-2", SMTPUser: "relay", MailFrom: "Bounce", MailFromAsked: true}, "", "",
			state.Answers{Domain: "example.com", Region: "us-west-2", SMTPUser: "relay", MailFrom: "bounce", MailFromAsked: true, DMARCAsked: true, OutDir: "/out/example.com-us-west-2"}},
		{"a MAIL FROM that is the domain is refused", state.Answers{Domain: "example.com", Region: "us-east-1", MailFrom: "example.com", MailFromAsked: true}, "", "--mail-from", state.Answers{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.in
			env := NewEnv(awsapi.Clients{}, &a, Options{NoInput: true})
			err := AskAnswers(context.Background(), env, AskOptions{DefaultRegion: tt.defReg, OutDir: outDir})
			if tt.wantFlag != "" {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Flag != tt.wantFlag {
					t.Fatalf("err = %v, want an InputError naming %s", err, tt.wantFlag)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a != tt.want {
				t.Fatalf("answers = %+v\nwant      %+v", a, tt.want)
			}
		})
	}
}

// Interactively, only what flags and saved answers left open is asked,
// and saved answers for the setup are not asked again.
func TestAskAnswersAsksOnlyWhatIsMissing(t *testing.T) {
	p := &answering{answers: map[string]string{"domain": "shop.example", "region": "eu-central-1", "smtp-user": "", "dmarc": "y"}}
	a := state.Answers{}
	env := NewEnv(awsapi.Clients{}, &a, Options{})
	env.Prompt = p
	resumed := false
	err := AskAnswers(context.Background(), env, AskOptions{
		DefaultRegion: "us-east-1", OutDir: outDir,
		Resume: func(_ context.Context, a *state.Answers) error {
			resumed = true
			MergeAnswers(a, state.Answers{MailFrom: "mail", MailFromAsked: true, ZoneID: "Z1"})
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.asked, ","); got != "domain,region,smtp-user,dmarc" {
		t.Errorf("asked %s, want domain,region,smtp-user,dmarc (MAIL FROM was saved)", got)
	}
	want := state.Answers{Domain: "shop.example", Region: "eu-central-1", SMTPUser: "ses-smtp-shop-example", MailFrom: "mail", MailFromAsked: true, DMARC: true, DMARCAsked: true, ZoneID: "Z1", OutDir: "/out/shop.example-eu-central-1"}
	if !resumed || a != want {
		t.Fatalf("answers = %+v (resumed %v)\nwant      %+v", a, resumed, want)
	}
}

// A bad answer is refused by the validator the front end runs, with an
// error naming the field.
func TestAskAnswersValidatesAsTyped(t *testing.T) {
	p := &answering{answers: map[string]string{"domain": "not a domain"}}
	env := NewEnv(awsapi.Clients{}, &state.Answers{}, Options{})
	env.Prompt = p
	err := AskAnswers(context.Background(), env, AskOptions{DefaultRegion: "us-east-1", OutDir: outDir})
	var ie *InputError
	if !errors.As(p.invalid["domain"], &ie) || ie.Field != "domain" || err == nil {
		t.Fatalf("validator verdict %v, err %v; want the domain refused", p.invalid["domain"], err)
	}
}

// With no --domain, saved setups are offered with how far each got;
// picking one gives its domain and region, and the other answers come
// from Resume (the setup of the credentials' own account), so a setup of
// another account never lends its answers (its --out above all).
func TestAskAnswersOffersSavedSetups(t *testing.T) {
	saved := []*state.Saved{
		{Account: "123456789012", Region: "eu-west-1", Domain: "done.example", UpdatedAt: time.Now(),
			Answers: state.Answers{Domain: "done.example", Region: "eu-west-1", SMTPUser: "relay", MailFromAsked: true, DMARCAsked: true, OutDir: "/o"},
			Record:  state.Record{AccessKeyID: "AKIA1", IdentityCreated: true, ChangeID: "C1", Files: map[string]string{RoleMainCF: "/o/main.cf.snippet"}}},
		{Account: "123456789012", Region: "us-east-1", Domain: "new.example", UpdatedAt: time.Now()},
	}
	tests := []struct {
		name    string
		account string // the account the credentials belong to
		want    state.Answers
	}{
		{"same account: its answers", "123456789012", state.Answers{Domain: "done.example", Region: "eu-west-1", SMTPUser: "relay", MailFromAsked: true, DMARCAsked: true, OutDir: "/o"}},
		{"another account: only domain and region", "210987654321", state.Answers{Domain: "done.example", Region: "eu-west-1", SMTPUser: "ses-smtp-done-example", MailFromAsked: true, DMARCAsked: true, OutDir: "/out/done.example-eu-west-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var offered []Option
			p := &choosing{pick: "0", seen: &offered}
			a := state.Answers{}
			env := NewEnv(awsapi.Clients{}, &a, Options{NoInput: false})
			env.Prompt = p
			resume := func(_ context.Context, a *state.Answers) error {
				for _, sv := range saved {
					if sv.Account == tt.account && sv.Domain == a.Domain && sv.Region == a.Region {
						MergeAnswers(a, sv.Answers)
					}
				}
				return nil
			}
			if err := AskAnswers(context.Background(), env, AskOptions{Saved: saved, OutDir: outDir, Resume: resume}); err != nil {
				t.Fatal(err)
			}
			if a != tt.want {
				t.Fatalf("answers = %+v\nwant      %+v", a, tt.want)
			}
			if len(offered) != 3 || !strings.Contains(offered[0].Detail, "made SMTP credentials, SES identity, DNS records, relay files") ||
				!strings.Contains(offered[1].Detail, "nothing made yet") || offered[2].Value != "new" {
				t.Fatalf("offered %+v", offered)
			}
		})
	}
}

// choosing answers the resume question, takes the default of an input and
// says no to a confirmation.
type choosing struct {
	pick string
	seen *[]Option
}

func (c *choosing) Confirm(context.Context, Question) (bool, error) {
	return false, nil
}
func (c *choosing) Choose(_ context.Context, q Question, opts []Option) (string, error) {
	if q.ID != "resume" {
		return "", errors.New("unexpected question " + q.ID)
	}
	*c.seen = opts
	return c.pick, nil
}
func (c *choosing) Input(_ context.Context, q Question, _ func(string) error) (string, error) {
	return q.Default, nil
}

// TestMergeAnswersPostfixDir: the Postfix directory a setup installed into
// is remembered for status; one given now wins.
func TestMergeAnswersPostfixDir(t *testing.T) {
	for _, tt := range []struct{ now, saved, want string }{
		{"", "/srv/postfix", "/srv/postfix"},
		{"/etc/postfix-b", "/srv/postfix", "/etc/postfix-b"},
		{"", "", ""},
	} {
		dst := state.Answers{PostfixDir: tt.now}
		MergeAnswers(&dst, state.Answers{PostfixDir: tt.saved})
		if dst.PostfixDir != tt.want {
			t.Errorf("merge %q over saved %q = %q, want %q", tt.now, tt.saved, dst.PostfixDir, tt.want)
		}
	}
}
