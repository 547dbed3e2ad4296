package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/state"
)

// A flag or SESAME_* value that does not parse is explained in words,
// naming where it came from, with exit 2 (an InputError).
func TestBadValuesInWords(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"bool variable", nil, map[string]string{"SESAME_DMARC": "maybe"}, []string{"SESAME_DMARC", `"maybe"`, "true or false"}},
		{"duration variable", nil, map[string]string{"SESAME_TIMEOUT": "soon"}, []string{"SESAME_TIMEOUT", "90s"}},
		{"int variable", nil, map[string]string{"SESAME_SMTP_PORT": "x"}, []string{"SESAME_SMTP_PORT", "whole number"}},
		{"two variables", nil, map[string]string{"SESAME_YES": "sure", "SESAME_NO_INPUT": "never"}, []string{"SESAME_YES", "SESAME_NO_INPUT"}},
		{"bool flag", []string{"--dmarc=maybe"}, nil, []string{"--dmarc", "true or false"}},
		{"duration flag", []string{"--timeout", "soon"}, nil, []string{"--timeout", "90s"}},
		{"short flag named by its long name", []string{"-y=maybe"}, nil, []string{"--yes", "true or false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.args, tt.env)
			var ie *steps.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an InputError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "strconv") || strings.Contains(err.Error(), "invalid syntax") {
				t.Errorf("%v speaks Go", err)
			}
		})
	}
}

// An input error about a value a SESAME_* variable set names the variable.
func TestNameEnv(t *testing.T) {
	o, err := parse(t, []string{"--domain", "example.com"}, map[string]string{"SESAME_RESOLVER": "garbage"})
	if err != nil {
		t.Fatal(err)
	}
	verr := validateFlags(o, "example.com")
	if verr = o.nameEnv(verr); verr == nil || !strings.Contains(verr.Error(), "SESAME_RESOLVER") || !strings.Contains(verr.Error(), "--resolver") {
		t.Fatalf("err = %v, want it to name SESAME_RESOLVER and --resolver", verr)
	}
	// A value from the command line names the flag only.
	o, _ = parse(t, []string{"--resolver", "garbage"}, nil)
	if verr := o.nameEnv(validateFlags(o, "")); verr == nil || strings.Contains(verr.Error(), "SESAME_") {
		t.Fatalf("err = %v, want it to name --resolver only", verr)
	}
}

func TestZoneIDFlagGiven(t *testing.T) {
	for _, tt := range []struct {
		args []string
		set  bool
	}{{nil, false}, {[]string{"--zone-id", ""}, true}, {[]string{"--zone-id", "Z1"}, true}} {
		o, err := parse(t, tt.args, nil)
		if err != nil || o.answers().ZoneIDSet != tt.set {
			t.Errorf("%v: ZoneIDSet = %v (%v), want %v", tt.args, o.answers().ZoneIDSet, err, tt.set)
		}
	}
}

// newTestSession is a session over a fresh state directory whose
// credentials belong to account.
func newTestSession(t *testing.T, dir, account string, a *state.Answers, opts steps.Options) *session {
	t.Helper()
	env := steps.NewEnv(awsapi.Clients{}, a, opts)
	s := &session{store: state.Store{Dir: dir}, env: env, ctx: context.Background(),
		account: func(context.Context, string) (string, error) { return account, nil },
		outDir:  func(d, r string) string { return filepath.Join(dir, "out", d+"-"+r) }}
	t.Cleanup(s.close)
	return s
}

func saveSetup(t *testing.T, dir, account string, a state.Answers) {
	t.Helper()
	if err := (state.Store{Dir: dir}).Save(&state.Saved{Account: account, Region: a.Region, Domain: a.Domain, UpdatedAt: time.Now(), Answers: a}); err != nil {
		t.Fatal(err)
	}
}

