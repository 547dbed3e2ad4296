package ses

import (
	"encoding/json"
	"testing"
)

// TestSMTPUserPolicy: the SMTP user may send ses:SendRawEmail as addresses
// at its domain, on the identities and configuration sets of its region,
// account and partition, and nothing else (Amazon SES Developer Guide,
// "Identity and access management in Amazon SES", "Restricting the action"
// and "Restricting email addresses"). The old form, one domain identity's
// ARN, failed in the sandbox and with configuration sets.
func TestSMTPUserPolicy(t *testing.T) {
	tests := []struct {
		partition, region, account, domain string
		wantName                           string
		wantResources                      []string
	}{
		{"aws", "eu-west-1", "123456789012", "example.com", "sesame-ses-send-eu-west-1",
			[]string{"arn:aws:ses:eu-west-1:123456789012:identity/*", "arn:aws:ses:eu-west-1:123456789012:configuration-set/*"}},
		{"aws", "us-east-1", "210987654321", "mail.example.org", "sesame-ses-send-us-east-1",
			[]string{"arn:aws:ses:us-east-1:210987654321:identity/*", "arn:aws:ses:us-east-1:210987654321:configuration-set/*"}},
		{"aws-us-gov", "us-gov-west-1", "123456789012", "example.com", "sesame-ses-send-us-gov-west-1",
			[]string{"arn:aws-us-gov:ses:us-gov-west-1:123456789012:identity/*", "arn:aws-us-gov:ses:us-gov-west-1:123456789012:configuration-set/*"}},
	}
	for _, tt := range tests {
		t.Run(tt.partition+"/"+tt.region, func(t *testing.T) {
			if got := SMTPUserPolicyName(tt.region); got != tt.wantName {
				t.Errorf("SMTPUserPolicyName = %q, want %q", got, tt.wantName)
			}
			doc := SMTPUserPolicyIn(tt.partition, tt.region, tt.account, tt.domain)
			if again := SMTPUserPolicyIn(tt.partition, tt.region, tt.account, tt.domain); again != doc {
				t.Errorf("the document is not stable:\n%s\n%s", doc, again)
			}
			if byRegion := SMTPUserPolicy(tt.region, tt.account, tt.domain); byRegion != doc {
				t.Errorf("SMTPUserPolicy takes the region's partition:\n%s\nwant\n%s", byRegion, doc)
			}
			var got struct {
				Version   string
				Statement []struct {
					Sid, Effect, Action string
					Resource            []string
					Condition           map[string]map[string]string
				}
			}
			if err := json.Unmarshal([]byte(doc), &got); err != nil {
				t.Fatalf("%s: %v", doc, err)
			}
			if got.Version != "2012-10-17" || len(got.Statement) != 1 {
				t.Fatalf("document %s", doc)
			}
			// Send-only (never ses:*), this region's identities and
			// configuration sets, From at the domain.
			s := got.Statement[0]
			if s.Effect != "Allow" || s.Action != "ses:SendRawEmail" {
				t.Errorf("statement %+v, want Allow ses:SendRawEmail", s)
			}
			if len(s.Resource) != len(tt.wantResources) || s.Resource[0] != tt.wantResources[0] || s.Resource[1] != tt.wantResources[1] {
				t.Errorf("resources %q, want %q", s.Resource, tt.wantResources)
			}
			if len(s.Condition) != 1 || s.Condition["StringLike"]["ses:FromAddress"] != "*@"+tt.domain {
				t.Errorf("condition %v, want StringLike ses:FromAddress *@%s only", s.Condition, tt.domain)
			}
		})
	}
}

func TestPartitions(t *testing.T) {
	tests := []struct{ in, byARN, byRegion string }{
		{"arn:aws:iam::123456789012:user/ops", "aws", ""},
		{"arn:aws-us-gov:iam::123456789012:user/ops", "aws-us-gov", ""},
		{"arn:aws-cn:sts::123456789012:assumed-role/r/s", "aws-cn", ""},
		{"not-an-arn", "", ""},
		{"us-gov-west-1", "", "aws-us-gov"},
		{"us-gov-east-1", "", "aws-us-gov"},
		{"cn-northwest-1", "", "aws-cn"},
		{"eu-west-1", "", "aws"},
	}
	for _, tt := range tests {
		if got := PartitionOfARN(tt.in); got != tt.byARN {
			t.Errorf("PartitionOfARN(%q) = %q, want %q", tt.in, got, tt.byARN)
		}
		if tt.byRegion != "" {
			if got := PartitionOfRegion(tt.in); got != tt.byRegion {
				t.Errorf("PartitionOfRegion(%q) = %q, want %q", tt.in, got, tt.byRegion)
			}
		}
	}
}
