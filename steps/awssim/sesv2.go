package awssim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/sesame-tool/sesame/steps/ses"
)

// SES v2 (restJson1). Identities and the account live per region: the
// region of the request's signature, as in AWS.

func init() { routers["sesv2"] = sesRoute }

// sesRegion is the SES state of one region: identities and the account.
type sesRegion struct {
	name       string
	identities map[string]*sesIdentity // by lower-case identity name
	account    sesAccount
	// sent holds when the SMTP endpoint accepted each message, for
	// SendQuota.SentLast24Hours.
	sent []time.Time
}

// sesIdentity is one email identity: a domain or an email address.
type sesIdentity struct {
	Name    string // as created: domains lower case
	Type    string // DOMAIN or EMAIL_ADDRESS
	Created time.Time
	Tags    []tag
	// ConfigSet is the default configuration set name, if any.
	ConfigSet string

	// Easy DKIM (domains only).
	Tokens      []string
	SigningZone string
	KeyLength   string // RSA_1024_BIT or RSA_2048_BIT

	// dkimSeen is when all three CNAMEs were first seen in a public zone
	// (zero: not yet, or they went away before verification).
	dkimSeen time.Time
	// verified is when the identity turned SUCCESS (zero: not yet).
	verified time.Time
	// failed is set once a pending identity passed FailAfter: like SES, the
	// sim then stops checking.
	failed bool

	// Custom MAIL FROM.
	MailFrom         string
	MailFromBehavior string
	mailFromSet      time.Time

	// DKIM and MAIL FROM states beyond Easy DKIM's happy path
	// (sesv2_dkim.go).
	dkimStates
}

// sesAccount is the account-level state of one region.
type sesAccount struct {
	production bool
	details    *accountDetails
}

// accountDetails is what PutAccountDetails stored, with its review.
type accountDetails struct {
	MailType, WebsiteURL, ContactLanguage, UseCaseDescription string
	AdditionalContacts                                        []string
	CaseID                                                    string
	// review is "" (no review asked), PENDING, GRANTED.
	review    string
	requested time.Time
}

// sesRegionFor returns the SES state of a region, creating it the first
// time the region is used. Called with s.mu held.
func (s *Sim) sesRegionFor(region string) *sesRegion {
	region = strings.ToLower(region)
	if region == "" {
		region = "us-east-1"
	}
	r := s.ses[region]
	if r == nil {
		r = &sesRegion{name: region, identities: map[string]*sesIdentity{}}
		r.account.production = s.opts.Production
		s.ses[region] = r
	}
	return r
}

// sesRoute finds the SES v2 operation of a request by method and path.
func sesRoute(s *Sim, r *request) (string, func() (reply, *apiError)) {
	segs := pathSegments(r.URL.EscapedPath())
	if len(segs) < 2 || segs[0] != "v2" || segs[1] != "email" {
		return "", nil
	}
	segs = segs[2:]
	m := r.Method
	switch {
	case len(segs) == 1 && segs[0] == "identities" && m == http.MethodPost:
		return "CreateEmailIdentity", func() (reply, *apiError) { return s.sesCreateIdentity(r) }
	case len(segs) == 1 && segs[0] == "identities" && m == http.MethodGet:
		// The older HTTP binding of ListEmailIdentities (query string).
		q := r.URL.Query()
		return "ListEmailIdentities", func() (reply, *apiError) {
			return s.sesListIdentities(r, q.Get("NextToken"), q.Get("PageSize"))
		}
	case len(segs) == 1 && segs[0] == "list-identities" && m == http.MethodPost:
		return "ListEmailIdentities", func() (reply, *apiError) {
			var in struct {
				NextToken string
				PageSize  json.Number
			}
			if ae := decodeJSON(r.Body, &in); ae != nil {
				return reply{}, ae
			}
			return s.sesListIdentities(r, in.NextToken, in.PageSize.String())
		}
	case len(segs) == 2 && segs[0] == "identities" && m == http.MethodGet:
		return "GetEmailIdentity", func() (reply, *apiError) { return s.sesGetIdentity(r, segs[1]) }
	case len(segs) == 2 && segs[0] == "identities" && m == http.MethodDelete:
		return "DeleteEmailIdentity", func() (reply, *apiError) { return s.sesDeleteIdentity(r, segs[1]) }
	case len(segs) == 4 && segs[0] == "identities" && segs[2] == "dkim" && segs[3] == "signing" && m == http.MethodPut:
		return "PutEmailIdentityDkimSigningAttributes", func() (reply, *apiError) { return s.sesPutDkimSigning(r, segs[1]) }
	case len(segs) == 3 && segs[0] == "identities" && segs[2] == "mail-from" && m == http.MethodPut:
		return "PutEmailIdentityMailFromAttributes", func() (reply, *apiError) { return s.sesPutMailFrom(r, segs[1]) }
	case len(segs) == 1 && segs[0] == "account" && m == http.MethodGet:
		return "GetAccount", func() (reply, *apiError) { return s.sesGetAccount(r) }
	case len(segs) == 2 && segs[0] == "account" && segs[1] == "details" && m == http.MethodPost:
		return "PutAccountDetails", func() (reply, *apiError) { return s.sesPutAccountDetails(r) }
	}
	return "", nil
}

