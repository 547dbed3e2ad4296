package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The calls cases of TestNeverDamage: every AWS call ends (answered, retried or given up
// with what to do), and an endpoint's own HTTP errors are explained as the
// endpoint's, not the network's.

// callsRunCap is how long a run may take before the test calls it hung:
// generous, since the point is that the run ends at all.
const callsRunCap = 2 * time.Minute

// callsRun runs sesame against sim with extra environment variables (which
// win over sim.command's own, being later) and kills it after callsRunCap.
func callsRun(t *testing.T, sim *simProc, home string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callsRunCap)
	defer cancel()
	cmd := sim.command(ctx, t, home, args...)
	cmd.Env = append(cmd.Env, env...)
	r := runProcess(t, cmd)
	if ctx.Err() != nil {
		t.Fatalf("sesame was still running after %s (killed)\nstdout:\n%s\nstderr:\n%s", callsRunCap, r.stdout, r.stderr)
	}
	return r
}

// IAM accepts the connection and never answers (issue 10: still waiting in
// CreateUser after 152 s): with a 1 s deadline per attempt, the unattended
// run ends with exit 1, naming the service, the call and what to do.
func safetyCallsSilentEndpointEnds(t *testing.T) {
	sim := startSim(t)
	silent := silentListener(t)
	home := t.TempDir()
	r := callsRun(t, sim, home, []string{"AWS_ENDPOINT_URL_IAM=" + silent, "SESAME_AWS_CALL_TIMEOUT=1s"},
		onboardArgs(filepath.Join(home, "relay"), "--timeout", "10s")...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"IAM at " + silent + " did not answer", "within 1s, 3 times", "AWS_ENDPOINT_URL_IAM", "run sesame again"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if m := sim.mutating(); len(m) != 0 {
		t.Errorf("the run changed something while IAM was silent: %v", m)
	}
}

// sesame-sim applies CreateUser and never sends the answer: the attempt's
// deadline passes, the SDK retries, IAM says the user exists, and the run
// goes on to the end with the user made once.
func safetyCallsHungAnswerRetried(t *testing.T) {
	sim := startSim(t, "--hang-after", "CreateUser")
	home := t.TempDir()
	r := callsRun(t, sim, home, []string{"SESAME_AWS_CALL_TIMEOUT=2s"}, onboardArgs(filepath.Join(home, "relay"))...)
	assertComplete(t, r)
	if !strings.Contains(r.stderr, "did not answer CreateUser within 2s") {
		t.Errorf("the retry does not say what went unanswered:\n%s", r.stderr)
	}
	if n := sim.countApplied("CreateUser"); n != 1 {
		t.Errorf("CreateUser took effect %d times, want 1: %v", n, sim.mutating())
	}
}

// An endpoint without the API (an emulator lacking SES v2, a wrong
// AWS_ENDPOINT_URL) answers HTTP 404 with no AWS error: the message says
// that endpoint does not serve the call and names the variables to check.
func safetyCallsEndpoint404Named(t *testing.T) {
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	tests := []struct {
		name, env, call, envVar string
	}{
		{"SES v2 only", "AWS_ENDPOINT_URL_SESV2=" + notFound.URL, "SESv2 GetAccount", "AWS_ENDPOINT_URL_SESV2"},
		{"every service", "AWS_ENDPOINT_URL=" + notFound.URL, "STS GetCallerIdentity", "AWS_ENDPOINT_URL_STS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each case starts its own sesame-sim
			sim := startSim(t)
			home := t.TempDir()
			r := callsRun(t, sim, home, []string{tt.env}, onboardArgs(filepath.Join(home, "relay"))...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			want := "the endpoint at " + notFound.URL
			for _, w := range []string{want, "does not serve " + tt.call + " (HTTP 404)", "AWS_ENDPOINT_URL / " + tt.envVar} {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "network") {
				t.Errorf("a 404 from the endpoint is blamed on the network:\n%s", r.stderr)
			}
		})
	}
}

// The per-attempt deadline is checked with the other inputs: a value that
// is not a positive duration stops the run before it reaches AWS.
func safetyCallsBadCallTimeout(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	for _, v := range []string{"0s", "-5s", "30", "soon"} {
		r := callsRun(t, sim, home, []string{"SESAME_AWS_CALL_TIMEOUT=" + v}, onboardArgs(filepath.Join(home, "relay"))...)
		if r.code != 2 || !strings.Contains(r.stderr, "SESAME_AWS_CALL_TIMEOUT") || !strings.Contains(r.stderr, "positive duration") {
			t.Errorf("SESAME_AWS_CALL_TIMEOUT=%s: exit %d, want 2 naming the variable\nstderr:\n%s", v, r.code, r.stderr)
		}
	}
	if n := sim.calls(); n != 0 {
		t.Errorf("%d AWS requests with a bad SESAME_AWS_CALL_TIMEOUT, want none", n)
	}
}
