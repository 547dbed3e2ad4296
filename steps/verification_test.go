package steps

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/internal/fakeclock"
	"github.com/sesame-tool/sesame/steps/state"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

func TestPollInterval(t *testing.T) {
	tests := []struct {
		elapsed time.Duration
		want    time.Duration
	}{
		{0, 5 * time.Second},
		{119 * time.Second, 5 * time.Second},
		{120 * time.Second, 7500 * time.Millisecond},
		{130 * time.Second, 11250 * time.Millisecond},
		{10 * time.Minute, 60 * time.Second},
		{59 * time.Minute, 60 * time.Second},
		{2 * time.Hour, 10 * time.Minute},
		{71 * time.Hour, 10 * time.Minute},
	}
	for _, tt := range tests {
		if got := pollInterval(tt.elapsed); got != tt.want {
			t.Errorf("pollInterval(%s) = %s, want %s", tt.elapsed, got, tt.want)
		}
	}
	// The interval never shrinks and never exceeds the cap.
	prev := time.Duration(0)
	for e := time.Duration(0); e < 72*time.Hour; e += 7 * time.Second {
		iv := pollInterval(e)
		if iv < prev || iv > slowCap {
			t.Fatalf("pollInterval(%s) = %s after %s", e, iv, prev)
		}
		prev = iv
	}
}

// verifyFixture is a domain whose identity exists, DKIM pending.
func verifyFixture(t *testing.T, a state.Answers) (*stepstest.FakeSES, *Env, *fakeclock.Clock) {
	t.Helper()
	ses := stepstest.NewFakeSES("us-east-1")
	a.Domain, a.Region = "example.com", "us-east-1"
	tokens := ses.AddIdentity(a.Domain)
	env := NewEnv(awsapi.Clients{SES: ses}, &a, Options{})
	clock := fakeclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	env.Clock = clock
	env.Facts.Identity = &IdentityInfo{Domain: a.Domain, Tokens: tokens}
	env.Facts.Records = DesiredRecords(a.Domain, a.Region, env.Facts.Identity, a.MailFrom, false)
	return ses, env, clock
}

// TestVerificationNoticesQuickly: verified at any moment in the first two
// minutes, the wait notices within 10 s.
func TestVerificationNoticesQuickly(t *testing.T) {
	for _, polls := range []int{1, 2, 7, 20} {
		ses, env, clock := verifyFixture(t, state.Answers{})
		ses.VerifyAfter("example.com", polls)
		start := clock.Now()
		var progress []*VerificationProgress
		env.Emit = func(e Event) {
			if p, ok := e.Data.(*VerificationProgress); ok {
				progress = append(progress, p)
			}
		}
		if err := (Verification{}).Apply(context.Background(), env); err != nil {
			t.Fatal(err)
		}
		// SES flipped between two polls; the poll that saw it came at most
		// one interval later.
		took := clock.Now().Sub(start)
		flipped := time.Duration(polls-1) * fastEvery
		if took-flipped > 10*time.Second {
			t.Errorf("verified at poll %d (%s) but noticed at %s", polls, flipped, took)
		}
		last := progress[len(progress)-1]
		if last.DKIMStatus != "SUCCESS" || last.Checks != polls || len(last.Records) != 3 || last.Records[0].State != "unknown" {
			t.Errorf("last progress = %+v", last)
		}
		mustCheck(t, Verification{}, env, StatusDone)
	}
}

// TestVerificationCallBudget: a domain that never verifies costs at most
// 1,000 GetEmailIdentity calls over 72 hours, then stops pending (exit 3).
func TestVerificationCallBudget(t *testing.T) {
	ses, env, clock := verifyFixture(t, state.Answers{})
	start := clock.Now()
	err := Verification{}.Apply(context.Background(), env)
	var pe *PendingError
	if !errors.As(err, &pe) || ExitCode(err) != 3 || !strings.Contains(pe.Detail, "run sesame again") {
		t.Fatalf("err = %v, want a PendingError", err)
	}
	calls := ses.Calls("GetEmailIdentity")
	if calls > 1000 {
		t.Errorf("%d GetEmailIdentity calls over 72 h", calls)
	}
	if waited := clock.Now().Sub(start); waited > 72*time.Hour || waited < 71*time.Hour {
		t.Errorf("waited %s, want about 72 h", waited)
	}
	t.Logf("%d calls over %s", calls, clock.Now().Sub(start))
}

func TestVerificationTimeoutOption(t *testing.T) {
	ses, env, _ := verifyFixture(t, state.Answers{})
	env.Options.Timeout = time.Minute
	err := Verification{}.Apply(context.Background(), env)
	if !errors.Is(err, ErrPending) {
		t.Fatalf("err = %v", err)
	}
	if n := ses.Calls("GetEmailIdentity"); n != 13 {
		t.Errorf("%d calls in a minute at 5 s, want 13 (at 0 s, 5 s, … 60 s)", n)
	}
}