// pathSegments splits an escaped URL path and unescapes each segment, so a
// label holding an escaped "/" or "@" stays one segment.
func pathSegments(p string) []string {
	var out []string
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		if v, err := url.PathUnescape(seg); err == nil {
			seg = v
		}
		out = append(out, seg)
	}
	return out
}

// decodeJSON decodes a restJson1 body; an empty body is an empty object.
func decodeJSON(body []byte, v any) *apiError {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errf(400, "BadRequestException", "The request body is not valid JSON: %v", err)
	}
	return nil
}

func jsonReply(v any) (reply, *apiError) {
	b, err := json.Marshal(v)
	if err != nil {
		return reply{}, errf(500, "InternalFailure", "sesame-sim could not encode its answer: %v", err)
	}
	return reply{status: 200, contentType: "application/json", body: b}, nil
}

func notFoundIdentity(name string) *apiError {
	return errf(404, "NotFoundException", "Email identity %s does not exist.", name)
}

// identityKey is the map key of an identity name: SES compares identities
// case-insensitively.
func identityKey(name string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
}

func (s *Sim) sesCreateIdentity(r *request) (reply, *apiError) {
	var in struct {
		EmailIdentity         string
		ConfigurationSetName  string
		Tags                  []struct{ Key, Value string }
		DkimSigningAttributes *struct {
			DomainSigningSelector         string
			DomainSigningPrivateKey       string
			NextSigningKeyLength          string
			DomainSigningAttributesOrigin string
		}
	}
	if ae := decodeJSON(r.Body, &in); ae != nil {
		return reply{}, ae
	}
	name := strings.TrimSuffix(strings.TrimSpace(in.EmailIdentity), ".")
	if name == "" {
		return reply{}, errf(400, "BadRequestException", "EmailIdentity is required.")
	}
	typ := "DOMAIN"
	if strings.Contains(name, "@") {
		typ = "EMAIL_ADDRESS"
		a, err := identityAddress(name)
		if err != nil {
			return reply{}, errf(400, "BadRequestException", "Invalid email address <%s>.", in.EmailIdentity)
		}
		name = a
	} else {
		d, err := identityDomain(name)
		if err != nil {
			return reply{}, errf(400, "BadRequestException", "Invalid domain name %s.", in.EmailIdentity)
		}
		name = d
	}
	keyLen := "RSA_2048_BIT"
	if a := in.DkimSigningAttributes; a != nil {
		if typ != "DOMAIN" {
			return reply{}, errf(400, "BadRequestException", "DKIM signing attributes can only be set for domain identities.")
		}
		if a.DomainSigningPrivateKey != "" || a.DomainSigningSelector != "" || (a.DomainSigningAttributesOrigin != "" && a.DomainSigningAttributesOrigin != "AWS_SES") {
			return reply{}, errf(400, "BadRequestException", "sesame-sim supports Easy DKIM only (origin AWS_SES), not BYODKIM.")
		}
		switch a.NextSigningKeyLength {
		case "":
		case "RSA_1024_BIT", "RSA_2048_BIT":
			keyLen = a.NextSigningKeyLength
		default:
			return reply{}, errf(400, "BadRequestException", "Invalid NextSigningKeyLength %s: use RSA_1024_BIT or RSA_2048_BIT.", a.NextSigningKeyLength)
		}
	}
	reg := s.sesRegionFor(r.Region)
	if reg.identities[identityKey(name)] != nil {
		return reply{}, errf(400, "AlreadyExistsException", "Email identity %s already exists.", name)
	}
	// SES caps the identities of an account per region (Amazon SES
	// Developer Guide, "Service quotas in Amazon SES": 10,000 identities
	// per region); CreateEmailIdentity then answers LimitExceededException
	// (SESv2 API Reference, CreateEmailIdentity, Errors: "There are too
	// many instances of the specified resource type", HTTP 400). The
	// message text is the sim's own.
	if q := s.identityQuota(); len(reg.identities) >= q {
		return reply{}, errf(400, "LimitExceededException", "Maximum number of identities (%d) in %s reached.", q, r.Region)
	}
	id := s.addIdentity(reg, name, typ, keyLen)
	id.ConfigSet = in.ConfigurationSetName
	for _, t := range in.Tags {
		id.Tags = append(id.Tags, tag{t.Key, t.Value})
	}
	st := s.identityStatus(reg, id)
	return jsonReply(struct {
		IdentityType             string
		VerifiedForSendingStatus bool
		DkimAttributes           *dkimJSON `json:",omitempty"`
	}{typ, st.verified, dkimAttrs(id, st)})
}

