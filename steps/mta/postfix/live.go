package postfix

import (
	"context"
	"fmt"
	"strings"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
)

// AccessKey is an IAM access key as ListAccessKeys reports it.
type AccessKey struct {
	ID, Status string
}

// LiveAPI is what the live checks ask AWS and SES; the command wires it
// to the SDK clients and the SMTP login test, so this package stays free
// of both.
type LiveAPI struct {
	// AccessKeys lists the IAM user's access keys.
	AccessKeys func(ctx context.Context, user string) ([]AccessKey, error)
	// Verified reports whether domain is verified for sending in region.
	Verified func(ctx context.Context, region, domain string) (bool, error)
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
