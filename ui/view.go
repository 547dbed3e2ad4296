package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"
	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
)

// Layout constants: the side-by-side layout needs room for the step list
// and a pane a plan table fits in; narrower terminals get the list as one
// line above a full-width pane.
const (
	wideMin   = 72
	listWidth = 16
)

// View renders the whole screen: header, step list, the current pane and
// the help line.
func (m *model) View() string {
	if m.quitting {
		// RunTUI prints the summary into the scrollback after the program
		// ends, so the live area is cleared rather than left half-drawn.
		return ""
	}
	w, h := m.width, m.height
	if w <= 0 {
		w = 80
	}
	if w < minWidth || (h > 0 && h < minHeight) {
		return m.tooSmall(w, h)
	}
	header := m.headerLines(w)
	rule := m.st.Rule.Render(strings.Repeat("─", w))
	m.help.Width = w
	footer := strings.Split(m.help.View(m.helpKeys()), "\n")

	var body []string
	bodyH := 0
	if h > 0 {
		bodyH = max(3, h-len(header)-2-len(footer))
	}
	if w >= wideMin && !m.fullWidth() {
		paneW := w - listWidth - 3
		pane := clip(hardwrapAll(m.paneLines(paneW, bodyH), paneW), bodyH)
		list := m.listLines()
		n := max(len(pane), len(list), bodyH)
		sep := m.st.Rule.Render("│")
		for i := range n {
			l, p := "", ""
			if i < len(list) {
				l = list[i]
			}
			if i < len(pane) {
				p = pane[i]
			}
			body = append(body, strings.TrimRight(fit(l, listWidth)+" "+sep+" "+p, " "))
		}
		body = clip(body, bodyH)
	} else {
		// Narrow terminals, and the end of the run (whose commands and
		// paths need the whole width), show the list as one line.
		body = append(body, truncate(m.compactList(), w), "")
		body = append(body, clip(hardwrapAll(m.paneLines(w, max(1, bodyH-2)), w), max(1, bodyH-2))...)
	}
	for h > 0 && len(body) < bodyH {
		body = append(body, "")
	}
	lines := append(header, rule)
	lines = append(lines, body...)
	lines = append(lines, rule)
	// Again, now that the body said whether it scrolls (same height).
	footer = strings.Split(m.help.View(m.helpKeys()), "\n")
	if m.copied != "" && !m.help.ShowAll {
		footer[0] = truncate(m.st.OK.Render(m.copied)+m.st.Dim.Render(" • ")+footer[0], w)
	}
	lines = append(lines, footer...)
	return strings.Join(lines, "\n")
}

// slowCall is how long a step works before the screen says it waits.
const slowCall = 3 * time.Second

// The smallest screen the layout fits: below it, sesame says so rather
// than drawing a screen of ellipses.
const (
	minWidth  = 40
	minHeight = 12
)

// tooSmall is the screen for a terminal smaller than minWidth x minHeight:
// what is wrong, and that the run goes on (q and Ctrl+C still work).
func (m *model) tooSmall(w, h int) string {
	l := wrap(fmt.Sprintf("sesame needs a terminal of at least %dx%d; this one is %dx%d. Enlarge it to go on (the run waits), or press Ctrl+C to leave.", minWidth, minHeight, w, h), w)
	if h > 0 && len(l) > h {
		l = l[:h]
	}
	return strings.Join(l, "\n")
}

// fullWidth says the pane takes the whole width, the step list one line
// above it: at the end of the run, whose commands and paths need the
// width, and while records to publish by hand are shown, so that each
// name and value fits on one line.
func (m *model) fullWidth() bool {
	if m.prompt != nil {
		// A plan to approve is read in full: its names and values
		// need the width more than the step list does.
		return m.prompt.q.Plan != nil && len(m.prompt.q.Plan.Changes) > 0
	}
	if m.phase == phaseFinished {
		// A failure keeps the list beside it: which steps are done.
		return m.err == nil || interruptedErr(m.err)
	}
	return m.recordsShown()
}

