package awssim

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// httpStatus is the HTTP status of an SDK error, or 0.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestSESCreateEmailIdentityDomain(t *testing.T) {
	tests := []struct {
		name, region string
		keyLength    types.DkimSigningKeyLength
		wantLength   types.DkimSigningKeyLength
		wantZone     string
	}{
		{"default key length", "us-east-1", "", types.DkimSigningKeyLengthRsa2048Bit, "dkim.amazonses.com"},
		{"1024-bit honoured", "us-west-2", types.DkimSigningKeyLengthRsa1024Bit, types.DkimSigningKeyLengthRsa1024Bit, "dkim.amazonses.com"},
		{"regional DKIM zone", "eu-central-2", types.DkimSigningKeyLengthRsa2048Bit, types.DkimSigningKeyLengthRsa2048Bit, "dkim.eu-central-2.amazonses.com"},
	}
	token := regexp.MustCompile(`^[a-z0-9]{32}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSESHarness(t, Options{})
			c := h.client(tt.region)
			in := &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("Example.COM")}
			if tt.keyLength != "" {
				in.DkimSigningAttributes = &types.DkimSigningAttributes{NextSigningKeyLength: tt.keyLength}
			}
			out, err := c.CreateEmailIdentity(context.Background(), in)
			if err != nil {
				t.Fatalf("CreateEmailIdentity: %v", err)
			}
			if out.IdentityType != types.IdentityTypeDomain || out.VerifiedForSendingStatus {
				t.Errorf("type %s verified %v, want DOMAIN, false", out.IdentityType, out.VerifiedForSendingStatus)
			}
			d := out.DkimAttributes
			if d == nil || len(d.Tokens) != 3 {
				t.Fatalf("DkimAttributes = %+v, want three tokens", d)
			}
			for _, tok := range d.Tokens {
				if !token.MatchString(tok) {
					t.Errorf("token %q is not 32 lower-case characters", tok)
				}
			}
			if d.Status != types.DkimStatusPending || d.NextSigningKeyLength != tt.wantLength || aws.ToString(d.SigningHostedZone) != tt.wantZone {
				t.Errorf("dkim status %s length %s zone %s, want PENDING %s %s", d.Status, d.NextSigningKeyLength, aws.ToString(d.SigningHostedZone), tt.wantLength, tt.wantZone)
			}
			got, err := c.GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
			if err != nil {
				t.Fatalf("GetEmailIdentity: %v", err)
			}
			if got.VerificationStatus != types.VerificationStatusPending || strings.Join(got.DkimAttributes.Tokens, ",") != strings.Join(d.Tokens, ",") {
				t.Errorf("get: status %s tokens %v, want PENDING %v", got.VerificationStatus, got.DkimAttributes.Tokens, d.Tokens)
			}
			if got.DkimAttributes.LastKeyGenerationTimestamp == nil || !got.DkimAttributes.LastKeyGenerationTimestamp.Equal(h.clock.Now()) {
				t.Errorf("LastKeyGenerationTimestamp = %v, want %v", got.DkimAttributes.LastKeyGenerationTimestamp, h.clock.Now())
			}
		})
	}
}

func TestSESIdentityErrors(t *testing.T) {
	h := newSESHarness(t, Options{})
	c := h.client("us-east-1")
	ctx := context.Background()
	if _, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		call   func() error
		target any
		status int
	}{
		{"create twice", func() error {
			_, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("EXAMPLE.com")})
			return err
		}, new(*types.AlreadyExistsException), 400},
		{"get missing", func() error {
			_, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("other.example")})
			return err
		}, new(*types.NotFoundException), 404},
		{"delete missing", func() error {
			_, err := c.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String("other.example")})
			return err
		}, new(*types.NotFoundException), 404},
		{"mail from on a missing identity", func() error {
			_, err := c.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String("other.example"), MailFromDomain: aws.String("mail.other.example")})
			return err
		}, new(*types.NotFoundException), 404},
		{"invalid domain", func() error {
			_, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("not a domain")})
			return err
		}, new(*types.BadRequestException), 400},
		{"DKIM attributes on an address", func() error {
			_, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("ops@example.org"), DkimSigningAttributes: &types.DkimSigningAttributes{NextSigningKeyLength: types.DkimSigningKeyLengthRsa2048Bit}})
			return err
		}, new(*types.BadRequestException), 400},
		{"MAIL FROM outside the domain", func() error {
			_, err := c.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String("example.com"), MailFromDomain: aws.String("mail.elsewhere.example")})
			return err
		}, new(*types.BadRequestException), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.As(err, tt.target) {
				t.Errorf("error %v is not a %T", err, tt.target)
			}
			if got := httpStatus(err); got != tt.status {
				t.Errorf("HTTP status %d, want %d", got, tt.status)
			}
		})
	}
	if _, err := c.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String("example.com")}); err != nil {
		t.Fatalf("DeleteEmailIdentity: %v", err)
	}
	var nf *types.NotFoundException
	if _, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")}); !errors.As(err, &nf) {
		t.Errorf("get after delete: %v, want NotFoundException", err)
	}
}

func TestSESRegionsAreSeparate(t *testing.T) {
	h := newSESHarness(t, Options{})
	ctx := context.Background()
	east, west := h.client("us-east-1"), h.client("eu-west-1")
	a, err := east.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil {
		t.Fatal(err)
	}
	var nf *types.NotFoundException
	if _, err := west.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")}); !errors.As(err, &nf) {
		t.Fatalf("eu-west-1 sees a us-east-1 identity: %v", err)
	}
	b, err := west.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil {
		t.Fatalf("the same domain in another region: %v", err)
	}
	if strings.Join(a.DkimAttributes.Tokens, "") == strings.Join(b.DkimAttributes.Tokens, "") {
		t.Error("two regions gave the same DKIM tokens")
	}
	h.sim.mu.Lock()
	h.sim.sesRegionFor("eu-west-1").sent = append(h.sim.sesRegionFor("eu-west-1").sent, h.clock.Now())
	h.sim.mu.Unlock()
	for region, want := range map[string]float64{"us-east-1": 0, "eu-west-1": 1} {
		acct, err := h.client(region).GetAccount(ctx, &sesv2.GetAccountInput{})
		if err != nil {
			t.Fatal(err)
		}
		if acct.SendQuota.SentLast24Hours != want {
			t.Errorf("%s SentLast24Hours = %v, want %v", region, acct.SendQuota.SentLast24Hours, want)
		}
	}
}

// publishDKIM puts the CNAMEs of an identity into the zone, letting mangle
// change the values.
func publishDKIM(h *sesHarness, zone, domain string, d *types.DkimAttributes, n int, mangle func(string) string) {
	for _, tok := range d.Tokens[:n] {
		h.put(zone, tok+"._domainkey."+domain, "CNAME", mangle(tok+"."+aws.ToString(d.SigningHostedZone)))
	}
}

func TestSESVerificationNeedsExactRecords(t *testing.T) {
	same := func(v string) string { return v }
	tests := []struct {
		name    string
		domain  string // the identity
		zone    string // where the records go
		private bool
		n       int
		mangle  func(string) string
		want    types.VerificationStatus
	}{
		{"exact values with trailing dot", "example.com", "example.com", false, 3, func(v string) string { return v + "." }, types.VerificationStatusSuccess},
		{"exact values without trailing dot", "example.com", "example.com", false, 3, same, types.VerificationStatusSuccess},
		{"upper case is the same name", "example.com", "example.com", false, 3, strings.ToUpper, types.VerificationStatusSuccess},
		{"subdomain in the parent zone", "mail.example.com", "example.com", false, 3, same, types.VerificationStatusSuccess},
		{"two of three", "example.com", "example.com", false, 2, same, types.VerificationStatusPending},
		{"wrong target zone", "example.com", "example.com", false, 3, func(v string) string { return strings.Replace(v, "dkim.amazonses.com", "dkim.example.net", 1) }, types.VerificationStatusPending},
		{"private zone only", "example.com", "example.com", true, 3, same, types.VerificationStatusPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSESHarness(t, Options{VerifyDelay: 10 * time.Second})
			c := h.client("us-east-1")
			ctx := context.Background()
			out, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(tt.domain)})
			if err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(time.Hour) // the delay runs from when records appear, not from creation
			publishDKIM(h, tt.zone, tt.domain, out.DkimAttributes, tt.n, tt.mangle)
			if tt.private {
				z := h.zone(tt.zone)
				h.sim.mu.Lock()
				z.Private = true
				h.sim.mu.Unlock()
			}
			get := func() *sesv2.GetEmailIdentityOutput {
				t.Helper()
				g, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(tt.domain)})
				if err != nil {
					t.Fatal(err)
				}
				return g
			}
			if g := get(); g.VerificationStatus != types.VerificationStatusPending || g.VerifiedForSendingStatus {
				t.Fatalf("right after the records appeared: %s %v, want PENDING false", g.VerificationStatus, g.VerifiedForSendingStatus)
			}
			h.clock.Advance(9 * time.Second)
			if g := get(); g.VerificationStatus != types.VerificationStatusPending {
				t.Fatalf("before VerifyDelay: %s, want PENDING", g.VerificationStatus)
			}
			h.clock.Advance(time.Second)
			g := get()
			if g.VerificationStatus != tt.want || g.VerifiedForSendingStatus != (tt.want == types.VerificationStatusSuccess) {
				t.Fatalf("after VerifyDelay: %s verified %v, want %s", g.VerificationStatus, g.VerifiedForSendingStatus, tt.want)
			}
			if tt.want == types.VerificationStatusSuccess {
				if g.DkimAttributes.Status != types.DkimStatusSuccess || g.VerificationInfo.LastSuccessTimestamp == nil {
					t.Errorf("DKIM %s, LastSuccessTimestamp %v; want SUCCESS and a time", g.DkimAttributes.Status, g.VerificationInfo.LastSuccessTimestamp)
				}
			}
		})
	}
}

func TestSESVerificationFailsAfterFailAfter(t *testing.T) {
	h := newSESHarness(t, Options{VerifyDelay: 10 * time.Second, FailAfter: 72 * time.Hour})
	c := h.client("us-east-1")
	ctx := context.Background()
	out, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(72*time.Hour - time.Second)
	g, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil || g.VerificationStatus != types.VerificationStatusPending {
		t.Fatalf("just before FailAfter: %v %v, want PENDING", g, err)
	}
	h.clock.Advance(time.Second)
	g, err = c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if g.VerificationStatus != types.VerificationStatusFailed || g.DkimAttributes.Status != types.DkimStatusFailed || g.VerificationInfo.ErrorType == "" {
		t.Fatalf("at FailAfter: %s / DKIM %s / error %q, want FAILED with an error type", g.VerificationStatus, g.DkimAttributes.Status, g.VerificationInfo.ErrorType)
	}
	// Like SES, a failed identity stays failed even if the records come.
	publishDKIM(h, "example.com", "example.com", out.DkimAttributes, 3, func(v string) string { return v })
	h.clock.Advance(time.Hour)
	g, _ = c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if g.VerificationStatus != types.VerificationStatusFailed {
		t.Errorf("records after failure: %s, want FAILED until recreated", g.VerificationStatus)
	}
}

func TestSESEmailAddressIdentity(t *testing.T) {
	h := newSESHarness(t, Options{VerifyDelay: 10 * time.Second})
	c := h.client("us-east-1")
	ctx := context.Background()
	out, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("ops@Example.org")})
	if err != nil {
		t.Fatal(err)
	}
	if out.IdentityType != types.IdentityTypeEmailAddress || len(out.DkimAttributes.Tokens) != 0 {
		t.Fatalf("type %s tokens %v, want EMAIL_ADDRESS and none", out.IdentityType, out.DkimAttributes.Tokens)
	}
	for _, step := range []struct {
		advance time.Duration
		want    types.VerificationStatus
	}{{0, types.VerificationStatusPending}, {10 * time.Second, types.VerificationStatusSuccess}} {
		h.clock.Advance(step.advance)
		g, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("ops@example.org")})
		if err != nil {
			t.Fatal(err)
		}
		if g.VerificationStatus != step.want {
			t.Errorf("after %v: %s, want %s", step.advance, g.VerificationStatus, step.want)
		}
	}
}

func TestSESMailFromStatus(t *testing.T) {
	const mf = "mail.example.com"
	tests := []struct {
		name    string
		records map[string][]string // type → values at the MAIL FROM name
		want    types.MailFromDomainStatus
	}{
		{"nothing yet", nil, types.MailFromDomainStatusPending},
		{"MX and SPF", map[string][]string{"MX": {"10 feedback-smtp.us-east-1.amazonses.com"}, "TXT": {`"v=spf1 include:amazonses.com ~all"`}}, types.MailFromDomainStatusSuccess},
		{"SPF split over strings", map[string][]string{"MX": {"10 feedback-smtp.us-east-1.amazonses.com."}, "TXT": {`"v=spf1 include:amazon" "ses.com ~all"`}}, types.MailFromDomainStatusSuccess},
		{"MX only", map[string][]string{"MX": {"10 feedback-smtp.us-east-1.amazonses.com."}}, types.MailFromDomainStatusPending},
		{"wrong region's MX", map[string][]string{"MX": {"10 feedback-smtp.eu-west-1.amazonses.com."}, "TXT": {`"v=spf1 include:amazonses.com ~all"`}}, types.MailFromDomainStatusPending},
		{"two MX", map[string][]string{"MX": {"10 feedback-smtp.us-east-1.amazonses.com.", "20 backup.example.net."}, "TXT": {`"v=spf1 include:amazonses.com ~all"`}}, types.MailFromDomainStatusPending},
		{"a CNAME", map[string][]string{"CNAME": {"elsewhere.example.net."}}, types.MailFromDomainStatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSESHarness(t, Options{})
			c := h.client("us-east-1")
			ctx := context.Background()
			if _, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{
				EmailIdentity: aws.String("example.com"), MailFromDomain: aws.String(mf), BehaviorOnMxFailure: types.BehaviorOnMxFailureRejectMessage,
			}); err != nil {
				t.Fatal(err)
			}
			h.zone("example.com")
			for typ, vals := range tt.records {
				h.put("example.com", mf, typ, vals...)
			}
			g, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
			if err != nil {
				t.Fatal(err)
			}
			m := g.MailFromAttributes
			if m == nil || aws.ToString(m.MailFromDomain) != mf || m.BehaviorOnMxFailure != types.BehaviorOnMxFailureRejectMessage || m.MailFromDomainStatus != tt.want {
				t.Fatalf("MailFromAttributes = %+v, want %s %s REJECT_MESSAGE", m, mf, tt.want)
			}
		})
	}
}

func TestSESMailFromCanBeTurnedOff(t *testing.T) {
	h := newSESHarness(t, Options{})
	c := h.client("us-east-1")
	ctx := context.Background()
	if _, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	for _, mf := range []string{"mail.example.com", ""} {
		if _, err := c.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String("example.com"), MailFromDomain: aws.String(mf)}); err != nil {
			t.Fatal(err)
		}
	}
	g, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if g.MailFromAttributes != nil {
		t.Errorf("MailFromAttributes = %+v after an empty MailFromDomain, want none", g.MailFromAttributes)
	}
}

func TestSESListEmailIdentitiesPaginates(t *testing.T) {
	h := newSESHarness(t, Options{})
	c := h.client("us-east-1")
	ctx := context.Background()
	names := []string{"a.example", "b.example", "c.example", "d.example", "e@f.example"}
	for _, n := range names {
		if _, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	pages := 0
	p := sesv2.NewListEmailIdentitiesPaginator(c, &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, id := range out.EmailIdentities {
			got = append(got, aws.ToString(id.IdentityName))
			if id.VerificationStatus != types.VerificationStatusPending && id.IdentityType == types.IdentityTypeDomain {
				t.Errorf("%s: %s, want PENDING", aws.ToString(id.IdentityName), id.VerificationStatus)
			}
		}
	}
	if strings.Join(got, " ") != strings.Join(names, " ") || pages != 3 {
		t.Errorf("listed %v in %d pages, want %v in 3", got, pages, names)
	}
	var br *types.BadRequestException
	if _, err := c.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(5000)}); !errors.As(err, &br) {
		t.Errorf("PageSize 5000: %v, want BadRequestException", err)
	}
}

func TestSESAccountSandboxAndProduction(t *testing.T) {
	tests := []struct {
		name       string
		production bool
		max, rate  float64
	}{
		{"new account is in the sandbox", false, 200, 1},
		{"production option", true, 50000, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSESHarness(t, Options{Production: tt.production})
			for _, region := range []string{"us-east-1", "ap-southeast-2"} {
				a, err := h.client(region).GetAccount(context.Background(), &sesv2.GetAccountInput{})
				if err != nil {
					t.Fatal(err)
				}
				if a.ProductionAccessEnabled != tt.production || !a.SendingEnabled || aws.ToString(a.EnforcementStatus) != "HEALTHY" {
					t.Errorf("%s: production %v sending %v enforcement %s", region, a.ProductionAccessEnabled, a.SendingEnabled, aws.ToString(a.EnforcementStatus))
				}
				if q := a.SendQuota; q == nil || q.Max24HourSend != tt.max || q.MaxSendRate != tt.rate || q.SentLast24Hours != 0 {
					t.Errorf("%s: quota %+v, want %v/day at %v/s", region, q, tt.max, tt.rate)
				}
				if a.Details != nil {
					t.Errorf("%s: Details %+v before any request", region, a.Details)
				}
			}
		})
	}
}

func TestSESProductionAccessReview(t *testing.T) {
	h := newSESHarness(t, Options{ReviewDelay: 24 * time.Hour})
	c := h.client("eu-west-1")
	ctx := context.Background()
	req := &sesv2.PutAccountDetailsInput{
		MailType:                types.MailTypeTransactional,
		WebsiteURL:              aws.String("https://www.example.com"),
		ContactLanguage:         types.ContactLanguageEn,
		ProductionAccessEnabled: aws.Bool(true),
	}
	if _, err := c.PutAccountDetails(ctx, req); err != nil {
		t.Fatalf("PutAccountDetails: %v", err)
	}
	a, err := c.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	rd := a.Details.ReviewDetails
	if a.ProductionAccessEnabled || rd == nil || rd.Status != types.ReviewStatusPending || !regexp.MustCompile(`^\d{16}$`).MatchString(aws.ToString(rd.CaseId)) {
		t.Fatalf("after the request: production %v review %+v, want sandbox, PENDING with a case id", a.ProductionAccessEnabled, rd)
	}
	if a.Details.MailType != types.MailTypeTransactional || aws.ToString(a.Details.WebsiteURL) != "https://www.example.com" {
		t.Errorf("Details = %+v, want what was sent", a.Details)
	}
	_, err = c.PutAccountDetails(ctx, req)
	var conflict *types.ConflictException
	if !errors.As(err, &conflict) || httpStatus(err) != 409 || !strings.Contains(err.Error(), "already an ongoing account details update under review") {
		t.Fatalf("second request while PENDING: %v (HTTP %d), want ConflictException 409", err, httpStatus(err))
	}
	// The other regions are untouched.
	if b, _ := h.client("us-east-1").GetAccount(ctx, &sesv2.GetAccountInput{}); b == nil || b.Details != nil {
		t.Errorf("us-east-1 sees eu-west-1's request: %+v", b)
	}
	h.clock.Advance(24 * time.Hour)
	a, err = c.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !a.ProductionAccessEnabled || a.Details.ReviewDetails.Status != types.ReviewStatusGranted || a.SendQuota.Max24HourSend != 50000 {
		t.Errorf("after ReviewDelay: production %v review %s quota %v, want GRANTED and 50000", a.ProductionAccessEnabled, a.Details.ReviewDetails.Status, a.SendQuota.Max24HourSend)
	}
}

func TestSESPutAccountDetailsValidates(t *testing.T) {
	tests := []struct {
		name string
		in   sesv2.PutAccountDetailsInput
	}{
		{"bad mail type", sesv2.PutAccountDetailsInput{MailType: "BULK", WebsiteURL: aws.String("https://example.com")}},
		// SES documents WebsiteURL as 1 to 1000 characters matching RFC 3986's
		// URI-reference pattern, which every string matches: the Sim refuses
		// only by length (sesame's own check asks for http or https).
		{"URL over 1000 characters", sesv2.PutAccountDetailsInput{MailType: types.MailTypeMarketing, WebsiteURL: aws.String("https://example.com/" + strings.Repeat("x", 981))}},
		{"bad contact", sesv2.PutAccountDetailsInput{MailType: types.MailTypeMarketing, WebsiteURL: aws.String("https://example.com"), AdditionalContactEmailAddresses: []string{"not-an-address"}}},
		{"empty contact list", sesv2.PutAccountDetailsInput{MailType: types.MailTypeMarketing, WebsiteURL: aws.String("https://example.com"), AdditionalContactEmailAddresses: []string{}}},
		{"five contacts", sesv2.PutAccountDetailsInput{MailType: types.MailTypeMarketing, WebsiteURL: aws.String("https://example.com"),
			AdditionalContactEmailAddresses: []string{"a1@x.example", "a2@x.example", "a3@x.example", "a4@x.example", "a5@x.example"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSESHarness(t, Options{})
			_, err := h.client("us-east-1").PutAccountDetails(context.Background(), &tt.in)
			var br *types.BadRequestException
			if !errors.As(err, &br) || httpStatus(err) != 400 {
				t.Fatalf("got %v, want BadRequestException 400", err)
			}
		})
	}
}

func TestSESRequestsAreLogged(t *testing.T) {
	log := &syncWriter{}
	h := newSESHarness(t, Options{Log: log})
	c := h.client("us-east-1")
	_, _ = c.GetAccount(context.Background(), &sesv2.GetAccountInput{})
	_, _ = c.GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("missing.example")})
	want := "sesv2 GetAccount 200\nsesv2 GetEmailIdentity 404\n"
	if log.String() != want {
		t.Errorf("log = %q, want %q", log.String(), want)
	}
}
