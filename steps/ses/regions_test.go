package ses

import (
	"slices"
	"testing"
)

func TestRegionFacts(t *testing.T) {
	tests := []struct {
		region, smtp, feedback, dkim string
	}{
		{"us-east-1", "email-smtp.us-east-1.amazonaws.com", "feedback-smtp.us-east-1.amazonses.com", "dkim.amazonses.com"},
		{"eu-west-1", "email-smtp.eu-west-1.amazonaws.com", "feedback-smtp.eu-west-1.amazonses.com", "dkim.amazonses.com"},
		{"ap-northeast-3", "email-smtp.ap-northeast-3.amazonaws.com", "feedback-smtp.ap-northeast-3.amazonses.com", "dkim.ap-northeast-3.amazonses.com"},
		{"eu-central-2", "email-smtp.eu-central-2.amazonaws.com", "feedback-smtp.eu-central-2.amazonses.com", "dkim.eu-central-2.amazonses.com"},
		{"af-south-1", "email-smtp.af-south-1.amazonaws.com", "feedback-smtp.af-south-1.amazonses.com", "dkim.af-south-1.amazonses.com"},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			if got := SMTPHost(tt.region); got != tt.smtp {
				t.Errorf("SMTPHost = %q, want %q", got, tt.smtp)
			}
			if got := FeedbackHost(tt.region); got != tt.feedback {
				t.Errorf("FeedbackHost = %q, want %q", got, tt.feedback)
			}
			if got := DKIMZone(tt.region); got != tt.dkim {
				t.Errorf("DKIMZone = %q, want %q", got, tt.dkim)
			}
		})
	}
}

// A region either has an SMTP endpoint or is known to lack one, never both;
// and callers get copies, so they cannot change the facts for everyone.
func TestRegionListsDisjointAndCopied(t *testing.T) {
	smtp, none := SMTPRegions(), NoSMTPRegions()
	for _, r := range none {
		if slices.Contains(smtp, r) {
			t.Errorf("%s is listed both with and without SMTP", r)
		}
	}
	if len(smtp) == 0 || len(none) == 0 {
		t.Fatalf("empty lists: %d with SMTP, %d without", len(smtp), len(none))
	}
	smtp[0], none[0] = "changed", "changed"
	if SMTPRegions()[0] == "changed" || NoSMTPRegions()[0] == "changed" {
		t.Error("the region lists are shared with callers")
	}
}

// The SMTP regions are the General Reference's "SMTP endpoints" table
// ("Amazon Simple Email Service endpoints and quotas"): Milan and the other
// opt-in regions with an email-smtp host are accepted; the newer regions
// that run only the SES API are not.
func TestSMTPRegionsFollowTheGeneralReference(t *testing.T) {
	tests := []struct {
		region string
		smtp   bool
	}{
		{"eu-south-1", true}, // in AWS's SMTP-credentials sample too
		{"af-south-1", true},
		{"ap-southeast-3", true},
		{"il-central-1", true},
		{"me-south-1", true},
		{"eu-west-3", true},
		{"us-gov-west-1", true},
		{"eu-central-2", false},
		{"ap-south-2", false},
		{"ap-southeast-5", false},
		{"ca-west-1", false},
		{"me-central-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			if got := slices.Contains(SMTPRegions(), tt.region); got != tt.smtp {
				t.Errorf("%s in SMTPRegions = %v, want %v", tt.region, got, tt.smtp)
			}
			if got := slices.Contains(NoSMTPRegions(), tt.region); got == tt.smtp {
				t.Errorf("%s in NoSMTPRegions = %v, want %v", tt.region, got, !tt.smtp)
			}
		})
	}
}