// clip keeps the first h lines, marking the cut with an ellipsis; h 0 means
// no limit.
func clip(lines []string, h int) []string {
	if h <= 0 || len(lines) <= h {
		return lines
	}
	if strings.TrimSpace(ansi.Strip(strings.Join(lines[h:], ""))) == "" {
		// Only blank lines are cut: nothing is hidden, so no ellipsis.
		return lines[:h]
	}
	out := append([]string(nil), lines[:h-1]...)
	return append(out, ellipsis)
}

func (m *model) headerLines(w int) []string {
	first := m.st.App.Render("sesame")
	if m.opts.Demo || (m.report != nil && m.report.Demo) {
		first += " " + m.st.Badge.Render("DEMO")
	}
	if m.opts.DryRun {
		first += " " + m.st.Badge.Render("DRY RUN")
	}
	domain, region := orDefault(m.domain, m.opts.Domain), orDefault(m.region, m.opts.Region)
	if m.report != nil {
		domain, region = orDefault(m.report.Domain, domain), orDefault(m.report.Region, region)
	}
	var parts []string
	if domain != "" {
		parts = append(parts, m.st.Bold.Render(domain))
	}
	second := m.st.Dim.Render("account not known yet")
	account := ""
	if a := m.account; a != nil {
		region = orDefault(a.Region, region)
		account = "account " + a.ID
		if a.ARN != "" {
			second = m.st.Dim.Render(a.ARN)
		}
	}
	// The region before the account: on a narrow terminal the end of the
	// line is cut, and the account id is also in the ARN below.
	if region != "" {
		parts = append(parts, region)
	}
	if account != "" {
		parts = append(parts, account)
	}
	if len(parts) > 0 {
		first += "  " + strings.Join(parts, m.st.Dim.Render(" · "))
	}
	return []string{truncate(first, w), truncate(second, w)}
}

// scrollWindow shows h of lines from the scroll offset, with a line that
// says what is above or below and which key shows it: what the operator
// approves is never cut off for good.
func (m *model) scrollWindow(lines []string, h int) []string {
	if h < 3 {
		return clip(lines, h)
	}
	m.scrollable = true
	m.scroll = max(0, min(m.scroll, len(lines)-(h-1)))
	top := m.scroll > 0
	vis := h
	if top {
		vis--
	}
	bottom := m.scroll+vis < len(lines)
	if bottom {
		vis--
	}
	var out []string
	if top {
		out = append(out, m.st.Dim.Render(fmt.Sprintf("↑ %d more lines above (↑/k)", m.scroll)))
	}
	out = append(out, lines[m.scroll:m.scroll+vis]...)
	if bottom {
		out = append(out, m.st.Dim.Render(fmt.Sprintf("↓ %d more lines below (↓/j)", len(lines)-m.scroll-vis)))
	}
	return out
}

// rowMark is a step's mark and style in the list.
func (m *model) rowMark(r *stepRow) string {
	switch {
	case r.running && m.prompt != nil && r.id == m.cur:
		// Waiting for the operator, not for AWS: no spinner.
		return m.st.Selected.Render("▸")
	case r.running && m.phase != phaseFinished:
		return m.spin.View()
	case r.status == "" || (r.status == steps.StatusTodo && r.err == nil):
		return m.st.Todo.Render(markTodo)
	case errors.Is(r.err, steps.ErrDeclined):
		return m.st.Skipped.Render(markSkipped)
	default:
		return m.st.status(r.status).Render(statusMark(r.status))
	}
}

func (m *model) listLines() []string {
	var l []string
	for _, r := range m.rows {
		name := r.id
		switch {
		case r.id == m.cur && m.phase != phaseFinished:
			name = m.st.Bold.Render(name)
		case r.status == "":
			name = m.st.Dim.Render(name)
		}
		l = append(l, " "+m.rowMark(r)+" "+truncate(name, listWidth-3))
	}
	return l
}

// compactList is the step list as one line, for narrow terminals.
func (m *model) compactList() string {
	var b strings.Builder
	pos := 0
	for i, r := range m.rows {
		b.WriteString(m.rowMark(r))
		if r.id == m.cur {
			pos = i + 1
		}
	}
	s := b.String()
	if m.phase == phaseFinished && m.err == nil && m.report != nil {
		return s + "  " + m.st.Bold.Render("finished")
	}
	if m.cur != "" {
		s += fmt.Sprintf("  step %d of %d: %s", pos, len(m.rows), m.st.Bold.Render(m.cur))
	}
	return s
}

