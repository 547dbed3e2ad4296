package steps

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// domainAccepted says what NormalizeDomain accepts, for its errors.
const domainAccepted = "give a domain name you own, such as example.com or mail.example.co.uk: letters, digits and hyphens in dot-separated labels (international names are fine), no scheme, path, @, port or wildcard"

// idnaProfile converts a Unicode domain to its ASCII (punycode) form with
// the rules of a registration lookup, so invalid code points are refused
// instead of passed through.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
)

// NormalizeDomain turns an operator's domain answer into the form sesame
// works with: trimmed, lower case, without the trailing dot, in ASCII
// (punycode for international names). It refuses anything that is not a
// registrable name or a name under one, with an *InputError that says what
// is accepted, so a typo never reaches AWS.
func NormalizeDomain(s string) (string, error) {
	bad := func(why string) error {
		return &InputError{Field: "domain", Flag: "--domain", Msg: why + "; " + domainAccepted}
	}
	d := strings.TrimSpace(s)
	switch {
	case d == "":
		return "", bad("a domain is required")
	case strings.ContainsAny(d, " \t\r\n\v\f"):
		return "", bad(fmt.Sprintf("%q contains spaces", s))
	case strings.Contains(d, "://") || strings.Contains(d, "/"):
		return "", bad(fmt.Sprintf("%q looks like a URL, not a domain", s))
	case strings.Contains(d, "@"):
		return "", bad(fmt.Sprintf("%q looks like an email address; give only the part after the @", s))
	case strings.Contains(d, "*"):
		return "", bad(fmt.Sprintf("%q is a wildcard; SES verifies one domain at a time", s))
	}
	if ip := net.ParseIP(strings.Trim(d, "[]")); ip != nil {
		return "", bad(fmt.Sprintf("%q is an IP address", s))
	}
	d = strings.TrimSuffix(d, ".")
	if d == "" || strings.HasSuffix(d, ".") || strings.HasPrefix(d, ".") || strings.Contains(d, "..") {
		return "", bad(fmt.Sprintf("%q has an empty label (two dots in a row, or a dot at the start)", s))
	}
	if strings.Contains(d, ":") {
		return "", bad(fmt.Sprintf("%q contains a colon (a port?)", s))
	}
	ascii := strings.ToLower(d)
	if !isASCII(ascii) {
		a, err := idnaProfile.ToASCII(d)
		if err != nil {
			return "", bad(fmt.Sprintf("%q is not a valid international domain name (%v)", s, err))
		}
		ascii = strings.ToLower(a)
	}
	if len(ascii) > 253 {
		return "", bad(fmt.Sprintf("%q is %d characters long; a domain name has at most 253", s, len(ascii)))
	}
	labels := strings.Split(ascii, ".")
	for _, l := range labels {
		if err := checkLabel(l); err != "" {
			return "", bad(fmt.Sprintf("%q: %s", s, err))
		}
	}
	if len(labels) < 2 {
		return "", bad(fmt.Sprintf("%q is a single label; give the full domain, such as %s.com", s, ascii))
	}
	if isAllDigits(labels[len(labels)-1]) {
		return "", bad(fmt.Sprintf("%q ends in a numeric label, like an IP address", s))
	}
	if ps, icann := publicsuffix.PublicSuffix(ascii); ps == ascii && (icann || strings.Contains(ps, ".")) {
		return "", bad(fmt.Sprintf("%q is a public suffix, under which anyone can register names; give your own domain under it", s))
	}
	return ascii, nil
}

// checkLabel returns why one ASCII label is not a valid host name label, or "".
func checkLabel(l string) string {
	switch {
	case l == "":
		return "has an empty label"
	case len(l) > 63:
		return fmt.Sprintf("the label %q is %d characters long; a label has at most 63", l, len(l))
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Sprintf("the label %q starts or ends with a hyphen", l)
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Sprintf("the label %q contains %q; only letters, digits and hyphens are allowed", l, string(c))
		}
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// iamUserName is IAM's pattern for user names.
var iamUserName = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// ValidateUserName accepts an IAM user name: 1 to 64 characters of letters,
// digits and + = , . @ _ -.
func ValidateUserName(name string) error {
	if iamUserName.MatchString(name) {
		return nil
	}
	msg := fmt.Sprintf("%q is not a valid IAM user name: use 1 to 64 letters, digits and + = , . @ _ -", name)
	if name == "" {
		msg = "an IAM user name is required: use 1 to 64 letters, digits and + = , . @ _ -"
	}
	return &InputError{Field: "smtp-user", Flag: "--smtp-user", Msg: msg}
}

// ValidateMailFrom accepts a custom MAIL FROM label for domain: one DNS
// label (the MAIL FROM domain is label.domain), not the domain itself. An
// empty label means "no custom MAIL FROM" and is the caller's to allow.
func ValidateMailFrom(label, domain string) error {
	bad := func(why string) error {
		return &InputError{Field: "mail-from", Flag: "--mail-from", Msg: why + "; give one label such as \"mail\" (the MAIL FROM domain becomes mail." + domain + "), or leave it empty for none"}
	}
	l := strings.ToLower(strings.TrimSpace(label))
	d := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	switch {
	case l == "":
		return bad("the MAIL FROM label is empty")
	case l == d || strings.TrimSuffix(l, ".") == d:
		return bad(fmt.Sprintf("%q is the domain itself; the MAIL FROM domain must be a subdomain that does not receive mail", label))
	case strings.Contains(l, "."):
		if d != "" && strings.HasSuffix(strings.TrimSuffix(l, "."), "."+d) {
			return bad(fmt.Sprintf("%q is a full name; give only the first label", label))
		}
		return bad(fmt.Sprintf("%q has more than one label", label))
	}
	if why := checkLabel(l); why != "" {
		return bad(fmt.Sprintf("%q %s", label, why))
	}
	if d != "" && len(l)+1+len(d) > 253 {
		return bad(fmt.Sprintf("%q makes the MAIL FROM domain longer than 253 characters", label))
	}
	return nil
}

// ValidateEmail accepts one plain email address (local@domain, no display
// name), as the production-access request's contacts need.
func ValidateEmail(addr string) error {
	bad := func(why string) error {
		return &InputError{Field: "contact-email", Flag: "--contact-email", Msg: why + "; give a plain address such as ops@example.com"}
	}
	a := strings.TrimSpace(addr)
	if a == "" {
		return bad("an email address is required")
	}
	p, err := mail.ParseAddress(a)
	if err != nil || p.Address != a || p.Name != "" {
		return bad(fmt.Sprintf("%q is not an email address", addr))
	}
	at := strings.LastIndex(a, "@")
	if _, err := NormalizeDomain(a[at+1:]); err != nil {
		return bad(fmt.Sprintf("%q has no valid domain after the @", addr))
	}
	return nil
}

// ValidateWebsiteURL accepts an http or https URL with a host, as SES's
// production-access request needs.
func ValidateWebsiteURL(s string) error {
	bad := func(why string) error {
		return &InputError{Field: "website-url", Flag: "--website-url", Msg: why + "; give your website such as https://www.example.com"}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return bad("a website URL is required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad(fmt.Sprintf("%q is not a URL", s))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad(fmt.Sprintf("%q does not start with http:// or https://", s))
	}
	if u.Hostname() == "" || u.User != nil {
		return bad(fmt.Sprintf("%q has no host name", s))
	}
	return nil
}
