package ui

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/sesame-tool/sesame/steps"
)

// LinePrompter asks questions as plain numbered lines on Out and reads the
// answers from In, one per line: for screen readers, ACCESSIBLE=1 and any
// terminal where the TUI does not fit. A bad answer is explained and the
// question asked again. It implements steps.Prompter.
//
// Secret questions are read like any other: In is a plain reader here, so
// the caller must not point LinePrompter at a terminal that echoes when it
// asks for a secret (sesame asks none today).
type LinePrompter struct {
	In  io.Reader
	Out io.Writer
	// PlansShown says a reporter on Out prints each plan as it is made
	// (Plain does), so an approval refers to it instead of printing it
	// a second time.
	PlansShown bool

	once  sync.Once
	lines chan lineResult
	want  chan struct{}
	st    *Styles
}

type lineResult struct {
	line string
	err  error
}

var _ steps.Prompter = (*LinePrompter)(nil)

// ErrNoAnswer means the input ended before a question was answered.
var ErrNoAnswer = errors.New("no answer: the input ended")

// start launches the reader goroutine: it reads one line each time one is
// wanted, so a question abandoned by a cancelled context leaves its line
// for the next question instead of losing it.
func (p *LinePrompter) start() {
	p.once.Do(func() {
		p.lines = make(chan lineResult, 1)
		p.want = make(chan struct{})
		p.st = DefaultStyles(forcedRenderer(p.Out, false))
		br := bufio.NewReader(p.In)
		go func() {
			for range p.want {
				s, err := br.ReadString('\n')
				if err == io.EOF && s != "" {
					err = nil
				}
				p.lines <- lineResult{strings.TrimSpace(s), err}
				if err != nil {
					return
				}
			}
		}()
	})
}

// readLine waits for the next line or the context.
func (p *LinePrompter) readLine(ctx context.Context) (string, error) {
	p.start()
	select {
	case p.want <- struct{}{}:
	case r := <-p.lines: // a line left over from a cancelled question
		return r.line, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case r := <-p.lines:
		if errors.Is(r.err, io.EOF) {
			return "", ErrNoAnswer
		}
		return r.line, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (p *LinePrompter) header(q steps.Question) {
	p.start()
	fmt.Fprintln(p.Out)
	if q.Plan != nil && p.PlansShown {
		// The reporter printed the plan just above: once is enough.
		fmt.Fprintln(p.Out, "The plan above: "+orDefault(q.Plan.Summary, "the changes listed"))
	} else if q.Plan != nil {
		if q.Plan.Summary != "" {
			fmt.Fprintln(p.Out, "Plan: "+q.Plan.Summary)
		}
		for _, l := range planTable(q.Plan, 0, p.st) {
			fmt.Fprintln(p.Out, "  "+l)
		}
	} else if q.Detail != "" {
		fmt.Fprintln(p.Out, q.Detail)
	}
	if q.Flag != "" && q.Plan == nil {
		// As in the TUI: the flag that answers the question next time.
		fmt.Fprintln(p.Out, "(next time: "+q.Flag+")")
	}
}

// Confirm asks a yes/no question; an empty answer takes q.Default (yes
// when there is none).
func (p *LinePrompter) Confirm(ctx context.Context, q steps.Question) (bool, error) {
	p.header(q)
	def := !strings.HasPrefix(strings.ToLower(q.Default), "n")
	hint := "[Y/n]"
	if !def {
		hint = "[y/N]"
	}
	for {
		fmt.Fprintf(p.Out, "%s %s: ", q.Title, hint)
		s, err := p.readLine(ctx)
		if err != nil {
			return false, fmt.Errorf("%s: %w", q.Title, err)
		}
		switch strings.ToLower(s) {
		case "":
			return def, nil
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
		fmt.Fprintln(p.Out, "Please answer y or n.")
	}
}

// Choose prints the options numbered from 1 and accepts a number or an
// option's value; an empty answer takes q.Default when it is one of them.
func (p *LinePrompter) Choose(ctx context.Context, q steps.Question, options []steps.Option) (string, error) {
	if len(options) == 0 {
		return "", fmt.Errorf("%s: no options to choose from", q.Title)
	}
	p.header(q)
	def := 0 // a list always has a default: the first, unless q names one
	for i, o := range options {
		if o.Value == q.Default {
			def = i
		}
	}
	for i, o := range options {
		line := fmt.Sprintf("  %d) %s", i+1, orDefault(o.Label, o.Value))
		if o.Detail != "" {
			line += " - " + o.Detail
		}
		if i == def {
			line += " (default)"
		}
		fmt.Fprintln(p.Out, line)
	}
	for {
		hint := fmt.Sprintf("[1-%d]", len(options))
		if def >= 0 {
			hint = fmt.Sprintf("[1-%d, Enter for %d]", len(options), def+1)
		}
		fmt.Fprintf(p.Out, "%s %s: ", q.Title, hint)
		s, err := p.readLine(ctx)
		if err != nil {
			return "", fmt.Errorf("%s: %w", q.Title, err)
		}
		if s == "" && def >= 0 {
			return options[def].Value, nil
		}
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= len(options) {
			return options[n-1].Value, nil
		}
		for _, o := range options {
			if s != "" && strings.EqualFold(s, o.Value) {
				return o.Value, nil
			}
		}
		fmt.Fprintf(p.Out, "Please answer with a number from 1 to %d.\n", len(options))
	}
}

// Input asks for a line of text; an empty answer takes q.Default. A
// rejected answer prints validate's message and asks again.
func (p *LinePrompter) Input(ctx context.Context, q steps.Question, validate func(string) error) (string, error) {
	p.header(q)
	for {
		if q.Default != "" {
			fmt.Fprintf(p.Out, "%s [%s]: ", q.Title, q.Default)
		} else {
			fmt.Fprintf(p.Out, "%s: ", q.Title)
		}
		s, err := p.readLine(ctx)
		if err != nil {
			return "", fmt.Errorf("%s: %w", q.Title, err)
		}
		if s == "" {
			s = q.Default
		}
		if validate != nil {
			if err := validate(s); err != nil {
				fmt.Fprintln(p.Out, "Not accepted: "+err.Error())
				continue
			}
		}
		return s, nil
	}
}
