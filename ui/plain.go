package ui

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/dns"
)

// Plain is the line reporter for runs without a TUI: no TTY, --no-input,
// ACCESSIBLE=1. It prints one line per step transition, plans as tables
// and the steps' data as text, and nothing else: no cursor movement and no
// colour codes unless asked. It is safe for concurrent use.
type Plain struct {
	// Width is the terminal's width when the output is one (ACCESSIBLE=1
	// on a terminal): plans too wide for it are listed change by change
	// instead of as a table. 0 keeps the table as wide as its values.
	Width int

	mu sync.Mutex
	w  io.Writer
	st *Styles
}

// NewPlain returns a Plain that writes to w, with ANSI colours only when
// color is true.
func NewPlain(w io.Writer, color bool) *Plain {
	return &Plain{w: w, st: DefaultStyles(forcedRenderer(w, color))}
}

// Event prints one event. Its signature fits steps.Env.Emit.
func (p *Plain) Event(e steps.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines(e) {
		fmt.Fprintln(p.w, l)
	}
}

func (p *Plain) lines(e steps.Event) []string {
	st := p.st
	switch e.Kind {
	case steps.EventStepChecked:
		if e.Status == steps.StatusTodo || e.Status == steps.StatusPending {
			return []string{fmt.Sprintf("→ %s  %s", e.Step, orDefault(e.Detail, string(e.Status)))}
		}
	case steps.EventPlan:
		if e.Plan == nil {
			return nil
		}
		l := []string{fmt.Sprintf("  plan for %s: %s", e.Step, orDefault(e.Plan.Summary, "no summary"))}
		for _, r := range planTable(e.Plan, max(0, p.Width-4), st) {
			l = append(l, "    "+r)
		}
		return l
	case steps.EventApplying:
		return []string{fmt.Sprintf("… %s  applying", e.Step)}
	case steps.EventStepFinished:
		return p.finished(e)
	case steps.EventInfo:
		return []string{fmt.Sprintf("  %s: %s", e.Step, e.Detail)}
	case steps.EventWarning:
		return []string{st.Warning.Render(fmt.Sprintf("%s %s: %s", markWarning, e.Step, e.Detail))}
	case steps.EventRetrying:
		return []string{st.Dim.Render(fmt.Sprintf("… retrying (%d/%d): %s", e.Attempt, e.MaxAttempts, e.Detail))}
	case steps.EventData:
		return p.data(e)
	}
	return nil
}

func (p *Plain) finished(e steps.Event) []string {
	mark := p.st.status(e.Status).Render(statusMark(e.Status))
	detail := e.Detail
	switch {
	case e.Err != nil && errors.Is(e.Err, steps.ErrDeclined):
		mark = p.st.Warning.Render(markSkipped)
	case e.Status == steps.StatusSkipped && !strings.HasPrefix(detail, "skipped"):
		detail = "skipped: " + detail
	case e.Status == steps.StatusPending && !strings.HasPrefix(detail, "pending"):
		detail = "pending: " + detail
	}
	if e.Err != nil && e.Status == steps.StatusFailed {
		detail = e.Err.Error()
	}
	first, rest, _ := strings.Cut(detail, "\n")
	l := []string{fmt.Sprintf("%s %s  %s", mark, e.Step, first)}
	if rest != "" {
		for _, r := range strings.Split(rest, "\n") {
			l = append(l, "  "+strings.TrimLeft(r, " "))
		}
	}
	return l
}

func (p *Plain) data(e steps.Event) []string {
	if e.Data == nil {
		return nil
	}
	var l []string
	for _, s := range card(e.Data, cardOpts{st: p.st}) {
		l = append(l, "  "+s)
	}
	if m, ok := e.Data.(*dns.Manual); ok && m.ZoneFile != "" {
		// Lines to paste into a zone file, for an operator without a
		// clipboard key.
		l = append(l, "  As BIND zone-file lines:")
		for _, r := range strings.Split(strings.TrimRight(m.ZoneFile, "\n"), "\n") {
			l = append(l, "    "+r)
		}
	}
	return l
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
