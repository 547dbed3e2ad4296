package ses

import (
	"encoding/json"
	"fmt"
)

// LegacySMTPUserPolicyName is the inline policy older sesame versions put on
// the SMTP user, one for every region: a second region's setup replaced the
// first region's grant. It still counts when it grants the region set up.
const LegacySMTPUserPolicyName = "sesame-ses-send"

// SMTPUserPolicyName is the inline policy sesame puts on the SMTP user for
// one region: one domain set up in two regions shares the user, and each
// region's setup writes only its own policy, so neither takes the other's
// permission away. (One policy holding every region would need a
// read-modify-write that two concurrent setups could race.)
func SMTPUserPolicyName(region string) string {
	return LegacySMTPUserPolicyName + "-" + region
}

// SMTPUserPolicy is SMTPUserPolicyIn with the partition of region, for
// callers that know no caller ARN.
func SMTPUserPolicy(region, account, domain string) string {
	return SMTPUserPolicyIn(PartitionOfRegion(region), region, account, domain)
}

// SMTPUserPolicyIn is the SMTP user's inline policy: ses:SendRawEmail (the
// one action the SMTP interface checks) on this account's identities and
// configuration sets in this region, and only when the From address is at
// this domain. The document is built the same way every time, so a
// comparison with what IAM holds is stable.
//
// Why this form and not the domain identity's ARN alone (Amazon SES
// Developer Guide, "Identity and access management in Amazon SES"):
//   - "Restricting the action": "If the IAM user will be using the SMTP
//     interface, you must allow access to ses:SendRawEmail at a minimum",
//     and for sending actions Resource names the identities the user may
//     send from.
//   - In the sandbox SES also authorizes the send against each recipient's
//     identity (the 554 "not authorized to perform `ses:SendRawEmail' on
//     resource `…:identity/<recipient>'" users of a domain-scoped policy
//     report; Developer Guide, "Request production access": in the sandbox
//     you may only send to verified identities), and against
//     configuration-set/<name> when the identity has a default
//     configuration set or the message names one (X-SES-CONFIGURATION-SET).
//     A verified address at the domain is its own identity with its own
//     ARN. So the resources are identity/* and configuration-set/* of this
//     account and region: the region is fixed by the ARNs (the guide lists
//     only aws:CurrentTime, aws:EpochTime, aws:SecureTransport,
//     aws:SourceIp and aws:UserAgent as the AWS-wide keys SES implements,
//     so aws:RequestedRegion is not relied on).
//   - "Restricting email addresses": ses:FromAddress applies to
//     SendRawEmail and restricts the From address; StringLike "*@domain"
//     keeps the user to addresses at this domain, so the wide resources
//     do not let it send as another identity of the account. SES matches
//     these keys case-sensitively ("Sending policy examples": StringEquals
//     and StringLike "are for case-sensitive string matching"), so the
//     domain is written as sesame keeps it, in lower case.
func SMTPUserPolicyIn(partition, region, account, domain string) string {
	arn := func(resource string) string {
		return fmt.Sprintf("arn:%s:ses:%s:%s:%s", partition, region, account, resource)
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":      "SesameSendAsDomain",
			"Effect":   "Allow",
			"Action":   "ses:SendRawEmail",
			"Resource": []string{arn("identity/*"), arn("configuration-set/*")},
			"Condition": map[string]any{
				"StringLike": map[string]any{"ses:FromAddress": "*@" + domain},
			},
		}},
	}
	out, err := json.Marshal(doc) // map keys are sorted: deterministic
	if err != nil {
		panic(err)
	}
	return string(out)
}
