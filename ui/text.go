package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/state"
)

// The marks of a step's state, shared by the TUI and the plain reporter so
// both read the same.
const (
	markDone    = "✓"
	markFailed  = "✗"
	markSkipped = "⚠"
	markWaiting = "◷"
	markTodo    = "·"
	markWarning = "!"
)

// ellipsis ends every truncated value.
const ellipsis = "…"

// truncate cuts s (which may hold ANSI codes) to w cells, ending in an
// ellipsis when something was cut, so a long value never wraps a table.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, ellipsis)
}

// pad right-pads s (which may hold ANSI codes) to w cells.
func pad(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// fit truncates then pads: a table cell of exactly w cells.
func fit(s string, w int) string { return pad(truncate(s, w), w) }

// wrap breaks s into lines of at most w cells, at spaces only: never
// inside a word, so a host name, a flag, a path or a record value stays on
// one line (us-east-1 is not split at its hyphens). A word wider than w
// alone is the only thing broken, at w.
func wrap(s string, w int) []string {
	if w < 8 {
		w = 8
	}
	return wordWrap(s, w)
}

// wordWrap is wrap without the minimum width; each line of s (split at
// newlines) is wrapped on its own.
func wordWrap(s string, w int) []string { return wordWrapBreak(s, w, true) }

// wordWrapBreak wraps s at spaces to w cells; a word wider than w is
// broken at w when hard is true, and otherwise stands alone on its line
// (where a terminal's own soft wrap keeps it one line to copy).
func wordWrapBreak(s string, w int, hard bool) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line, lineW := "", 0
		flush := func() {
			out = append(out, line)
			line, lineW = "", 0
		}
		words := strings.Split(para, " ")
		for i, word := range words {
			ww := ansi.StringWidth(word)
			switch {
			case i == 0:
			case lineW+1+ww <= w:
				line += " "
				lineW++
			default:
				flush()
			}
			if ww > w && hard {
				// Only a word wider than the whole line is broken.
				parts := strings.Split(ansi.Hardwrap(word, w, true), "\n")
				for _, p := range parts[:len(parts)-1] {
					if line != "" {
						flush()
					}
					out = append(out, p)
				}
				word, ww = parts[len(parts)-1], ansi.StringWidth(parts[len(parts)-1])
			}
			line += word
			lineW += ww
		}
		flush()
	}
	return out
}

// maskedPassword is what the password looks like unless the operator asks
// to reveal it.
func maskedPassword(s mta.Secret) string {
	if s.Reveal() == "" {
		return "(not shown: it is in the file)"
	}
	return s.String()
}