func (m *model) currentRow() *stepRow {
	for _, r := range m.rows {
		if r.id == m.cur {
			return r
		}
	}
	return nil
}

// paneLines is the right-hand pane: the question, the error, the summary
// or the current step, then the notes that must stay in view.
func (m *model) paneLines(w, h int) []string {
	var l []string
	switch {
	case m.phase == phaseCancelling:
		l = append(l, m.st.Warning.Render("Stopping: waiting for the calls in flight to end…"))
		if !m.opts.Demo {
			l = append(l, m.st.Dim.Render("Nothing is lost: run sesame again to resume here."))
		}
	case m.prompt != nil:
		// The question and its answer line always show; the context above
		// them (the plan, the report) gives way when the screen is short.
		head, tail := m.questionParts(w, h)
		head = hardwrapAll(head, w)
		m.scrollable = false
		if h > 0 && len(head) > h-len(tail) {
			head = m.scrollWindow(head, max(1, h-len(tail)))
		}
		l = append(head, tail...)
	case m.phase == phaseFinished && m.err != nil && !interruptedErr(m.err):
		l = m.errorLines(w)
	case m.phase == phaseFinished && m.report != nil:
		if m.opts.DryRun {
			l = append(l, m.st.OK.Render(markDone+" Dry run finished: nothing was changed"))
			l = append(l, m.dryRunPlans(w)...)
		} else {
			l = append(l, m.st.OK.Render(markDone+" Finished"))
		}
		l = append(l, m.endFacts(w)...)
		l = append(l, m.noteLines(w, 0)...)
		l = hardwrapAll(append(l, summaryLines(m.report, m.err, m.st, w, false, true)[1:]...), w)
		m.scrollable = false
		if h > 0 && len(l) > h {
			// Nothing of the end is cut: what does not fit scrolls.
			l = m.scrollWindow(l, h)
		}
		return l
	default:
		return m.stepPane(w, h)
	}
	if notes := m.noteLines(w, 0); len(notes) > 0 && (m.prompt == nil || h <= 0 || len(l)+1+len(notes) <= h) {
		// Under a question only where they fit: cut there, they would
		// take the question's last line (its flag) with them.
		l = append(l, "")
		l = append(l, notes...)
	}
	return l
}

// stepPane is the current step with its notes in h lines (0: no limit).
// When they do not fit, the step gives up its detail line, then the
// warnings are shortened, then the record list becomes one line; the MX
// records that stay and the credentials are never cut.
func (m *model) stepPane(w, h int) []string {
	join := func(main, notes []string) []string {
		if len(notes) == 0 {
			return main
		}
		return append(append(main, ""), notes...)
	}
	var main []string
	for level := range 3 {
		main = m.stepLines(w, level)
		notes := m.noteLines(w, 0)
		if h <= 0 || len(main)+1+len(notes) <= h {
			return join(main, notes)
		}
		if level >= 1 {
			if notes = m.noteLines(w, h-len(main)-1); len(main)+1+len(notes) <= h || level == 2 {
				return join(main, notes)
			}
		}
	}
	return main
}

