package postfix

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
)

// AccessKey is an IAM access key as ListAccessKeys reports it.
type AccessKey struct {
	ID, Status string
	// Created is the key's CreateDate (zero when IAM did not say).
	Created time.Time
}

// LiveAPI is what the live checks ask AWS and SES; the command wires it
// to the SDK clients and the SMTP login test, so this package stays free
// of both.
type LiveAPI struct {
	// AccessKeys lists the IAM user's access keys.
	AccessKeys func(ctx context.Context, user string) ([]AccessKey, error)
	// Verified reports whether domain is verified for sending in region.
	Verified func(ctx context.Context, region, domain string) (bool, error)
	// SendPolicy asks IAM (iam:SimulatePrincipalPolicy) whether user's
	// policies allow ses:SendRawEmail, the action SES's SMTP interface
	// authorizes, on domain's identity in region with the From address
	// from. A call refused to the identity running doctor is a
	// *DeniedError.
	SendPolicy func(ctx context.Context, user, region, domain, from string) (SendCheck, error)
	// Production reports whether the account left the sandbox in region.
	Production func(ctx context.Context, region string) (bool, error)
	// Login logs in to the SMTP endpoint with the credentials and sends
	// nothing.
	Login func(ctx context.Context, c mta.Credentials) error
}

// LiveOptions name what the configuration cannot: the domain and the IAM
// user the credentials belong to (from sesame's saved setup or flags).
type LiveOptions struct {
	Domain, User string
	// From is the sender address the policy check asks about (SES checks
	// ses:FromAddress conditions against it); "" is postmaster@Domain,
	// the one address every mail domain has (RFC 5321, 4.5.1).
	From string
	// KeyAge, when set, says how old the installed key is and warns when
	// it is due for rotation (the wizard's rule: steps.KeyAge), so doctor
	// and status agree on when a key is too old.
	KeyAge func(id string, created time.Time) (detail, warning string)
}

// SendCheck is IAM's answer to whether a user may send as a domain.
type SendCheck struct {
	// UserARN is the user's ARN; Resource the identity ARN asked about.
	UserARN, Resource string
	// Decision is IAM's EvalDecision: "allowed", "explicitDeny" or
	// "implicitDeny" (IAM API Reference, EvaluationResult).
	Decision string
	// Missing are condition keys the user's policies read that the check
	// could not give (MissingContextValues): a denial may then depend on
	// what each message carries.
	Missing []string
}

// IAM's decisions (SendCheck.Decision).
const (
	DecisionAllowed      = "allowed"
	DecisionExplicitDeny = "explicitDeny"
	DecisionImplicitDeny = "implicitDeny"
)

// DeniedError is a live check's AWS call that the identity running
// doctor may not make: the finding names the permission.
type DeniedError struct {
	// Action is the IAM action refused ("iam:SimulatePrincipalPolicy").
	Action string
	Err    error
}

func (e *DeniedError) Error() string { return e.Err.Error() }
func (e *DeniedError) Unwrap() error { return e.Err }

// arnFields are the partition and account of an ARN
// (arn:partition:service:region:account:resource), "" when it is not one.
func arnFields(arn string) (partition, account string) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 || f[0] != "arn" {
		return "", ""
	}
	return f[1], f[4]
}

// IdentityARN is the ARN of domain's SES identity in region, in the
// partition and account of userARN (the SMTP user's): the resource SES
// authorizes an SMTP send from the domain against.
func IdentityARN(userARN, region, domain string) string {
	partition, account := arnFields(userARN)
	return fmt.Sprintf("arn:%s:ses:%s:%s:identity/%s", partition, region, account, domain)
}

