package ui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/sesame-tool/sesame/steps"
)

// eventMsg carries one steps.Event from the run to the model.
type eventMsg steps.Event

// promptKind says which Prompter method asked.
type promptKind int

const (
	// promptConfirm is a yes/no question.
	promptConfirm promptKind = iota
	// promptChoose picks one of a list.
	promptChoose
	// promptInput reads a line of text.
	promptInput
)

// promptMsg is a question from the run; the answer goes back on reply.
type promptMsg struct {
	kind     promptKind
	q        steps.Question
	options  []steps.Option
	validate func(string) error
	reply    chan promptReply
}

// promptReply is the operator's answer to a promptMsg.
type promptReply struct {
	value string
	yes   bool
	// back is Shift+Tab: go back to the previous answer (ErrBack).
	back bool
}

// runDoneMsg says the run returned; it is the last message of a run.
type runDoneMsg struct {
	report *steps.Report
	err    error
}

// clockTickMsg refreshes the elapsed time and the countdown.
type clockTickMsg time.Time

// busPrompter implements steps.Prompter for the TUI: each question goes to
// the model as a promptMsg and the caller waits for the answer or for its
// context to end.
type busPrompter struct {
	bus chan<- tea.Msg
}

var _ steps.Prompter = busPrompter{}

func (p busPrompter) ask(ctx context.Context, m promptMsg) (promptReply, error) {
	m.reply = make(chan promptReply, 1)
	select {
	case p.bus <- m:
	case <-ctx.Done():
		return promptReply{}, ctx.Err()
	}
	select {
	case r := <-m.reply:
		if r.back {
			return r, ErrBack
		}
		return r, nil
	case <-ctx.Done():
		return promptReply{}, ctx.Err()
	}
}

// Confirm asks a yes/no question in the TUI.
func (p busPrompter) Confirm(ctx context.Context, q steps.Question) (bool, error) {
	r, err := p.ask(ctx, promptMsg{kind: promptConfirm, q: q})
	return r.yes, err
}

// Choose shows the options as a list in the TUI.
func (p busPrompter) Choose(ctx context.Context, q steps.Question, options []steps.Option) (string, error) {
	r, err := p.ask(ctx, promptMsg{kind: promptChoose, q: q, options: options})
	return r.value, err
}

// Input reads a line in the TUI; validate runs as the operator types and
// on Enter, and a rejected answer is never sent back.
func (p busPrompter) Input(ctx context.Context, q steps.Question, validate func(string) error) (string, error) {
	r, err := p.ask(ctx, promptMsg{kind: promptInput, q: q, validate: validate})
	return r.value, err
}
