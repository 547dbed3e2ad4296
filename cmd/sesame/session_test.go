package main

import (
	"context"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/state"
)

// A retried run (r in the TUI) binds the same setup again: it must keep
// the lock it holds, not wait for itself.
func TestSessionBindTwiceKeepsItsLock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	env := steps.NewEnv(awsapi.Clients{}, &state.Answers{Domain: "example.com", Region: "us-east-1"}, steps.Options{})
	s := &session{store: state.Store{Dir: t.TempDir()}, env: env, ctx: ctx}
	defer s.close()
	acct := &steps.AccountInfo{ID: "123456789012", Region: "us-east-1"}
	for i := 0; i < 2; i++ {
		if err := s.bind(acct); err != nil {
			t.Fatalf("bind #%d: %v", i+1, err)
		}
	}
	// Another holder is still refused while this session runs.
	if _, err := state.TryLock(s.lockPath); err == nil {
		t.Fatal("a second lock on the setup succeeded while the session holds it")
	}
}