// TestVerificationTimeoutSaysItsLength: the wait lasts as long as the
// timeout says, to the second, and the message names that length.
func TestVerificationTimeoutSaysItsLength(t *testing.T) {
	for _, timeout := range []time.Duration{20 * time.Second, 7 * time.Second, 95 * time.Second} {
		_, env, clock := verifyFixture(t, state.Answers{})
		env.Options.Timeout = timeout
		start := clock.Now()
		err := Verification{}.Apply(context.Background(), env)
		if !errors.Is(err, ErrPending) {
			t.Fatalf("%s: err = %v", timeout, err)
		}
		if waited := clock.Now().Sub(start); waited != timeout {
			t.Errorf("--timeout %s waited %s", timeout, waited)
		}
		if want := "after " + timeout.String(); !strings.Contains(err.Error(), want) {
			t.Errorf("--timeout %s: %q lacks %q", timeout, err, want)
		}
	}
}

func TestVerificationCancelled(t *testing.T) {
	_, env, _ := verifyFixture(t, state.Answers{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env.Clock = blockingClock{}
	err := Verification{}.Apply(ctx, env)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// blockingClock never fires, so only the context can end a wait.
type blockingClock struct{}

func (blockingClock) Now() time.Time                       { return time.Time{} }
func (blockingClock) After(time.Duration) <-chan time.Time { return nil }

func TestVerificationStatuses(t *testing.T) {
	tests := []struct {
		name     string
		verified bool
		dkim     string
		mailFrom string // MAIL FROM status; "" for none configured
		want     Status
		says     string
		warn     string
	}{
		{name: "pending", dkim: "PENDING", want: StatusPending, says: "looking for the DKIM records"},
		{name: "verified", verified: true, dkim: "SUCCESS", want: StatusDone, says: "verified example.com"},
		{name: "verified, MAIL FROM pending", verified: true, dkim: "SUCCESS", mailFrom: "PENDING", want: StatusDone, warn: "still looking for the MX and SPF"},
		{name: "verified, MAIL FROM failed", verified: true, dkim: "SUCCESS", mailFrom: "FAILED", want: StatusDone, warn: "sets the MAIL FROM domain again, which restarts"},
		{name: "failed", dkim: "FAILED", want: StatusFailed, says: "--recreate-identity"},
		// DkimAttributes.Status TEMPORARY_FAILURE on a verified identity:
		// it stays verified for sending, so the run goes on, warned.
		{name: "temporary failure, verified", verified: true, dkim: "TEMPORARY_FAILURE", want: StatusDone, warn: "keeps checking for 72 hours"},
		{name: "temporary failure, not verified yet", dkim: "TEMPORARY_FAILURE", want: StatusPending, says: "keeps trying"},
		{name: "verified, MAIL FROM temporary failure", verified: true, dkim: "SUCCESS", mailFrom: "TEMPORARY_FAILURE", want: StatusDone, warn: "If it turns FAILED, run sesame again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := state.Answers{}
			if tt.mailFrom != "" {
				a.MailFrom = "mail"
			}
			ses, env, _ := verifyFixture(t, a)
			ses.SetIdentityStatus("example.com", tt.verified, tt.dkim)
			if tt.mailFrom != "" {
				if err := (DNS{}).putMailFrom(context.Background(), env, "mail.example.com"); err != nil {
					t.Fatal(err)
				}
				ses.SetMailFromStatus("example.com", tt.mailFrom)
			}
			res := mustCheck(t, Verification{}, env, tt.want)
			if tt.says != "" && !strings.Contains(res.Detail, tt.says) {
				t.Errorf("detail %q does not say %q", res.Detail, tt.says)
			}
			if tt.warn != "" && (len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], tt.warn)) {
				t.Errorf("warnings %q, want %q", res.Warnings, tt.warn)
			}
			if tt.want == StatusFailed {
				if err := (Verification{}).Apply(context.Background(), env); err == nil || !strings.Contains(err.Error(), "--recreate-identity") {
					t.Errorf("Apply on a failed identity: %v", err)
				}
			}
		})
	}
}

func TestVerificationNoIdentity(t *testing.T) {
	ses := stepstest.NewFakeSES("us-east-1")
	env := NewEnv(awsapi.Clients{SES: ses}, &state.Answers{Domain: "example.com", Region: "us-east-1"}, Options{})
	mustCheck(t, Verification{}, env, StatusTodo)
	ses.FailNext("GetEmailIdentity", stepstest.AccessDenied("ses:GetEmailIdentity"))
	_, err := Verification{}.Check(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "sesame policy") {
		t.Errorf("err = %v", err)
	}
}