// stepLines is the current step: its title, detail and data card. level
// 1 leaves out the detail, level 2 also shows the records being waited on
// as one line: what gives way on a short screen.
func (m *model) stepLines(w, level int) []string {
	r := m.currentRow()
	if r == nil {
		return []string{m.st.Dim.Render("Starting…")}
	}
	l := []string{m.st.Title.Render(r.title)}
	if level >= 2 && r.id == "verification" && m.manual != nil && m.fullWidth() {
		// The list line above names the step; the records need the row.
		l = nil
	}
	for _, d := range wrap(r.detail, w) {
		if d != "" && level == 0 {
			l = append(l, m.st.Dim.Render(d))
		}
	}
	l = append(l, m.dataCard(r, w, level >= 2)...)
	for _, i := range m.info[r.id] {
		l = append(l, wrap(i, w)...)
	}
	if r.running && m.prompt == nil && m.phase == phaseRunning && !r.since.IsZero() && r.id != "verification" {
		// A call that takes long says so: how long, and at what.
		wait := ""
		if c := m.slow; c != nil {
			// The call itself, named: what the run is waiting for.
			wait = fmt.Sprintf("%s: waiting for %s %s for %s", r.doing, c.Service, c.Operation, duration(m.now().Sub(c.Started)))
		} else if d := m.now().Sub(r.since); d >= slowCall {
			wait = fmt.Sprintf("%s: waiting for AWS for %s", r.doing, duration(d))
		}
		if wait != "" {
			for _, s := range wrap(wait, w) {
				l = append(l, m.st.Waiting.Render(s))
			}
		}
	}
	if m.retry != "" {
		for _, s := range wrap(m.retry, w) {
			l = append(l, m.st.Warning.Render(s))
		}
	}
	return l
}

// dataCard is what the current step published, if anything: the waiting
// screen, the sandbox report, the records to publish by hand, the relay.
// short puts the records being waited on in one line.
func (m *model) dataCard(r *stepRow, w int, short bool) []string {
	var l []string
	switch {
	case r.id == "verification" && m.verify != nil:
		if !short {
			l = append(l, "")
		}
		l = append(l, m.verifyLines(w, short)...)
	case r.id == "sandbox" && m.sandbox != nil:
		l = append(l, "")
		l = append(l, m.sandboxCard(w)...)
	case r.id == "dns" && m.manual != nil:
		l = append(l, "")
		l = append(l, m.manualLines(w)...)
	case r.id == "relay" && m.relay != nil:
		l = append(l, "")
		l = append(l, wrapCard(card(m.relay, cardOpts{st: m.st}), w)...)
	}
	return l
}

// verifyLines is the waiting screen: time, countdown and each record (or,
// short, how many records are visible).
func (m *model) verifyLines(w int, short bool) []string {
	v := m.verify
	since := m.now().Sub(m.verifyAt)
	l := []string{fmt.Sprintf("elapsed %s · next check in %s · check %d",
		duration(v.Elapsed+since), duration(v.NextCheck-since), v.Checks)}
	s := fmt.Sprintf("SES: %s · DKIM: %s", lower(v.Status), lower(v.DKIMStatus))
	if v.MailFromStatus != "" {
		s += " · MAIL FROM: " + lower(v.MailFromStatus)
	}
	if short && m.manual != nil && ansi.StringWidth(l[0])+3+ansi.StringWidth(s) <= w {
		// Short of room with records to publish: one status line.
		l = []string{s + " · " + l[0]}
	} else {
		l = append(l, s)
	}
	// Names are shown relative to the domain: the DKIM tokens are long
	// enough without it.
	domain := orDefault(m.domain, m.opts.Domain)
	rel := func(n string) string {
		if domain != "" && strings.HasSuffix(strings.TrimSuffix(n, "."), "."+domain) {
			return strings.TrimSuffix(strings.TrimSuffix(n, "."), "."+domain)
		}
		return n
	}
	if m.manual != nil && len(m.manual.Records) > 0 {
		// The operator publishes these by hand: each name and value in
		// full, on its own line, never cut, with how DNS sees it. On a
		// short screen (short) the blank lines and the legend give way.
		if !short {
			l = append(l, "")
		}
		l = append(l, "Publish these records at your DNS host (z copies them):")
		for _, r := range v.Records {
			st := m.st.Waiting
			switch r.State {
			case "visible":
				st = m.st.Done
			case "different":
				st = m.st.Error
			}
			l = append(l, st.Render(visibilityMark(r.State))+" "+pad(r.Type, 5)+" "+r.Name)
			for _, val := range r.Expected {
				l = append(l, "        "+val)
			}
			if r.State == "different" {
				l = append(l, m.st.Error.Render("    seen "+joinValues(r.Observed)))
			}
		}
		if short {
			return append(l, m.st.Dim.Render(m.leaveNote()))
		}
		l = append(l, m.st.Dim.Render("✓ visible in DNS  ◷ missing  ? lookup failed  ✗ different"))
		if len(m.manual.Files) > 0 {
			l = append(l, m.st.Dim.Render("also in "+strings.Join(m.manual.Files, " and ")))
		}
		return append(l, "", m.st.Dim.Render(m.leaveNote()))
	}
	if short && len(v.Records) > 0 {
		visible := 0
		for _, r := range v.Records {
			if r.State == "visible" {
				visible++
			}
		}
		st := m.st.Waiting
		if visible == len(v.Records) {
			st = m.st.Done
		}
		l = append(l, st.Render(fmt.Sprintf("%d of %d records visible in DNS", visible, len(v.Records))))
		return append(l, "", m.st.Dim.Render(m.leaveNote()))
	}
	// One line a record: its name in full and its state; what is still
	// wanted (or was seen instead) on the line below, also in full.
	nameW, stateW := 0, 0
	for _, r := range v.Records {
		nameW = max(nameW, ansi.StringWidth(rel(r.Name)))
		stateW = max(stateW, len(orDefault(map[string]string{"visible": "visible", "different": "different", "missing": "missing"}[r.State], "lookup failed")))
	}
	if 8+nameW+2+stateW > w {
		nameW = 0 // no column: the state follows the name
	}
	for _, r := range v.Records {
		st := m.st.Waiting
		switch r.State {
		case "visible":
			st = m.st.Done
		case "different":
			st = m.st.Error
		}
		state := map[string]string{"visible": "visible", "different": "different", "missing": "missing"}[r.State]
		if state == "" {
			state = "lookup failed"
		}
		l = append(l, st.Render(visibilityMark(r.State))+" "+pad(r.Type, 5)+" "+pad(rel(r.Name), nameW)+"  "+st.Render(state))
		if r.State != "visible" {
			l = append(l, "    want "+joinValues(r.Expected))
		}
		if r.State == "different" {
			l = append(l, m.st.Error.Render("    seen "+joinValues(r.Observed)))
		}
	}
	l = append(l, "", m.st.Dim.Render(m.leaveNote()))
	return l
}

