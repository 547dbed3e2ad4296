package steps

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeDomain(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		in, want string
		bad      string // a word the error must contain; "" means accepted
	}{
		{in: "example.com", want: "example.com"},
		{in: "  Example.COM.  ", want: "example.com"},
		{in: "mail.example.co.uk", want: "mail.example.co.uk"},
		{in: "bücher.example", want: "xn--bcher-kva.example"},
		{in: "BÜCHER.de", want: "xn--bcher-kva.de"},
		{in: "xn--bcher-kva.de", want: "xn--bcher-kva.de"},
		{in: long63 + ".com", want: long63 + ".com"},
		{in: "a-b.example.com", want: "a-b.example.com"},
		// Punycode must decode, hold only what IDNA 2008 allows, and
		// encode back to itself.
		{in: "XN--BCHER-KVA.DE", want: "xn--bcher-kva.de"},
		{in: "xn--e1afmkfd.xn--p1ai", want: "xn--e1afmkfd.xn--p1ai"},
		{in: "пример.рф", want: "xn--e1afmkfd.xn--p1ai"},
		{in: "straße.de", want: "xn--strae-oqa.de"},
		{in: "xn--zz.com", bad: "not valid punycode"},
		{in: "xn--a.com", bad: "not valid punycode"},
		{in: "foo.xn--zz", bad: "not valid punycode"},
		{in: "xn--.com", bad: "hyphen"},
		{in: "xn--abc-.com", bad: "hyphen"},
		{in: "xn--abc-def.com", bad: "not valid punycode"},
		{in: "xn--ls8h.la", bad: "IDNA 2008"},
		{in: "💩.la", bad: "IDNA 2008"},
		{in: "xn--ss-...com", bad: "empty label"},
		{in: "", bad: "required"},
		{in: "   ", bad: "required"},
		{in: "exa mple.com", bad: "spaces"},
		{in: "https://example.com", bad: "URL"},
		{in: "example.com/path", bad: "URL"},
		{in: "ops@example.com", bad: "email"},
		{in: "192.0.2.1", bad: "IP"},
		{in: "[2001:db8::1]", bad: "IP"},
		{in: "2001:db8::1", bad: "IP"},
		{in: "*.example.com", bad: "wildcard"},
		{in: "com", bad: "single label"},
		{in: "co.uk", bad: "public suffix"},
		{in: "github.io", bad: "public suffix"},
		{in: strings.Repeat("a", 64) + ".com", bad: "at most 63"},
		{in: strings.Repeat(long63+".", 4) + "com", bad: "at most 253"},
		{in: "-example.com", bad: "hyphen"},
		{in: "example-.com", bad: "hyphen"},
		{in: "example..com", bad: "empty label"},
		{in: ".example.com", bad: "empty label"},
		{in: "example.com..", bad: "empty label"},
		{in: "exam_ple.com", bad: "only letters"},
		{in: "example.com:25", bad: "colon"},
		{in: "example.123", bad: "numeric"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeDomain(tt.in)
			if tt.bad == "" {
				if err != nil || got != tt.want {
					t.Fatalf("NormalizeDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != "domain" || ie.Flag != "--domain" {
				t.Fatalf("NormalizeDomain(%q) = %q, %v; want an InputError for --domain", tt.in, got, err)
			}
			if !strings.Contains(err.Error(), tt.bad) {
				t.Errorf("error %q does not say %q", err, tt.bad)
			}
			if ExitCode(err) != 2 {
				t.Errorf("exit code %d, want 2", ExitCode(err))
			}
		})
	}
}

