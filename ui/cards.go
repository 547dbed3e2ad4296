package ui

import (
	"fmt"
	"strings"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/dns"
)

// cardOpts say how a card is rendered: the styles, and whether the
// password is shown (the TUI's p; never in the plain reporter).
type cardOpts struct {
	st     *Styles
	reveal bool
}

// card is how one kind of step data reads, keyed by its type: the one
// rendering that the TUI's panes and the plain reporter both use, so the
// two say the same thing in the same words. Lines are not wrapped; each
// front end fits them to its width (the TUI wraps at spaces, the plain
// reporter leaves that to the terminal). The TUI adds only what lives on
// screen (the quota bar, the countdown, the DNS state marks). nil for a
// type without a card.
func card(d any, o cardOpts) []string {
	switch d := d.(type) {
	case *steps.AccountInfo:
		return []string{fmt.Sprintf("account %s (%s) in %s", d.ID, d.ARN, d.Region)}
	case *steps.Credentials:
		pw := maskedPassword(d.Password)
		if o.reveal && d.Password.Reveal() != "" {
			pw = d.Password.Reveal()
		}
		// The IAM user is in the smtp-user step's own line.
		return []string{"SMTP username " + d.AccessKeyID, "SMTP password " + pw, "password saved in " + d.File + " (mode 0600)"}
	case *steps.MXReport:
		if len(d.Records) == 0 {
			return []string{d.Domain + " has no MX records; sesame adds none."}
		}
		l := []string{fmt.Sprintf("MX records of %s that stay:", d.Domain)}
		for _, r := range d.Records {
			l = append(l, "  "+r)
		}
		return l
	case *dns.Manual:
		l := []string{"Publish these records at your DNS host:"}
		l = append(l, recordBlock(d.Records, 0, o.st)...)
		if len(d.Files) > 0 {
			l = append(l, o.st.Dim.Render("also in "+strings.Join(d.Files, " and ")))
		}
		return l
	case *steps.SandboxReport:
		return append(sandboxLines(d), "Quota: "+quotaLine(d))
	case *steps.RelayReport:
		l := []string{fmt.Sprintf("relay via %s:%d; SMTP login test: %s", d.Host, d.Port, orDefault(d.LoginTest, "not run"))}
		if d.Detail != "" {
			l = append(l, d.Detail)
		}
		for _, role := range sortedRoles(d.Files) {
			l = append(l, fmt.Sprintf("  %-14s %s", role, d.Files[role]))
		}
		return l
	case *steps.VerificationProgress:
		return []string{verificationLine(d)}
	case *steps.SlowCall:
		if d.Done {
			return nil
		}
		return []string{"waiting for " + d.Service + " " + d.Operation + " to answer"}
	}
	return nil
}

// wrapCard fits a card's lines to w cells at spaces, a wrapped line
// indented as the line it continues.
func wrapCard(lines []string, w int) []string {
	var out []string
	for _, l := range lines {
		out = append(out, hangingWrap(l, w)...)
	}
	return out
}
