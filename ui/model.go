package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/dns"
)

// defaultStepIDs are sesame's steps in the runner's order (steps.Default,
// the one list), listed as pending before the run reaches them.
var defaultStepIDs = func() []string {
	var ids []string
	for _, s := range steps.Default() {
		ids = append(ids, s.ID())
	}
	return ids
}()

// phase is where the run stands, as the model sees it.
type phase int

const (
	// phaseRunning: the run is going (and may be asking a question).
	phaseRunning phase = iota
	// phaseCancelling: q or Ctrl+C cancelled the run; waiting for it to return.
	phaseCancelling
	// phaseFinished: the run returned; the summary or the error shows.
	phaseFinished
)

// warning is a warning and the step that gave it.
type warning struct{ step, text string }

// stepRow is one line of the step list.
type stepRow struct {
	id, title string
	running   bool
	// status is the last finished status; "" until the step finishes.
	status steps.Status
	detail string
	err    error
	// since is when the step's current phase (checking or applying)
	// began, and what it is: for a call that takes long.
	since time.Time
	doing string
}

// model is the TUI's one bubbletea model.
type model struct {
	ctx    context.Context
	run    RunFunc
	opts   TUIOptions
	bus    chan tea.Msg
	cancel context.CancelFunc

	phase       phase
	interrupted bool
	quitting    bool
	report      *steps.Report
	err         error

	st      *Styles
	keys    keyMap
	help    help.Model
	spin    spinner.Model
	bar     progress.Model
	input   textinput.Model
	animate bool
	now     func() time.Time
	width   int
	height  int

	rows     []*stepRow
	cur      string
	account  *steps.AccountInfo
	plans    map[string]*steps.Plan
	info     map[string][]string
	warnings []warning
	domain   string
	region   string
	retry    string
	creds    *steps.Credentials
	reveal   bool
	verify   *steps.VerificationProgress
	verifyAt time.Time
	sandbox  *steps.SandboxReport
	mx       *steps.MXReport
	manual   *dns.Manual
	relay    *steps.RelayReport

	prompt   *promptMsg
	choice   int
	inputErr string
	// filter narrows a long list as the operator types.
	filter string
	// answered counts the first questions answered, for Shift+Tab.
	answered int
	// slow is the AWS call the run has waited on a while, nil when none.
	slow *steps.SlowCall
	// area is the multi-line field, used when multiline (a question of
	// multiLineQuestions is on screen); r builds its styles.
	area      textarea.Model
	multiline bool
	r         *lipgloss.Renderer

	// scroll is the first line shown of what does not fit above a
	// question (a long plan); scrollable says the last frame cut it.
	scroll     int
	scrollable bool
	// copyFn puts text on the operator's clipboard (OSC 52); copied says
	// what the last copy was, for the help line.
	copyFn func(string) error
	copied string
	// failed is the step the run failed in; details shows the SDK's own
	// text of the error (d).
	failed  string
	details bool
	// verified says when SES verified the domain in this run, for the
	// screens after verification ("" until it has).
	verified string
}

// newModel builds the model; animate false freezes the spinner, the cursor
// and the clock tick (tests), and now is the clock.
func newModel(ctx context.Context, opts TUIOptions, run RunFunc, r *lipgloss.Renderer, animate bool, now func() time.Time) *model {
	st := DefaultStyles(r)
	barProfile := r.ColorProfile()
	if opts.NoColor {
		st, barProfile = MonoStyles(r), termenv.Ascii
	}
	m := &model{
		ctx: ctx, run: run, opts: opts, bus: make(chan tea.Msg, 64),
		st: st, keys: defaultKeyMap(), animate: animate, now: now, r: r,
		width: opts.Width, height: opts.Height,
		plans: map[string]*steps.Plan{}, info: map[string][]string{},
	}
	m.help = help.New()
	m.help.Styles = help.Styles{
		ShortKey: st.Key, ShortDesc: st.Dim, ShortSeparator: st.Dim, Ellipsis: st.Dim,
		FullKey: st.Key, FullDesc: st.Dim, FullSeparator: st.Dim,
	}
	m.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.Running))
	fill := colOK.Dark
	if !r.HasDarkBackground() {
		fill = colOK.Light
	}
	m.bar = progress.New(progress.WithoutPercentage(), progress.WithSolidFill(fill),
		progress.WithColorProfile(barProfile), progress.WithWidth(30))
	m.input = textinput.New()
	m.input.Prompt = "> "
	m.input.PromptStyle = st.Selected
	m.input.TextStyle = r.NewStyle()
	m.input.PlaceholderStyle = st.Dim
	m.input.Cursor.Style = r.NewStyle().Reverse(true)
	m.input.Cursor.TextStyle = r.NewStyle()
	if !animate {
		m.input.Cursor.SetMode(cursor.CursorStatic)
	}
	ids := opts.Steps
	if ids == nil {
		ids = defaultStepIDs
	}
	for _, id := range ids {
		m.rows = append(m.rows, &stepRow{id: id, title: id})
	}
	return m
}

