package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// Every answer is checked before the first AWS call: a bad one stops the
// run with exit 2, an error naming the field (and its flag) and saying what
// is accepted, and the simulator sees no request at all.
func TestBadInputRefusedBeforeAnyAWSCall(t *testing.T) {
	t.Parallel()
	sim := startSim(t)
	home := t.TempDir()
	base := func(extra ...string) []string {
		return append([]string{"--no-input", "--yes", "--out", filepath.Join(home, "relay")}, extra...)
	}
	withDomain := func(extra ...string) []string {
		return base(append([]string{"--domain", "example.com", "--region", "us-east-1"}, extra...)...)
	}
	long63 := strings.Repeat("a", 63)
	production := []string{"--request-production", "--mail-type", "TRANSACTIONAL", "--website-url", "https://www.example.com", "--use-case", "receipts"}
	tests := []struct {
		name string
		args []string
		// want are texts the error must hold: the field and what is accepted.
		want []string
	}{
		{"domain empty", base("--region", "us-east-1"), []string{"--domain"}},
		{"domain with a space", base("--domain", "exa mple.com"), []string{"domain", "--domain"}},
		{"domain as URL", base("--domain", "https://example.com/"), []string{"domain", "--domain"}},
		{"domain as email", base("--domain", "ops@example.com"), []string{"domain", "--domain"}},
		{"domain as IPv4", base("--domain", "192.0.2.1"), []string{"domain", "--domain"}},
		{"domain as IPv6", base("--domain", "2001:db8::1"), []string{"domain", "--domain"}},
		{"wildcard", base("--domain", "*.example.com"), []string{"domain", "--domain"}},
		{"bare public suffix com", base("--domain", "com"), []string{"domain", "--domain"}},
		{"bare public suffix co.uk", base("--domain", "co.uk"), []string{"domain", "--domain"}},
		{"label over 63", base("--domain", long63+"a.com"), []string{"domain", "63"}},
		{"name over 253", base("--domain", long63+"."+long63+"."+long63+"."+long63+".com"), []string{"domain", "253"}},
		{"leading hyphen", base("--domain", "-example.com"), []string{"domain", "hyphen"}},
		{"trailing hyphen", base("--domain", "example-.com"), []string{"domain", "hyphen"}},
		{"empty label", base("--domain", "example..com"), []string{"domain", "--domain"}},
		{"underscore", base("--domain", "exa_mple.com"), []string{"domain", "--domain"}},
		{"punctuation", base("--domain", "exa!mple.com"), []string{"domain", "--domain"}},
		{"region without SMTP", base("--domain", "example.com", "--region", "eu-central-2"), []string{"region", "us-east-1"}},
		{"region unknown", base("--domain", "example.com", "--region", "us-east-9"), []string{"region", "us-east-1"}},
		{"region free text", base("--domain", "example.com", "--region", "US East"), []string{"region", "us-east-1"}},
		{"IAM user with a space", withDomain("--smtp-user", "ses smtp"), []string{"smtp-user", "1 to 64"}},
		{"IAM user with a slash", withDomain("--smtp-user", "ses/smtp"), []string{"smtp-user", "1 to 64"}},
		{"IAM user over 64", withDomain("--smtp-user", strings.Repeat("u", 65)), []string{"smtp-user", "1 to 64"}},
		{"MAIL FROM is the domain", withDomain("--mail-from", "example.com"), []string{"mail-from", "one label"}},
		{"MAIL FROM full name", withDomain("--mail-from", "mail.example.com"), []string{"mail-from", "one label"}},
		{"MAIL FROM two labels", withDomain("--mail-from", "a.b"), []string{"mail-from", "one label"}},
		{"MAIL FROM bad label", withDomain("--mail-from", "-mail"), []string{"mail-from", "one label"}},
		{"website without scheme", withDomain(append(production, "--website-url", "www.example.com")...), []string{"website-url", "https://"}},
		{"website ftp", withDomain(append(production, "--website-url", "ftp://example.com")...), []string{"website-url", "https://"}},
		{"website without host", withDomain(append(production, "--website-url", "https://")...), []string{"website-url", "https://"}},
		{"mail type", withDomain(append(production, "--mail-type", "BULK")...), []string{"mail-type", "TRANSACTIONAL"}},
		{"contact language", withDomain(append(production, "--contact-language", "FR")...), []string{"contact-language", "EN"}},
		{"contact email", withDomain(append(production, "--contact-email", "not-an-address")...), []string{"contact-email", "ops@example.com"}},
		{"contact email with name", withDomain(append(production, "--contact-email", "Ops <ops@example.com>")...), []string{"contact-email", "ops@example.com"}},
		{"contact email bad domain", withDomain(append(production, "--contact-email", "ops@-bad.com")...), []string{"contact-email", "ops@example.com"}},
		{"recipient to verify", withDomain("--verify-recipient", "ops@"), []string{"verify-recipient", "ops@example.com"}},
		{"test recipient", withDomain("--test-to", "a@b@c.com"), []string{"test-to", "ops@example.com"}},
		{"SMTP port", withDomain("--smtp-port", "25"), []string{"smtp-port", "587"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := sim.calls()
			r := sim.sesame(t, home, tt.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error does not say %q:\n%s", w, r.stderr)
				}
			}
			if after := sim.calls(); after != before {
				t.Errorf("%d AWS requests before the input was refused", after-before)
			}
		})
	}
}

// Domains are normalised, not refused: case, a trailing dot and IDN (to
// punycode). The MAIL FROM answer, refused for being the normalised
// domain itself, shows the normalised name, still before any AWS call.
func TestDomainNormalisedBeforeAnyAWSCall(t *testing.T) {
	t.Parallel()
	sim := startSim(t)
	home := t.TempDir()
	tests := []struct{ in, want string }{
		{"Example.COM", "example.com"},
		{"example.com.", "example.com"},
		{"bücher.de", "xn--bcher-kva.de"},
		{"XN--BCHER-KVA.de", "xn--bcher-kva.de"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r := sim.sesame(t, home, "--no-input", "--domain", tt.in, "--region", "us-east-1", "--mail-from", tt.want)
			if r.code != 2 || !strings.Contains(r.stderr, "is the domain itself") || !strings.Contains(r.stderr, "mail."+tt.want) {
				t.Fatalf("exit %d, want 2 refusing --mail-from %s as the domain %s itself\n%s", r.code, tt.want, tt.in, r.stderr)
			}
			if sim.calls() != 0 {
				t.Fatalf("%d AWS requests before the answers were complete", sim.calls())
			}
		})
	}
}
