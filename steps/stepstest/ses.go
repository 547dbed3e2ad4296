package stepstest

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// FakeSES is a stateful in-memory SES v2 with per-region state, like SES:
// identities and the account's sandbox status live in a region, and the
// region of a call is the client's (NewFakeSES, InRegion) unless an
// optFn sets sesv2.Options.Region. It keeps the semantics the steps rely
// on: a missing identity is *sesv2types.NotFoundException, a second
// CreateEmailIdentity is *sesv2types.AlreadyExistsException, a domain
// identity gets three DKIM tokens and stays PENDING until the test flips
// it (SetIdentityStatus, VerifyAfter), and a production-access request
// while one is under review is *sesv2types.ConflictException. It
// satisfies awsapi.SES. Views of one account (InRegion) share state,
// counters and injected errors. Safe for concurrent use.
type FakeSES struct {
	s      *sesShared
	region string
}

type sesShared struct {
	mu      sync.Mutex
	log     callLog
	regions map[string]*sesRegion
	seq     int
	before  func(f *FakeSES, op string)
}

type sesRegion struct {
	account    SESAccount
	identities map[string]*fakeIdentity
	// signingZone overrides the DKIM zone reported for new identities.
	signingZone *string
}

type fakeIdentity struct {
	name        string
	typ         sesv2types.IdentityType
	verified    bool
	status      sesv2types.VerificationStatus
	dkimStatus  sesv2types.DkimStatus
	tokens      []string
	zone        string
	keyLength   sesv2types.DkimSigningKeyLength
	mailFrom    string
	mailStatus  sesv2types.MailFromDomainStatus
	behavior    sesv2types.BehaviorOnMxFailure
	errorType   sesv2types.VerificationError
	gets        int
	verifyAfter int // verify on this GetEmailIdentity call (0: never)
}

// SESAccount is the account's sending status in one region, as GetAccount
// reports it.
type SESAccount struct {
	ProductionAccess  bool
	SendingEnabled    bool
	EnforcementStatus string
	Max24HourSend     float64
	MaxSendRate       float64
	SentLast24Hours   float64
	// Details are the production-access request, if one was made.
	Details *sesv2types.AccountDetails
}

// sandboxAccount is a new account in a region: in the sandbox, 200 a day,
// one a second.
func sandboxAccount() SESAccount {
	return SESAccount{SendingEnabled: true, EnforcementStatus: "HEALTHY", Max24HourSend: 200, MaxSendRate: 1}
}

// sesMutations are the operations that change an account.
var sesMutations = []string{"CreateEmailIdentity", "DeleteEmailIdentity", "PutEmailIdentityMailFromAttributes", "PutEmailIdentityDkimSigningAttributes", "PutAccountDetails"}

// regionalDKIMZones are the regions whose Easy DKIM records point into
// dkim.<region>.amazonses.com (AWS General Reference, ses_dkim_domains).
var regionalDKIMZones = []string{
	"af-south-1", "ap-northeast-3", "ap-southeast-3", "eu-south-1", "il-central-1", "us-gov-east-1",
	"ap-south-2", "ap-southeast-5", "ca-west-1", "eu-central-2", "me-central-1",
}

// NewFakeSES returns an account with no identities, in the sandbox in
// every region, whose calls go to region.
func NewFakeSES(region string) *FakeSES {
	return &FakeSES{
		s:      &sesShared{log: newCallLog(), regions: map[string]*sesRegion{}},
		region: region,
	}
}

// InRegion returns a view of the same account whose calls go to region.
func (f *FakeSES) InRegion(region string) *FakeSES { return &FakeSES{s: f.s, region: region} }

// Region is the region this view's calls go to.
func (f *FakeSES) Region() string { return f.region }

// SetBefore installs a hook that runs (without the fake's lock) after a
// call of op is counted and before it takes effect, so a test can act as a
// concurrent writer (another process creating the same identity).
func (f *FakeSES) SetBefore(hook func(f *FakeSES, op string)) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	f.s.before = hook
}

// Calls returns how many times op ("CreateEmailIdentity") was called, in
// all regions.
func (f *FakeSES) Calls(op string) int {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return f.s.log.calls[op]
}

// Mutations returns how many calls (in all regions) could have changed
// the account.
func (f *FakeSES) Mutations() int {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return f.s.log.sum(sesMutations...)
}

// FailNext makes the next call of op (in any region) return err (queued:
// several calls fail in order). The call is counted but has no effect.
func (f *FakeSES) FailNext(op string, err error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	f.s.log.failNext(op, err)
}