// Init starts the run and, when animated, the spinner and the clock.
func (m *model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.startRunCmd(), m.listenCmd()}
	if m.animate {
		cmds = append(cmds, m.spin.Tick, clockTickCmd())
	}
	return tea.Batch(cmds...)
}

// startRunCmd runs the RunFunc with a cancelable context. Its events,
// questions and end all travel on the bus, in order, so the end of a run
// is never seen before its last event.
func (m *model) startRunCmd() tea.Cmd {
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel = cancel
	m.phase = phaseRunning
	bus, run := m.bus, m.run
	return func() tea.Msg {
		defer cancel()
		emit := func(e steps.Event) { bus <- eventMsg(e) }
		rep, err := run(ctx, busPrompter{bus: bus}, emit)
		bus <- runDoneMsg{report: rep, err: err}
		return nil
	}
}

// listenCmd waits for the next message from the run.
func (m *model) listenCmd() tea.Cmd {
	bus := m.bus
	return func() tea.Msg { return <-bus }
}

func clockTickCmd() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return clockTickMsg(t) })
}

// Update handles keys, the run's messages and the timers.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case tea.KeyMsg:
		return m, m.handleKey(msg)
	case tea.InterruptMsg:
		return m, m.quit()
	case eventMsg:
		m.handleEvent(steps.Event(msg))
		return m, m.listenCmd()
	case promptMsg:
		m.ask(&msg)
		return m, tea.Batch(m.listenCmd(), m.input.Focus())
	case runDoneMsg:
		return m, m.finish(msg)
	case clockTickMsg:
		return m, clockTickCmd()
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	}
	if m.prompt != nil && m.prompt.kind == promptInput {
		var cmd tea.Cmd
		if m.multiline {
			m.area, cmd = m.area.Update(msg)
			return m, cmd
		}
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	}
	return m, nil
}

// quit cancels a run in flight and waits for it; once the run has
// returned it ends the program.
func (m *model) quit() tea.Cmd {
	if m.phase == phaseFinished {
		m.quitting = true
		return tea.Quit
	}
	m.interrupted = true
	m.phase = phaseCancelling
	m.prompt = nil
	m.cancel()
	return nil
}

func (m *model) handleKey(k tea.KeyMsg) tea.Cmd {
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && (m.prompt == nil || m.prompt.kind != promptInput) {
		// Keys pressed faster than they are read arrive as one message
		// ("jjj"): outside a text field each is a key of its own.
		var cmds []tea.Cmd
		for _, r := range k.Runes {
			cmds = append(cmds, m.handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt}))
		}
		return tea.Batch(cmds...)
	}
	if key.Matches(k, m.keys.ForceQuit) {
		return m.quit()
	}
	if m.phase == phaseCancelling {
		return nil
	}
	if m.prompt != nil {
		return m.answerKey(k)
	}
	if cmd, ok := m.commonKey(k); ok {
		return cmd
	}
	switch {
	case m.phase == phaseFinished && m.err == nil && key.Matches(k, m.keys.Up):
		m.scroll = max(0, m.scroll-1)
	case m.phase == phaseFinished && m.err == nil && key.Matches(k, m.keys.Down):
		m.scroll++
	case m.phase == phaseFinished && m.err == nil && key.Matches(k, m.keys.PageUp):
		m.scroll = max(0, m.scroll-max(1, m.height/2))
	case m.phase == phaseFinished && m.err == nil && key.Matches(k, m.keys.PageDown):
		m.scroll += max(1, m.height/2)
	case key.Matches(k, m.keys.Copy) && m.nextCommand() != "":
		return m.copy("command", m.nextCommand())
	case k.String() == "d" && m.phase == phaseFinished && m.err != nil:
		m.details = !m.details
	case key.Matches(k, m.keys.Retry) && m.phase == phaseFinished && m.err != nil:
		m.resetForRetry()
		return tea.Batch(m.startRunCmd(), m.listenCmd())
	}
	return nil
}

