package steps

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
)

// SMTPPolicyName is the inline policy older sesame versions put on the
// SMTP user, one for every region: a second region's setup replaced the
// first region's grant. It still counts when it grants the region set up.
const SMTPPolicyName = "sesame-ses-send"

// SMTPPolicyNameFor is the inline policy sesame puts on the SMTP user for
// one region: one domain set up in two regions shares the user, and each
// region's setup writes only its own policy, so neither takes the other's
// permission away. (One policy holding every region would need a
// read-modify-write that two concurrent setups could race.)
func SMTPPolicyNameFor(region string) string {
	return SMTPPolicyName + "-" + region
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