// duration renders a duration the way an operator reads it: 45s, 2m05s, 1h02m.
func duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// number renders a quota with thousands separators: 50000 → 50,000.
func number(f float64) string {
	if f < 0 {
		return "unlimited"
	}
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// sandboxLines says in words where the account stands; the TUI adds the
// quota bar, the plain reporter prints the quota as text.
func sandboxLines(r *steps.SandboxReport) []string {
	var l []string
	if r.ProductionAccess {
		l = append(l, "Production access: SES delivers to any recipient.")
	} else {
		// The limits are the account's own quota, as SES reports it.
		l = append(l, "Sandbox: SES delivers only to verified addresses, at most "+sandboxLimits(r)+"; "+
			"mail to anyone else bounces with \"554 Message rejected: Email address is not verified\".")
	}
	if !r.SendingEnabled {
		l = append(l, "Sending is paused for this account in this region.")
	}
	if r.EnforcementStatus != "" && r.EnforcementStatus != "HEALTHY" {
		l = append(l, "Enforcement status: "+r.EnforcementStatus+" (see the SES console's reputation page).")
	}
	if r.ReviewStatus != "" {
		s := "Production access review: " + strings.ToLower(r.ReviewStatus)
		if r.CaseID != "" {
			s += ", case " + r.CaseID
		}
		l = append(l, s+".")
	}
	return l
}

// quotaLine is the sending quota in words.
func quotaLine(r *steps.SandboxReport) string {
	return fmt.Sprintf("sent %s of %s in the last 24 h; at most %s a second",
		number(r.SentLast24Hours), number(r.Max24HourSend), number(r.MaxSendRate))
}

// quotaRatio is sent / max for the bar, 0 when the max is unknown.
func quotaRatio(r *steps.SandboxReport) float64 {
	if r.Max24HourSend <= 0 {
		return 0
	}
	return min(r.SentLast24Hours/r.Max24HourSend, 1)
}

// visibilityMark is a record's DNS state as a mark.
func visibilityMark(state string) string {
	switch state {
	case "visible":
		return markDone
	case "different":
		return markFailed
	case "missing":
		return markWaiting
	default:
		return "?"
	}
}

// verificationLine is one poll in one line.
func verificationLine(v *steps.VerificationProgress) string {
	visible := 0
	for _, r := range v.Records {
		if r.State == "visible" {
			visible++
		}
	}
	s := fmt.Sprintf("SES says %s, DKIM %s", lower(v.Status), lower(v.DKIMStatus))
	if v.MailFromStatus != "" {
		s += ", MAIL FROM " + lower(v.MailFromStatus)
	}
	if len(v.Records) > 0 {
		s += fmt.Sprintf("; %d of %d records visible in DNS", visible, len(v.Records))
	}
	s += fmt.Sprintf("; check %d, elapsed %s", v.Checks, duration(v.Elapsed))
	if v.NextCheck > 0 {
		s += ", next in " + duration(v.NextCheck)
	}
	return s
}

func lower(s string) string {
	if s == "" {
		return "unknown"
	}
	return strings.ToLower(strings.ReplaceAll(s, "_", " "))
}

// joinValues renders record values on one line.
func joinValues(v []string) string {
	if len(v) == 0 {
		return "(none)"
	}
	return strings.Join(v, " ")
}

// planValue is a change's value on one line (values are one per line).
func planValue(c steps.Change) string {
	v := strings.ReplaceAll(strings.TrimSpace(c.Value), "\n", " | ")
	if v == "" {
		v = c.Current
	}
	return v
}

// planKind is the TYPE column: the record type, or the resource kind.
func planKind(c steps.Change) string {
	if c.Type != "" {
		return c.Type
	}
	return c.Resource
}

// nextCommands are what to run after a run, following what happened: a
// run that stopped says how to get going again (the permissions for a
// denial, credentials when there are none, waiting for a lock, and
// running sesame again, which resumes); a finished one says how to
// install the relay and what is left.
func nextCommands(r *steps.Report, err error) []string {
	var ae *awsapi.Error
	var locked *state.ErrLocked
	again := "sesame    # run again: it resumes where it stopped"
	switch {
	case err == nil && r.Error != "" && !r.Demo:
		return []string{again}
	case err == nil:
	case errors.Is(err, context.Canceled) && r.Demo:
		return []string{"sesame --demo    # a new demo, from the start"}
	case r.Demo && (errors.Is(err, steps.ErrDeclined) || errors.Is(err, steps.ErrPending)):
		return []string{"sesame --demo    # a new demo, from the start"}
	case errors.Is(err, context.Canceled):
		return []string{again}
	case errors.As(err, &locked):
		return []string{"wait for the other sesame to finish (or stop it), then:", again}
	case awsapi.IsAccessDenied(err) || (errors.As(err, &ae) && (strings.HasPrefix(ae.Code, "AccessDenied") || ae.Code == "UnauthorizedOperation")):
		return []string{"sesame policy    # the IAM policy sesame needs: ask your AWS administrator for it", again}
	case errors.As(err, &ae) && strings.Contains(ae.Hint, "no AWS credentials"):
		return []string{"aws configure    # or: aws sso login, or set AWS_PROFILE", again, "sesame --demo    # or try it on a simulated account"}
	case errors.As(err, &ae) && strings.Contains(ae.Hint, "aws sso login"):
		return []string{"aws sso login    # with --profile if you use one", again}
	case errors.Is(err, steps.ErrDeclined):
		return []string{"sesame    # see the plan again: nothing was changed"}
	case errors.Is(err, steps.ErrPending):
		return []string{"sesame    # run again later: it picks up the wait", "sesame status    # where everything stands; changes nothing"}
	default:
		return []string{again}
	}
	if r.Demo {
		// The demo's files hold the simulator's credentials: installing
		// them would break a real Postfix, and sesame status would look
		// at a fresh simulator. The next step is a real account.
		return []string{"sesame    # the wizard on your own AWS account"}
	}
	var cmds []string
	for _, f := range r.Files {
		if strings.HasSuffix(f, "/apply-postfix.sh") || f == "apply-postfix.sh" {
			cmds = append(cmds, "sudo sh "+f+"    # install the relay into Postfix")
		}
	}
	cmds = append(cmds, "sesame status    # where everything stands; changes nothing")
	if r.Sandbox != nil && !r.Sandbox.ProductionAccess && r.Sandbox.ReviewStatus == "" {
		cmds = append(cmds, "sesame --request-production    # leave the SES sandbox")
	}
	return cmds
}

// statusMark is a finished step's mark.
func statusMark(s steps.Status) string {
	switch s {
	case steps.StatusDone:
		return markDone
	case steps.StatusFailed:
		return markFailed
	case steps.StatusSkipped:
		return markSkipped
	case steps.StatusPending:
		return markWaiting
	default:
		return markTodo
	}
}

// sortedRoles returns a map's keys in order, for stable file lists.
func sortedRoles(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// hardwrapAll breaks every line wider than w cells into lines of w cells:
// a pane's last guard, so that nothing is ever cut off at its edge. The
// panes wrap their own text at better places first.
func hardwrapAll(lines []string, w int) []string {
	if w <= 0 {
		return lines
	}
	var out []string
	for _, l := range lines {
		if ansi.StringWidth(l) <= w {
			out = append(out, l)
			continue
		}
		out = append(out, strings.Split(ansi.Hardwrap(l, w, true), "\n")...)
	}
	return out
}

// firstClause is a warning's first clause, up to its first colon or full
// stop, ended with a full stop and an ellipsis when something follows.
func firstClause(s string) string {
	for i := 0; i+1 < len(s); i++ {
		if (s[i] == ':' || s[i] == '.' || s[i] == ';') && s[i+1] == ' ' {
			return s[:i] + " (…)"
		}
	}
	return s
}

// sandboxLimits are the account's sending quota in words, from SES's
// report: "200 messages a day and 1 a second".
func sandboxLimits(r *steps.SandboxReport) string {
	return fmt.Sprintf("%s messages a day and %s a second", number(r.Max24HourSend), number(r.MaxSendRate))
}

// withoutSandboxWords drops the sentences of s that say what the sandbox
// card already says (the sandbox, its limits, the 554 bounce), so a
// screen says each thing once.
func withoutSandboxWords(s string) string {
	var keep []string
	for _, sent := range strings.SplitAfter(s, ". ") {
		l := strings.ToLower(sent)
		if strings.Contains(l, "sandbox") || strings.Contains(l, "554") {
			continue
		}
		keep = append(keep, sent)
	}
	return strings.TrimSpace(strings.Join(keep, ""))
}