// commonKey handles the keys that work on every screen but a text field:
// quit, help and revealing the password. ok is false for any other key.
func (m *model) commonKey(k tea.KeyMsg) (cmd tea.Cmd, ok bool) {
	switch {
	case key.Matches(k, m.keys.Quit):
		return m.quit(), true
	case key.Matches(k, m.keys.Help):
		m.help.ShowAll = !m.help.ShowAll
	case key.Matches(k, m.keys.Reveal) && m.credsShown():
		m.reveal = !m.reveal
	case key.Matches(k, m.keys.CopyRecords) && m.recordsShown():
		return m.copy("records", m.manual.ZoneFile), true
	default:
		return nil, false
	}
	return nil, true
}

// answerKey handles a key while a question is on screen.
func (m *model) answerKey(k tea.KeyMsg) tea.Cmd {
	p := m.prompt
	if key.Matches(k, m.keys.Back) && m.canGoBack() {
		m.reply(promptReply{back: true})
		return nil
	}
	if p.kind == promptInput {
		if key.Matches(k, m.keys.Enter) {
			v := m.input.Value()
			if m.multiline {
				v = strings.TrimSpace(m.area.Value())
			}
			if v == "" {
				v = p.q.Default
			}
			if p.validate != nil {
				if err := p.validate(v); err != nil {
					m.inputErr = err.Error()
					return nil
				}
			}
			m.reply(promptReply{value: v})
			return nil
		}
		var cmd tea.Cmd
		value := func() string { return m.input.Value() }
		switch {
		case m.multiline:
			cmd = m.areaKey(k)
			value = func() string { return strings.TrimSpace(m.area.Value()) }
		case k.Type == tea.KeyRunes && !k.Alt:
			// Typed or pasted text goes into the field as it is: a burst
			// of runes such as "up" or "home" is text, never the field's
			// own key for a suggestion or a cursor move.
			m.insertText(string(k.Runes))
		default:
			m.input, cmd = m.input.Update(k)
		}
		if p.validate != nil && value() != "" {
			// Checked as the operator types: the message shows while
			// the answer is not yet good and goes away once it is.
			m.inputErr = ""
			if err := p.validate(value()); err != nil {
				m.inputErr = err.Error()
			}
		} else {
			m.inputErr = ""
		}
		return cmd
	}
	if m.filters() {
		// A long list takes typed text as its filter; the arrows move.
		switch {
		case k.Type == tea.KeyRunes && !k.Alt:
			m.setFilter(m.filter + string(k.Runes))
			return nil
		case k.Type == tea.KeySpace:
			m.setFilter(m.filter + " ")
			return nil
		case k.Type == tea.KeyBackspace && m.filter != "":
			r := []rune(m.filter)
			m.setFilter(string(r[:len(r)-1]))
			return nil
		case k.Type == tea.KeyEsc && m.filter != "":
			m.setFilter("")
			return nil
		case k.Type == tea.KeyUp:
			m.moveChoice(-1)
			return nil
		case k.Type == tea.KeyDown:
			m.moveChoice(1)
			return nil
		case key.Matches(k, m.keys.Enter):
			if len(m.visible()) > 0 {
				m.reply(promptReply{value: p.options[m.choice].Value})
			}
			return nil
		}
	}
	if cmd, ok := m.commonKey(k); ok {
		return cmd
	}
	switch {
	case p.kind == promptConfirm && key.Matches(k, m.keys.Yes):
		m.reply(promptReply{yes: true})
	case p.kind == promptConfirm && key.Matches(k, m.keys.No):
		m.reply(promptReply{yes: false})
	case p.kind == promptConfirm && key.Matches(k, m.keys.Up):
		m.scroll = max(0, m.scroll-1)
	case p.kind == promptConfirm && key.Matches(k, m.keys.Down):
		m.scroll++
	case p.kind == promptConfirm && key.Matches(k, m.keys.PageUp):
		m.scroll = max(0, m.scroll-max(1, m.height/2))
	case p.kind == promptConfirm && key.Matches(k, m.keys.PageDown):
		m.scroll += max(1, m.height/2)
	case p.kind == promptConfirm && key.Matches(k, m.keys.Enter):
		m.reply(promptReply{yes: !isNo(p.q.Default)})
	case p.kind == promptChoose && key.Matches(k, m.keys.Up):
		m.moveChoice(-1)
	case p.kind == promptChoose && key.Matches(k, m.keys.Down):
		m.moveChoice(1)
	case p.kind == promptChoose && key.Matches(k, m.keys.Enter):
		m.reply(promptReply{value: p.options[m.choice].Value})
	case p.kind == promptChoose && len(k.Runes) == 1 && k.Runes[0] >= '1' && k.Runes[0] <= '9':
		if i := int(k.Runes[0] - '1'); i < len(p.options) {
			m.choice = i
		}
	}
	return nil
}