// addIdentity creates an identity in a region: a domain gets three Easy
// DKIM tokens pointing into the region's DKIM zone. Called with s.mu held.
func (s *Sim) addIdentity(reg *sesRegion, name, typ, keyLen string) *sesIdentity {
	id := &sesIdentity{Name: name, Type: typ, Created: s.opts.Now()}
	if typ == "DOMAIN" {
		id.KeyLength = keyLen
		id.SigningZone = ses.DKIMZone(reg.name)
		for range 3 {
			id.Tokens = append(id.Tokens, randToken(s))
		}
	}
	reg.identities[identityKey(name)] = id
	return id
}

// randToken is one Easy DKIM token: 32 lower-case letters and digits.
// Called with s.mu held (s.rng is not safe for concurrent use).
func randToken(s *Sim) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, 32)
	for i := range b {
		b[i] = alphabet[s.rng.Intn(len(alphabet))]
	}
	return string(b)
}

func (s *Sim) sesGetIdentity(r *request, name string) (reply, *apiError) {
	reg := s.sesRegionFor(r.Region)
	id := reg.identities[identityKey(name)]
	if id == nil {
		return reply{}, notFoundIdentity(name)
	}
	st := s.identityStatus(reg, id)
	out := getIdentityJSON{
		IdentityType:             id.Type,
		FeedbackForwardingStatus: true,
		VerifiedForSendingStatus: st.verified,
		VerificationStatus:       st.status,
		DkimAttributes:           dkimAttrs(id, st),
		Policies:                 map[string]string{},
		Tags:                     []tagJSON{},
		ConfigurationSetName:     id.ConfigSet,
	}
	for _, t := range id.Tags {
		out.Tags = append(out.Tags, tagJSON{t.Key, t.Value})
	}
	out.VerificationInfo = &verificationInfoJSON{LastCheckedTimestamp: epoch(s.opts.Now()), ErrorType: st.errorType}
	if !id.verified.IsZero() {
		t := epoch(id.verified)
		out.VerificationInfo.LastSuccessTimestamp = &t
	}
	if id.Type == "DOMAIN" {
		if _, z, _ := s.lookupPublic(id.Name, "SOA"); z != nil && len(z.NameServers) > 0 {
			out.VerificationInfo.SOARecord = &soaJSON{PrimaryNameServer: strings.TrimSuffix(z.NameServers[0], "."), AdminEmail: "awsdns-hostmaster.amazon.com", SerialNumber: 1}
		}
	}
	if id.MailFrom != "" {
		out.MailFromAttributes = &mailFromJSON{MailFromDomain: id.MailFrom, MailFromDomainStatus: s.mailFromStatus(reg, id), BehaviorOnMxFailure: id.MailFromBehavior}
	}
	return jsonReply(out)
}

func (s *Sim) sesDeleteIdentity(r *request, name string) (reply, *apiError) {
	reg := s.sesRegionFor(r.Region)
	if reg.identities[identityKey(name)] == nil {
		return reply{}, notFoundIdentity(name)
	}
	delete(reg.identities, identityKey(name))
	return jsonReply(struct{}{})
}

