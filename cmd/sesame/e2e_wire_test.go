package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// End-to-end tests of issue 12's "regions and credentials" and "sesame-sim
// speaks today's AWS" items: each runs the built sesame against sesame-sim
// set up as AWS documents the case.

// simCount counts the sim's log lines "<service> <Operation> ..." of op.
func (p *simProc) count(service, op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.log {
		if f := strings.Fields(l); len(f) == 3 && f[0] == service && f[1] == op {
			n++
		}
	}
	return n
}

func wireArgs(home, region string, extra ...string) []string {
	return append([]string{"--no-input", "--yes", "--domain", "example.com", "--region", region, "--out", filepath.Join(home, "relay")}, extra...)
}

var wireCases = []struct {
	name string
	run  func(t *testing.T)
}{
	// SESv2 API Reference, CreateEmailIdentity, Errors: LimitExceededException
	// is a quota ("too many instances of the specified resource type").
	{"SES LimitExceededException is asked once and explained as a quota", wireQuotaNotRetried},
	// AWS Account Management Reference Guide, "Enable or disable AWS
	// Regions in your account".
	{"an opt-in region not enabled is named as such, not as bad credentials", wireOptInRegion},
	// AWS General Reference, "Amazon Simple Email Service endpoints and
	// quotas", SMTP endpoints: Milan has one.
	{"Milan (eu-south-1), in the SMTP endpoint table, is accepted", wireMilanAccepted},
	{"a region whose SMTP host does not exist in DNS is refused before any change", wireSMTPHostMissing},
	{"--debug names IAM and STS operations, whose Action is in the body", wireDebugNamesQueryOps},
	// IAM User Guide, "Troubleshoot IAM": changes are not always
	// immediately visible (eventual consistency).
	{"a new user's NoSuchEntity and a new key's 535 are retried within a stated window", wirePropagation},
}

func TestWire(t *testing.T) {
	t.Parallel()
	for _, c := range wireCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case starts its own sesame-sim
			c.run(t)
		})
	}
}

func wireQuotaNotRetried(t *testing.T) {
	sim := startSim(t, "--identity-quota", "0")
	home := t.TempDir()
	r := sim.sesame(t, home, wireArgs(home, "us-east-1")...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if n := sim.count("sesv2", "CreateEmailIdentity"); n != 1 {
		t.Errorf("CreateEmailIdentity was asked %d times, want once: a quota does not clear by retrying", n)
	}
	out := r.stdout + r.stderr
	for _, w := range []string{"LimitExceededException", "SES account quota", "waiting does not help"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "throttled by SES") {
		t.Errorf("the quota was reported as throttling:\n%s", out)
	}
}

func wireOptInRegion(t *testing.T) {
	sim := startSim(t, "--disabled-regions", "eu-south-1", "--smtp-region", "eu-south-1")
	home := t.TempDir()
	r := sim.sesame(t, home, wireArgs(home, "eu-south-1")...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	out := r.stdout + r.stderr
	for _, w := range []string{"eu-south-1 is an opt-in region", "not enabled for the account", "aws account enable-region --region-name eu-south-1"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "does not accept these credentials") {
		t.Errorf("blamed the credentials:\n%s", out)
	}
	if m := sim.mutating(); len(m) > 0 {
		t.Errorf("changes were made: %v", m)
	}
}

func wireMilanAccepted(t *testing.T) {
	sim := startSim(t, "--smtp-region", "eu-south-1")
	home := t.TempDir()
	r := sim.sesame(t, home, wireArgs(home, "eu-south-1", "--json")...)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if rep := parseReport(t, r); rep.SMTP == nil || rep.SMTP.Host != "email-smtp.eu-south-1.amazonaws.com" {
		t.Errorf("report = %+v", rep)
	}
}

func wireDebugNamesQueryOps(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	r := sim.sesame(t, home, wireArgs(home, "us-east-1", "--debug")...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	for _, w := range []string{"STS GetCallerIdentity", "IAM CreateUser", "IAM PutUserPolicy", "IAM CreateAccessKey", "SESv2 CreateEmailIdentity", "Route 53 ChangeResourceRecordSets"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("--debug output lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", r.stderr)
	}
}

func wirePropagation(t *testing.T) {
	sim := startSim(t, "--iam-propagation", "5s", "--key-propagation", "20s")
	home := t.TempDir()
	r := sim.sesame(t, home, wireArgs(home, "us-east-1")...)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	out := r.stdout + r.stderr
	for _, w := range []string{
		"IAM does not know the new user", "retrying for up to 30s after its creation",
		"SES refused the SMTP login", "retrying for up to 1m0s",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if n := sim.count("iam", "PutUserPolicy"); n < 2 {
		t.Errorf("PutUserPolicy asked %d times, want retries through NoSuchEntity", n)
	}
	if n := sim.count("iam", "CreateAccessKey"); n != 1 {
		t.Errorf("CreateAccessKey was asked %d times, want once (the user had reached IAM by then)", n)
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

func wireSMTPHostMissing(t *testing.T) {
	sim := startSim(t, "--no-smtp-host", "eu-west-3", "--smtp-region", "eu-west-3")
	home := t.TempDir()
	r := sim.sesame(t, home, wireArgs(home, "eu-west-3")...)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	out := r.stdout + r.stderr
	for _, w := range []string{"email-smtp.eu-west-3.amazonaws.com does not exist", "--region"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if m := sim.mutating(); len(m) > 0 {
		t.Errorf("changes were made before the refusal: %v", m)
	}
	if n := sim.count("iam", "CreateUser"); n != 0 {
		t.Errorf("CreateUser was asked %d times", n)
	}
}
