package steps

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/state"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

const testAccount = "123456789012"

// awsEnv is an Env over the stateful fakes, with a state file that is
// "saved" in memory and a scripted prompter.
type awsEnv struct {
	*Env
	sts    *stepstest.FakeSTS
	iam    *stepstest.FakeIAM
	ses    *stepstest.FakeSES
	prompt *answers
	saves  int
	events []Event
}

// answers is a Prompter with fixed answers by question id; a question
// without one is an InputError, like NoInput.
type answers struct {
	confirm map[string]bool
	choose  map[string]string
	input   map[string]string
	asked   []string
}

func (a *answers) Confirm(_ context.Context, q Question) (bool, error) {
	a.asked = append(a.asked, q.ID)
	v, ok := a.confirm[q.ID]
	if !ok {
		return false, noInput(q)
	}
	return v, nil
}

func (a *answers) Choose(_ context.Context, q Question, _ []Option) (string, error) {
	a.asked = append(a.asked, q.ID)
	v, ok := a.choose[q.ID]
	if !ok {
		return "", noInput(q)
	}
	return v, nil
}

func (a *answers) Input(_ context.Context, q Question, validate func(string) error) (string, error) {
	a.asked = append(a.asked, q.ID)
	v, ok := a.input[q.ID]
	if !ok {
		return "", noInput(q)
	}
	if validate != nil {
		if err := validate(v); err != nil {
			return "", err
		}
	}
	return v, nil
}

func newAWSEnv(t *testing.T, arn string) *awsEnv {
	t.Helper()
	e := &awsEnv{
		sts:    stepstest.NewFakeSTS(testAccount, arn),
		iam:    stepstest.NewFakeIAM(testAccount),
		ses:    stepstest.NewFakeSES("eu-west-1"),
		prompt: &answers{confirm: map[string]bool{}, choose: map[string]string{}, input: map[string]string{}},
	}
	e.Env = NewEnv(awsapi.Clients{STS: e.sts, IAM: e.iam, SES: e.ses}, &state.Answers{Domain: "example.com", Region: "eu-west-1", OutDir: t.TempDir() + "/out"}, Options{NoInput: true})
	e.Prompt = e.prompt
	e.Save = func() error { e.saves++; return nil }
	e.Emit = func(ev Event) { e.events = append(e.events, ev) }
	return e
}

func TestAccountCheck(t *testing.T) {
	tests := []struct {
		name       string
		arn        string
		region     string
		fail       error
		wantErr    string
		wantCode   int
		wantDetail string
		wantWarn   string
	}{
		{name: "user", arn: "arn:aws:iam::123456789012:user/ops", region: "eu-west-1",
			wantDetail: "account 123456789012 (arn:aws:iam::123456789012:user/ops) in eu-west-1; SES sandbox"},
		{name: "root warns", arn: "arn:aws:iam::123456789012:root", region: "EU-West-1 ",
			wantDetail: "in eu-west-1", wantWarn: "root user"},
		{name: "region without SMTP", arn: "arn:aws:iam::123456789012:user/ops", region: "eu-central-2",
			wantErr: "SES has no SMTP endpoint in eu-central-2", wantCode: 2},
		{name: "unknown region", arn: "arn:aws:iam::123456789012:user/ops", region: "mars-1",
			wantErr: "us-east-1, us-east-2", wantCode: 2},
		{name: "denied", arn: "arn:aws:iam::123456789012:user/ops", region: "eu-west-1",
			fail: stepstest.AccessDenied("sts:GetCallerIdentity"), wantErr: "sesame policy", wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAWSEnv(t, tt.arn)
			e.Answers.Region = tt.region
			if tt.fail != nil {
				e.sts.FailNext("GetCallerIdentity", tt.fail)
			}
			res, err := Account{}.Check(context.Background(), e.Env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || ExitCode(err) != tt.wantCode {
					t.Fatalf("err = %v (exit %d), want %q (exit %d)", err, ExitCode(err), tt.wantErr, tt.wantCode)
				}
				if e.sts.Calls("GetCallerIdentity") > 0 && tt.wantCode == 2 {
					t.Error("an invalid region reached AWS")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != StatusDone || !strings.Contains(res.Detail, tt.wantDetail) {
				t.Errorf("Check = %s %q, want done with %q", res.Status, res.Detail, tt.wantDetail)
			}
			if got := strings.Join(res.Warnings, "\n"); tt.wantWarn != "" && !strings.Contains(got, tt.wantWarn) || tt.wantWarn == "" && got != "" {
				t.Errorf("warnings = %q, want %q", got, tt.wantWarn)
			}
			if setup := (Account{}).Setup(e.Env); setup == nil || setup.ID != testAccount || e.Facts.Sandbox == nil || e.Facts.Sandbox.Max24HourSend != 200 {
				t.Errorf("setup %+v, sandbox %+v", setup, e.Facts.Sandbox)
			}
		})
	}
}

// The bind phase runs right after the account step's Check, in a run and
// in status alike: before any later step checks, and a bind error (the
// setup is locked) fails the account step and, in a run, stops it there.
func TestRunnerBindsAfterAccountCheck(t *testing.T) {
	locked := errors.New("setup locked by pid 42")
	tests := []struct {
		name     string
		status   bool
		bindErr  error
		wantErr  error
		wantNext int // Checks of the step after account
	}{
		{name: "run binds before the next check", wantNext: 1},
		{name: "status binds before the next check", status: true, wantNext: 1},
		{name: "run stops at a bind error", bindErr: locked, wantErr: locked},
		{name: "status reports a bind error and goes on", status: true, bindErr: locked, wantNext: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAWSEnv(t, "arn:aws:iam::123456789012:user/ops")
			next := &fakeStep{id: "next", exists: true}
			var bound []string
			e.Bind = func(a *AccountInfo) error {
				if next.checks > 0 {
					t.Error("bound after the next step's Check")
				}
				bound = append(bound, a.ID)
				return tt.bindErr
			}
			r := &Runner{Steps: []Step{&Account{}, next}}
			var rep *Report
			var err error
			if tt.status {
				rep, err = r.Status(context.Background(), e.Env)
			} else {
				rep, err = r.Run(context.Background(), e.Env)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if len(bound) != 1 || bound[0] != testAccount {
				t.Errorf("bound %v, want once to %s", bound, testAccount)
			}
			if next.checks != tt.wantNext {
				t.Errorf("next step checked %d times, want %d", next.checks, tt.wantNext)
			}
			if tt.bindErr != nil && (rep.Steps[0].Status != StatusFailed || !strings.Contains(rep.Steps[0].Detail, locked.Error())) {
				t.Errorf("account step = %s %q, want failed with the bind error", rep.Steps[0].Status, rep.Steps[0].Detail)
			}
		})
	}
}
