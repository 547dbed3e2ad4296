package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// running is a sesame process a test signals or kills.
type running struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	code           int
}

// start runs sesame against the simulator without waiting for it.
func (p *simProc) start(t *testing.T, home string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	r := &running{cmd: p.command(ctx, t, home, args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	if err := r.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		defer cancel()
		err := r.cmd.Wait()
		r.code = r.cmd.ProcessState.ExitCode()
		if ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.code = 128 + int(ws.Signal())
		}
		_ = err
		close(r.done)
	}()
	t.Cleanup(func() { r.cmd.Process.Kill(); <-r.done })
	return r
}

// wait waits for the process to end and returns its result. The bound is
// only there so a hung process fails the test instead of stalling it.
func (r *running) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("sesame did not exit\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	return result{r.code, r.stdout.String(), r.stderr.String()}
}

// waitLog waits until the simulator logged line after the first skip lines
// and returns the index just past it.
func (p *simProc) waitLog(t *testing.T, skip int, line string) int {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for i := skip; i < len(p.log); i++ {
			if p.log[i] == line {
				p.mu.Unlock()
				return i + 1
			}
		}
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Fatalf("the simulator never logged %q; its log:\n%s", line, strings.Join(p.log, "\n"))
	return 0
}

// countApplied counts the calls of op that took effect in the simulator:
// answered 200, or held unanswered by --hang-after ("-").
func (p *simProc) countApplied(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.log {
		if f := strings.Fields(l); len(f) == 3 && f[1] == op && (f[2] == "200" || f[2] == "-") {
			n++
		}
	}
	return n
}

// For every mutating call of the flow, sesame is SIGKILLed after AWS
// applied the call and before sesame heard back (sesame-sim --hang-after),
// so the state file does not know. The next run against the same account
// completes with nothing made twice. CreateAccessKey is the hard case: the
// key's id and secret died with the process, so nothing proves the key is
// sesame's (a colleague's key made in the same second looks the same).
// The next run makes a fresh key, shows the unproven one and keeps it: the
// user ends with two keys, the one in sasl_passwd and the one the
// operator may delete.
func TestCrashAfterEachMutatingCall(t *testing.T) {
	t.Parallel()
	want := cleanState(t)
	tests := []struct {
		service, op string
		// made is how many times op takes effect over both runs.
		made int
		note string
		// keys is how many keys the SMTP user ends with.
		keys int
	}{
		{"iam", "CreateUser", 1, "", 1},
		{"iam", "PutUserPolicy", 1, "", 1},
		{"iam", "CreateAccessKey", 2, "sesame cannot tell", 2},
		{"sesv2", "CreateEmailIdentity", 1, "", 1},
		{"route53", "ChangeResourceRecordSets", 1, "", 1},
		{"sesv2", "PutEmailIdentityMailFromAttributes", 1, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, "--hang-after", tt.op)
			home := t.TempDir()
			out := filepath.Join(home, "relay")
			first := sim.start(t, home, onboardArgs(out)...)
			sim.waitLog(t, 0, tt.service+" "+tt.op+" -")
			if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if r := first.wait(t); r.code != 128+int(syscall.SIGKILL) {
				t.Fatalf("first run ended with %d before the kill\n%s", r.code, r.stderr)
			}

			r := sim.sesame(t, home, onboardArgs(out)...)
			assertComplete(t, r)
			if tt.note != "" && !strings.Contains(r.stderr, tt.note) {
				t.Errorf("rerun does not say %q:\n%s", tt.note, r.stderr)
			}
			want := want.withKeys(tt.keys)
			if got := sim.dumpAWS(t, "us-east-1"); !got.Equal(want) {
				t.Errorf("after a crash at %s the account differs from a clean run's:\ngot:\n%swant:\n%s", tt.op, got, want)
			}
			if n := sim.countApplied(tt.op); n != tt.made {
				t.Errorf("%s took effect %d times over both runs, want %d: %v", tt.op, n, tt.made, sim.mutating())
			}
			// The key in sasl_passwd is one of the user's keys; any other
			// is named in the rerun's output as kept.
			rep := parseReport(t, r)
			keys := sim.accessKeys(t, "ses-smtp-example-com")
			if len(keys) != tt.keys || rep.SMTP == nil || !slices.Contains(keys, rep.SMTP.Username) || !strings.Contains(readFile(t, filepath.Join(out, "sasl_passwd")), rep.SMTP.Username) {
				t.Errorf("user's keys %v; report's SMTP username %+v; sasl_passwd must name one of the %d keys", keys, rep.SMTP, tt.keys)
			}
			for _, k := range keys {
				if rep.SMTP != nil && k != rep.SMTP.Username && !strings.Contains(r.stderr, k) {
					t.Errorf("the rerun does not show the kept key %s:\n%s", k, r.stderr)
				}
			}
		})
	}
}