// enter counts a call, runs the hook and returns an injected error and
// the call's region state. It leaves f.s.mu locked.
func (f *FakeSES) enter(op string, optFns []func(*sesv2.Options)) (*sesRegion, error) {
	region := f.callRegion(optFns)
	f.s.mu.Lock()
	err := f.s.log.enter(op)
	if hook := f.s.before; err == nil && hook != nil {
		f.s.mu.Unlock()
		hook(&FakeSES{s: f.s, region: region}, op)
		f.s.mu.Lock()
	}
	return f.s.reg(region), err
}

// callRegion is the region of a call: this view's, unless an optFn sets
// another, as a per-call sesv2.Options override would with the real client.
func (f *FakeSES) callRegion(optFns []func(*sesv2.Options)) string {
	o := sesv2.Options{Region: f.region}
	for _, fn := range optFns {
		fn(&o)
	}
	return o.Region
}

// reg returns a region's state, creating it. Called with mu held.
func (s *sesShared) reg(region string) *sesRegion {
	r := s.regions[region]
	if r == nil {
		r = &sesRegion{account: sandboxAccount(), identities: map[string]*fakeIdentity{}}
		s.regions[region] = r
	}
	return r
}

func (f *FakeSES) locked() *sesRegion {
	f.s.mu.Lock()
	return f.s.reg(f.region)
}

// Account returns this region's sending status.
func (f *FakeSES) Account() SESAccount {
	r := f.locked()
	defer f.s.mu.Unlock()
	return r.account
}

// SetAccount replaces this region's sending status, for example to put the
// account in production or give it a review under way.
func (f *FakeSES) SetAccount(a SESAccount) {
	r := f.locked()
	defer f.s.mu.Unlock()
	r.account = a
}

// SetSigningHostedZone sets the DKIM zone GetEmailIdentity reports in this
// region; "" makes it report none, as older API versions did. By default
// it is dkim.amazonses.com, or dkim.<region>.amazonses.com in the regions
// that use a regional DKIM zone.
func (f *FakeSES) SetSigningHostedZone(zone string) {
	r := f.locked()
	defer f.s.mu.Unlock()
	r.signingZone = &zone
	for _, id := range r.identities {
		if id.typ == sesv2types.IdentityTypeDomain {
			id.zone = zone
		}
	}
}

func (f *FakeSES) defaultZone(r *sesRegion, region string) string {
	if r.signingZone != nil {
		return *r.signingZone
	}
	if slices.Contains(regionalDKIMZones, region) {
		return "dkim." + region + ".amazonses.com"
	}
	return "dkim.amazonses.com"
}

func identityKey(name string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
}

// newIdentity creates an identity in r. Called with mu held.
func (f *FakeSES) newIdentity(r *sesRegion, region, name string, keyLength sesv2types.DkimSigningKeyLength) *fakeIdentity {
	id := &fakeIdentity{name: name, status: sesv2types.VerificationStatusPending}
	if strings.Contains(name, "@") {
		id.typ, id.dkimStatus = sesv2types.IdentityTypeEmailAddress, sesv2types.DkimStatusNotStarted
	} else {
		id.typ, id.dkimStatus = sesv2types.IdentityTypeDomain, sesv2types.DkimStatusPending
		id.zone, id.keyLength = f.defaultZone(r, region), keyLength
		for range 3 {
			id.tokens = append(id.tokens, randomToken())
		}
	}
	r.identities[identityKey(name)] = id
	return id
}

// randomToken makes a 32-character DKIM token like SES's.
func randomToken() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// AddIdentity creates an identity in this region directly, bypassing the
// counters, and returns its DKIM tokens (none for an email address).
func (f *FakeSES) AddIdentity(name string) []string {
	r := f.locked()
	defer f.s.mu.Unlock()
	return slices.Clone(f.newIdentity(r, f.region, name, sesv2types.DkimSigningKeyLengthRsa2048Bit).tokens)
}

// enterIdentity is enter, then the identity named in the call's region
// (NotFoundException when there is none): every call on one identity
// starts so. The caller unlocks f.s.mu, whatever the error.
func (f *FakeSES) enterIdentity(op string, name *string, optFns []func(*sesv2.Options)) (*fakeIdentity, error) {
	r, err := f.enter(op, optFns)
	if err != nil {
		return nil, err
	}
	id := r.identities[identityKey(aws.ToString(name))]
	if id == nil {
		return nil, notFound(aws.ToString(name))
	}
	return id, nil
}

