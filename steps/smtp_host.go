package steps

import (
	"context"
	"fmt"

	"github.com/sesame-tool/sesame/steps/ses"
)

// smtpHostControl is an SES SMTP host that exists in every public DNS
// view: the first region's (AWS General Reference, "Amazon Simple Email
// Service endpoints and quotas", SMTP endpoints). A resolver that cannot
// find it cannot see AWS's names at all (no network, a split-horizon or
// sandboxed resolver), so its silence about another region's host
// proves nothing.
var smtpHostControl = ses.SMTPHost("us-east-1")

// CheckSMTPHost refuses a region whose SMTP host does not exist in DNS,
// before the run's first change (it runs in the relay step's Preflight):
// the region list (ses.SMTPRegions) follows the General Reference's SMTP
// endpoint table, and DNS is the truth where the two disagree, so a host
// AWS does not serve stops the run with exit 2 before the IAM user is
// made, not at the SMTP login test after it.
//
// It asks the run's resolver (--resolver, else the system's) for the A
// records of email-smtp.<region>.amazonaws.com, after the control host.
// It says nothing, and lets the run go on, when it cannot tell: in
// --demo, without a resolver, when a lookup fails, or when the resolver
// does not know the control host either. sesame-sim's DNS answers for
// these hosts (as the public DNS does), so runs against it check.
func CheckSMTPHost(ctx context.Context, env *Env) error {
	region := env.Answers.Region
	if env.Options.Demo || env.DNS == nil || region == "" {
		return nil
	}
	host := ses.SMTPHost(region)
	if host != smtpHostControl {
		control, err := env.DNS.Lookup(ctx, smtpHostControl, "A")
		if err != nil || len(control) == 0 {
			return nil
		}
	}
	addrs, err := env.DNS.Lookup(ctx, host, "A")
	if err != nil || len(addrs) > 0 {
		return nil
	}
	return &InputError{Field: "region", Flag: "--region", Msg: fmt.Sprintf(
		"SES has no SMTP endpoint in %s: DNS says %s does not exist (while %s does), so Postfix could not relay there; nothing was changed. Choose a region whose SMTP host exists (the \"SMTP endpoints\" table of the AWS General Reference's SES page lists them)",
		region, host, smtpHostControl)}
}
