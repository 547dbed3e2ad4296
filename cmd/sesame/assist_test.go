package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/state"
)

// runRoot runs sesame's whole command tree with args and env, and returns
// its exit code, stdout and stderr.
func runRoot(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, InFd: -1}
	code := run(args, s, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

// TestAssist: a mistyped command is answered with the one meant, the
// flags with a few values complete them, and sesame postfix finds --out in
// the saved setup.
func TestAssist(t *testing.T) {
	t.Run("did you mean status", func(t *testing.T) {
		code, _, errOut := runRoot(t, nil, "stauts")
		if code != exitInput || !strings.Contains(errOut, "Did you mean status?") {
			t.Errorf("exit %d, stderr %q; want 2 and a suggestion", code, errOut)
		}
	})
	for _, tt := range []struct{ flag, want string }{{"--region", "eu-west-1"}, {"--mail-type", "TRANSACTIONAL"}, {"--contact-language", "JA"}} {
		t.Run("completes "+tt.flag, func(t *testing.T) {
			_, out, _ := runRoot(t, nil, "__complete", tt.flag, "")
			if !strings.Contains(out, tt.want+"\n") {
				t.Errorf("completion of %s lacks %s:\n%s", tt.flag, tt.want, out)
			}
		})
	}
	t.Run("postfix finds --out in the saved setup", func(t *testing.T) {
		stateHome, out := t.TempDir(), t.TempDir()
		err := state.Store{Dir: filepath.Join(stateHome, "sesame")}.Save(&state.Saved{Account: "123456789012", Region: "eu-west-1", Domain: "example.com",
			UpdatedAt: time.Now().UTC(), Answers: state.Answers{Domain: "example.com", Region: "eu-west-1", OutDir: out}})
		if err != nil {
			t.Fatal(err)
		}
		_, _, errOut := runRoot(t, map[string]string{"XDG_STATE_HOME": stateHome}, "postfix")
		if !strings.Contains(errOut, "--out "+out+" (the saved setup of example.com in eu-west-1)") {
			t.Errorf("postfix did not take --out from the saved setup:\n%s", errOut)
		}
		if strings.Contains(errOut, "is required") {
			t.Errorf("postfix still asks for --out:\n%s", errOut)
		}
	})
}
