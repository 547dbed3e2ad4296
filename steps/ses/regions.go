package ses

import (
	"slices"
	"strings"
)

// smtpRegions are the regions with an SES SMTP endpoint
// (email-smtp.<region>.amazonaws.com), as listed in the AWS General
// Reference, "Amazon Simple Email Service endpoints and quotas", section
// "SMTP endpoints" (docs.aws.amazon.com/general/latest/gr/ses.html). The
// Amazon SES Developer Guide, "Regions and Amazon SES", sends readers to
// that table for the SMTP hosts. AWS's own SMTP-credentials sample (SES
// Developer Guide, "Obtaining Amazon SES SMTP credentials", SMTP_REGIONS)
// is older and lists fewer regions, but none outside this list: it has
// eu-south-1 (Milan), and none of noSMTPRegions. When AWS adds an SMTP
// endpoint, add its region here from the table. Opt-in regions (af-south-1, ap-southeast-3,
// eu-south-1, il-central-1, me-south-1) must be enabled for the account
// first (see awsapi.OptInRegions). Where DNS can answer, the run also
// resolves the region's SMTP host before its first change
// (steps.CheckSMTPHost), so a host that does not exist stops the run
// before the IAM user is made.
var smtpRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"af-south-1", "ap-southeast-3", "ap-south-1", "ap-northeast-3", "ap-northeast-2",
	"ap-southeast-1", "ap-southeast-2", "ap-northeast-1",
	"ca-central-1",
	"eu-central-1", "eu-west-1", "eu-west-2", "eu-south-1", "eu-west-3", "eu-north-1",
	"il-central-1", "me-south-1", "sa-east-1",
	"us-gov-east-1", "us-gov-west-1",
}

// noSMTPRegions run the SES API (the General Reference's "Service API
// endpoints" table lists email.<region>.amazonaws.com) without a row in
// its "SMTP endpoints" table, and users report no email-smtp host there
// (eu-central-2, ap-south-2): a Postfix relay cannot use them.
var noSMTPRegions = []string{"ap-south-2", "ap-southeast-5", "ca-west-1", "eu-central-2", "me-central-1"}

// regionalDKIMZone are regions whose Easy DKIM CNAMEs point into
// dkim.<region>.amazonses.com rather than dkim.amazonses.com (AWS General
// Reference, ses_dkim_domains). The API's SigningHostedZone wins when given.
var regionalDKIMZone = map[string]bool{
	"af-south-1": true, "ap-northeast-3": true, "ap-southeast-3": true, "eu-south-1": true,
	"il-central-1": true, "us-gov-east-1": true, "ap-south-2": true, "ap-southeast-5": true,
	"ca-west-1": true, "eu-central-2": true, "me-central-1": true,
}

// SMTPRegions returns the SES regions with an SMTP endpoint, in a stable order.
func SMTPRegions() []string { return slices.Clone(smtpRegions) }

// NoSMTPRegions returns the regions where SES runs without an SMTP
// endpoint, so a Postfix relay cannot use them.
func NoSMTPRegions() []string { return slices.Clone(noSMTPRegions) }

// SMTPHost is the SES SMTP endpoint of a region.
func SMTPHost(region string) string { return "email-smtp." + region + ".amazonaws.com" }

// FeedbackHost is the MAIL FROM MX target of a region.
func FeedbackHost(region string) string { return "feedback-smtp." + region + ".amazonses.com" }

// DKIMZone is where Easy DKIM CNAMEs point in a region, when the API does
// not say (DkimAttributes.SigningHostedZone).
func DKIMZone(region string) string {
	if regionalDKIMZone[region] {
		return "dkim." + region + ".amazonses.com"
	}
	return "dkim.amazonses.com"
}

// RegionOfSMTPHost returns the region of an SES SMTP host
// ("email-smtp.eu-west-1.amazonaws.com" → "eu-west-1"), or "".
func RegionOfSMTPHost(host string) string {
	r, ok := strings.CutPrefix(host, "email-smtp.")
	if !ok {
		return ""
	}
	r, ok = strings.CutSuffix(r, ".amazonaws.com")
	if !ok || strings.Contains(r, ".") {
		return ""
	}
	return r
}
