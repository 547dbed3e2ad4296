package awssim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// TestSESMailFromFailedLatches: a MAIL FROM domain SES set FAILED stays
// FAILED when its records are fixed, until the attribute is set again
// (Amazon SES Developer Guide, "Using a custom MAIL FROM domain", "MAIL
// FROM domain setup states": Failed — "Amazon SES no longer attempts to
// detect the required MX record").
func TestSESMailFromFailedLatches(t *testing.T) {
	ctx := context.Background()
	h := newSESHarness(t, Options{})
	if err := h.sim.ApplySeed(Seed{
		Zones:      []SeedZone{{Name: "example.com"}},
		Identities: []SeedIdentity{{Name: "example.com", Status: "verified", MailFrom: "mail.example.com", MailFromStatus: "failed"}},
	}); err != nil {
		t.Fatal(err)
	}
	c := h.client("us-east-1")
	status := func() types.MailFromDomainStatus {
		t.Helper()
		out, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
		if err != nil {
			t.Fatal(err)
		}
		return out.MailFromAttributes.MailFromDomainStatus
	}
	h.put("example.com", "mail.example.com", "MX", "10 feedback-smtp.us-east-1.amazonses.com")
	h.put("example.com", "mail.example.com", "TXT", `"v=spf1 include:amazonses.com ~all"`)
	if got := status(); got != types.MailFromDomainStatusFailed {
		t.Fatalf("after fixing the records: %s, want FAILED (SES no longer checks)", got)
	}
	if _, err := c.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{
		EmailIdentity: aws.String("example.com"), MailFromDomain: aws.String("mail.example.com")}); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != types.MailFromDomainStatusSuccess {
		t.Fatalf("after setting it again: %s, want SUCCESS", got)
	}
}

// TestSESEasyDKIMOnLegacyIdentity: a domain verified without Easy DKIM
// has DKIM NOT_STARTED and no tokens; PutEmailIdentityDkimSigningAttributes
// with origin AWS_SES gives three tokens, DKIM PENDING until their CNAMEs
// show, while the identity stays verified (Amazon SES API v2 Reference,
// PutEmailIdentityDkimSigningAttributes, DkimAttributes). A BYODKIM
// identity reports origin EXTERNAL and no tokens.
func TestSESEasyDKIMOnLegacyIdentity(t *testing.T) {
	ctx := context.Background()
	h := newSESHarness(t, Options{})
	if err := h.sim.ApplySeed(Seed{
		Zones: []SeedZone{{Name: "example.com"}, {Name: "example.org"}},
		Identities: []SeedIdentity{{Name: "example.com", Status: "verified", DKIM: "none"},
			{Name: "example.org", Status: "verified", DKIM: "external"}},
	}); err != nil {
		t.Fatal(err)
	}
	c := h.client("us-east-1")
	get := func(name string) *sesv2.GetEmailIdentityOutput {
		t.Helper()
		out, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if d := get("example.org").DkimAttributes; d.SigningAttributesOrigin != types.DkimSigningAttributesOriginExternal || len(d.Tokens) != 0 {
		t.Errorf("BYODKIM attributes = %+v", d)
	}
	out := get("example.com")
	if d := out.DkimAttributes; d.Status != types.DkimStatusNotStarted || len(d.Tokens) != 0 || d.SigningEnabled || !out.VerifiedForSendingStatus {
		t.Fatalf("legacy identity: verified %v, DKIM %+v", out.VerifiedForSendingStatus, d)
	}
	put, err := c.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity: aws.String("example.com"), SigningAttributesOrigin: types.DkimSigningAttributesOriginAwsSes,
		SigningAttributes: &types.DkimSigningAttributes{NextSigningKeyLength: types.DkimSigningKeyLengthRsa2048Bit}})
	if err != nil || len(put.DkimTokens) != 3 || put.DkimStatus != types.DkimStatusPending {
		t.Fatalf("PutEmailIdentityDkimSigningAttributes = %+v, %v", put, err)
	}
	out = get("example.com")
	if out.DkimAttributes.Status != types.DkimStatusPending || !out.VerifiedForSendingStatus {
		t.Fatalf("after enabling: verified %v, DKIM %s", out.VerifiedForSendingStatus, out.DkimAttributes.Status)
	}
	publishDKIM(h, "example.com", "example.com", out.DkimAttributes, 3, func(v string) string { return v })
	if s := get("example.com").DkimAttributes.Status; s != types.DkimStatusSuccess {
		t.Fatalf("with the CNAMEs published: DKIM %s, want SUCCESS", s)
	}
}
