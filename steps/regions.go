package steps

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sesame-tool/sesame/steps/ses"
)

// ValidateRegion accepts only SES regions with an SMTP endpoint (the list
// is ses.SMTPRegions).
func ValidateRegion(region string) error {
	r := strings.TrimSpace(strings.ToLower(region))
	smtp := ses.SMTPRegions()
	if slices.Contains(smtp, r) {
		return nil
	}
	msg := fmt.Sprintf("%q is not an SES region with an SMTP endpoint; use one of: %s", region, strings.Join(smtp, ", "))
	if slices.Contains(ses.NoSMTPRegions(), r) {
		msg = fmt.Sprintf("SES has no SMTP endpoint in %s, so Postfix cannot relay there; use one of: %s", r, strings.Join(smtp, ", "))
	}
	if r == "" {
		msg = "a region is required; use one of: " + strings.Join(smtp, ", ")
	}
	return &InputError{Field: "region", Flag: "--region", Msg: msg}
}
