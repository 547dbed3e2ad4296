package awssim

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// The Sim checks what SES v2 is documented to check, written here on its
// own and never borrowed from sesame's validators: a bug in sesame's
// validation must be able to show up against the Sim, which it could not
// if both asked the same code. Each rule names the document it follows.

// identityDomain checks a domain as SES takes it for an identity
// (CreateEmailIdentity's EmailIdentity, the domain part of an address, and
// PutEmailIdentityMailFromAttributes' MailFromDomain) and returns it in the
// form SES keeps: lower case, without a trailing dot.
func identityDomain(name string) (string, error) {
	d := strings.TrimSuffix(name, ".")
	// Names are compared without regard to case (RFC 4343, "Domain Name
	// System (DNS) Case Insensitivity Clarification", section 3); SES
	// lists identities in lower case.
	d = strings.ToLower(d)
	switch {
	case d == "":
		return "", errors.New("the domain is empty")
	// RFC 1035, section 2.3.4 "Size limits": 255 octets on the wire, which
	// is 253 characters written out without the trailing dot.
	case len(d) > 253:
		return "", fmt.Errorf("the domain is %d characters long, over 253", len(d))
	}
	labels := strings.Split(d, ".")
	for _, l := range labels {
		if err := identityLabel(l); err != nil {
			return "", err
		}
	}
	// RFC 1123, section 2.1 "Host Names and Numbers": the top-level label
	// is never all digits, so a dotted-decimal address is not a name.
	if top := labels[len(labels)-1]; strings.Trim(top, "0123456789") == "" {
		return "", fmt.Errorf("the top-level label %q is all digits", top)
	}
	return d, nil
}

// identityLabel checks one label of a domain.
func identityLabel(l string) error {
	// RFC 1035, section 2.3.4 "Size limits": labels are 63 octets or
	// less; section 2.3.1 "Preferred name syntax": no empty labels.
	if l == "" || len(l) > 63 {
		return fmt.Errorf("the label %q is not 1 to 63 characters", l)
	}
	for _, c := range []byte(l) {
		// Amazon SES API Reference, "Destination" (note on SMTPUTF8):
		// addresses must be 7-bit ASCII, and a domain with Unicode
		// characters must be sent in Punycode (RFC 3492). RFC 1035
		// section 2.3.1 (with RFC 1123 section 2.1 allowing a leading
		// digit): letters, digits and hyphens only.
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("the label %q has %q: only letters, digits and hyphens (Punycode for international names)", l, c)
		}
	}
	// RFC 1035, section 2.3.1: a label starts with a letter or digit and
	// ends with one.
	if l[0] == '-' || l[len(l)-1] == '-' {
		return fmt.Errorf("the label %q starts or ends with a hyphen", l)
	}
	// RFC 5890, section 2.3.2.1 "IDNA-valid strings": a label that starts
	// "xn--" is an A-label, the Punycode (RFC 3492) form of a label with at
	// least one non-ASCII character.
	if strings.HasPrefix(l, "xn--") {
		u, err := idna.Punycode.ToUnicode(l)
		if err != nil || !hasNonASCII(u) {
			return fmt.Errorf("the label %q is not valid Punycode", l)
		}
	}
	return nil
}

func hasNonASCII(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r >= utf8.RuneSelf })
}

// identityAddress checks an email address identity as SES takes it
// (CreateEmailIdentity's EmailIdentity when it holds an @) and returns it
// with the domain part in lower case; the local part keeps its case.
func identityAddress(addr string) (string, error) {
	// RFC 5321, section 4.1.2: Mailbox = Local-part "@" Domain. A quoted
	// local part may itself hold an @, so the domain follows the last one.
	at := strings.LastIndex(addr, "@")
	if at < 0 {
		return "", errors.New("no @ in the address")
	}
	local, domain := addr[:at], addr[at+1:]
	// RFC 5321, section 4.5.3.1.1 "Local-part": at most 64 octets.
	if local == "" || len(local) > 64 {
		return "", fmt.Errorf("the local part is not 1 to 64 characters")
	}
	for _, c := range []byte(local) {
		// Amazon SES API Reference, "Destination": the address must be
		// 7-bit ASCII (no SMTPUTF8); SES refuses a local part with
		// control characters or whitespace.
		if c <= ' ' || c >= 0x7f {
			return "", fmt.Errorf("the local part has %q: only printable 7-bit ASCII without spaces", c)
		}
	}
	d, err := identityDomain(domain)
	if err != nil {
		return "", err
	}
	return local + "@" + d, nil
}

// mailFromDomain checks PutEmailIdentityMailFromAttributes' MailFromDomain
// for an identity whose domain (or the domain of whose address) is parent,
// and returns it in lower case without the trailing dot.
func mailFromDomain(mf, parent string) (string, error) {
	d, err := identityDomain(mf)
	if err != nil {
		return "", err
	}
	// Amazon SES API v2 Reference, PutEmailIdentityMailFromAttributes,
	// request parameter MailFromDomain: "It has to be a subdomain of the
	// verified identity."
	if !strings.HasSuffix(d, "."+strings.ToLower(parent)) {
		return "", fmt.Errorf("%s is not a subdomain of %s", d, parent)
	}
	return d, nil
}

// uriReference is the pattern the SES v2 API Reference gives for
// WebsiteURL (PutAccountDetails, request parameter WebsiteURL; also the
// AccountDetails data type): the generic URI-reference regular expression
// of RFC 3986, Appendix B. It splits any string into URI parts, so it
// matches every string: SES documents no stricter check (no scheme or host
// requirement), and the Sim adds none.
var uriReference = regexp.MustCompile(`^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?`)

// websiteURL checks PutAccountDetails' WebsiteURL.
func websiteURL(u string) error {
	// Amazon SES API v2 Reference, PutAccountDetails, request parameter
	// WebsiteURL: "Length Constraints: Minimum length of 1. Maximum length
	// of 1000." Smithy measures a string's length in characters (Unicode
	// scalar values), not bytes.
	if n := utf8.RuneCountInString(u); n < 1 || n > 1000 {
		return fmt.Errorf("WebsiteURL is %d characters long, not 1 to 1000", n)
	}
	if !uriReference.MatchString(u) {
		return errors.New("WebsiteURL does not match the URI-reference pattern")
	}
	return nil
}

// contactAddressPattern is PutAccountDetails' pattern for each of
// AdditionalContactEmailAddresses.
var contactAddressPattern = regexp.MustCompile(`^(.+)@(.+)$`)

// contactAddresses checks PutAccountDetails'
// AdditionalContactEmailAddresses; present is false when the request left
// the member out (which is allowed), true when it sent a list, even an
// empty one.
func contactAddresses(addrs []string, present bool) error {
	// Amazon SES API v2 Reference, PutAccountDetails, request parameter
	// AdditionalContactEmailAddresses: "Array Members: Minimum number of 1
	// item. Maximum number of 4 items. Length Constraints: Minimum length
	// of 6. Maximum length of 254. Pattern: ^(.+)@(.+)$".
	if !present {
		return nil
	}
	if len(addrs) < 1 || len(addrs) > 4 {
		return fmt.Errorf("AdditionalContactEmailAddresses has %d addresses, not 1 to 4", len(addrs))
	}
	for _, a := range addrs {
		if n := utf8.RuneCountInString(a); n < 6 || n > 254 {
			return fmt.Errorf("the address <%s> is %d characters long, not 6 to 254", a, n)
		}
		if !contactAddressPattern.MatchString(a) {
			return fmt.Errorf("<%s> does not match local@domain", a)
		}
	}
	return nil
}