// leaveNote says what q does while the run waits. The demo's account
// lives in this process: a new sesame --demo starts a fresh one.
func (m *model) leaveNote() string {
	if m.opts.Demo {
		return "q leaves; the demo account ends with this process."
	}
	return "q leaves safely; run sesame again to resume here."
}

// manualLines are the records to publish by hand, each name and value in
// full on its own line, and where they are saved.
func (m *model) manualLines(w int) []string {
	return wrapCard(card(m.manual, cardOpts{st: m.st}), w)
}

func (m *model) sandboxCard(w int) []string {
	r := m.sandbox
	// The card's words, its quota line drawn as a bar instead.
	c := card(r, cardOpts{st: m.st})
	l := wrapCard(c[:len(c)-1], w)
	barW := max(10, min(30, w-24))
	m.bar.Width = barW
	l = append(l, "", "sent per 24 h  "+m.bar.ViewAs(quotaRatio(r))+fmt.Sprintf(" %s/%s", number(r.SentLast24Hours), number(r.Max24HourSend)),
		fmt.Sprintf("max send rate  %s a second", number(r.MaxSendRate)))
	return l
}

// questionParts shows the question on screen with what it needs: the plan
// for an approval or the step's report (head), then the question with the
// list for a choice or the input line and its error (tail).
func (m *model) questionParts(w, h int) (head, tail []string) {
	p := m.prompt
	q := p.q
	var l []string
	if r := m.currentRow(); r != nil {
		l = append(l, m.st.Dim.Render(truncate(r.title, w)))
	}
	if q.Plan != nil {
		l = append(l, m.planHead(q.Plan, w)...)
	} else {
		if r := m.currentRow(); r != nil {
			if card := m.dataCard(r, w, false); len(card) > 0 {
				l = append(l, card[1:]...)
				l = append(l, "")
			}
		}
		detail := q.Detail
		if r := m.currentRow(); r != nil && r.id == "sandbox" && m.sandbox != nil {
			// The sandbox card above says where the account stands; the
			// question's detail keeps only what it adds.
			detail = withoutSandboxWords(detail)
		}
		if detail != "" {
			l = append(l, wrap(detail, w)...)
			l = append(l, "")
		}
	}
	head, l = l, nil
	title := func(s string) {
		for _, t := range wrap(s, w) {
			l = append(l, m.st.Title.Render(t))
		}
	}
	switch p.kind {
	case promptConfirm:
		hint := "[Y/n]"
		if isNo(q.Default) {
			hint = "[y/N]"
		}
		title(q.Title + " " + hint)
		if q.Flag != "" && q.Plan == nil {
			l = append(l, m.st.Dim.Render("(next time: "+q.Flag+")"))
		}
	case promptChoose:
		title(q.Title)
		// Long lists (the regions) filter as the operator types and
		// scroll in a window around the choice.
		vis := m.visible()
		if m.filters() {
			f := "type to filter"
			if m.filter != "" {
				f = fmt.Sprintf("filter: %s▏ (%d of %d; esc clears)", m.filter, len(vis), len(p.options))
			}
			l = append(l, m.st.Dim.Render(f))
		}
		at := 0
		for i, v := range vis {
			if v == m.choice {
				at = i
			}
		}
		win := max(3, min(len(vis), h-6))
		if h <= 0 {
			win = len(vis)
		}
		start := max(0, min(at-win/2, len(vis)-win))
		if start > 0 {
			l = append(l, m.st.Dim.Render("  ↑ more"))
		}
		for _, i := range vis[start:min(len(vis), start+win)] {
			o := p.options[i]
			label, rest := optionLabel(o)
			if o.Detail != "" {
				rest += "  " + m.st.Dim.Render(o.Detail)
			}
			line := "  " + label + rest
			if i == m.choice {
				line = m.st.Selected.Render("› "+label) + rest
			}
			// A long detail wraps under itself, at spaces.
			l = append(l, hangingWrap(line, w)...)
		}
		if len(vis) == 0 {
			l = append(l, m.st.Dim.Render("  nothing matches"))
		}
		if start+win < len(vis) {
			l = append(l, m.st.Dim.Render("  ↓ more"))
		}
		if q.Flag != "" {
			l = append(l, m.st.Dim.Render("(next time: "+q.Flag+")"))
		}
	case promptInput:
		title(q.Title)
		if m.multiline {
			m.area.SetWidth(max(10, w))
			l = append(l, strings.Split(m.area.View(), "\n")...)
		} else {
			m.input.Width = max(10, w-4)
			l = append(l, m.input.View())
		}
		if m.inputErr != "" {
			for _, s := range wrap(m.inputErr, w-2) {
				l = append(l, m.st.InputError.Render(s))
			}
		} else if q.Flag != "" {
			l = append(l, m.st.Dim.Render("(next time: "+q.Flag+")"))
		}
	}
	if h > 0 && q.Plan != nil && len(head)+len(l) > h {
		// The table is what is approved: on a short screen the summary
		// above it (which the table repeats) gives way first.
		head = m.planTable(q.Plan, w)
	}
	return head, l
}

