package steps

import (
	"context"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/internal/fakeclock"
)

// NoSuchEntity right after this run's CreateUser is IAM's eventual
// consistency (IAM User Guide, "Troubleshoot IAM"): retried within
// IAMPropagationWindow, each retry shown. For a user this run did not
// create, or past the window, or any other error, the first answer stands.
func TestWhileUserPropagates(t *testing.T) {
	noSuch := &smithy.GenericAPIError{Code: "NoSuchEntity", Message: "The user with name u cannot be found."}
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
	tests := []struct {
		name      string
		created   bool
		failFor   time.Duration // the call answers err until this long after creation
		err       error
		wantErr   bool
		wantCalls int
	}{
		{"a new user known after 5 s", true, 5 * time.Second, noSuch, false, 4},
		{"a new user never known: stops at the window", true, time.Hour, noSuch, true, 16},
		{"an existing user's NoSuchEntity is not retried", false, time.Hour, noSuch, true, 1},
		{"another error is not retried", true, time.Hour, denied, true, 1},
		{"no error, one call", true, 0, noSuch, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
			env := NewEnv(awsapi.Clients{}, nil, Options{})
			env.Clock = clock
			var events []Event
			env.Emit = func(e Event) { events = append(events, e) }
			st := &userState{name: "u"}
			start := clock.Now()
			if tt.created {
				st.createdAt = start
			}
			calls := 0
			err := whileUserPropagates(context.Background(), env, st, "iam:PutUserPolicy", func() error {
				calls++
				if clock.Now().Sub(start) < tt.failFor {
					return tt.err
				}
				return nil
			})
			if (err != nil) != tt.wantErr || calls != tt.wantCalls {
				t.Fatalf("err = %v after %d calls, want error %v after %d", err, calls, tt.wantErr, tt.wantCalls)
			}
			retries, warned := 0, false
			for _, e := range events {
				switch e.Kind {
				case EventRetrying:
					retries++
				case EventWarning:
					warned = true
				}
			}
			if retries != calls-1 {
				t.Errorf("%d retry events for %d calls", retries, calls)
			}
			if wantWarn := tt.created && tt.wantErr && tt.err == noSuch; warned != wantWarn {
				t.Errorf("warned %v, want %v (IAM still not knowing the user at the window's end)", warned, wantWarn)
			}
			if clock.Now().Sub(start) > IAMPropagationWindow {
				t.Errorf("waited %s, past the window %s", clock.Now().Sub(start), IAMPropagationWindow)
			}
		})
	}
}
