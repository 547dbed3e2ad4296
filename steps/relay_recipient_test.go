package steps

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/internal/fakeclock"
	"github.com/sesame-tool/sesame/steps/state"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

// TestAwaitTestRecipient: in the SES sandbox the test message goes only to
// a verified address (Amazon SES Developer Guide, "Request production
// access"), and a --verify-recipient address is verified when its owner
// opens SES's link. The relay step waits for that within --timeout, or
// stops pending (exit 3) with --no-wait or when the time is up; it does not
// wait in production, for the mailbox simulator, or for an address that is
// no identity of its own.
func TestAwaitTestRecipient(t *testing.T) {
	tests := []struct {
		name       string
		production bool
		to         string
		identity   bool // the address is an SES identity, pending
		verifyOn   int  // it turns verified on this GetEmailIdentity (0: never)
		opts       Options
		wantErr    string // "" for a send
		wantGets   int
	}{
		{name: "production sends at once", production: true, to: "ops@example.net", identity: true, wantGets: 0},
		{name: "the mailbox simulator needs no verification", to: "success@simulator.amazonses.com", wantGets: 0},
		{name: "an address with no identity is left to the send", to: "ops@example.net", wantGets: 1},
		{name: "a pending recipient is waited for until its link is opened", to: "ops@example.net", identity: true, verifyOn: 3, wantGets: 3},
		{name: "--no-wait stops pending", to: "ops@example.net", identity: true, opts: Options{NoWait: true}, wantErr: "open the link SES mailed to it, then run sesame again", wantGets: 1},
		{name: "--timeout bounds the wait", to: "ops@example.net", identity: true, opts: Options{Timeout: 10 * time.Second}, wantErr: "open the link", wantGets: 4}, // at 0, 3, 6 and 9 s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := stepstest.NewFakeSES("us-east-1")
			if tt.identity {
				fake.AddIdentity(tt.to)
				fake.SetIdentityStatus(tt.to, false, "NOT_STARTED")
				if tt.verifyOn > 0 {
					fake.VerifyAfter(tt.to, tt.verifyOn)
				}
			}
			env := NewEnv(awsapi.Clients{SES: fake}, &state.Answers{Domain: "example.com", Region: "us-east-1"}, tt.opts)
			env.Clock = fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
			var said []string
			env.Emit = func(e Event) { said = append(said, e.Detail) }
			env.Facts.Sandbox = &SandboxReport{ProductionAccess: tt.production}
			err := awaitTestRecipient(context.Background(), env, "relay", tt.to)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v, want the send to go ahead", err)
			case tt.wantErr != "" && (ExitCode(err) != 3 || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v (exit %d), want pending (exit 3) saying %q", err, ExitCode(err), tt.wantErr)
			}
			if got := fake.Calls("GetEmailIdentity"); got != tt.wantGets {
				t.Errorf("%d GetEmailIdentity calls, want %d", got, tt.wantGets)
			}
			if tt.verifyOn > 0 && !strings.Contains(strings.Join(said, "\n"), "waiting up to 15m0s") {
				t.Errorf("the wait was not announced: %q", said)
			}
		})
	}
}