// planHead is a plan for approval: its summary, the table, and the
// conflict warning.
func (m *model) planHead(p *steps.Plan, w int) []string {
	var l []string
	for _, s := range wrap(p.Summary, w) {
		l = append(l, m.st.Bold.Render(s))
	}
	l = append(l, "")
	return append(l, m.planTable(p, w)...)
}

// planTable is the plan's table with the conflict warning, and a blank
// line before the question.
func (m *model) planTable(p *steps.Plan, w int) []string {
	l := planTable(p, w, m.st)
	if p.HasConflict() {
		l = append(l, m.st.Error.Render("conflicts stop the run before any write"))
	}
	return append(l, "")
}

func (m *model) errorLines(w int) []string {
	err := m.err
	var l []string
	failed := "The run"
	if r := m.failedRow(); r != nil {
		failed = r.title
	}
	style := m.st.Failed
	head := markFailed + " " + failed + " failed"
	switch {
	case errors.Is(err, steps.ErrDeclined):
		style, head = m.st.Warning, markSkipped+" "+failed+": declined"
	case errors.Is(err, steps.ErrPending):
		style, head = m.st.Waiting, markWaiting+" Stopped while still pending"
	}
	for _, s := range wrap(head, w) {
		l = append(l, style.Render(s))
	}
	msg, details := sayError(err)
	if !errors.Is(err, steps.ErrDeclined) {
		// A declined plan says it in its title already.
		for _, s := range wrap(msg, w) {
			l = append(l, m.st.Error.Render(s))
		}
	}
	l = append(l, "")
	next := errorNext(err)
	var hinted *awsapi.Error
	if m.opts.Demo && !(errors.As(err, &hinted) && hinted.Hint != "") {
		// The demo's account lives in this process: nothing resumes it.
		next = "press r to try again; the demo account ends when you quit (sesame --demo starts a new one)"
	}
	for _, s := range wrap("Next: "+next, w) {
		l = append(l, s)
	}
	if details != "" {
		l = append(l, "")
		if m.details {
			for _, s := range wrap("As the AWS SDK said it: "+details, w) {
				l = append(l, m.st.Dim.Render(s))
			}
		} else {
			l = append(l, m.st.Dim.Render("d shows the error as the AWS SDK gave it"))
		}
	}
	return l
}