func isNo(s string) bool { return len(s) > 0 && (s[0] == 'n' || s[0] == 'N') }

// ask puts a question on screen.
func (m *model) ask(p *promptMsg) {
	if p.kind == promptChoose && len(p.options) == 0 {
		p.reply <- promptReply{}
		return
	}
	m.prompt = p
	m.inputErr = ""
	m.choice = 0
	m.scroll = 0
	m.filter = ""
	for i, o := range p.options {
		if o.Value == p.q.Default {
			m.choice = i
		}
	}
	m.multiline = p.kind == promptInput && multiLineQuestions[p.q.ID]
	if m.multiline {
		m.area = newArea(m.r, m.st, p.q.Default, m.animate)
	}
	m.input.Reset()
	m.input.Placeholder = p.q.Default
	m.input.EchoMode = textinput.EchoNormal
	if p.q.Secret {
		m.input.EchoMode = textinput.EchoPassword
	}
	if p.q.Step != "" {
		m.cur = p.q.Step
	}
}

// reply answers the question on screen; the reply channel is buffered,
// so this never blocks even if the run has stopped waiting.
func (m *model) reply(r promptReply) {
	// The first answers name the setup; the header shows them at once.
	switch m.prompt.q.ID {
	case "domain":
		// Show the name sesame will use (lower case, punycode), not the
		// keystrokes.
		m.domain = r.value
		if d, err := steps.NormalizeDomain(r.value); err == nil {
			m.domain = d
		}
	case "region":
		m.region = r.value
	case "resume":
		// A saved setup, labelled "<domain> in <region>": the header
		// names it at once, not only at the end.
		for _, o := range m.prompt.options {
			if o.Value == r.value && o.Value != "new" {
				if d, reg, ok := strings.Cut(o.Label, " in "); ok {
					m.domain, m.region = d, reg
				}
			}
		}
	}
	if r.back {
		m.answered = max(0, m.answered-1) // the one asked again counts anew
	} else if m.prompt.q.Step == "" {
		m.answered++
	}
	m.prompt.reply <- r
	m.prompt = nil
	m.input.Blur()
	m.multiline = false
}

// canGoBack says Shift+Tab works: a first question (not a step's) after
// at least one answer of this round.
func (m *model) canGoBack() bool {
	return m.prompt != nil && m.prompt.q.Step == "" && m.answered > 0
}

// insertText puts s into the text field at the cursor, as typed.
func (m *model) insertText(s string) {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
	v := []rune(m.input.Value())
	pos := min(m.input.Position(), len(v))
	ins := []rune(s)
	nv := make([]rune, 0, len(v)+len(ins))
	nv = append(append(append(nv, v[:pos]...), ins...), v[pos:]...)
	m.input.SetValue(string(nv))
	m.input.SetCursor(pos + len(ins))
}

// recordsShown reports whether records to publish by hand are on screen
// (and so z copies them).
func (m *model) recordsShown() bool {
	return m.manual != nil && len(m.manual.Records) > 0 &&
		(m.phase == phaseFinished || m.cur == "dns" || m.cur == "verification")
}

// nextCommand is the command the end screen says to run next, without
// its comment; "" until the run has finished.
func (m *model) nextCommand() string {
	if m.phase != phaseFinished || m.report == nil {
		return ""
	}
	cmds := nextCommands(m.report, m.err)
	if len(cmds) == 0 {
		return ""
	}
	c, _, _ := strings.Cut(cmds[0], "    #")
	return strings.TrimSpace(c)
}

// copy puts text on the clipboard and says so in the help line.
func (m *model) copy(what, text string) tea.Cmd {
	if m.copyFn == nil {
		return nil
	}
	if err := m.copyFn(text); err != nil {
		m.copied = "could not copy the " + what + ": " + err.Error()
		return nil
	}
	m.copied = "copied the " + what + " (OSC 52)"
	return nil
}

// stepIndex is a step's place in the list, -1 when it is not there.
func (m *model) stepIndex(id string) int {
	return slices.IndexFunc(m.rows, func(r *stepRow) bool { return r.id == id })
}

// credsShown reports whether the credentials are on screen (and so the
// reveal key works): in their own step, in relay, and at the end.
func (m *model) credsShown() bool {
	return m.creds != nil && (m.phase == phaseFinished || m.cur == "smtp-user" || m.cur == "relay")
}