// Keys sesame did not make are never deleted unless the operator names
// them: at IAM's two-key limit --no-input stops with exit 2 naming
// --replace-key and both keys, and --replace-key ID deletes only that key.
func TestReplaceKeyOnlyTheNamedOne(t *testing.T) {
	t.Parallel()
	seed := filepath.Join(t.TempDir(), "seed.json")
	writeFile(t, seed, `{"zones":[{"name":"example.com","records":[]}],
	  "users":[{"name":"ses-smtp-example-com","keys":[{"id":"AKIAOPERATORKEY00001"},{"id":"AKIAOPERATORKEY00002"}]}]}`)
	sim := startSim(t, "--seed-file", seed)
	home := t.TempDir()
	out := filepath.Join(home, "relay")

	r := sim.sesame(t, home, onboardArgs(out)...)
	if r.code != 2 || !strings.Contains(r.stderr, "--replace-key") || !strings.Contains(r.stderr, "AKIAOPERATORKEY00001") || !strings.Contains(r.stderr, "AKIAOPERATORKEY00002") {
		t.Fatalf("exit %d, want 2 naming --replace-key and both keys\n%s", r.code, r.stderr)
	}
	if n := sim.countApplied("DeleteAccessKey") + sim.countApplied("CreateAccessKey"); n != 0 {
		t.Fatalf("keys changed without the operator naming one: %v", sim.mutating())
	}

	assertComplete(t, sim.sesame(t, home, onboardArgs(out, "--replace-key", "AKIAOPERATORKEY00001")...))
	keys := sim.accessKeys(t, "ses-smtp-example-com")
	sesames := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "AKIAOPERATORKEY00002" })
	if len(keys) != 2 || len(sesames) != 1 || !strings.Contains(readFile(t, filepath.Join(out, "sasl_passwd")), sesames[0]) {
		t.Errorf("keys after --replace-key AKIAOPERATORKEY00001: %v; want the operator's other key kept and sesame's new one in sasl_passwd", keys)
	}
	if n := sim.countApplied("DeleteAccessKey"); n != 1 {
		t.Errorf("%d keys deleted, want only the named one: %v", n, sim.mutating())
	}
}

// The production-access request is a mutating call too: killed after SES
// took it (the case is open, sesame never heard), the next run sees the
// review under way and does not ask AWS a second time.
func TestCrashAfterProductionRequest(t *testing.T) {
	t.Parallel()
	sim := startSim(t, "--hang-after", "PutAccountDetails")
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	args := onboardArgs(out, "--request-production", "--mail-type", "transactional",
		"--website-url", "https://example.com", "--use-case", "Order receipts to our customers")
	first := sim.start(t, home, args...)
	sim.waitLog(t, 0, "sesv2 PutAccountDetails -")
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.wait(t)

	r := sim.sesame(t, home, args...)
	assertComplete(t, r)
	if n := sim.countApplied("PutAccountDetails"); n != 1 {
		t.Fatalf("PutAccountDetails took effect %d times over both runs, want 1: %v", n, sim.mutating())
	}
	rep := parseReport(t, r)
	if rep.Sandbox == nil || rep.Sandbox["review_status"] != "PENDING" || rep.Sandbox["case_id"] == "" {
		t.Errorf("report's sandbox = %v, want the review PENDING with its case id", rep.Sandbox)
	}
}
