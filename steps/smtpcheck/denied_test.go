package smtpcheck

import (
	"strings"
	"testing"
)

// TestExplainSendAccessDenied: a 554 Access denied names the resource SES
// checked and what it is (sender, sandbox recipient, configuration set),
// instead of "run sesame again", which fixed nothing when the policy was
// sesame's own domain-scoped one.
func TestExplainSendAccessDenied(t *testing.T) {
	const user = "Access denied: User `arn:aws:iam::123456789012:user/ses-smtp-example-com' is not authorized to perform `ses:SendRawEmail' on resource "
	m := Message{From: "sesame-test@example.com", To: "ops@example.net", Region: "us-east-1"}
	tests := []struct{ resource, want string }{
		{"arn:aws:ses:us-east-1:123456789012:identity/ops@example.net", "the recipient's identity, which SES checks in the sandbox"},
		{"arn:aws:ses:us-east-1:123456789012:identity/example.com", "the sender's identity"},
		{"arn:aws:ses:us-east-1:123456789012:configuration-set/tracking", "the configuration set the message uses"},
	}
	for _, tt := range tests {
		err := ExplainSend(&Error{Stage: "data", Code: 554, Msg: user + "`" + tt.resource + "'"}, m)
		if err == nil || !strings.Contains(err.Error(), "on "+tt.resource+" ("+tt.want) || !strings.Contains(err.Error(), "any address at example.com") {
			t.Errorf("%s: %v", tt.resource, err)
		}
	}
}
