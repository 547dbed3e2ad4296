package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// logSince returns the simulator's request log lines from index n on.
func (p *simProc) logSince(n int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.log[n:])
}

// ops returns the operation names of log lines ("iam CreateUser 200").
func ops(lines []string) []string {
	var out []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) == 3 {
			out = append(out, f[1])
		}
	}
	return out
}

// TestEndToEndCallBudget: a full onboarding (no MAIL FROM, no DMARC, SES
// verifying 3 s after the records appear) makes exactly the five mutating
// calls it needs and about 30 calls in all; a second run makes no change;
// status makes each read once.
func TestEndToEndCallBudget(t *testing.T) {
	t.Parallel()
	sim := startSim(t, append(simWaits, "--verify-delay", "3s")...)
	home := t.TempDir()
	args := []string{"--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1", "--out", filepath.Join(home, "relay")}

	r := sim.sesame(t, home, args...)
	if r.code != 0 {
		t.Fatalf("first run exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	first := sim.logSince(0)
	var mutating []string
	for _, l := range sim.mutating() {
		mutating = append(mutating, strings.Fields(l)[1])
	}
	slices.Sort(mutating)
	want := []string{"ChangeResourceRecordSets", "CreateAccessKey", "CreateEmailIdentity", "CreateUser", "PutUserPolicy"}
	if !slices.Equal(mutating, want) {
		t.Errorf("mutating calls = %v, want exactly %v", mutating, want)
	}
	const budget = 30
	if len(first) > budget {
		t.Errorf("the first run made %d calls, more than %d:\n%s", len(first), budget, strings.Join(first, "\n"))
	}
	t.Logf("first run: %d calls: %s", len(first), strings.Join(ops(first), " "))

	// CreateUser carried the tags: no TagUser call was needed for them.
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(sim.url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAOPERATOR00000000", "operator-secret-key-0000000000000000000000", "")}
	n := len(sim.logSince(0))
	u, err := iam.NewFromConfig(cfg).GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String("ses-smtp-example-com")})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range u.User.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["managed-by"] != "sesame" || tags["sesame:domain"] != "example.com" {
		t.Errorf("the SMTP user's tags = %v", tags)
	}

	n = len(sim.logSince(0))
	r2 := sim.sesame(t, home, args...)
	if r2.code != 0 {
		t.Fatalf("second run exit %d\n%s", r2.code, r2.stderr)
	}
	second := sim.logSince(n)
	for _, op := range ops(second) {
		if isMutating(op) {
			t.Errorf("the second run called %s", op)
		}
	}
	t.Logf("second run: %d calls: %s", len(second), strings.Join(ops(second), " "))

	n = len(sim.logSince(0))
	st := sim.sesame(t, home, "status", "--domain", "example.com", "--region", "us-east-1")
	if st.code != 0 {
		t.Fatalf("status exit %d\n%s\n%s", st.code, st.stdout, st.stderr)
	}
	reads := ops(sim.logSince(n))
	// Each read once; the apex (MX) and the _domainkey subtree are the
	// two listings of the zone.
	count := map[string]int{}
	for _, op := range reads {
		count[op]++
	}
	for op, c := range count {
		if c > 1 && !(op == "ListResourceRecordSets" && c == 2) {
			t.Errorf("status called %s %d times: %v", op, c, reads)
		}
	}
	if len(second) > len(reads)+2 {
		t.Errorf("the second run made %d calls where status makes %d: %v", len(second), len(reads), ops(second))
	}
	t.Logf("status: %d calls: %s", len(reads), strings.Join(reads, " "))
}
