package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
)

// PrintSummary prints what a run left behind, for the terminal's
// scrollback after either front end: each step's outcome, the SMTP
// settings (never the password), the files written and the commands to
// run next, following err (the run's error, nil when it finished). Colour
// codes only when color is true.
func PrintSummary(w io.Writer, r *steps.Report, err error, color bool) {
	printSummary(w, r, err, color, 0)
}

// printSummary is PrintSummary word-wrapped to width cells (0: not at
// all), each wrapped line indented under the start of its text: the TUI
// knows the terminal's width when it prints the summary.
func printSummary(w io.Writer, r *steps.Report, err error, color bool, width int) {
	if r == nil {
		return
	}
	st := DefaultStyles(forcedRenderer(w, color))
	fmt.Fprintln(w)
	for _, l := range summaryLines(r, err, st, 0, true, false) {
		for _, s := range hangingWrap(l, width) {
			fmt.Fprintln(w, s)
		}
	}
}

// hangingWrap wraps s at spaces to width cells, the lines after the first
// indented to where its text starts: after the leading spaces, or after a
// step line's mark and id ("✓ relay         "). width 0 keeps s.
func hangingWrap(s string, width int) []string {
	if width <= 0 || ansi.StringWidth(s) <= width {
		return []string{s}
	}
	plain := ansi.Strip(s)
	lead := len(plain) - len(strings.TrimLeft(plain, " "))
	indent := lead
	if i := strings.Index(plain, "  "); i > 0 && lead == 0 {
		// A step line: mark, id, padding, then the detail.
		rest := plain[i:]
		indent = ansi.StringWidth(plain[:i]) + len(rest) - len(strings.TrimLeft(rest, " "))
	}
	if indent > width/2 {
		indent = 2
	}
	// Paths and commands are never broken here: a word wider than the
	// line stands alone, and the terminal's soft wrap keeps it one line.
	body := strings.TrimLeft(s, " ")
	first := wordWrapBreak(body, width-lead, false)
	out := []string{strings.Repeat(" ", lead) + first[0]}
	if len(first) == 1 {
		return out
	}
	// The first line is the body's first words as they are, escape codes
	// and all: the rest follows it byte for byte. (Cutting the body at the
	// line's width instead adds a reset code to a styled line, which then
	// matches no prefix of the body and printed the line twice.)
	rest := strings.TrimLeft(strings.TrimPrefix(body, first[0]), " ")
	for _, l := range wordWrapBreak(rest, width-indent, false) {
		out = append(out, strings.Repeat(" ", indent)+l)
	}
	return out
}