func (s *Sim) sesPutMailFrom(r *request, name string) (reply, *apiError) {
	var in struct{ MailFromDomain, BehaviorOnMxFailure string }
	if ae := decodeJSON(r.Body, &in); ae != nil {
		return reply{}, ae
	}
	reg := s.sesRegionFor(r.Region)
	id := reg.identities[identityKey(name)]
	if id == nil {
		return reply{}, notFoundIdentity(name)
	}
	behavior := in.BehaviorOnMxFailure
	switch behavior {
	case "":
		behavior = "USE_DEFAULT_VALUE"
	case "USE_DEFAULT_VALUE", "REJECT_MESSAGE":
	default:
		return reply{}, errf(400, "BadRequestException", "Invalid BehaviorOnMxFailure %s: use USE_DEFAULT_VALUE or REJECT_MESSAGE.", behavior)
	}
	mf := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(in.MailFromDomain), "."))
	if mf == "" {
		// An empty MAIL FROM domain turns custom MAIL FROM off.
		id.MailFrom, id.MailFromBehavior, id.mailFromSet = "", "", time.Time{}
		return jsonReply(struct{}{})
	}
	parent := id.Name
	if id.Type == "EMAIL_ADDRESS" {
		parent = id.Name[strings.LastIndex(id.Name, "@")+1:]
	}
	if _, err := mailFromDomain(mf, parent); err != nil {
		return reply{}, errf(400, "BadRequestException", "Invalid MAIL FROM domain %s: it must be a subdomain of %s.", in.MailFromDomain, parent)
	}
	if mf != id.MailFrom || id.mailFromFailed || id.mailFromTemp {
		// Setting it again restarts a FAILED setup (Amazon SES Developer
		// Guide, "Using a custom MAIL FROM domain", "MAIL FROM domain setup
		// states": Failed — "To use a custom MAIL FROM domain, you have to
		// restart the setup process").
		id.mailFromSet = s.opts.Now()
		id.mailFromFailed, id.mailFromTemp = false, false
	}
	id.MailFrom, id.MailFromBehavior = mf, behavior
	return jsonReply(struct{}{})
}