// failedRow is the step the run failed in: the last to finish with an
// error, nil when the run stopped outside a step.
func (m *model) failedRow() *stepRow {
	for _, r := range m.rows {
		if r.id == m.failed {
			return r
		}
	}
	return nil
}

// noteLines are what stays in view beside a step: a warning during its
// step and the next (so the inbound-mx warning and the MX records that stay
// are read while verification waits), and the SMTP credentials where they
// matter. With a budget h > 0 the warnings are shortened to fit it; the MX
// records and the credentials always show in full.
func (m *model) noteLines(w, h int) []string {
	var warn, keep []string
	cur := m.stepIndex(m.cur)
	for _, wn := range m.warnings {
		if i := m.stepIndex(wn.step); m.phase == phaseFinished || (i >= 0 && cur-i > 1) {
			continue
		}
		for i, s := range wrap(wn.text, w-2) {
			prefix := "  "
			if i == 0 {
				prefix = markWarning + " "
			}
			warn = append(warn, m.st.Warning.Render(prefix+s))
		}
	}
	if m.mx != nil && m.phase != phaseFinished && (m.cur == "inbound-mx" || m.cur == "verification") {
		// One record a line: these are what the operator checks.
		keep = append(keep, wrapCard(card(m.mx, cardOpts{st: m.st}), w)...)
	}
	if m.verified != "" && m.phase != phaseFinished && (m.cur == "sandbox" || m.cur == "relay") {
		keep = append([]string{m.st.Done.Render(markDone + " " + m.verified)}, keep...)
	}
	if c := m.creds; c != nil && m.credsShown() {
		lines := card(c, cardOpts{st: m.st, reveal: m.reveal})
		lines[1] += m.st.Dim.Render(" (p shows/hides)")
		keep = append(keep, wrapCard(lines, w)...)
	}
	if h > 0 && len(warn) > max(1, h-len(keep)) {
		// Short of room, each warning keeps its first clause, whole,
		// so it still says what it means ("is not published on
		// purpose"), never an instruction cut in half.
		warn = nil
		for _, wn := range m.warnings {
			if i := m.stepIndex(wn.step); m.phase == phaseFinished || (i >= 0 && cur-i > 1) {
				continue
			}
			for i, s := range wrap(firstClause(wn.text), w-2) {
				prefix := "  "
				if i == 0 {
					prefix = markWarning + " "
				}
				warn = append(warn, m.st.Warning.Render(prefix+s))
			}
		}
		warn = clip(warn, max(1, h-len(keep)))
	}
	return append(warn, keep...)
}

// dryRunPlans are every plan of a dry run, step by step, kept on the end
// screen so they can be read once the run is over.
func (m *model) dryRunPlans(w int) []string {
	var l []string
	for _, r := range m.rows {
		p := m.plans[r.id]
		if p == nil || (len(p.Changes) == 0 && p.Summary == "") {
			continue
		}
		l = append(l, "", m.st.Bold.Render(r.id)+m.st.Dim.Render(": ")+p.Summary)
		l = append(l, planTable(p, w, m.st)...)
	}
	if len(l) > 0 {
		l = append(l, "")
	}
	return l
}

