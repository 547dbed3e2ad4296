package awssim

import (
	"strings"
	"testing"
)

func TestIdentityDomain(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"example.com", "example.com"},
		{"Mail.Example.COM", "mail.example.com"},
		{"example.com.", "example.com"},
		{"xn--bcher-kva.de", "xn--bcher-kva.de"},
		{"XN--BCHER-KVA.de", "xn--bcher-kva.de"},
		{"1password.example", "1password.example"},
		{"a-b.example", "a-b.example"},
		{strings.Repeat("a", 63) + ".example", strings.Repeat("a", 63) + ".example"},
		{strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 126) + "a"},  // 253 characters
		{strings.Repeat("a.", 126) + "a.", strings.Repeat("a.", 126) + "a"}, // 253 and the root's dot
		{"", ""},
		{".", ""},
		{"not a domain", ""},
		{"bücher.de", ""},                          // Unicode must come as Punycode
		{"xn--99999999999999999.example", ""},      // not valid Punycode
		{"-x.example", ""},                         // hyphen first
		{"x-.example", ""},                         // hyphen last
		{"a..example", ""},                         // empty label
		{".example.com", ""},                       // empty first label
		{"under_score.example", ""},                // not a letter, digit or hyphen
		{"192.0.2.1", ""},                          // all-digit top-level label
		{"example.com:25", ""},                     // a port
		{"https://example.com", ""},                // a URL
		{"ops@example.com", ""},                    // an address, not a domain
		{strings.Repeat("a", 64) + ".example", ""}, // label over 63
		{strings.Repeat("a.", 126) + "abc", ""},    // 254 characters
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) { checkNormalized(t, tt.want)(identityDomain(tt.in)) })
	}
}

func TestIdentityAddress(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"ops@example.com", "ops@example.com"},
		{"Ops.Team+ses@Example.COM", "Ops.Team+ses@example.com"}, // the local part keeps its case
		{"a@b.example", "a@b.example"},
		{`"odd@local"@example.com`, `"odd@local"@example.com`}, // the domain follows the last @
		{"ops@xn--bcher-kva.de", "ops@xn--bcher-kva.de"},
		{strings.Repeat("l", 64) + "@example.com", strings.Repeat("l", 64) + "@example.com"},
		{"ops.example.com", ""},
		{"@example.com", ""},
		{"ops@", ""},
		{"o ps@example.com", ""},                       // whitespace in the local part
		{"ops\t@example.com", ""},                      // control character
		{"jörg@example.com", ""},                       // not 7-bit ASCII
		{"ops@bücher.de", ""},                          // domain not in Punycode
		{"ops@-bad.example", ""},                       // bad domain
		{strings.Repeat("l", 65) + "@example.com", ""}, // local part over 64
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) { checkNormalized(t, tt.want)(identityAddress(tt.in)) })
	}
}

func TestMailFromDomain(t *testing.T) {
	tests := []struct {
		mf, parent, want string // want "" means refused
	}{
		{"mail.example.com", "example.com", "mail.example.com"},
		{"Bounce.Mail.Example.com.", "example.com", "bounce.mail.example.com"},
		{"mail.example.com", "Example.COM", "mail.example.com"},
		{"example.com", "example.com", ""},            // the identity itself, not a subdomain
		{"mail.elsewhere.example", "example.com", ""}, // outside the identity
		{"mailexample.com", "example.com", ""},        // a suffix match that is no subdomain
		{"ma il.example.com", "example.com", ""},      // not a domain
	}
	for _, tt := range tests {
		t.Run(tt.mf+" under "+tt.parent, func(t *testing.T) { checkNormalized(t, tt.want)(mailFromDomain(tt.mf, tt.parent)) })
	}
}

// checkNormalized checks what a validator returned: the normal form want,
// or ("" for want) a refusal.
func checkNormalized(t *testing.T, want string) func(got string, err error) {
	return func(got string, err error) {
		t.Helper()
		if want == "" {
			if err == nil {
				t.Fatalf("accepted as %q, want refused", got)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("= %q, %v; want %q", got, err, want)
		}
	}
}

func TestWebsiteURL(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"https URL", "https://www.example.com/about", true},
		{"exactly 1000 characters", "https://example.com/" + strings.Repeat("x", 980), true},
		{"1000 characters counted as characters, not bytes", "https://example.com/" + strings.Repeat("é", 980), true},
		// The documented pattern (RFC 3986 Appendix B) matches any string;
		// SES documents no scheme or host rule, so the Sim makes none.
		{"no scheme", "www.example.com", true},
		{"ftp", "ftp://example.com", true},
		{"empty", "", false},
		{"1001 characters", "https://example.com/" + strings.Repeat("x", 981), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := websiteURL(tt.in); (err == nil) != tt.ok {
				t.Fatalf("websiteURL(%d chars) = %v, want ok %v", len(tt.in), err, tt.ok)
			}
		})
	}
}

func TestContactAddresses(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		present bool
		ok      bool
	}{
		{"left out", nil, false, true},
		{"one", []string{"ops@example.com"}, true, true},
		{"four", []string{"a@x.example", "b@x.example", "c@x.example", "d@x.example"}, true, true},
		{"shortest: 6 characters", []string{"a@b.cd"}, true, true},
		{"the pattern only asks for an @ between two parts", []string{"odd @ but fine"}, true, true},
		{"an empty list", []string{}, true, false},
		{"five", []string{"a@x.example", "b@x.example", "c@x.example", "d@x.example", "e@x.example"}, true, false},
		{"5 characters", []string{"a@b.c"}, true, false},
		{"255 characters", []string{strings.Repeat("a", 243) + "@example.com"}, true, false},
		{"no @", []string{"not-an-address"}, true, false},
		{"nothing before the @", []string{"@example.com"}, true, false},
		{"nothing after the @", []string{"postmaster@"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := contactAddresses(tt.in, tt.present); (err == nil) != tt.ok {
				t.Fatalf("contactAddresses(%q) = %v, want ok %v", tt.in, err, tt.ok)
			}
		})
	}
}
