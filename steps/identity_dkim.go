package steps

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame-tool/sesame/steps/awsapi"
)

// A reused identity need not have Easy DKIM. Amazon SES Developer Guide,
// "Authenticating Email with DKIM in Amazon SES": Easy DKIM gives three
// tokens to publish as CNAMEs; "Provide your own DKIM authentication token
// (BYODKIM)": the signing origin is EXTERNAL, with a selector and the
// operator's own key (a TXT record at <selector>._domainkey.<domain>), and
// no tokens. A domain verified the legacy way (a TXT record, SES v1
// VerifyDomainIdentity) has DKIM NOT_STARTED and no tokens: with no
// CNAMEs to publish, DKIM would never verify. Amazon SES API v2 Reference,
// PutEmailIdentityDkimSigningAttributes: SigningAttributesOrigin AWS_SES
// with NextSigningKeyLength starts Easy DKIM on it.

// byoDKIM reports whether the identity signs with the operator's own key.
func byoDKIM(id *IdentityInfo) bool {
	return id != nil && id.DKIMOrigin == string(sestypes.DkimSigningAttributesOriginExternal)
}

// easyDKIMMissing reports whether an identity SES signs for itself has no
// Easy DKIM tokens: legacy verification, or DKIM NOT_STARTED. A replica
// (origin AWS_SES_<REGION>) is signed by its primary region's setup and a
// BYODKIM identity by the operator's key: neither is sesame's to change.
func easyDKIMMissing(id *IdentityInfo) bool {
	if id == nil || identityFailed(id) || len(id.Tokens) > 0 {
		return false
	}
	switch id.DKIMOrigin {
	case "", string(sestypes.DkimSigningAttributesOriginAwsSes):
	default:
		return false
	}
	return id.DKIMStatus == "" || id.DKIMStatus == string(sestypes.DkimStatusNotStarted)
}

// noEasyDKIMExplanation says what an identity without Easy DKIM means and
// what sesame does about it.
func noEasyDKIMExplanation(domain, region string, id *IdentityInfo) string {
	state := "not verified"
	if id.VerifiedForSending {
		state = "verified for sending (the older way, without DKIM)"
	}
	return fmt.Sprintf("%s is an SES identity in %s, %s, with DKIM %s and no Easy DKIM tokens: there are no DKIM records to publish, so SES would never report DKIM verified. sesame turns on Easy DKIM (RSA 2048), with your approval, and then publishes its three CNAMEs",
		domain, region, state, cmp.Or(id.DKIMStatus, "NOT_STARTED"))
}

// dkimNotes are the warnings about DKIM set up some other way than Easy
// DKIM, which sesame leaves as it is.
func dkimNotes(domain string, id *IdentityInfo) []string {
	var out []string
	switch {
	case byoDKIM(id):
		out = append(out, fmt.Sprintf("%s signs with your own DKIM key (BYODKIM, signing origin EXTERNAL): sesame does not manage its DKIM record (the TXT record with your public key at <selector>._domainkey.%s, which you publish) and plans no DKIM CNAMEs. It still manages the MAIL FROM and DMARC records and waits for SES's DKIM status (now %s)",
			domain, domain, cmp.Or(id.DKIMStatus, "PENDING")))
	case strings.HasPrefix(id.DKIMOrigin, string(sestypes.DkimSigningAttributesOriginAwsSes)+"_"):
		out = append(out, fmt.Sprintf("%s is a replica whose DKIM is signed from another region (signing origin %s): sesame plans no DKIM records for it here", domain, id.DKIMOrigin))
	case len(id.Tokens) > 0 && !id.DKIMSigning && id.DKIMStatus != "":
		out = append(out, fmt.Sprintf("DKIM signing is turned off for %s: SES sends its mail unsigned. Turn it on in the SES console, or: aws sesv2 put-email-identity-dkim-attributes --email-identity %s --signing-enabled", domain, domain))
	}
	if id.ConfigurationSet != "" {
		out = append(out, fmt.Sprintf("%s has the default configuration set %s: SES applies it to every message and authorizes the send against it too, which the SMTP user's policy allows (configuration-set/* in this region)", domain, id.ConfigurationSet))
	}
	return out
}

// enableEasyDKIM turns on Easy DKIM (RSA 2048) for an identity without
// it and keeps the tokens SES answers with, for the dns step.
func enableEasyDKIM(ctx context.Context, env *Env, id *IdentityInfo) error {
	domain := env.Answers.Domain
	out, err := env.Clients.SES.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity:           aws.String(domain),
		SigningAttributesOrigin: sestypes.DkimSigningAttributesOriginAwsSes,
		SigningAttributes:       &sestypes.DkimSigningAttributes{NextSigningKeyLength: sestypes.DkimSigningKeyLengthRsa2048Bit},
	})
	if err != nil {
		return awsapi.Explain("ses:PutEmailIdentityDkimSigningAttributes", identityARN(env), err)
	}
	id.Tokens, id.DKIMStatus = out.DkimTokens, string(out.DkimStatus)
	id.DKIMOrigin, id.DKIMSigning = string(sestypes.DkimSigningAttributesOriginAwsSes), true
	env.Info("identity", "turned on Easy DKIM for %s: SES gave %d tokens, whose CNAMEs the dns step publishes", domain, len(out.DkimTokens))
	return nil
}
