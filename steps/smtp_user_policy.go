package steps

import (
	"encoding/json"
	"net/url"
	"reflect"

	"github.com/sesame-tool/sesame/steps/ses"
)

// The SMTP user's policy document and its names are SES facts:
// ses.SMTPUserPolicy, ses.SMTPUserPolicyName, ses.LegacySMTPUserPolicyName.
// What stays here is comparing a document with what IAM holds.

// samePolicy reports whether the document IAM returned (URL-encoded, as
// GetUserPolicy gives it) means the same as want: JSON compared as values,
// with a one-element list equal to its element, as IAM treats them.
func samePolicy(encoded, want string) bool {
	got, err := url.QueryUnescape(encoded)
	if err != nil {
		got = encoded
	}
	var a, b any
	if json.Unmarshal([]byte(got), &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	return reflect.DeepEqual(normalizePolicy(a), normalizePolicy(b))
}

func normalizePolicy(v any) any {
	switch t := v.(type) {
	case []any:
		if len(t) == 1 {
			return normalizePolicy(t[0])
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalizePolicy(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = normalizePolicy(e)
		}
		return out
	}
	return v
}

// decodedPolicy is what a plan shows as the current document.
func decodedPolicy(encoded string) string {
	if s, err := url.QueryUnescape(encoded); err == nil {
		return s
	}
	return encoded
}

// partition is the AWS partition sesame runs in, taken from the caller's
// ARN (STS GetCallerIdentity) so GovCloud and China get their own
// "arn:aws-us-gov:…" ARNs: IAM refuses a policy naming another partition
// with MalformedPolicyDocument. Without a caller ARN (tests, a dry run
// before the account step) the region's partition stands in.
func (env *Env) partition() string {
	if env.Facts.Account != nil {
		if p := ses.PartitionOfARN(env.Facts.Account.ARN); p != "" {
			return p
		}
	}
	return ses.PartitionOfRegion(env.Answers.Region)
}

// smtpUserPolicy is the SMTP user's policy document for this run's
// partition, region, account and domain (ses.SMTPUserPolicyIn says why it
// has this form).
func (env *Env) smtpUserPolicy() string {
	return ses.SMTPUserPolicyIn(env.partition(), env.Answers.Region, env.Facts.Account.ID, env.Answers.Domain)
}