func (f *FakeSES) identity(name string) *fakeIdentity {
	r := f.s.reg(f.region)
	id := r.identities[identityKey(name)]
	if id == nil {
		panic("stepstest: no SES identity " + name + " in " + f.region)
	}
	return id
}

// HasIdentity reports whether the identity exists in this region.
func (f *FakeSES) HasIdentity(name string) bool {
	r := f.locked()
	defer f.s.mu.Unlock()
	return r.identities[identityKey(name)] != nil
}

// Tokens returns a domain identity's DKIM tokens in this region.
func (f *FakeSES) Tokens(name string) []string {
	r := f.locked()
	defer f.s.mu.Unlock()
	if id := r.identities[identityKey(name)]; id != nil {
		return slices.Clone(id.tokens)
	}
	return nil
}

// KeyLength returns the NextSigningKeyLength the identity was created with
// ("" when CreateEmailIdentity did not give one).
func (f *FakeSES) KeyLength(name string) string {
	r := f.locked()
	defer f.s.mu.Unlock()
	if id := r.identities[identityKey(name)]; id != nil {
		return string(id.keyLength)
	}
	return ""
}

// SetIdentityStatus flips an identity's status in this region. verified
// makes it verified for sending with VerificationStatus SUCCESS; otherwise
// VerificationStatus follows dkimStatus (PENDING, FAILED,
// TEMPORARY_FAILURE, NOT_STARTED), as it does for an Easy DKIM domain. A
// TEMPORARY_FAILURE keeps the identity verified for sending when verified
// is true, as SES keeps sending while it re-checks.
func (f *FakeSES) SetIdentityStatus(name string, verified bool, dkimStatus string) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	id := f.identity(name)
	id.verified, id.dkimStatus = verified, sesv2types.DkimStatus(dkimStatus)
	switch {
	case verified && dkimStatus == string(sesv2types.DkimStatusTemporaryFailure):
		id.status = sesv2types.VerificationStatusTemporaryFailure
	case verified:
		id.status = sesv2types.VerificationStatusSuccess
	default:
		id.status = sesv2types.VerificationStatus(dkimStatus)
	}
}

// VerifyAfter makes the identity verified (DKIM SUCCESS) on the polls-th
// GetEmailIdentity call from now, as SES would once it sees the records.
func (f *FakeSES) VerifyAfter(name string, polls int) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	id := f.identity(name)
	id.verifyAfter = id.gets + polls
}

// SetMailFromStatus sets the MAIL FROM domain's status in this region.
func (f *FakeSES) SetMailFromStatus(name, status string) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	f.identity(name).mailStatus = sesv2types.MailFromDomainStatus(status)
}

// SetVerificationError sets VerificationInfo.ErrorType ("" for none).
func (f *FakeSES) SetVerificationError(name, errorType string) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	f.identity(name).errorType = sesv2types.VerificationError(errorType)
}

// MailFrom returns the identity's MAIL FROM domain and behaviour on MX
// failure, as PutEmailIdentityMailFromAttributes left them.
func (f *FakeSES) MailFrom(name string) (domain, behavior string) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	id := f.identity(name)
	return id.mailFrom, string(id.behavior)
}

func notFound(name string) error {
	return &sesv2types.NotFoundException{Message: aws.String(fmt.Sprintf("Email identity %s does not exist.", name))}
}

func badRequest(msg string) error {
	return &sesv2types.BadRequestException{Message: aws.String(msg)}
}

// GetAccount reports the region's sending status.
func (f *FakeSES) GetAccount(_ context.Context, _ *sesv2.GetAccountInput, optFns ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error) {
	r, err := f.enter("GetAccount", optFns)
	defer f.s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	a := r.account
	out := &sesv2.GetAccountOutput{
		ProductionAccessEnabled: a.ProductionAccess,
		SendingEnabled:          a.SendingEnabled,
		EnforcementStatus:       aws.String(a.EnforcementStatus),
		SendQuota:               &sesv2types.SendQuota{Max24HourSend: a.Max24HourSend, MaxSendRate: a.MaxSendRate, SentLast24Hours: a.SentLast24Hours},
	}
	if a.Details != nil {
		d := *a.Details
		if a.Details.ReviewDetails != nil {
			rd := *a.Details.ReviewDetails
			d.ReviewDetails = &rd
		}
		out.Details = &d
	}
	return out, nil
}

