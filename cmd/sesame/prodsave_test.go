package main

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/state"
)

// answerPrompter answers each question by its ID and fails the rest.
type answerPrompter struct {
	steps.NoInput
	answers map[string]string
}

func (p answerPrompter) Choose(ctx context.Context, q steps.Question, _ []steps.Option) (string, error) {
	return p.Input(ctx, q, nil)
}

func (p answerPrompter) Input(ctx context.Context, q steps.Question, _ func(string) error) (string, error) {
	if v, ok := p.answers[q.ID]; ok {
		return v, nil
	}
	return p.NoInput.Input(ctx, q, nil)
}

// The production-access answers typed before a Ctrl+C are saved as they
// are given, into the run's decisions (the operator's flags stay as they
// were), and the next run of the setup starts from them, the flags first.
func TestProductionAnswersSavedAndResumed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store := state.Store{Dir: t.TempDir()}
	acct := &steps.AccountInfo{ID: "123456789012", Region: "us-east-1"}
	flags := steps.ProductionRequest{ContactLanguage: "JA"}

	env := steps.NewEnv(awsapi.Clients{}, &state.Answers{Domain: "example.com", Region: "us-east-1"}, steps.Options{Production: flags})
	s := &session{store: store, env: env, ctx: ctx}
	if err := s.bind(acct); err != nil {
		t.Fatal(err)
	}
	p := savingPrompter{Prompter: answerPrompter{answers: map[string]string{"mail-type": "TRANSACTIONAL", "website-url": " https://shop.example.com "}}, env: env}
	for _, id := range []string{"mail-type", "website-url"} {
		if _, err := p.Input(ctx, steps.Question{ID: id}, nil); err != nil {
			t.Fatal(err)
		}
	}
	s.close() // the run ends here, as a Ctrl+C would end it
	if !reflect.DeepEqual(env.Options.Production, flags) {
		t.Errorf("the operator's flags changed: %+v, want %+v", env.Options.Production, flags)
	}

	next := steps.NewEnv(awsapi.Clients{}, &state.Answers{Domain: "example.com", Region: "us-east-1"}, steps.Options{Production: steps.ProductionRequest{WebsiteURL: "https://flag.example.com"}})
	s2 := &session{store: store, env: next, ctx: ctx}
	defer s2.close()
	if err := s2.bind(acct); err != nil {
		t.Fatal(err)
	}
	got := next.Production()
	want := steps.ProductionRequest{MailType: "TRANSACTIONAL", WebsiteURL: "https://flag.example.com", ContactLanguage: "JA"}
	if got.MailType != want.MailType || got.WebsiteURL != want.WebsiteURL || got.ContactLanguage != want.ContactLanguage {
		t.Errorf("resumed request = %+v, want %+v (saved answers, the flag's website first)", got, want)
	}
}
