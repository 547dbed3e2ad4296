package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEndToEndSandboxFirstRun is a brand-new account's first run: in the
// SES sandbox, with --verify-recipient and --test-to that recipient, the
// test message goes through sesame-sim's SMTP endpoint, which evaluates
// the SMTP user's IAM policy as SES does (in the sandbox, on the
// recipient's identity too: Amazon SES Developer Guide, "Identity and
// access management in Amazon SES"; cloudposse/terraform-aws-ses #19, #40).
// The domain-scoped policy older sesame versions wrote fails here with
// "554 Access denied … on resource …:identity/ops@example.net". A user
// still holding that policy has it updated by the next run, which then
// delivers.
func TestEndToEndSandboxFirstRun(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	args := []string{"--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1", "--out", out,
		"--verify-recipient", "ops@example.net", "--test-to", "ops@example.net"}
	r := sim.sesame(t, home, args...)
	if r.code != 0 {
		t.Fatalf("first run exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	rep := parseReport(t, r)
	if rep.Sandbox["production_access"] != false {
		t.Fatalf("the account is not in the sandbox: %v", rep.Sandbox)
	}
	relay := ""
	for _, s := range rep.Steps {
		if s.ID == "relay" {
			relay = s.Status + " " + s.Detail
		}
	}
	if !strings.HasPrefix(relay, "done") || !strings.Contains(relay, "to ops@example.net accepted") {
		t.Fatalf("relay step = %q, want the test message accepted", relay)
	}
	sent := func() float64 {
		t.Helper()
		st := sim.sesame(t, home, "status", "--json", "--domain", "example.com", "--region", "us-east-1")
		n, _ := parseReport(t, st).Sandbox["sent_last_24_hours"].(float64)
		return n
	}
	if n := sent(); n != 1 {
		t.Fatalf("SES counted %v messages sent, want the 1 test message", n)
	}

	// A user holding the older, domain-scoped policy: the next run sees the
	// document differs, updates it, and the sandbox send goes through.
	old := `{"Version":"2012-10-17","Statement":[{"Sid":"SesameSendOnly","Effect":"Allow","Action":"ses:SendRawEmail","Resource":"arn:aws:ses:us-east-1:123456789012:identity/example.com"}]}`
	sim.aws(t, home, "iam", "put-user-policy", "--user-name", "ses-smtp-example-com", "--policy-name", "sesame-ses-send-us-east-1", "--policy-document", old)
	before := len(sim.mutating())
	r2 := sim.sesame(t, home, args...)
	if r2.code != 0 {
		t.Fatalf("run over the old policy: exit %d\nstdout:\n%s\nstderr:\n%s", r2.code, r2.stdout, r2.stderr)
	}
	changed := strings.Join(sim.mutating()[before:], "\n")
	if !strings.Contains(changed, "PutUserPolicy 200") || strings.Contains(changed, "CreateAccessKey") {
		t.Errorf("the run over the old policy made %q, want the policy updated and no new key", changed)
	}
	if n := sent(); n != 2 {
		t.Fatalf("SES counted %v messages sent, want 2", n)
	}
}

// aws runs the AWS CLI against the simulator as the operator.
func (p *simProc) aws(t *testing.T, home string, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoint-url", p.url}, args...)...)
	cmd.Env = []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=AKIAOPERATOR00000000", "AWS_SECRET_ACCESS_KEY=operator-secret-key-0000000000000000000000",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(home, "nonexistent"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "nonexistent"),
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// TestEndToEndFifthContactEmail: SES takes 1 to 4
// AdditionalContactEmailAddresses (Amazon SES API v2 Reference,
// PutAccountDetails); a fifth --contact-email is refused before any AWS
// call, exit 2 naming the flag, instead of a BadRequestException after the
// domain is set up.
func TestEndToEndFifthContactEmail(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	args := []string{"--no-input", "--yes", "--domain", "example.com", "--region", "us-east-1", "--out", filepath.Join(home, "relay"),
		"--request-production", "--mail-type", "TRANSACTIONAL", "--website-url", "https://example.com"}
	for _, c := range []string{"a", "b", "c", "d", "e"} {
		args = append(args, "--contact-email", c+"@example.com")
	}
	r := sim.sesame(t, home, args...)
	if r.code != 2 || !strings.Contains(r.stderr, "--contact-email") || !strings.Contains(r.stderr, "at most 4") {
		t.Fatalf("exit %d, want 2 naming --contact-email\nstderr:\n%s", r.code, r.stderr)
	}
	if n := sim.calls(); n != 0 {
		t.Errorf("%d AWS calls before the refusal, want none", n)
	}
}
