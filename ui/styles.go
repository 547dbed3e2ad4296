package ui

import (
	"io"
	"os"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/sesame-tool/sesame/steps"
)

// The palette: each colour has a light- and a dark-background variant so the
// TUI reads on both.
var (
	colAccent = lipgloss.AdaptiveColor{Light: "#5A56E0", Dark: "#7571F9"}
	colOK     = lipgloss.AdaptiveColor{Light: "#027A48", Dark: "#02BF87"}
	colWarn   = lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#F2C94C"}
	colErr    = lipgloss.AdaptiveColor{Light: "#C62828", Dark: "#FF5F5F"}
	colSubtle = lipgloss.AdaptiveColor{Light: "#6B6B6B", Dark: "#8A8A8A"}
	colBadge  = lipgloss.AdaptiveColor{Light: "#FFFFFF", Dark: "#1A1A1A"}
)

// Styles are every style the TUI and the coloured plain reporter use,
// built for one renderer so that the colour profile (none for NO_COLOR,
// --no-color and dumb terminals) applies to all of them.
type Styles struct {
	App, Badge, Dim, Bold, Rule             lipgloss.Style
	Done, Running, Todo, Skipped, Failed    lipgloss.Style
	Waiting, Warning, Error, OK, Key, Title lipgloss.Style
	Selected, InputError                    lipgloss.Style
	// Actions colour a plan's ACTION column.
	Create, Unchanged, Merge, Conflict, Other lipgloss.Style
}

// DefaultStyles builds the palette for a renderer.
func DefaultStyles(r *lipgloss.Renderer) *Styles {
	n := r.NewStyle()
	return &Styles{
		App:        n.Bold(true).Foreground(colAccent),
		Badge:      n.Bold(true).Foreground(colBadge).Background(colWarn).Padding(0, 1),
		Dim:        n.Foreground(colSubtle),
		Bold:       n.Bold(true),
		Rule:       n.Foreground(colSubtle),
		Done:       n.Foreground(colOK),
		Running:    n.Foreground(colAccent).Bold(true),
		Todo:       n.Foreground(colSubtle),
		Skipped:    n.Foreground(colWarn),
		Failed:     n.Foreground(colErr).Bold(true),
		Waiting:    n.Foreground(colWarn),
		Warning:    n.Foreground(colWarn),
		Error:      n.Foreground(colErr),
		OK:         n.Foreground(colOK),
		Key:        n.Bold(true),
		Title:      n.Bold(true),
		Selected:   n.Foreground(colAccent).Bold(true),
		InputError: n.Foreground(colErr),
		Create:     n.Foreground(colOK),
		Unchanged:  n.Foreground(colSubtle),
		Merge:      n.Foreground(colWarn),
		Conflict:   n.Foreground(colErr).Bold(true),
		Other:      n.Foreground(colAccent),
	}
}

// MonoStyles are the styles without a colour, for NO_COLOR and
// --no-color on a terminal: bold and reverse video still mark the title,
// the selection, the DEMO badge and the text cursor, so nothing that
// colour showed becomes invisible.
func MonoStyles(r *lipgloss.Renderer) *Styles {
	n := r.NewStyle()
	b := n.Bold(true)
	return &Styles{
		App: b, Badge: b.Reverse(true).Padding(0, 1), Dim: n, Bold: b, Rule: n,
		Done: n, Running: b, Todo: n, Skipped: n, Failed: b,
		Waiting: n, Warning: n, Error: n, OK: n, Key: b, Title: b,
		Selected: b.Reverse(true), InputError: n,
		Create: n, Unchanged: n, Merge: n, Conflict: b, Other: n,
	}
}

// action colours a plan action.
func (s *Styles) action(a steps.Action) lipgloss.Style {
	switch a {
	case steps.ActionCreate:
		return s.Create
	case steps.ActionUnchanged:
		return s.Unchanged
	case steps.ActionMerge, steps.ActionUpdate:
		return s.Merge
	case steps.ActionConflict, steps.ActionDelete:
		return s.Conflict
	default:
		return s.Other
	}
}

// status colours a step status mark.
func (s *Styles) status(st steps.Status) lipgloss.Style {
	switch st {
	case steps.StatusDone:
		return s.Done
	case steps.StatusFailed:
		return s.Failed
	case steps.StatusSkipped:
		return s.Skipped
	case steps.StatusPending:
		return s.Waiting
	default:
		return s.Todo
	}
}

// ColorAllowed is the one place that decides whether colour is allowed at
// all: not with --no-color (noColor), with NO_COLOR set (any value, as
// no-color.org says) or on a dumb terminal. Whether the output is a
// terminal is the caller's part.
func ColorAllowed(noColor bool, getenv func(string) string) bool {
	return !noColor && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// ColorWanted reports whether output to w should be coloured: colour is
// allowed (ColorAllowed) and w is a terminal.
func ColorWanted(w io.Writer, noColor bool) bool {
	if !ColorAllowed(noColor, os.Getenv) {
		return false
	}
	f, ok := w.(*os.File)
	return ok && termenv.NewOutput(f).Profile != termenv.Ascii
}

// newRenderer returns a renderer for out whose profile honours --no-color,
// NO_COLOR and TERM=dumb.
func newRenderer(out io.Writer, noColor bool) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(out)
	if !ColorAllowed(noColor, os.Getenv) {
		r.SetColorProfile(termenv.Ascii)
	}
	if out == os.Stdout {
		// bubbletea's init already asked the terminal on stdout for its
		// background (lipgloss's default renderer keeps the answer): asking
		// again costs a round trip to the terminal before the first frame.
		r.SetHasDarkBackground(lipgloss.HasDarkBackground())
	}
	return r
}

// forcedRenderer returns a renderer with a fixed profile, whatever w is:
// ANSI colours when color is true, none otherwise.
func forcedRenderer(w io.Writer, color bool) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI)
		r.SetHasDarkBackground(true)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	return r
}