func TestValidateOthers(t *testing.T) {
	tests := []struct {
		name string
		err  error
		flag string // "" means accepted
	}{
		{"user ok", ValidateUserName("ses-smtp-example-com"), ""},
		{"user with @ and =", ValidateUserName("a+b=c,d.e@f_g-h"), ""},
		{"user empty", ValidateUserName(""), "--smtp-user"},
		{"user too long", ValidateUserName(strings.Repeat("u", 65)), "--smtp-user"},
		{"user with space", ValidateUserName("ses smtp"), "--smtp-user"},
		{"user with slash", ValidateUserName("a/b"), "--smtp-user"},
		{"mail-from ok", ValidateMailFrom("mail", "example.com"), ""},
		{"mail-from upper", ValidateMailFrom("Bounce", "example.com"), ""},
		{"mail-from empty", ValidateMailFrom("", "example.com"), "--mail-from"},
		{"mail-from the domain", ValidateMailFrom("example.com", "example.com"), "--mail-from"},
		{"mail-from full name", ValidateMailFrom("mail.example.com", "example.com"), "--mail-from"},
		{"mail-from two labels", ValidateMailFrom("a.b", "example.com"), "--mail-from"},
		{"mail-from hyphen", ValidateMailFrom("-mail", "example.com"), "--mail-from"},
		{"mail-from underscore", ValidateMailFrom("_mail", "example.com"), "--mail-from"},
		{"email ok", ValidateEmail("ops@example.com"), ""},
		{"email with name", ValidateEmail("Ops <ops@example.com>"), "--contact-email"},
		{"email no domain", ValidateEmail("ops@"), "--contact-email"},
		{"email bad domain", ValidateEmail("ops@localhost"), "--contact-email"},
		{"email empty", ValidateEmail(""), "--contact-email"},
		{"recipient names its flag", ValidateEmailFor("verify-recipient", "ops@"), "--verify-recipient"},
		{"test-to names its flag", ValidateEmailFor("test-to", "a@b@c.com"), "--test-to"},
		{"recipient ok", ValidateEmailFor("verify-recipient", "ops@example.com"), ""},
		{"url https", ValidateWebsiteURL("https://www.example.com/about"), ""},
		{"url http", ValidateWebsiteURL("http://example.com"), ""},
		{"url no scheme", ValidateWebsiteURL("www.example.com"), "--website-url"},
		{"url ftp", ValidateWebsiteURL("ftp://example.com"), "--website-url"},
		{"url no host", ValidateWebsiteURL("https://"), "--website-url"},
		{"url empty", ValidateWebsiteURL(""), "--website-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.flag == "" {
				if tt.err != nil {
					t.Fatalf("refused: %v", tt.err)
				}
				return
			}
			var ie *InputError
			if !errors.As(tt.err, &ie) || ie.Flag != tt.flag || ie.Msg == "" {
				t.Fatalf("got %v, want an InputError naming %s", tt.err, tt.flag)
			}
		})
	}
}

// FuzzNormalizeDomain checks that the normaliser never panics, that what it
// accepts is a valid ASCII host name, and that it is idempotent.
func FuzzNormalizeDomain(f *testing.F) {
	for _, s := range []string{"example.com", "Example.COM.", "bücher.example", "co.uk", "a..b", "-a.com", "192.0.2.1", "*.x.com", "https://x.com/", "ops@x.com", "xn--bcher-kva.de", "a\x00b.com", "ＥＸＡＭＰＬＥ．ｃｏｍ",
		// issue 10: punycode that does not decode or round-trip, emoji, look-alikes
		"xn--zz.com", "xn--a.com", "foo.xn--zz", "xn--ls8h.la", "💩.la", "XN--BCHER-KVA.DE", "xn--abc-.com", "exаmple.com", "раypal.com", "аррӏе.com", "ß.de", "xn--zca.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeDomain(s)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Flag != "--domain" {
				t.Fatalf("NormalizeDomain(%q): error %v is not an InputError for --domain", s, err)
			}
			return
		}
		if len(got) > 253 || got != strings.ToLower(got) || strings.HasSuffix(got, ".") {
			t.Fatalf("NormalizeDomain(%q) = %q: not normalised", s, got)
		}
		for _, l := range strings.Split(got, ".") {
			if why := checkLabel(l); why != "" {
				t.Fatalf("NormalizeDomain(%q) = %q: %s", s, got, why)
			}
		}
		again, err := NormalizeDomain(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: NormalizeDomain(%q) = %q, then %q, %v", s, got, again, err)
		}
	})
}