// resume takes saved answers only from the credentials' own account, and
// a default --out used by another account's setup gets the account id.
func TestResumeStaysInAccount(t *testing.T) {
	dir := t.TempDir()
	staging := state.Answers{Domain: "example.com", Region: "us-east-1", SMTPUser: "staging", OutDir: "/staging", MailFromAsked: true}
	saveSetup(t, dir, "111111111111", staging)
	shared := state.Answers{Domain: "shared.example", Region: "us-east-1", OutDir: filepath.Join(dir, "out", "shared.example-us-east-1")}
	saveSetup(t, dir, "111111111111", shared)

	tests := []struct {
		name, account, domain string
		want                  state.Answers
	}{
		{"same account", "111111111111", "example.com", staging},
		{"another account", "222222222222", "example.com", state.Answers{Domain: "example.com", Region: "us-east-1", OutDir: filepath.Join(dir, "out", "example.com-us-east-1")}},
		{"another account, default --out taken", "222222222222", "shared.example", state.Answers{Domain: "shared.example", Region: "us-east-1", OutDir: filepath.Join(dir, "out", "shared.example-us-east-1-222222222222")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &state.Answers{Domain: tt.domain, Region: "us-east-1"}
			s := newTestSession(t, dir, tt.account, a, steps.Options{})
			if err := s.resume(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			if *a != tt.want {
				t.Fatalf("answers = %+v\nwant      %+v", *a, tt.want)
			}
		})
	}
}

// Until the answers are checked, Save keeps the answers saved before; a
// dry run saves nothing; an answer refused later is put back.
func TestSessionSavesOnlyAnswersThatHeld(t *testing.T) {
	const acct = "111111111111"
	prev := state.Answers{Domain: "example.com", Region: "us-east-1", ZoneID: "ZGOOD", OutDir: "/o", SMTPUser: "u"}
	load := func(t *testing.T, dir string) *state.Saved {
		t.Helper()
		sv, err := state.Store{Dir: dir}.Load(acct, "us-east-1", "example.com")
		if err != nil {
			t.Fatal(err)
		}
		return sv
	}
	t.Run("dry run writes no state", func(t *testing.T) {
		dir := t.TempDir()
		a := &state.Answers{Domain: "example.com", Region: "us-east-1", OutDir: "/dry"}
		s := newTestSession(t, dir, acct, a, steps.Options{DryRun: true})
		if err := s.bind(&steps.AccountInfo{ID: acct, Region: "us-east-1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.env.AcceptAnswers(); err != nil {
			t.Fatal(err)
		}
		if sv := load(t, dir); sv != nil {
			t.Fatalf("a dry run saved %+v", sv.Answers)
		}
	})
	t.Run("before the checks: the answers saved before", func(t *testing.T) {
		dir := t.TempDir()
		saveSetup(t, dir, acct, prev)
		a := &state.Answers{Domain: "example.com", Region: "us-east-1", ZoneID: "ZBAD", ZoneIDSet: true, OutDir: "/new"}
		s := newTestSession(t, dir, acct, a, steps.Options{})
		if err := s.bind(&steps.AccountInfo{ID: acct, Region: "us-east-1"}); err != nil {
			t.Fatal(err)
		}
		if got := load(t, dir).Answers; got != prev {
			t.Fatalf("saved %+v before the checks, want %+v", got, prev)
		}
		// Checked: the new answers; then --zone-id refused: put back.
		if err := s.env.AcceptAnswers(); err != nil {
			t.Fatal(err)
		}
		if got := load(t, dir).Answers; got.ZoneID != "ZBAD" || got.OutDir != "/new" {
			t.Fatalf("saved %+v once checked", got)
		}
		if err := s.forgetFailed(&steps.InputError{Field: "zone-id", Flag: "--zone-id", Msg: "no such zone"}); err != nil {
			t.Fatal(err)
		}
		if got := load(t, dir).Answers; got.ZoneID != "ZGOOD" || got.OutDir != "/new" {
			t.Fatalf("saved %+v after --zone-id was refused, want the zone id put back and the rest kept", got)
		}
	})
}