// Live checks, with AWS, the relay the doctor found: the access key in
// the password map exists and is active, the domain is verified in the
// relay host's region, the account's sandbox status there, and an SMTP
// login with the installed credentials. Each check that cannot run (no
// credentials found, a call refused) says so.
func Live(ctx context.Context, d Diagnosis, api LiveAPI, o LiveOptions) []Finding {
	var out []Finding
	c := d.Installed
	host, _, _, _ := ParseRelayHost(d.RelayHost)
	region := ses.RegionOfSMTPHost(host)
	if c == nil || region == "" {
		return append(out, Finding{ID: "live", Severity: SeverityWarning,
			Summary: "the live checks need an SES relay host with credentials in the password map; the offline findings above say what is missing",
			Fix:     "fix the offline findings first"})
	}
	if o.User != "" && api.AccessKeys != nil {
		keys, err := api.AccessKeys(ctx, o.User)
		switch {
		case err != nil:
			out = append(out, Finding{ID: "live-key", Severity: SeverityWarning, Summary: fmt.Sprintf("the access keys of IAM user %s could not be listed: %v", o.User, err),
				Fix: "give sesame's operator policy (sesame policy) to the identity running doctor"})
		default:
			f := Finding{ID: "live-key", Severity: SeverityBroken,
				Summary: fmt.Sprintf("the access key %s in the password map is not one of IAM user %s's keys (deleted, or another user's): SES answers 535", c.Username, o.User),
				Fix:     "run sesame again: its smtp-user step makes a key and writes its password"}
			for _, k := range keys {
				if k.ID != c.Username {
					continue
				}
				f = Finding{ID: "live-key", Severity: SeverityOK, Summary: fmt.Sprintf("the access key %s exists and is %s", c.Username, k.Status)}
				if o.KeyAge != nil && !k.Created.IsZero() {
					detail, warning := o.KeyAge(k.ID, k.Created)
					f.Summary += "; " + detail
					if warning != "" {
						out = append(out, Finding{ID: "live-key-age", Severity: SeverityWarning, Summary: warning,
							Fix: "sudo sesame rotate (a new key, its password installed and tested, then the old key deleted)"})
					}
				}
				if !strings.EqualFold(k.Status, "Active") {
					f = Finding{ID: "live-key", Severity: SeverityBroken,
						Summary: fmt.Sprintf("the access key %s is %s: SES answers 535", c.Username, k.Status),
						Fix:     fmt.Sprintf("activate it (aws iam update-access-key --user-name %s --access-key-id %s --status Active) or run sesame for a new key", o.User, c.Username)}
				}
			}
			out = append(out, f)
		}
	}
	if o.Domain != "" && api.Verified != nil {
		ok, err := api.Verified(ctx, region, o.Domain)
		switch {
		case err != nil:
			out = append(out, Finding{ID: "live-identity", Severity: SeverityWarning, Summary: fmt.Sprintf("whether %s is verified in %s could not be read: %v", o.Domain, region, err)})
		case !ok:
			out = append(out, Finding{ID: "live-identity", Severity: SeverityBroken,
				Summary: fmt.Sprintf("%s is not verified for sending in %s, the relay host's region: SES answers 554 Email address is not verified", o.Domain, region),
				Fix:     fmt.Sprintf("verify it there: sesame --domain %s --region %s", o.Domain, region)})
		default:
			out = append(out, Finding{ID: "live-identity", Severity: SeverityOK, Summary: fmt.Sprintf("%s is verified in %s", o.Domain, region)})
		}
	}
	if o.Domain != "" && o.User != "" && api.SendPolicy != nil {
		out = append(out, sendPolicyFinding(ctx, api, o, region))
	}
	if api.Production != nil {
		prod, err := api.Production(ctx, region)
		switch {
		case err != nil:
			out = append(out, Finding{ID: "live-sandbox", Severity: SeverityWarning, Summary: fmt.Sprintf("the sandbox status in %s could not be read: %v", region, err)})
		case !prod:
			out = append(out, Finding{ID: "live-sandbox", Severity: SeverityWarning,
				Summary: fmt.Sprintf("the account is in the SES sandbox in %s: mail to recipients that are not verified bounces with 554", region),
				Fix:     "request production access: sesame --request-production"})
		default:
			out = append(out, Finding{ID: "live-sandbox", Severity: SeverityOK, Summary: "the account has production access in " + region})
		}
	}
	if api.Login != nil {
		if err := api.Login(ctx, *c); err != nil {
			out = append(out, Finding{ID: "live-login", Severity: SeverityBroken,
				Summary: fmt.Sprintf("the SMTP login to %s with the installed credentials failed: %v", d.RelayHost, err),
				Fix:     "see the finding above it, or derive the password for the relay host's region: sesame smtp-password --region " + region})
		} else {
			out = append(out, Finding{ID: "live-login", Severity: SeverityOK, Summary: fmt.Sprintf("the SMTP login to %s with the installed credentials works (no mail sent)", d.RelayHost)})
		}
	}
	return out
}