// PutAccountDetails records a production-access request: MailType and
// WebsiteURL are required; a request while one is under review is
// ConflictException; with ProductionAccessEnabled the review is PENDING
// with a new case id.
func (f *FakeSES) PutAccountDetails(_ context.Context, in *sesv2.PutAccountDetailsInput, optFns ...func(*sesv2.Options)) (*sesv2.PutAccountDetailsOutput, error) {
	r, err := f.enter("PutAccountDetails", optFns)
	defer f.s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	switch in.MailType {
	case sesv2types.MailTypeMarketing, sesv2types.MailTypeTransactional:
	default:
		return nil, badRequest(fmt.Sprintf("Invalid MailType %q: use MARKETING or TRANSACTIONAL.", in.MailType))
	}
	if aws.ToString(in.WebsiteURL) == "" {
		return nil, badRequest("WebsiteURL is required.")
	}
	if d := r.account.Details; d != nil && d.ReviewDetails != nil && d.ReviewDetails.Status == sesv2types.ReviewStatusPending {
		return nil, &sesv2types.ConflictException{Message: aws.String("There is already an ongoing account details update under review.")}
	}
	f.s.seq++
	d := &sesv2types.AccountDetails{
		MailType: in.MailType, WebsiteURL: in.WebsiteURL, ContactLanguage: in.ContactLanguage,
		UseCaseDescription:              in.UseCaseDescription,
		AdditionalContactEmailAddresses: slices.Clone(in.AdditionalContactEmailAddresses),
	}
	if aws.ToBool(in.ProductionAccessEnabled) {
		d.ReviewDetails = &sesv2types.ReviewDetails{Status: sesv2types.ReviewStatusPending, CaseId: aws.String(fmt.Sprintf("%011d", 17000000000+f.s.seq))}
	}
	r.account.Details = d
	return &sesv2.PutAccountDetailsOutput{}, nil
}

// GetEmailIdentity reports an identity or NotFoundException.
func (f *FakeSES) GetEmailIdentity(_ context.Context, in *sesv2.GetEmailIdentityInput, optFns ...func(*sesv2.Options)) (*sesv2.GetEmailIdentityOutput, error) {
	id, err := f.enterIdentity("GetEmailIdentity", in.EmailIdentity, optFns)
	defer f.s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	id.gets++
	if id.verifyAfter > 0 && id.gets >= id.verifyAfter {
		id.verifyAfter = 0
		id.verified, id.status = true, sesv2types.VerificationStatusSuccess
		if id.typ == sesv2types.IdentityTypeDomain {
			id.dkimStatus = sesv2types.DkimStatusSuccess
		}
	}
	out := &sesv2.GetEmailIdentityOutput{
		IdentityType:             id.typ,
		VerifiedForSendingStatus: id.verified,
		VerificationStatus:       id.status,
		FeedbackForwardingStatus: true,
		DkimAttributes: &sesv2types.DkimAttributes{
			SigningEnabled:          id.typ == sesv2types.IdentityTypeDomain,
			Status:                  id.dkimStatus,
			Tokens:                  slices.Clone(id.tokens),
			NextSigningKeyLength:    id.keyLength,
			CurrentSigningKeyLength: id.keyLength,
		},
		MailFromAttributes: &sesv2types.MailFromAttributes{BehaviorOnMxFailure: sesv2types.BehaviorOnMxFailureUseDefaultValue},
		VerificationInfo:   &sesv2types.VerificationInfo{ErrorType: id.errorType},
	}
	if id.typ == sesv2types.IdentityTypeDomain {
		out.DkimAttributes.SigningAttributesOrigin = sesv2types.DkimSigningAttributesOriginAwsSes
		if id.zone != "" {
			out.DkimAttributes.SigningHostedZone = aws.String(id.zone)
		}
	}
	if id.mailFrom != "" {
		out.MailFromAttributes = &sesv2types.MailFromAttributes{
			MailFromDomain: aws.String(id.mailFrom), MailFromDomainStatus: id.mailStatus, BehaviorOnMxFailure: id.behavior,
		}
	}
	return out, nil
}

