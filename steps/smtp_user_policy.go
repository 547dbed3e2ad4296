package steps

import (
	"encoding/json"
	"net/url"
	"reflect"
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
