package awssim

import (
	"slices"
	"strings"
	"time"
)

// Verification is computed lazily, on every read, from the Sim's clock and
// what the account's public hosted zones hold at that moment: a test (or
// the demo) moves the clock or the records, and the next read sees it.

// identityState is an identity's status at one read.
type identityState struct {
	status    string // VerificationStatus: PENDING, SUCCESS, FAILED
	dkim      string // DkimAttributes.Status (NOT_STARTED for addresses)
	verified  bool   // VerifiedForSendingStatus
	errorType string // VerificationInfo.ErrorType when FAILED
}

// identityStatus settles and reports an identity's verification. Called
// with s.mu held.
func (s *Sim) identityStatus(reg *sesRegion, id *sesIdentity) identityState {
	now := s.opts.Now()
	if id.Type == "EMAIL_ADDRESS" {
		// The verification link is "clicked" VerifyDelay after creation.
		if id.verified.IsZero() && !now.Before(id.Created.Add(s.opts.VerifyDelay)) {
			id.verified = id.Created.Add(s.opts.VerifyDelay)
		}
		if !id.verified.IsZero() {
			return identityState{status: "SUCCESS", dkim: "NOT_STARTED", verified: true}
		}
		return identityState{status: "PENDING", dkim: "NOT_STARTED"}
	}
	if st, ok := s.dkimStateOf(id); ok {
		return st
	}
	if !id.verified.IsZero() {
		return identityState{status: "SUCCESS", dkim: "SUCCESS", verified: true}
	}
	if id.failed {
		return identityState{status: "FAILED", dkim: "FAILED", errorType: "HOST_NOT_FOUND"}
	}
	deadline := id.Created.Add(s.opts.FailAfter)
	if s.dkimPublished(id) {
		if id.dkimSeen.IsZero() {
			id.dkimSeen = now
		}
	} else {
		// Records that went away before SES verified them do not count.
		id.dkimSeen = time.Time{}
	}
	seenInTime := !id.dkimSeen.IsZero() && (s.opts.FailAfter == 0 || !id.dkimSeen.After(deadline))
	if seenInTime && !now.Before(id.dkimSeen.Add(s.opts.VerifyDelay)) {
		id.verified = id.dkimSeen.Add(s.opts.VerifyDelay)
		return identityState{status: "SUCCESS", dkim: "SUCCESS", verified: true}
	}
	if s.opts.FailAfter > 0 && !now.Before(deadline) && !seenInTime {
		// SES stops looking after 72 hours; the identity must be
		// deleted and created again.
		id.failed = true
		return identityState{status: "FAILED", dkim: "FAILED", errorType: "HOST_NOT_FOUND"}
	}
	return identityState{status: "PENDING", dkim: "PENDING"}
}

// dkimPublished reports whether all three Easy DKIM CNAMEs of a domain
// identity are in a public hosted zone of the account with exactly the
// right values. Called with s.mu held.
func (s *Sim) dkimPublished(id *sesIdentity) bool {
	if len(id.Tokens) == 0 {
		return false
	}
	for _, tok := range id.Tokens {
		vals, _, _ := s.lookupPublic(tok+"._domainkey."+id.Name, "CNAME")
		if len(vals) != 1 || fqdn(vals[0]) != fqdn(tok+"."+id.SigningZone) {
			return false
		}
	}
	return true
}

// mailFromStatus is the custom MAIL FROM domain's status: SUCCESS when its
// one MX points at the region's feedback host and an SPF TXT includes
// amazonses.com, FAILED when a CNAME sits at the name (it can hold no MX)
// or FailAfter passed, PENDING otherwise. Called with s.mu held.
func (s *Sim) mailFromStatus(reg *sesRegion, id *sesIdentity) string {
	switch {
	case id.mailFromFailed:
		return "FAILED" // SES stopped checking: only setting it again restarts
	case id.mailFromTemp:
		return "TEMPORARY_FAILURE"
	}
	st := s.mailFromCheck(reg, id)
	id.mailFromFailed = st == "FAILED"
	return st
}

// mailFromCheck is one look at the MAIL FROM domain's records.
func (s *Sim) mailFromCheck(reg *sesRegion, id *sesIdentity) string {
	mf := id.MailFrom
	if cn, _, _ := s.lookupPublic(mf, "CNAME"); len(cn) > 0 {
		return "FAILED"
	}
	mx, _, _ := s.lookupPublic(mf, "MX")
	want := "10 " + fqdn("feedback-smtp."+reg.name+".amazonses.com")
	mxOK := len(mx) == 1 && normalizeMX(mx[0]) == want
	txt, _, _ := s.lookupPublic(mf, "TXT")
	spfOK := slices.ContainsFunc(txt, func(v string) bool {
		t := strings.ToLower(txtJoin(v))
		return strings.HasPrefix(t, "v=spf1") && strings.Contains(t, "include:amazonses.com")
	})
	switch {
	case mxOK && spfOK:
		return "SUCCESS"
	case s.opts.FailAfter > 0 && !s.opts.Now().Before(id.mailFromSet.Add(s.opts.FailAfter)):
		return "FAILED"
	}
	return "PENDING"
}

// normalizeMX turns "10  Host.Example" into "10 host.example.".
func normalizeMX(v string) string {
	f := strings.Fields(v)
	if len(f) != 2 {
		return strings.ToLower(v)
	}
	return f[0] + " " + fqdn(f[1])
}

// txtJoin turns a TXT value as Route 53 stores it (`"v=spf1 " "~all"`,
// quotes and escapes included) into the text a resolver hands over: the
// character-strings concatenated. An unquoted value is taken as is.
func txtJoin(v string) string {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, `"`) {
		return v
	}
	var b strings.Builder
	in := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && in && i+1 < len(v):
			i++
			b.WriteByte(v[i])
		case c == '"':
			in = !in
		case in:
			b.WriteByte(c)
		}
	}
	return b.String()
}
