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

// SMTPUserPolicy is the SMTP user's inline policy: ses:SendRawEmail (what
// the SMTP interface checks) on this domain's identity in this region
// only. The document is built the same way every time, so a comparison
// with what IAM holds is stable.
func SMTPUserPolicy(region, account, domain string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":      "SesameSendOnly",
			"Effect":   "Allow",
			"Action":   "ses:SendRawEmail",
			"Resource": fmt.Sprintf("arn:aws:ses:%s:%s:identity/%s", region, account, domain),
		}},
	}
	out, err := json.Marshal(doc) // map keys are sorted: deterministic
	if err != nil {
		panic(err)
	}
	return string(out)
}