// summaryLines renders the summary; width 0 means no truncation, and
// withSteps adds one line per step (the TUI shows its own step list), and
// compact leaves out what the TUI's pane shows elsewhere.
func summaryLines(r *steps.Report, err error, st *Styles, width int, withSteps, compact bool) []string {
	var l []string
	title := "sesame: " + orDefault(r.Domain, "(no domain)")
	if r.Region != "" {
		title += " in " + r.Region
	}
	if r.Account != "" {
		title += ", account " + r.Account
	}
	if r.Demo {
		title += " (demo)"
	}
	l = append(l, st.Bold.Render(title))
	if withSteps {
		idW := 0
		for _, s := range r.Steps {
			idW = max(idW, len(s.ID))
		}
		for _, s := range r.Steps {
			first, _, _ := strings.Cut(currentDetail(r, s), "\n")
			line := fmt.Sprintf("%s %s  %s", st.status(s.Status).Render(statusMark(s.Status)), pad(s.ID, idW), first)
			l = append(l, line)
		}
	}
	if r.SMTP != nil && !compact {
		l = append(l, "", st.Bold.Render("SMTP relay"),
			fmt.Sprintf("  host %s port %d, username %s", r.SMTP.Host, r.SMTP.Port, r.SMTP.Username),
			"  the password is only in the files below (mode 0600)")
	}
	if r.Sandbox != nil && !compact {
		l = append(l, "", st.Bold.Render("Sending"))
		if r.Sandbox.ProductionAccess {
			l = append(l, "  production access; "+quotaLine(r.Sandbox))
		} else {
			l = append(l, "  in the SES sandbox: only verified recipients, at most "+sandboxLimits(r.Sandbox))
		}
		if r.Sandbox.ReviewStatus != "" {
			s := "  production access review: " + strings.ToLower(r.Sandbox.ReviewStatus)
			if r.Sandbox.CaseID != "" {
				s += ", case " + r.Sandbox.CaseID
			}
			l = append(l, s)
		}
	}
	// The demo's files hold the simulator's credentials.
	demoNote := func() {
		if r.Demo && len(r.Files) > 0 {
			for _, s := range wrapOrKeep("These are demo files: the credentials in them belong to the simulator. Read them; do not install them into Postfix.", width) {
				l = append(l, st.Warning.Render(s))
			}
		}
	}
	if len(r.Files) > 0 && !compact {
		l = append(l, "", st.Bold.Render("Files written"))
		for _, f := range r.Files {
			l = append(l, "  "+f)
		}
		demoNote()
	}
	records := func() {
		if len(r.Records) == 0 {
			return
		}
		// No hosted zone here: these are what the operator must publish,
		// in full whatever the width.
		l = append(l, "", st.Bold.Render("Publish these records at your DNS host"))
		for _, s := range recordBlock(r.Records, width-2, st) {
			l = append(l, "  "+s)
		}
	}
	if !compact {
		records()
	}
	canceled := errors.Is(err, context.Canceled) || (err == nil && strings.HasSuffix(r.Error, context.Canceled.Error()))
	switch {
	case canceled && r.Demo:
		l = append(l, "", st.Warning.Render("Interrupted: the demo account ended with it; sesame --demo starts a new one."))
	case canceled:
		l = append(l, "", st.Warning.Render("Interrupted: what was done is kept."))
	case err != nil:
		msg, _ := sayError(err)
		first, _, _ := strings.Cut(msg, "\n")
		l = append(l, "", st.Error.Render("Stopped: "+first))
	case r.Error != "":
		first, _, _ := strings.Cut(r.Error, "\n")
		l = append(l, "", st.Error.Render("Stopped: "+first))
	}
	l = append(l, "", st.Bold.Render("Next"))
	for _, c := range nextCommands(r, err) {
		if compact && width > 0 && ansi.StringWidth("  "+c) > width {
			// A narrow pane keeps the command and drops its comment.
			c, _, _ = strings.Cut(c, "    #")
		}
		l = append(l, "  "+c)
	}
	if compact {
		// The end screen: the commands first, then the records (which
		// scroll when the screen is short), then the files.
		records()
	}
	if len(r.Files) > 0 && compact {
		// The pane is narrow: the directory once, wrapped, then the names.
		dir := filepath.Dir(r.Files[0])
		for _, f := range r.Files {
			if filepath.Dir(f) != dir {
				dir = ""
			}
		}
		if dir == "" {
			l = append(l, "", st.Bold.Render("Files written"))
			for _, f := range r.Files {
				l = append(l, "  "+f)
			}
		} else {
			l = append(l, "", st.Bold.Render("Files written")+" in")
			for _, s := range wrapOrKeep(dir, width-2) {
				l = append(l, "  "+s)
			}
			var names []string
			for _, f := range r.Files {
				names = append(names, filepath.Base(f))
			}
			for _, s := range wrapOrKeep(strings.Join(names, ", "), width-2) {
				l = append(l, "  "+s)
			}
		}
		demoNote()
	}
	return l
}

// errorNext is the next action for a failed run, in words.
func errorNext(err error) string {
	var ae *awsapi.Error
	var ie *steps.InputError
	switch {
	case errors.As(err, &ae) && ae.Hint != "":
		return ae.Hint
	case errors.As(err, &ie) && ie.Flag != "":
		return "give a valid answer (or set " + ie.Flag + ") and retry"
	case errors.Is(err, steps.ErrDeclined):
		return "nothing was changed; press r to see the plan again, or q and run sesame later: it resumes here"
	case errors.Is(err, steps.ErrPending):
		return "it is safe to leave: run sesame again later and it picks up here"
	default:
		return "fix the cause and press r to retry; sesame resumes where it stopped"
	}
}

// currentDetail is a step's detail as it stands at the end of the run.
// The identity step is checked before verification, so its own detail
// ("not verified yet … its DNS records come next") is stale once the
// verification step is done: the summary says what is true now.
func currentDetail(r *steps.Report, s steps.StepReport) string {
	if s.ID != "identity" || s.Status != steps.StatusDone || !strings.Contains(s.Detail, "not verified") {
		return s.Detail
	}
	for _, v := range r.Steps {
		if v.ID == "verification" && v.Status == steps.StatusDone {
			return fmt.Sprintf("%s is an SES identity in %s, verified for sending", r.Domain, r.Region)
		}
	}
	return s.Detail
}
