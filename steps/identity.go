package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/ses"
)

// Identity makes the domain an SES identity in the region with Easy DKIM
// (RSA 2048). An existing identity is reused; a FAILED one (SES gave up
// looking for its DKIM records) is deleted and created again, with new
// tokens, only with the operator's consent (--recreate-identity or a yes).
type Identity struct{}

// ID is the step's stable key.
func (Identity) ID() string { return "identity" }

// Title is the step's name for the operator.
func (Identity) Title() string { return "Create the SES identity with Easy DKIM" }

// failedExplanation says what a FAILED identity means and what to do.
func failedExplanation(domain, region string, id *IdentityInfo) string {
	why := ""
	if id.ErrorType != "" {
		why = fmt.Sprintf(" (last error: %s)", id.ErrorType)
	}
	return fmt.Sprintf("SES gave up verifying %s in %s: it looked for the DKIM CNAME records for 72 hours without seeing them%s, and does not look again. "+
		"The fix is to delete the identity and create it again, which gives new DKIM tokens (and so new CNAMEs); sesame does that with --recreate-identity or when you say yes",
		domain, region, why)
}

func identityFailed(id *IdentityInfo) bool {
	return id != nil && (id.VerificationStatus == string(sestypes.VerificationStatusFailed) || id.DKIMStatus == string(sestypes.DkimStatusFailed))
}

// readIdentity asks SES about the domain and fills env.Facts.Identity; it
// returns nil (and clears the fact) when there is no such identity.
func readIdentity(ctx context.Context, env *Env) (*IdentityInfo, error) {
	domain, region := env.Answers.Domain, env.Answers.Region
	out, err := env.Clients.SES.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(domain)})
	var nf *sestypes.NotFoundException
	if errors.As(err, &nf) {
		env.Facts.Identity = nil
		return nil, nil
	}
	if err != nil {
		return nil, awsapi.Explain("ses:GetEmailIdentity", identityARN(env), err)
	}
	id := identityFromGet(domain, region, out)
	env.Facts.Identity = id
	return id, nil
}

// newIdentityInfo is the one mapping of SES's answer about a domain
// identity to IdentityInfo: whether it may send, and its Easy DKIM
// attributes (the signing zone defaults to the region's, see ses.DKIMZone).
// CreateEmailIdentity answers with these only; identityFromGet adds what
// GetEmailIdentity says besides.
func newIdentityInfo(domain, region string, verified bool, dkim *sestypes.DkimAttributes) *IdentityInfo {
	id := &IdentityInfo{Domain: domain, VerifiedForSending: verified, SigningHostedZone: ses.DKIMZone(region)}
	if dkim != nil {
		id.DKIMStatus = string(dkim.Status)
		id.DKIMOrigin = string(dkim.SigningAttributesOrigin)
		id.DKIMSigning = dkim.SigningEnabled
		id.Tokens = dkim.Tokens
		if z := aws.ToString(dkim.SigningHostedZone); z != "" {
			id.SigningHostedZone = z
		}
	}
	return id
}

// identityFromGet maps a GetEmailIdentity answer: newIdentityInfo's
// fields, the verification status and error, and the MAIL FROM domain.
func identityFromGet(domain, region string, out *sesv2.GetEmailIdentityOutput) *IdentityInfo {
	id := newIdentityInfo(domain, region, out.VerifiedForSendingStatus, out.DkimAttributes)
	id.VerificationStatus = string(out.VerificationStatus)
	id.ConfigurationSet = aws.ToString(out.ConfigurationSetName)
	if m := out.MailFromAttributes; m != nil {
		id.MailFromDomain = aws.ToString(m.MailFromDomain)
		id.MailFromStatus = string(m.MailFromDomainStatus)
	}
	if v := out.VerificationInfo; v != nil {
		id.ErrorType = string(v.ErrorType)
	}
	return id
}

// identityARN is the domain identity's ARN when the account is known, else
// the domain: errors name the resource the operator's policy must cover.
func identityARN(env *Env) string {
	if a := env.Facts.Account; a != nil && a.ID != "" {
		return fmt.Sprintf("arn:%s:ses:%s:%s:identity/%s", env.partition(), env.Answers.Region, a.ID, env.Answers.Domain)
	}
	return env.Answers.Domain
}

// Check reports whether the domain is an identity in the region. A FAILED
// identity is Todo when consent can still be given (the flag, or a
// question in an interactive run), and Failed with the explanation
// otherwise.
func (Identity) Check(ctx context.Context, env *Env) (Result, error) {
	domain, region := env.Answers.Domain, env.Answers.Region
	id, err := readIdentity(ctx, env)
	if err != nil {
		return Result{}, err
	}
	switch {
	case id == nil:
		return Result{Status: StatusTodo, Detail: fmt.Sprintf("%s is not an SES identity in %s yet", domain, region)}, nil
	case identityFailed(id):
		st := StatusTodo
		if !env.recreateIdentity() && env.Options.NoInput {
			st = StatusFailed
		}
		return Result{Status: st, Detail: failedExplanation(domain, region, id)}, nil
	}
	if easyDKIMMissing(id) {
		return Result{Status: StatusTodo, Detail: noEasyDKIMExplanation(domain, region, id)}, nil
	}
	res := Result{Status: StatusDone, Warnings: dkimNotes(domain, id)}
	switch {
	case id.VerifiedForSending:
		res.Detail = fmt.Sprintf("%s is an SES identity in %s, verified for sending (DKIM %s)", domain, region, id.DKIMStatus)
	default:
		res.Detail = fmt.Sprintf("%s is an SES identity in %s, not verified yet (DKIM %s): its DNS records come next", domain, region, cmp.Or(id.DKIMStatus, "NOT_STARTED"))
	}
	if id.VerificationStatus == string(sestypes.VerificationStatusTemporaryFailure) || id.DKIMStatus == string(sestypes.DkimStatusTemporaryFailure) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("SES cannot check %s's DKIM records just now (TEMPORARY_FAILURE): it keeps trying for 72 hours; check that the CNAMEs are still published", domain))
	}
	return res, nil
}