func (m *model) row(id, title string) *stepRow {
	for _, r := range m.rows {
		if r.id == id {
			if title != "" {
				r.title = title
			}
			return r
		}
	}
	r := &stepRow{id: id, title: orDefault(title, id)}
	m.rows = append(m.rows, r)
	return r
}

func (m *model) handleEvent(e steps.Event) {
	switch e.Kind {
	case steps.EventStepStarted:
		// A step run again (r after a failure) keeps its last mark
		// under the spinner until it finishes again.
		r := m.row(e.Step, e.Title)
		r.running, r.err = true, nil
		r.since, r.doing = m.now(), "checking what AWS has"
		m.cur, m.retry = e.Step, ""
	case steps.EventStepChecked:
		m.row(e.Step, e.Title).detail = e.Detail
	case steps.EventPlan:
		m.plans[e.Step] = e.Plan
	case steps.EventApplying:
		r := m.row(e.Step, e.Title)
		r.since, r.doing = m.now(), "applying the plan"
		r.detail = "applying"
		if e.Plan != nil && e.Plan.Summary != "" {
			r.detail = "applying: " + e.Plan.Summary
		}
		m.retry = ""
	case steps.EventStepFinished:
		r := m.row(e.Step, e.Title)
		r.running, r.status, r.detail, r.err = false, e.Status, e.Detail, e.Err
		m.retry = ""
		if e.Err != nil && !interruptedErr(e.Err) {
			m.failed = e.Step
		}
		if e.Step == "verification" && e.Status == steps.StatusDone {
			m.verified = "SES verified the domain"
			if d := orDefault(m.domain, m.opts.Domain); d != "" {
				m.verified = "SES verified " + d
			}
			if m.verify != nil && m.verify.Elapsed > 0 {
				m.verified += " in " + duration(m.verify.Elapsed)
			}
		}
	case steps.EventInfo:
		l := append(m.info[e.Step], e.Detail)
		m.info[e.Step] = l[max(0, len(l)-3):]
	case steps.EventWarning:
		w := warning{step: e.Step, text: e.Detail}
		if !slices.Contains(m.warnings, w) {
			m.warnings = append(m.warnings, w)
		}
	case steps.EventRetrying:
		m.retry = fmt.Sprintf("retrying (%d/%d): %s", e.Attempt, e.MaxAttempts, e.Detail)
	case steps.EventData:
		m.handleData(e.Data)
	}
}

func (m *model) handleData(d any) {
	switch d := d.(type) {
	case *steps.AccountInfo:
		m.account = d
	case *steps.Credentials:
		m.creds = d
	case *steps.VerificationProgress:
		m.verify, m.verifyAt = d, m.now()
	case *steps.SandboxReport:
		m.sandbox = d
	case *steps.MXReport:
		m.mx = d
	case *dns.Manual:
		m.manual = d
	case *steps.RelayReport:
		m.relay = d
	case *steps.SlowCall:
		if !d.Done {
			m.slow = d
		} else if m.slow != nil && m.slow.Service == d.Service && m.slow.Operation == d.Operation {
			m.slow = nil
		}
	}
}

// finish takes the run's result; after an interrupt, or when the caller's
// context ended, the program ends too.
func (m *model) finish(d runDoneMsg) tea.Cmd {
	m.phase = phaseFinished
	m.scroll = 0
	m.report, m.err = d.report, d.err
	m.prompt = nil
	for _, r := range m.rows {
		r.running = false
	}
	if m.report != nil && m.account == nil && m.report.Account != "" {
		m.account = &steps.AccountInfo{ID: m.report.Account, Region: m.report.Region}
	}
	if m.interrupted || m.ctx.Err() != nil {
		m.quitting = true
		return tea.Quit
	}
	return nil
}

// resetForRetry readies the screen for r after a failure: what is done
// stays done (the run checks it again, quickly, and AWS is the truth);
// the step that failed and the ones after it start over.
func (m *model) resetForRetry() {
	m.err, m.report = nil, nil
	m.plans, m.info = map[string]*steps.Plan{}, map[string][]string{}
	m.warnings, m.retry, m.verify = nil, "", nil
	m.failed, m.details, m.copied = "", false, ""
	for _, r := range m.rows {
		if r.err != nil || r.status == steps.StatusFailed || r.status == steps.StatusTodo || r.status == steps.StatusPending {
			r.running, r.status, r.detail, r.err = false, "", "", nil
		}
	}
}

// interruptedErr reports whether err is an interrupt rather than a failure.
func interruptedErr(err error) bool { return errors.Is(err, context.Canceled) }
