package awssim

import (
	"fmt"
	"strings"
	"time"

	"github.com/sesame-tool/sesame/steps/ses"
)

// Identity states a reused identity can be in besides Easy DKIM's happy
// path, as SES reports them (Amazon SES API v2 Reference, DkimAttributes
// and MailFromAttributes; Amazon SES Developer Guide, "Authenticating
// Email with DKIM in Amazon SES", "Provide your own DKIM authentication
// token (BYODKIM)", and "Using a custom MAIL FROM domain", "MAIL FROM
// domain setup states"). --seed-file sets them (SeedIdentity.DKIM,
// MailFromStatus).

// dkimStates are an identity's DKIM and MAIL FROM states beyond Easy
// DKIM's happy path.
type dkimStates struct {
	// dkimOrigin is "EXTERNAL" for bring-your-own DKIM: SES signs with
	// the operator's key and looks for its public key at
	// <selector>._domainkey.<domain>; there are no tokens.
	dkimOrigin string
	selector   string
	// noEasyDKIM is a domain verified the legacy way (a TXT record, SES
	// v1 VerifyDomainIdentity) that never had Easy DKIM: no tokens, DKIM
	// NOT_STARTED, signing off.
	noEasyDKIM bool
	// easyDKIMLater is when Easy DKIM was turned on for an identity
	// verified before (PutEmailIdentityDkimSigningAttributes): its
	// verification stands, its DKIM is PENDING until the CNAMEs show.
	easyDKIMLater time.Time
	// dkimTemp is DKIM TEMPORARY_FAILURE: SES cannot determine the DKIM
	// status just now (a DNS problem on the domain's side) and keeps
	// checking for 72 hours.
	dkimTemp bool
	// mailFromFailed latches MAIL FROM FAILED: SES no longer checks, and
	// only setting the attribute again restarts it. mailFromTemp is
	// TEMPORARY_FAILURE: SES keeps checking for 72 hours.
	mailFromFailed, mailFromTemp bool
}

// dkimStateOf settles a domain identity in one of these states; ok is
// false for Easy DKIM's usual path. Called with s.mu held.
func (s *Sim) dkimStateOf(id *sesIdentity) (identityState, bool) {
	verified := !id.verified.IsZero()
	switch {
	case id.dkimTemp:
		return identityState{status: "TEMPORARY_FAILURE", dkim: "TEMPORARY_FAILURE", verified: verified}, true
	case id.noEasyDKIM:
		if verified {
			return identityState{status: "SUCCESS", dkim: "NOT_STARTED", verified: true}, true
		}
		return identityState{status: "PENDING", dkim: "NOT_STARTED"}, true
	case id.dkimOrigin == "EXTERNAL":
		if verified {
			return identityState{status: "SUCCESS", dkim: "SUCCESS", verified: true}, true
		}
		return identityState{status: "PENDING", dkim: "PENDING"}, true
	case !id.easyDKIMLater.IsZero():
		// Verified before; the new tokens' CNAMEs decide DKIM.
		if s.dkimPublished(id) {
			return identityState{status: "SUCCESS", dkim: "SUCCESS", verified: true}, true
		}
		return identityState{status: "SUCCESS", dkim: "PENDING", verified: true}, true
	}
	return identityState{}, false
}

// otherDKIMAttrs renders DkimAttributes for BYODKIM and for a domain
// without Easy DKIM.
func (id *sesIdentity) otherDKIMAttrs(d *dkimJSON) *dkimJSON {
	if id.dkimOrigin == "EXTERNAL" {
		d.SigningAttributesOrigin = "EXTERNAL"
		d.SigningEnabled = true
		return d
	}
	d.SigningEnabled = false // legacy: Easy DKIM never set up
	return d
}

