package steps

import (
	"strings"
	"testing"
)

// TestReusedIdentityDKIM: what sesame makes of a reused identity's DKIM
// (Amazon SES Developer Guide, "Authenticating Email with DKIM", "Provide
// your own DKIM authentication token (BYODKIM)"; API v2 Reference,
// DkimAttributes): Easy DKIM is turned on only where SES signs for itself
// and has no tokens; BYODKIM and replicas are left alone, and said so.
func TestReusedIdentityDKIM(t *testing.T) {
	tests := []struct {
		name        string
		id          IdentityInfo
		wantMissing bool
		wantNote    string // "" for no note
	}{
		{"Easy DKIM with tokens", IdentityInfo{DKIMOrigin: "AWS_SES", DKIMStatus: "SUCCESS", DKIMSigning: true, Tokens: []string{"a", "b", "c"}}, false, ""},
		{"verified the legacy way", IdentityInfo{DKIMOrigin: "AWS_SES", DKIMStatus: "NOT_STARTED", VerifiedForSending: true}, true, ""},
		{"no DKIM attributes at all", IdentityInfo{}, true, ""},
		{"BYODKIM", IdentityInfo{DKIMOrigin: "EXTERNAL", DKIMStatus: "PENDING", DKIMSigning: true, Tokens: []string{"stale"}}, false, "sesame does not manage its DKIM record"},
		{"a replica", IdentityInfo{DKIMOrigin: "AWS_SES_US_EAST_1", DKIMStatus: "SUCCESS"}, false, "signed from another region"},
		{"signing turned off", IdentityInfo{DKIMOrigin: "AWS_SES", DKIMStatus: "SUCCESS", Tokens: []string{"a", "b", "c"}}, false, "--signing-enabled"},
		{"a default configuration set", IdentityInfo{DKIMOrigin: "AWS_SES", DKIMStatus: "SUCCESS", DKIMSigning: true, Tokens: []string{"a"}, ConfigurationSet: "tracking"}, false, "configuration set tracking"},
		{"FAILED is for --recreate-identity, not Easy DKIM", IdentityInfo{DKIMStatus: "FAILED", VerificationStatus: "FAILED"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := easyDKIMMissing(&tt.id); got != tt.wantMissing {
				t.Errorf("easyDKIMMissing = %v, want %v", got, tt.wantMissing)
			}
			notes := strings.Join(dkimNotes("example.com", &tt.id), "\n")
			if (tt.wantNote == "") != (notes == "") || !strings.Contains(notes, tt.wantNote) {
				t.Errorf("notes = %q, want one saying %q", notes, tt.wantNote)
			}
			if byoDKIM(&tt.id) && len(DesiredRecords("example.com", "us-east-1", &tt.id, "", false)) != 0 {
				t.Error("DKIM records planned for a BYODKIM identity")
			}
		})
	}
}
