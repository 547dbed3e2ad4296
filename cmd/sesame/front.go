package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"golang.org/x/term"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/ui"
)

// runFunc runs a command's steps with a front end's prompter and event
// sink.
type runFunc func(ctx context.Context, p steps.Prompter, emit func(steps.Event)) (*steps.Report, error)

// frontRun is what differs between the commands that run steps (the
// wizard, rotate, remove); runOnFront does the rest the same way for all.
type frontRun struct {
	// tui are the TUI's options (runOnFront sets NoColor).
	tui ui.TUIOptions
	// run runs the steps.
	run runFunc
	// plain, if set, runs them on the plain front end instead of run
	// (remove shows every plan first, then asks once).
	plain runFunc
	// before, if set, prints what a plain run starts with.
	before func(out io.Writer)
	// summary prints the plain front end's end; the TUI prints its own.
	summary func(out io.Writer, rep *steps.Report, err error, color bool)
}

// runOnFront runs f on the front end the terminal and flags choose: the
// TUI, or plain lines (with --json, the document alone on stdout and the
// lines on stderr). While the TUI owns the terminal nothing else writes to
// it: the AWS SDK's log lines become events and Go's standard logger goes
// to the --debug log or nowhere. It returns the command's exit error.
func (w *wiring) runOnFront(ctx context.Context, o *options, s *ioStreams, getenv func(string) string, f frontRun) error {
	color := colorOK(o, s, getenv)
	run := func(ctx context.Context, p steps.Prompter, emit func(steps.Event)) (*steps.Report, error) {
		w.log.setEmit(emit)
		return f.run(ctx, p, emit)
	}
	var out io.Writer = s.Out
	if o.json {
		out = s.ErrOut // stdout carries only the JSON document
	}
	front := chooseFrontEnd(o, s, getenv)
	if f.before != nil && front != frontTUI {
		f.before(out)
	}
	if w.debugPath != "" {
		fmt.Fprintf(s.ErrOut, "sesame: --debug writes to %s\n", w.debugPath)
	}
	var rep *steps.Report
	var err error
	switch front {
	case frontTUI:
		// Go's standard logger (net/http's server errors in the demo's
		// simulator, for one) writes to stderr, which would draw over
		// the screen.
		var logTo io.Writer = io.Discard
		if w.debugFile != nil {
			logTo = w.debugFile
		}
		log.SetOutput(logTo)
		defer log.SetOutput(os.Stderr)
		tui := f.tui
		tui.NoColor = !color
		rep, err = ui.RunTUI(ctx, s.In, s.Out, tui, run)
	default:
		plain := ui.NewPlain(out, color && !o.json)
		if file, ok := out.(*os.File); ok && s.OutTTY && !o.json {
			// On a terminal (ACCESSIBLE=1), plans fit its width.
			if width, _, err := term.GetSize(int(file.Fd())); err == nil {
				plain.Width = width
			}
		}
		var p steps.Prompter = steps.NoInput{}
		if !w.env.Options.NoInput {
			p = &ui.LinePrompter{In: s.In, Out: out, PlansShown: true}
		}
		if f.plain != nil {
			plainRun := f.plain
			run = func(ctx context.Context, p steps.Prompter, emit func(steps.Event)) (*steps.Report, error) {
				w.log.setEmit(emit)
				return plainRun(ctx, p, emit)
			}
		}
		rep, err = run(ctx, p, plain.Event)
		if errors.Is(err, context.Canceled) && s.InTTY {
			// The terminal echoed ^C where the cursor was: what follows
			// starts on a line of its own.
			fmt.Fprintln(out)
		}
	}
	if w.debugPath != "" {
		fmt.Fprintf(s.ErrOut, "sesame: the --debug log is in %s\n", w.debugPath)
	}
	if o.json && rep != nil {
		if jerr := ui.WriteJSON(s.Out, rep); jerr != nil && err == nil {
			err = jerr
		}
	} else if rep != nil && len(rep.Steps) > 0 && front == frontPlain && f.summary != nil {
		f.summary(out, rep, err, color)
	}
	res := exitFor(o.nameEnv(err))
	var ee *exitError
	if front == frontTUI && rep != nil && errors.As(res, &ee) {
		// The TUI's summary, in the scrollback, already says what
		// stopped the run and what to do: say it once.
		ee.Err = nil
	}
	return res
}