// sendPolicyFinding is the live-policy check: may the SMTP user send as
// the domain in the relay host's region, as IAM's policy simulator says.
func sendPolicyFinding(ctx context.Context, api LiveAPI, o LiveOptions, region string) Finding {
	from := o.From
	if from == "" {
		from = "postmaster@" + o.Domain
	}
	f := Finding{ID: "live-policy"}
	c, err := api.SendPolicy(ctx, o.User, region, o.Domain, from)
	var denied *DeniedError
	switch {
	case errors.As(err, &denied):
		f.Severity = SeverityWarning
		f.Summary = fmt.Sprintf("whether IAM user %s may send as %s in %s could not be checked: the AWS identity running doctor may not call %s", o.User, o.Domain, region, denied.Action)
		f.Fix = fmt.Sprintf("grant it %s on the user (sesame policy prints sesame's operator policy, which has it), then run sesame doctor again", denied.Action)
		return f
	case err != nil:
		f.Severity = SeverityWarning
		f.Summary = fmt.Sprintf("whether IAM user %s may send as %s in %s could not be checked: %v", o.User, o.Domain, region, err)
		f.Fix = "run sesame doctor again once AWS answers"
		return f
	}
	refused := fmt.Sprintf("SES answers 554 Access denied: User `%s' is not authorized to perform `ses:SendRawEmail' on resource `%s'", c.UserARN, c.Resource)
	switch c.Decision {
	case DecisionAllowed:
		f.Severity = SeverityOK
		f.Summary = fmt.Sprintf("IAM user %s may send as %s in %s (ses:SendRawEmail, From %s)", o.User, o.Domain, region, from)
	case DecisionExplicitDeny:
		f.Severity = SeverityBroken
		f.Summary = fmt.Sprintf("a policy of IAM user %s denies ses:SendRawEmail on %s in %s: %s", o.User, o.Domain, region, refused)
		f.Fix = fmt.Sprintf("remove that Deny from the user's policies and its groups' (aws iam list-user-policies --user-name %s; aws iam list-groups-for-user --user-name %s), then run sesame doctor again", o.User, o.User)
	case DecisionImplicitDeny:
		f.Severity = SeverityBroken
		f.Summary = fmt.Sprintf("no policy of IAM user %s allows ses:SendRawEmail on %s in %s, the relay host's region (From %s): %s", o.User, o.Domain, region, from, refused)
		if len(c.Missing) > 0 {
			// The Allow may hold for real messages: it reads keys the
			// check could not give.
			f.Severity = SeverityWarning
			f.Summary = fmt.Sprintf("IAM user %s may send as %s in %s only under conditions on %s, which doctor cannot know: where they do not hold, %s", o.User, o.Domain, region, strings.Join(c.Missing, ", "), refused)
		}
		f.Fix = attachPolicyFix(c, o, region)
	default:
		f.Severity = SeverityWarning
		f.Summary = fmt.Sprintf("IAM answered %q for whether IAM user %s may send as %s in %s", c.Decision, o.User, o.Domain, region)
		f.Fix = attachPolicyFix(c, o, region)
	}
	return f
}

// attachPolicyFix says how to give the user sesame's send policy for the
// region: the wizard's smtp-user step puts it, or the AWS CLI does.
func attachPolicyFix(c SendCheck, o LiveOptions, region string) string {
	partition, account := arnFields(c.UserARN)
	if partition == "" {
		partition = ses.PartitionOfRegion(region)
	}
	doc := ses.SMTPUserPolicyIn(partition, region, account, o.Domain)
	return fmt.Sprintf("attach sesame's send policy for %s: sesame --domain %s --region %s --smtp-user %s (its smtp-user step puts it), or aws iam put-user-policy --user-name %s --policy-name %s --policy-document '%s'",
		region, o.Domain, region, o.User, o.User, ses.SMTPUserPolicyName(region), doc)
}
