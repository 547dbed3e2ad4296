package ui

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
	"github.com/sesame-tool/sesame/steps"
)

// RunFunc is the whole run behind a front end: it asks its questions
// through p, reports through emit and returns the report. The TUI may call
// it again when the operator presses r after a failure.
type RunFunc func(ctx context.Context, p steps.Prompter, emit func(steps.Event)) (*steps.Report, error)

// TUIOptions set up the TUI.
type TUIOptions struct {
	// Demo shows the DEMO badge: the account is sesame's simulator.
	Demo bool
	// DryRun shows the DRY RUN badge, and the plans stay on the end
	// screen: nothing was changed.
	DryRun bool
	// NoColor turns colour off (--no-color); NO_COLOR and TERM=dumb do too.
	NoColor bool
	// Width and Height fix the screen size; 0 means the terminal's.
	Width, Height int
	// Domain and Region are shown in the header until the account is known.
	Domain, Region string
	// Steps are the step ids listed as pending before the run reaches
	// them; nil means sesame's steps in their usual order.
	Steps []string
}

// RunTUI runs the wizard's TUI on in and out until the operator quits. The
// run goes in a goroutine with a context that q and Ctrl+C cancel; the TUI
// then waits for it to return. It returns the run's report and error:
// context.Canceled when interrupted during work (exit 130), the run's own
// result when q is pressed after it finished. The program renders inline,
// and the summary is printed after it ends so it stays in the scrollback.
func RunTUI(ctx context.Context, in io.Reader, out io.Writer, opts TUIOptions, run RunFunc) (*steps.Report, error) {
	r := newRenderer(out, opts.NoColor)
	if !ColorAllowed(opts.NoColor, os.Getenv) {
		// No colour, but bold and reverse video still work (NO_COLOR
		// forbids colour only): the text cursor stays visible.
		r.SetColorProfile(termenv.ANSI)
		opts.NoColor = true
	}
	m := newModel(ctx, opts, run, r, true, time.Now)
	m.copyFn = func(text string) error { return copyOSC52(out, text) }
	// 120 frames a second: the first frame goes out within ~8 ms of start
	// rather than at the default 60 fps tick.
	popts := []tea.ProgramOption{tea.WithInput(in), tea.WithOutput(out), tea.WithoutSignalHandler(), tea.WithFPS(120)}
	if opts.Width > 0 && opts.Height > 0 {
		m.width, m.height = opts.Width, opts.Height
	}
	p := tea.NewProgram(m, popts...)
	final, perr := p.Run()
	fm, ok := final.(*model)
	if !ok {
		fm = m
	}
	if fm.phase != phaseFinished && fm.cancel != nil {
		// The program ended before the run did (its input closed, or it
		// was killed): stop the run and wait for it, answering nothing.
		fm.cancel()
		for msg := range fm.bus {
			if d, ok := msg.(runDoneMsg); ok {
				fm.report, fm.err = d.report, d.err
				break
			}
		}
	}
	if fm.report != nil {
		printSummary(out, fm.report, fm.err, ColorWanted(out, opts.NoColor), fm.width)
	}
	if perr != nil && fm.err == nil {
		return fm.report, fmt.Errorf("terminal UI: %w", perr)
	}
	return fm.report, fm.err
}

// copyOSC52 puts text on the terminal's clipboard with the OSC 52
// sequence, which terminals (and tmux with set-clipboard) honour over SSH
// too. One write: the renderer's frames are single writes as well, so
// they never interleave with it.
func copyOSC52(out io.Writer, text string) error {
	_, err := io.WriteString(out, "\x1b]52;c;"+base64.StdEncoding.EncodeToString([]byte(text))+"\a")
	return err
}
