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
			var bound *AccountInfo
			e.Bind = func(a *AccountInfo) error { bound = a; return nil }
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
			if bound == nil || bound.ID != testAccount || e.Facts.Sandbox == nil || e.Facts.Sandbox.Max24HourSend != 200 {
				t.Errorf("bound %+v, sandbox %+v", bound, e.Facts.Sandbox)
			}
		})
	}
}

func TestAccountBindErrorStops(t *testing.T) {
	e := newAWSEnv(t, "arn:aws:iam::123456789012:user/ops")
	locked := errors.New("setup locked by pid 42")
	e.Bind = func(*AccountInfo) error { return locked }
	if _, err := (Account{}).Check(context.Background(), e.Env); !errors.Is(err, locked) {
		t.Fatalf("err = %v, want the Bind error", err)
	}
}