// CreateEmailIdentity creates a domain identity (Easy DKIM, three tokens,
// PENDING) or an email-address identity; an existing one is
// AlreadyExistsException.
func (f *FakeSES) CreateEmailIdentity(_ context.Context, in *sesv2.CreateEmailIdentityInput, optFns ...func(*sesv2.Options)) (*sesv2.CreateEmailIdentityOutput, error) {
	r, err := f.enter("CreateEmailIdentity", optFns)
	defer f.s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.EmailIdentity)
	if name == "" {
		return nil, badRequest("EmailIdentity is required.")
	}
	if r.identities[identityKey(name)] != nil {
		return nil, &sesv2types.AlreadyExistsException{Message: aws.String(fmt.Sprintf("Email identity %s already exist.", name))}
	}
	var keyLength sesv2types.DkimSigningKeyLength
	if a := in.DkimSigningAttributes; a != nil {
		if strings.Contains(name, "@") {
			return nil, badRequest("DKIM signing attributes are only valid for domain identities.")
		}
		keyLength = a.NextSigningKeyLength
	}
	id := f.newIdentity(r, f.callRegion(optFns), name, keyLength)
	return &sesv2.CreateEmailIdentityOutput{
		IdentityType: id.typ,
		DkimAttributes: &sesv2types.DkimAttributes{
			SigningEnabled: id.typ == sesv2types.IdentityTypeDomain, Status: id.dkimStatus,
			Tokens: slices.Clone(id.tokens), NextSigningKeyLength: keyLength,
		},
	}, nil
}

// DeleteEmailIdentity deletes an identity or says NotFoundException.
func (f *FakeSES) DeleteEmailIdentity(_ context.Context, in *sesv2.DeleteEmailIdentityInput, optFns ...func(*sesv2.Options)) (*sesv2.DeleteEmailIdentityOutput, error) {
	r, err := f.enter("DeleteEmailIdentity", optFns)
	defer f.s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.EmailIdentity)
	if r.identities[identityKey(name)] == nil {
		return nil, notFound(name)
	}
	delete(r.identities, identityKey(name))
	return &sesv2.DeleteEmailIdentityOutput{}, nil
}

// PutEmailIdentityMailFromAttributes sets (or, with an empty domain,
// removes) the identity's MAIL FROM domain; a new one starts PENDING.
func (f *FakeSES) PutEmailIdentityMailFromAttributes(_ context.Context, in *sesv2.PutEmailIdentityMailFromAttributesInput, optFns ...func(*sesv2.Options)) (*sesv2.PutEmailIdentityMailFromAttributesOutput, error) {
	id, err := f.enterIdentity("PutEmailIdentityMailFromAttributes", in.EmailIdentity, optFns)
	defer f.s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.EmailIdentity)
	mf := strings.ToLower(strings.TrimSuffix(aws.ToString(in.MailFromDomain), "."))
	if mf != "" && !strings.HasSuffix(mf, "."+identityKey(name)) {
		return nil, badRequest(fmt.Sprintf("MAIL FROM domain %s is not a subdomain of %s.", mf, name))
	}
	if mf != id.mailFrom {
		id.mailStatus = sesv2types.MailFromDomainStatusPending
	}
	if mf == "" {
		id.mailStatus = ""
	}
	id.mailFrom = mf
	id.behavior = in.BehaviorOnMxFailure
	if id.behavior == "" {
		id.behavior = sesv2types.BehaviorOnMxFailureUseDefaultValue
	}
	return &sesv2.PutEmailIdentityMailFromAttributesOutput{}, nil
}

// PutEmailIdentityDkimSigningAttributes with origin AWS_SES starts Easy
// DKIM on a domain identity: three new tokens, DKIM PENDING.
func (f *FakeSES) PutEmailIdentityDkimSigningAttributes(_ context.Context, in *sesv2.PutEmailIdentityDkimSigningAttributesInput, optFns ...func(*sesv2.Options)) (*sesv2.PutEmailIdentityDkimSigningAttributesOutput, error) {
	id, err := f.enterIdentity("PutEmailIdentityDkimSigningAttributes", in.EmailIdentity, optFns)
	defer f.s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if id.typ != sesv2types.IdentityTypeDomain || in.SigningAttributesOrigin != sesv2types.DkimSigningAttributesOriginAwsSes {
		return nil, badRequest("the fake starts Easy DKIM (origin AWS_SES) on domain identities only.")
	}
	id.tokens = nil
	for i := range 3 {
		id.tokens = append(id.tokens, fmt.Sprintf("%s%dtok", strings.ReplaceAll(identityKey(aws.ToString(in.EmailIdentity)), ".", ""), i))
	}
	id.dkimStatus = sesv2types.DkimStatusPending
	if a := in.SigningAttributes; a != nil {
		id.keyLength = a.NextSigningKeyLength
	}
	return &sesv2.PutEmailIdentityDkimSigningAttributesOutput{DkimStatus: id.dkimStatus, DkimTokens: slices.Clone(id.tokens)}, nil
}
