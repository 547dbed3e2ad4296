package steps

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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
		if err := checkALabel(l); err != "" {
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

// checkALabel returns why an ASCII label in punycode form ("xn--...") is
// not a valid A-label, or "" (also for a label that is not punycode). An
// A-label must decode, hold only what IDNA 2008 allows in a name (see
// idna2008Rune), and encode back to exactly itself, so one name never has
// two spellings and a string that only looks like punycode never reaches
// AWS. The decoding and encoding use the same profile as NormalizeDomain.
func checkALabel(l string) string {
	if !strings.HasPrefix(l, "xn--") {
		return ""
	}
	u, err := idnaProfile.ToUnicode(l)
	if err != nil || u == "" || u == l || isASCII(u) {
		return fmt.Sprintf("the label %q is not valid punycode: it does not decode to an international name (check for a typo, or give the name in its own letters)", l)
	}
	for _, r := range u {
		if !idna2008Rune(r) {
			return fmt.Sprintf("the label %q decodes to %q, which holds %q (%U): IDNA 2008 allows only letters, digits, combining marks and hyphens in a name, not symbols, emoji or punctuation", l, u, string(r), r)
		}
	}
	back, err := idnaProfile.ToASCII(u)
	if err != nil || back != l {
		return fmt.Sprintf("the label %q decodes to %q, which encodes as %q: not the canonical punycode of any name", l, u, back)
	}
	return ""
}

// idna2008Rune says whether r may appear in a U-label under IDNA 2008: RFC
// 5892 derives PVALID from the general categories Ll, Lu, Lo, Lm, Mn, Mc
// and Nd (letters, combining marks, decimal digits) plus the hyphen, with a
// few code points allowed only in context (zero-width joiners, the Catalan
// middle dot, the Greek keraia, Hebrew gereshayim, the katakana middle dot).
// golang.org/x/net/idna follows UTS 46, which still maps and lets through
// symbols such as emoji; this rule refuses them, as registries do.
func idna2008Rune(r rune) bool {
	switch r {
	case '-', '\u200c', '\u200d', '\u00b7', '\u0375', '\u05f3', '\u05f4', '\u30fb':
		return true
	}
	return unicode.In(r, unicode.Ll, unicode.Lu, unicode.Lo, unicode.Lm, unicode.Mn, unicode.Mc, unicode.Nd)
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
	if why := checkALabel(l); why != "" {
		return bad(fmt.Sprintf("%q: %s", label, why))
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

// ValidateEmailFor is ValidateEmail for an address another flag gives
// (field "verify-recipient" for --verify-recipient, "test-to"): the error
// names that flag.
func ValidateEmailFor(field, addr string) error {
	err := ValidateEmail(addr)
	var ie *InputError
	if errors.As(err, &ie) {
		ie.Field, ie.Flag = field, "--"+field
	}
	return err
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

// ValidateHostPort accepts a network address "host:port", as --resolver
// and --smtp-endpoint take: host is an IP address (IPv6 in brackets) or a
// host name (letters, digits and hyphens in dot-separated labels), port a
// number from 1 to 65535. field and flag name the answer in the error;
// example is a good value for the message.
func ValidateHostPort(field, flag, value, example string) error {
	bad := func(why string) error {
		return &InputError{Field: field, Flag: flag, Msg: why + "; give host:port, such as " + example}
	}
	v := strings.TrimSpace(value)
	if v == "" {
		return bad("an address is required")
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return bad(fmt.Sprintf("%q is not host:port", value))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
		return bad(fmt.Sprintf("%q has the port %q; a port is a number from 1 to 65535", value, port))
	}
	if host == "" {
		return bad(fmt.Sprintf("%q has no host", value))
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	if strings.Contains(host, ":") || strings.Contains(v, "[") {
		return bad(fmt.Sprintf("%q does not hold a valid IP address", value))
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if len(h) > 253 || h == "" {
		return bad(fmt.Sprintf("%q does not hold a valid host name", value))
	}
	for _, l := range strings.Split(h, ".") {
		if why := checkLabel(l); why != "" {
			return bad(fmt.Sprintf("%q: the host %s", value, why))
		}
		if why := checkALabel(l); why != "" {
			return bad(fmt.Sprintf("%q: %s", value, why))
		}
	}
	return nil
}

// accessKeyID is the shape of an access key id. IAM's API allows 16 to 128
// characters matching [\w]+; the ids AWS issues are upper-case letters and
// digits (AKIA for a user's long-term key, then 16 more), so sesame takes
// that alphabet within IAM's length: a lower-case letter, a slash or a plus
// sign means something else was pasted, most likely the secret key.
var accessKeyID = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

// secretKeyShape is the shape of a secret access key (40 characters of
// base64), which must never be echoed back.
var secretKeyShape = regexp.MustCompile(`^[A-Za-z0-9/+=]{40}$`)

// ValidateAccessKeyID accepts an access key id for --replace-key. A value
// that could be a secret key is refused without being repeated.
func ValidateAccessKeyID(id string) error {
	if accessKeyID.MatchString(id) {
		return nil
	}
	const what = "give the id of a key on the SMTP user: upper-case letters and digits such as AKIAIOSFODNN7EXAMPLE (sesame lists the user's keys when it needs room for a new one)"
	msg := fmt.Sprintf("%q is not an access key id; %s", id, what)
	if secretKeyShape.MatchString(id) || strings.ContainsAny(id, "/+") || !utf8.ValidString(id) {
		msg = "the value given is not an access key id and could be a secret access key, so it is not repeated here; never pass a secret key to sesame; " + what
	}
	return &InputError{Field: "replace-key", Flag: "--replace-key", Msg: msg}
}

// ValidateCAFile accepts a file of PEM certificates for --smtp-ca: it must
// exist, be a regular file, and hold at least one certificate that parses.
func ValidateCAFile(path string) error {
	bad := func(why string) error {
		return &InputError{Field: "smtp-ca", Flag: "--smtp-ca", Msg: why + "; give a file of PEM certificates (-----BEGIN CERTIFICATE-----) to trust for the SMTP login test"}
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return bad(fmt.Sprintf("%s does not exist", path))
	case err != nil:
		return bad(fmt.Sprintf("%s cannot be read (%v)", path, err))
	case !fi.Mode().IsRegular():
		return bad(fmt.Sprintf("%s is not a regular file", path))
	case fi.Size() > maxCAFile:
		return bad(fmt.Sprintf("%s is %d bytes, more than a CA bundle holds", path, fi.Size()))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return bad(fmt.Sprintf("%s cannot be read (%v)", path, err))
	}
	n := 0
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return bad(fmt.Sprintf("%s holds a certificate that does not parse (%v)", path, err))
		}
		n++
	}
	if n == 0 {
		return bad(fmt.Sprintf("%s holds no PEM certificate", path))
	}
	return nil
}

// maxCAFile bounds --smtp-ca: the system's whole CA bundle is about 200 kB.
const maxCAFile = 16 << 20