// sesPutDkimSigning is PutEmailIdentityDkimSigningAttributes: AWS_SES
// starts Easy DKIM (three new tokens, DKIM PENDING until their CNAMEs
// show), EXTERNAL switches to the operator's own key and selector.
func (s *Sim) sesPutDkimSigning(r *request, name string) (reply, *apiError) {
	var in struct {
		SigningAttributesOrigin string
		SigningAttributes       *struct {
			DomainSigningPrivateKey, DomainSigningSelector, NextSigningKeyLength string
		}
	}
	if ae := decodeJSON(r.Body, &in); ae != nil {
		return reply{}, ae
	}
	reg := s.sesRegionFor(r.Region)
	id := reg.identities[identityKey(name)]
	if id == nil {
		return reply{}, notFoundIdentity(name)
	}
	if id.Type != "DOMAIN" {
		return reply{}, errf(400, "BadRequestException", "DKIM signing attributes can only be set for a domain identity, not %s.", name)
	}
	keyLen := "RSA_2048_BIT"
	if a := in.SigningAttributes; a != nil && a.NextSigningKeyLength != "" {
		keyLen = a.NextSigningKeyLength
	}
	switch in.SigningAttributesOrigin {
	case "AWS_SES":
		if keyLen != "RSA_1024_BIT" && keyLen != "RSA_2048_BIT" {
			return reply{}, errf(400, "BadRequestException", "Invalid NextSigningKeyLength %s: use RSA_1024_BIT or RSA_2048_BIT.", keyLen)
		}
		wasVerified := !id.verified.IsZero()
		id.dkimOrigin, id.selector, id.noEasyDKIM, id.dkimTemp = "", "", false, false
		id.KeyLength, id.SigningZone, id.Tokens = keyLen, signingZoneOf(reg), nil
		for range 3 {
			id.Tokens = append(id.Tokens, randToken(s))
		}
		id.dkimSeen = time.Time{}
		if wasVerified {
			id.easyDKIMLater = s.opts.Now()
		}
	case "EXTERNAL":
		a := in.SigningAttributes
		if a == nil || a.DomainSigningSelector == "" || a.DomainSigningPrivateKey == "" {
			return reply{}, errf(400, "BadRequestException", "EXTERNAL signing needs DomainSigningSelector and DomainSigningPrivateKey.")
		}
		id.dkimOrigin, id.selector, id.Tokens, id.noEasyDKIM = "EXTERNAL", strings.ToLower(a.DomainSigningSelector), nil, false
	default:
		return reply{}, errf(400, "BadRequestException", "Invalid SigningAttributesOrigin %q: use AWS_SES or EXTERNAL.", in.SigningAttributesOrigin)
	}
	st := s.identityStatus(reg, id)
	return jsonReply(struct {
		DkimStatus string
		DkimTokens []string `json:",omitempty"`
	}{st.dkim, id.Tokens})
}

// seedStates applies SeedIdentity's DKIM and MAIL FROM states. Called
// with s.mu held.
func (s *Sim) seedStates(reg *sesRegion, id *sesIdentity, si SeedIdentity) error {
	switch strings.ToLower(si.DKIM) {
	case "", "easy":
	case "none":
		// Verified the legacy way, no Easy DKIM: a TXT record, no tokens.
		id.noEasyDKIM, id.Tokens = true, nil
	case "external":
		id.dkimOrigin, id.selector, id.Tokens = "EXTERNAL", "sel1", nil
	case "temporary_failure":
		id.dkimTemp = true
	default:
		return fmt.Errorf("dkim %q: use easy, none, external or temporary_failure", si.DKIM)
	}
	if si.MailFrom == "" {
		if si.MailFromStatus != "" {
			return fmt.Errorf("mail_from_status %q needs mail_from", si.MailFromStatus)
		}
		return nil
	}
	mf, err := mailFromDomain(strings.ToLower(si.MailFrom), id.Name)
	if err != nil {
		return fmt.Errorf("mail_from %q: %w", si.MailFrom, err)
	}
	id.MailFrom, id.MailFromBehavior, id.mailFromSet = mf, "USE_DEFAULT_VALUE", s.opts.Now()
	switch strings.ToLower(si.MailFromStatus) {
	case "", "pending":
	case "failed":
		id.mailFromFailed = true
	case "temporary_failure":
		id.mailFromTemp = true
	default:
		return fmt.Errorf("mail_from_status %q: use pending, failed or temporary_failure", si.MailFromStatus)
	}
	return nil
}

// signingZoneOf is the zone Easy DKIM CNAMEs point into in reg.
func signingZoneOf(reg *sesRegion) string { return ses.DKIMZone(reg.name) }