func (s *Sim) sesListIdentities(r *request, token, pageSize string) (reply, *apiError) {
	size := 100
	if pageSize != "" {
		n, err := json.Number(pageSize).Int64()
		if err != nil || n < 1 || n > 1000 {
			return reply{}, errf(400, "BadRequestException", "PageSize must be between 1 and 1000.")
		}
		size = int(n)
	}
	reg := s.sesRegionFor(r.Region)
	keys := make([]string, 0, len(reg.identities))
	for k := range reg.identities {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	start := 0
	if token != "" {
		// The token is the key of the first identity of the next page.
		start = len(keys)
		for i, k := range keys {
			if k >= token {
				start = i
				break
			}
		}
	}
	out := struct {
		EmailIdentities []identityInfoJSON
		NextToken       string `json:",omitempty"`
	}{EmailIdentities: []identityInfoJSON{}}
	for i := start; i < len(keys); i++ {
		if len(out.EmailIdentities) == size {
			out.NextToken = keys[i]
			break
		}
		id := reg.identities[keys[i]]
		st := s.identityStatus(reg, id)
		out.EmailIdentities = append(out.EmailIdentities, identityInfoJSON{IdentityType: id.Type, IdentityName: id.Name, SendingEnabled: true, VerificationStatus: st.status})
	}
	return jsonReply(out)
}

func (s *Sim) sesGetAccount(r *request) (reply, *apiError) {
	reg := s.sesRegionFor(r.Region)
	s.settleReview(reg)
	out := accountJSON{
		DedicatedIpAutoWarmupEnabled: true,
		EnforcementStatus:            "HEALTHY",
		ProductionAccessEnabled:      reg.account.production,
		SendingEnabled:               true,
		SendQuota:                    s.sendQuota(reg),
		SuppressionAttributes:        &suppressionJSON{SuppressedReasons: []string{}},
	}
	if d := reg.account.details; d != nil {
		dj := &detailsJSON{MailType: d.MailType, WebsiteURL: d.WebsiteURL, ContactLanguage: d.ContactLanguage, UseCaseDescription: d.UseCaseDescription, AdditionalContactEmailAddresses: d.AdditionalContacts}
		if d.review != "" {
			dj.ReviewDetails = &reviewJSON{Status: d.review, CaseId: d.CaseID}
		}
		out.Details = dj
	}
	return jsonReply(out)
}

// sendQuota is the region's quota: the sandbox's 200 a day at 1 a second,
// or a new production account's 50,000 at 14.
func (s *Sim) sendQuota(reg *sesRegion) sendQuotaJSON {
	q := sendQuotaJSON{Max24HourSend: 200, MaxSendRate: 1}
	if reg.account.production {
		q = sendQuotaJSON{Max24HourSend: 50000, MaxSendRate: 14}
	}
	q.SentLast24Hours = float64(reg.sentLast24h(s.opts.Now()))
	return q
}

// sentLast24h counts the messages accepted in the 24 hours before now and
// forgets older ones.
func (reg *sesRegion) sentLast24h(now time.Time) int {
	cut := now.Add(-24 * time.Hour)
	keep := reg.sent[:0]
	for _, t := range reg.sent {
		if t.After(cut) {
			keep = append(keep, t)
		}
	}
	reg.sent = keep
	return len(keep)
}

// settleReview grants a pending production-access review once ReviewDelay
// has passed. Called with s.mu held.
func (s *Sim) settleReview(reg *sesRegion) {
	d := reg.account.details
	if d == nil || d.review != "PENDING" {
		return
	}
	if !s.opts.Now().Before(d.requested.Add(s.opts.ReviewDelay)) {
		d.review = "GRANTED"
		reg.account.production = true
	}
}

func (s *Sim) sesPutAccountDetails(r *request) (reply, *apiError) {
	var in struct {
		MailType, WebsiteURL, ContactLanguage, UseCaseDescription string
		AdditionalContactEmailAddresses                           []string
		ProductionAccessEnabled                                   *bool
	}
	if ae := decodeJSON(r.Body, &in); ae != nil {
		return reply{}, ae
	}
	switch {
	case in.MailType != "MARKETING" && in.MailType != "TRANSACTIONAL":
		return reply{}, errf(400, "BadRequestException", "MailType must be MARKETING or TRANSACTIONAL.")
	case in.WebsiteURL == "":
		return reply{}, errf(400, "BadRequestException", "WebsiteURL is required.")
	case websiteURL(in.WebsiteURL) != nil:
		return reply{}, errf(400, "BadRequestException", "Invalid WebsiteURL %s: it must be 1 to 1000 characters.", in.WebsiteURL)
	case in.ContactLanguage != "" && in.ContactLanguage != "EN" && in.ContactLanguage != "JA":
		return reply{}, errf(400, "BadRequestException", "ContactLanguage must be EN or JA.")
	case len(in.UseCaseDescription) > 5000:
		return reply{}, errf(400, "BadRequestException", "UseCaseDescription must be at most 5000 characters.")
	}
	// A JSON list, even [], decodes to a non-nil slice; a left-out member stays nil.
	if err := contactAddresses(in.AdditionalContactEmailAddresses, in.AdditionalContactEmailAddresses != nil); err != nil {
		return reply{}, errf(400, "BadRequestException", "Invalid AdditionalContactEmailAddresses: %v.", err)
	}
	reg := s.sesRegionFor(r.Region)
	s.settleReview(reg)
	old := reg.account.details
	if old != nil && old.review == "PENDING" {
		return reply{}, errf(409, "ConflictException", "There is already an ongoing account details update under review.")
	}
	d := &accountDetails{MailType: in.MailType, WebsiteURL: in.WebsiteURL, ContactLanguage: in.ContactLanguage, UseCaseDescription: in.UseCaseDescription, AdditionalContacts: in.AdditionalContactEmailAddresses}
	if old != nil {
		d.review, d.CaseID, d.requested = old.review, old.CaseID, old.requested
	}
	wantProd := in.ProductionAccessEnabled == nil || *in.ProductionAccessEnabled
	if wantProd && !reg.account.production {
		d.review, d.requested = "PENDING", s.opts.Now()
		d.CaseID = randDigits(s, 16)
	}
	reg.account.details = d
	s.settleReview(reg) // ReviewDelay 0 grants at once
	return jsonReply(struct{}{})
}

// randDigits is n random decimal digits (a support case id). Called with
// s.mu held.
func randDigits(s *Sim, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + s.rng.Intn(10))
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}
