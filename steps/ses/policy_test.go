package ses

import (
	"encoding/json"
	"testing"
)

func TestSMTPUserPolicy(t *testing.T) {
	tests := []struct {
		region, account, domain string
		wantName, wantResource  string
	}{
		{"eu-west-1", "123456789012", "example.com", "sesame-ses-send-eu-west-1", "arn:aws:ses:eu-west-1:123456789012:identity/example.com"},
		{"us-east-1", "210987654321", "mail.example.org", "sesame-ses-send-us-east-1", "arn:aws:ses:us-east-1:210987654321:identity/mail.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			if got := SMTPUserPolicyName(tt.region); got != tt.wantName {
				t.Errorf("SMTPUserPolicyName = %q, want %q", got, tt.wantName)
			}
			doc := SMTPUserPolicy(tt.region, tt.account, tt.domain)
			if again := SMTPUserPolicy(tt.region, tt.account, tt.domain); again != doc {
				t.Errorf("the document is not stable:\n%s\n%s", doc, again)
			}
			var got struct {
				Version   string
				Statement []struct{ Sid, Effect, Action, Resource string }
			}
			if err := json.Unmarshal([]byte(doc), &got); err != nil {
				t.Fatalf("%s: %v", doc, err)
			}
			if got.Version != "2012-10-17" || len(got.Statement) != 1 {
				t.Fatalf("document %s", doc)
			}
			// Send-only, on this one identity: never ses:* or a wildcard.
			if s := got.Statement[0]; s.Effect != "Allow" || s.Action != "ses:SendRawEmail" || s.Resource != tt.wantResource {
				t.Errorf("statement %+v, want Allow ses:SendRawEmail on %s", s, tt.wantResource)
			}
		})
	}
}
