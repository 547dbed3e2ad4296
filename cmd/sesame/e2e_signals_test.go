package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// stateFiles lists the saved setups under home's default state directory.
func stateFiles(t *testing.T, home string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(home, ".local", "state", "sesame", "*", "*.json"))
	if len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join(home, ".local", "state", "sesame", "*.json"))
	}
	return files
}

// Ctrl-C (SIGINT) and SIGTERM while a call is in flight (one the simulator
// never answers) and while waiting for verification: the call is
// cancelled, the state saved, exit 130; the next run resumes and completes
// with nothing made twice.
func TestSignalsInterruptAndResume(t *testing.T) {
	t.Parallel()
	want := cleanState(t)
	tests := []struct {
		name string
		sig  syscall.Signal
		// hangOp is a call the simulator keeps unanswered; empty means
		// signal while waiting for verification instead.
		hangOp, service string
		// keys is how many access keys the SMTP user ends with: a key
		// whose CreateAccessKey answer never arrived cannot be proven
		// sesame's, so the rerun keeps it (and names it) beside its own.
		keys int
	}{
		{"SIGINT during CreateEmailIdentity", syscall.SIGINT, "CreateEmailIdentity", "sesv2", 1},
		{"SIGTERM during ChangeResourceRecordSets", syscall.SIGTERM, "ChangeResourceRecordSets", "route53", 1},
		{"SIGTERM during CreateAccessKey", syscall.SIGTERM, "CreateAccessKey", "iam", 2},
		{"SIGINT during the verification wait", syscall.SIGINT, "", "", 1},
		{"SIGTERM during the verification wait", syscall.SIGTERM, "", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sim *simProc
			if tt.hangOp != "" {
				sim = startSim(t, "--hang-after", tt.hangOp)
			} else {
				sim = startSim(t, "--verify-delay", "6s")
			}
			home := t.TempDir()
			out := filepath.Join(home, "relay")
			first := sim.start(t, home, onboardArgs(out)...)
			if tt.hangOp != "" {
				sim.waitLog(t, 0, tt.service+" "+tt.hangOp+" -")
			} else {
				// The last change of the flow, then a poll of the wait.
				i := sim.waitLog(t, 0, "sesv2 PutEmailIdentityMailFromAttributes 200")
				sim.waitLog(t, i, "sesv2 GetEmailIdentity 200")
			}
			if err := first.cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			r := first.wait(t)
			if r.code != 130 || !strings.Contains(r.stderr, "interrupted") || !strings.Contains(r.stderr, "resume") {
				t.Fatalf("exit %d, want 130 saying it was interrupted and how to resume\n%s", r.code, r.stderr)
			}
			files := stateFiles(t, home)
			if len(files) != 1 {
				t.Fatalf("state files after the interrupt: %v, want one", files)
			}
			if b, err := os.ReadFile(files[0]); err != nil || !strings.Contains(string(b), "example.com") {
				t.Fatalf("state file %s unreadable or without the setup (%v):\n%s", files[0], err, b)
			}

			assertComplete(t, sim.sesame(t, home, onboardArgs(out)...))
			want := want.withKeys(tt.keys)
			if got := sim.dumpAWS(t, "us-east-1"); !got.Equal(want) {
				t.Errorf("after %s the account differs from a clean run's:\ngot:\n%swant:\n%s", tt.name, got, want)
			}
		})
	}
}
