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
	t.Parallel()
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
	t.Parallel()
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

// reusedCase is one state an existing identity or account can be in, seeded
// into sesame-sim, and what sesame must make of it.
type reusedCase struct {
	name      string
	identity  string // the SeedIdentity JSON for example.com
	accounts  string // the seed's accounts JSON ("" for none)
	records   string // extra records in example.com's zone, JSON
	args      []string
	wantCode  int
	wantCalls []string // mutating operations that must appear
	noCalls   []string // mutating operations that must not
	wantSaid  []string // in stdout or stderr
}

// TestEndToEndReusedIdentities: identities sesame reuses, in the states
// SES documents, against sesame-sim seeded with each.
//   - Item 7, MAIL FROM FAILED: Amazon SES Developer Guide, "Using a custom
//     MAIL FROM domain", "MAIL FROM domain setup states" (Failed: SES no
//     longer checks; restart the setup).
//   - Item 8, no Easy DKIM / BYODKIM: Developer Guide, "Authenticating
//     Email with DKIM", "Provide your own DKIM authentication token
//     (BYODKIM)"; API v2 Reference, PutEmailIdentityDkimSigningAttributes.
//   - Item 9, TEMPORARY_FAILURE and DENIED: API v2 Reference,
//     DkimAttributes.Status, MailFromAttributes.MailFromDomainStatus,
//     ReviewDetails.Status.
func TestEndToEndReusedIdentities(t *testing.T) {
	t.Parallel()
	mailFromRecords := `,{"name":"mail.example.com","type":"MX","ttl":300,"values":["10 feedback-smtp.us-east-1.amazonses.com"]},
	  {"name":"mail.example.com","type":"TXT","ttl":300,"values":["\"v=spf1 include:amazonses.com ~all\""]}`
	cases := []reusedCase{
		{name: "an identity verified without Easy DKIM gets Easy DKIM and its CNAMEs, then verifies",
			identity: `{"name":"example.com","status":"verified","dkim":"none"}`,
			wantCode: 0, wantCalls: []string{"PutEmailIdentityDkimSigningAttributes", "ChangeResourceRecordSets"},
			wantSaid: []string{"no Easy DKIM tokens", "SES has verified example.com for sending (DKIM SUCCESS)"}},
		{name: "a BYODKIM identity gets no DKIM CNAMEs and is told what sesame manages",
			identity: `{"name":"example.com","status":"verified","dkim":"external"}`,
			wantCode: 0, noCalls: []string{"PutEmailIdentityDkimSigningAttributes", "ChangeResourceRecordSets"},
			wantSaid: []string{"BYODKIM, signing origin EXTERNAL", "sesame does not manage its DKIM record"}},
		{name: "a MAIL FROM domain SES set FAILED is set again and verifies",
			identity: `{"name":"example.com","status":"verified","mail_from":"mail.example.com","mail_from_status":"failed"}`,
			records:  mailFromRecords, args: []string{"--mail-from", "mail"},
			wantCode: 0, wantCalls: []string{"PutEmailIdentityMailFromAttributes"},
			wantSaid: []string{"again to restart SES's check", "MAIL FROM mail.example.com SUCCESS"}},
		{name: "DKIM TEMPORARY_FAILURE on a verified identity is explained and does not stop the run",
			identity: `{"name":"example.com","status":"verified","dkim":"temporary_failure"}`,
			wantCode: 0, wantSaid: []string{"TEMPORARY_FAILURE", "keeps checking for 72 hours and the domain stays verified"}},
		{name: "MAIL FROM TEMPORARY_FAILURE is explained with the next action",
			identity: `{"name":"example.com","status":"verified","mail_from":"mail.example.com","mail_from_status":"temporary_failure"}`,
			records:  mailFromRecords, args: []string{"--mail-from", "mail"},
			wantCode: 0, noCalls: []string{"PutEmailIdentityMailFromAttributes"},
			wantSaid: []string{"TEMPORARY_FAILURE: usually the domain's name servers", "If it turns FAILED, run sesame again"}},
		{name: "a DENIED production review is explained with the next action",
			identity: `{"name":"example.com","status":"verified"}`,
			accounts: `[{"review":"DENIED","case_id":"CASE123"}]`,
			wantCode: 0, wantSaid: []string{"AWS denied the last production-access request (case CASE123)", "AWS Support Center"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case seeds its own sesame-sim
			c.run(t)
		})
	}
}

func (c reusedCase) run(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.json")
	accounts := ""
	if c.accounts != "" {
		accounts = `,"accounts":` + c.accounts
	}
	writeFile(t, seed, `{"zones":[{"name":"example.com","records":[
	  {"name":"example.com","type":"MX","ttl":300,"values":["10 mx1.mail-provider.example."]}`+c.records+`
	]}],"identities":[`+c.identity+`]`+accounts+`}`)
	sim := startSim(t, "--seed-file", seed)
	home := t.TempDir()
	args := append([]string{"--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1",
		"--out", filepath.Join(home, "relay"), "--timeout", "20s"}, c.args...)
	r := sim.sesame(t, home, args...)
	if r.code != c.wantCode {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, c.wantCode, r.stdout, r.stderr)
	}
	said := r.stdout + r.stderr
	for _, w := range c.wantSaid {
		if !strings.Contains(said, w) {
			t.Errorf("the run does not say %q\nstdout:\n%s\nstderr:\n%s", w, r.stdout, r.stderr)
		}
	}
	calls := strings.Join(sim.mutating(), "\n")
	for _, op := range c.wantCalls {
		if !strings.Contains(calls, " "+op+" ") {
			t.Errorf("no %s among the writes:\n%s", op, calls)
		}
	}
	for _, op := range c.noCalls {
		if strings.Contains(calls, " "+op+" ") {
			t.Errorf("%s among the writes:\n%s", op, calls)
		}
	}
}

// TestEndToEndGovCloud: in GovCloud every ARN sesame builds is in the
// caller's partition, arn:aws-us-gov: (IAM User Guide, "IAM identifiers",
// "IAM ARNs"); sesame-sim, like IAM there, refuses an arn:aws: resource
// with MalformedPolicyDocument. The test message goes through the SMTP
// endpoint with the policy evaluated.
func TestEndToEndGovCloud(t *testing.T) {
	t.Parallel()
	sim := startSim(t, "--smtp-region", "us-gov-west-1")
	home := t.TempDir()
	r := sim.sesame(t, home, "--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-gov-west-1",
		"--out", filepath.Join(home, "relay"), "--test-to", "success@simulator.amazonses.com")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, `arn:aws-us-gov:ses:us-gov-west-1:123456789012:identity/*`) || strings.Contains(r.stderr, `"arn:aws:ses`) {
		t.Errorf("the policy planned is not in the aws-us-gov partition:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "to success@simulator.amazonses.com accepted") {
		t.Errorf("the test message was not accepted:\n%s", r.stdout)
	}
}