// endFacts are the facts of a finished run, one line each: verification,
// the relay and its login test, and how SES lets the account send.
func (m *model) endFacts(w int) []string {
	var l []string
	if m.verified != "" {
		l = append(l, m.st.Done.Render(markDone)+" "+m.verified)
	}
	if r := m.relay; r != nil {
		s := fmt.Sprintf("relay %s:%d · SMTP login test: %s", r.Host, r.Port, orDefault(r.LoginTest, "not run"))
		if r.TestSentTo != "" {
			s += " · test message to " + r.TestSentTo + " accepted by SES"
		}
		l = append(l, wrap(s, w)...)
	}
	if sb := m.sandbox; sb != nil {
		limits := fmt.Sprintf("%s a day, %s a second", number(sb.Max24HourSend), number(sb.MaxSendRate))
		s := "sending: SES sandbox, verified recipients only, " + limits
		if sb.ProductionAccess {
			s = "sending: production access, " + limits
		}
		if sb.ReviewStatus != "" {
			s += "; production access review " + strings.ToLower(sb.ReviewStatus)
			if sb.CaseID != "" {
				s += ", case " + sb.CaseID
			}
		}
		l = append(l, wrap(s, w)...)
	}
	return l
}

// helpKeys are the keys that work now.
func (m *model) helpKeys() helpKeys {
	k := m.keys
	quit := k.Quit
	var short []key.Binding
	switch {
	case m.phase == phaseCancelling:
		return helpKeys{short: []key.Binding{key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("", "stopping…"))}}
	case m.prompt != nil && m.prompt.kind == promptInput:
		enter := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit"))
		short = []key.Binding{enter, k.ForceQuit}
		if m.multiline {
			short = []key.Binding{enter, m.area.KeyMap.InsertNewline, k.ForceQuit}
		}
		if m.canGoBack() {
			short = append([]key.Binding{enter, k.Back}, short[1:]...)
		}
		return helpKeys{short: short, full: [][]key.Binding{short}}
	case m.prompt != nil && m.prompt.kind == promptConfirm && m.prompt.q.Plan == nil:
		yes := key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes"))
		no := key.NewBinding(key.WithKeys("n"), key.WithHelp("n/esc", "no"))
		enter := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "default"))
		short = []key.Binding{yes, no, enter}
	case m.prompt != nil && m.prompt.kind == promptConfirm:
		short = []key.Binding{k.Yes, k.No}
		if m.scrollable {
			short = append(short, key.NewBinding(key.WithKeys("down"), key.WithHelp("↑/↓", "scroll")))
		}
	case m.filters():
		// Letters go to the filter: q is one of them, Ctrl+C quits.
		move := key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "move"))
		choose := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose"))
		short = []key.Binding{move, choose, k.ForceQuit}
		if m.canGoBack() {
			short = []key.Binding{move, choose, k.Back, k.ForceQuit}
		}
		return helpKeys{short: short, full: [][]key.Binding{short}}
	case m.prompt != nil && m.prompt.kind == promptChoose:
		choose := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose"))
		short = []key.Binding{k.Up, k.Down, choose}
	case m.phase == phaseFinished && m.err != nil:
		short = []key.Binding{k.Retry}
	case m.phase == phaseFinished && m.scrollable:
		short = []key.Binding{key.NewBinding(key.WithKeys("down"), key.WithHelp("↑/↓", "scroll"))}
	}
	if m.prompt == nil && m.nextCommand() != "" && m.copyFn != nil {
		short = append(short, k.Copy)
	}
	if m.recordsShown() && m.copyFn != nil {
		short = append(short, k.CopyRecords)
	}
	if m.credsShown() {
		short = append(short, k.Reveal)
	}
	if m.canGoBack() {
		short = append(short, k.Back)
	}
	short = append(short, quit, k.Help)
	full := [][]key.Binding{short[:len(short)-2], {quit, k.ForceQuit, k.Help}}
	return helpKeys{short: short, full: full}
}