// Plan says the identity will be created, or, for a FAILED one, deleted
// and created again. Without --recreate-identity it asks for consent, and
// a refusal (or --no-input) stops the run with the explanation.
func (Identity) Plan(ctx context.Context, env *Env) (Plan, error) {
	domain, region := env.Answers.Domain, env.Answers.Region
	create := Change{Action: ActionCreate, Resource: "ses-identity", Name: domain, Value: "Easy DKIM, RSA 2048-bit keys, in " + region}
	id := env.Facts.Identity
	if easyDKIMMissing(id) {
		return Plan{
			Summary: fmt.Sprintf("turn on Easy DKIM for the SES identity %s in %s", domain, region),
			Changes: []Change{{Action: ActionUpdate, Resource: "ses-identity", Name: domain, Value: "Easy DKIM, RSA 2048-bit keys",
				Current: fmt.Sprintf("DKIM %s, no tokens", cmp.Or(id.DKIMStatus, "NOT_STARTED")),
				Note:    "SES gives three DKIM tokens; the dns step publishes their CNAMEs. The identity's verification stands meanwhile"}},
			NeedsApproval: true,
		}, nil
	}
	if !identityFailed(id) {
		return Plan{Summary: fmt.Sprintf("create the SES identity %s in %s with Easy DKIM", domain, region), Changes: []Change{create}, NeedsApproval: true}, nil
	}
	explain := failedExplanation(domain, region, id)
	if !env.recreateIdentity() && !env.Options.DryRun {
		ok, err := env.Prompt.Confirm(ctx, Question{
			ID: "recreate-identity", Step: "identity", Title: fmt.Sprintf("Delete the FAILED identity %s and create it again?", domain),
			Detail: explain, Flag: "--recreate-identity", Default: "n",
		})
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				return Plan{}, fmt.Errorf("%s: %w", explain, err)
			}
			return Plan{}, err
		}
		if !ok {
			return Plan{}, fmt.Errorf("%s; you declined, so nothing was changed: %w", explain, ErrDeclined)
		}
		env.Decisions.RecreateIdentity = true
	}
	create.Note = "new DKIM tokens: the old CNAMEs stop mattering and the dns step publishes the new ones"
	return Plan{
		Summary: fmt.Sprintf("re-create the FAILED SES identity %s in %s", domain, region),
		Changes: []Change{
			{Action: ActionDelete, Resource: "ses-identity", Name: domain, Current: fmt.Sprintf("verification %s, DKIM %s", id.VerificationStatus, id.DKIMStatus), Note: explain},
			create,
		},
		NeedsApproval: true,
	}, nil
}

// Apply creates the identity (an AlreadyExists race is success); a FAILED
// one is deleted first, only with consent.
func (Identity) Apply(ctx context.Context, env *Env) error {
	domain, region := env.Answers.Domain, env.Answers.Region
	id, err := readIdentity(ctx, env)
	if err != nil {
		return err
	}
	if easyDKIMMissing(id) {
		return enableEasyDKIM(ctx, env, id)
	}
	if id != nil && !identityFailed(id) {
		return nil // made meanwhile, or a repeated Apply
	}
	if id != nil {
		if !env.recreateIdentity() {
			return fmt.Errorf("%s: %w", failedExplanation(domain, region, id), &InputError{Field: "recreate-identity", Flag: "--recreate-identity", Msg: "deleting the FAILED identity needs your consent"})
		}
		_, err := env.Clients.SES.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String(domain)})
		var nf *sestypes.NotFoundException
		if err != nil && !errors.As(err, &nf) {
			return awsapi.Explain("ses:DeleteEmailIdentity", identityARN(env), err)
		}
		env.Info("identity", "deleted the FAILED identity %s in %s", domain, region)
	}
	made, err := env.Clients.SES.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{
		EmailIdentity:         aws.String(domain),
		DkimSigningAttributes: &sestypes.DkimSigningAttributes{NextSigningKeyLength: sestypes.DkimSigningKeyLengthRsa2048Bit},
	})
	var exists *sestypes.AlreadyExistsException
	switch {
	case errors.As(err, &exists):
		env.Info("identity", "%s was created meanwhile (another run or the console): reusing it", domain)
		_, err = readIdentity(ctx, env)
		return err
	case err != nil:
		return awsapi.Explain("ses:CreateEmailIdentity", identityARN(env), err)
	}
	env.Record.IdentityCreated = true
	if err := env.SaveState(); err != nil {
		return err
	}
	// CreateEmailIdentity answers with the DKIM tokens: no need to read
	// the new identity back (the Check after Apply reads it anyway).
	env.Facts.Identity = newIdentityInfo(domain, region, made.VerifiedForSendingStatus, made.DkimAttributes)
	return nil
}
