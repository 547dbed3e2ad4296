package ui

import (
	"context"
	"errors"

	"github.com/sesame-tool/sesame/steps"
)

// ErrBack is what a question returns when the operator presses Shift+Tab
// to go back to the previous answer. Only the first questions (before any
// step runs) go back; History replays the answers before it.
var ErrBack = errors.New("back to the previous question")

// History lets the answer questions be asked again from an earlier one:
// its Prompter records each answer, and after Back the next round replays
// the answers before the one to change and asks that one again, with the
// previous answer as its default. Questions come in the same order for
// the same answers, so a replay lands on the same questions.
type History struct {
	answers []recorded
	replay  []recorded
	prefill *recorded
}

type recorded struct {
	id      string
	value   string
	yes     bool
	confirm bool
}

// Back readies the next round after a question returned ErrBack: the
// answer before it is asked again. It reports false when there is none.
func (h *History) Back() bool {
	if len(h.answers) == 0 {
		return false
	}
	last := h.answers[len(h.answers)-1]
	h.replay = append([]recorded(nil), h.answers[:len(h.answers)-1]...)
	h.prefill = &last
	h.answers = nil
	return true
}

// Prompter wraps p for one round of questions.
func (h *History) Prompter(p steps.Prompter) steps.Prompter { return &historyPrompter{h: h, p: p} }

type historyPrompter struct {
	h *History
	p steps.Prompter
}

// next returns the recorded answer to replay for q, if there is one, and
// otherwise q with the previous answer as its default.
func (hp *historyPrompter) next(q steps.Question) (*recorded, steps.Question) {
	h := hp.h
	if len(h.replay) > 0 && h.replay[0].id == q.ID {
		r := h.replay[0]
		h.replay = h.replay[1:]
		return &r, q
	}
	h.replay = nil // the questions changed: ask from here on
	if f := h.prefill; f != nil && f.id == q.ID {
		q.Default = f.value
		if f.confirm {
			q.Default = map[bool]string{true: "y", false: "n"}[f.yes]
		}
	}
	h.prefill = nil
	return nil, q
}

func (hp *historyPrompter) record(id, value string, yes bool) {
	hp.h.answers = append(hp.h.answers, recorded{id: id, value: value, yes: yes})
}

func (hp *historyPrompter) recordConfirm(id string, yes bool) {
	hp.h.answers = append(hp.h.answers, recorded{id: id, yes: yes, confirm: true})
}

// Confirm replays or asks a yes/no question.
func (hp *historyPrompter) Confirm(ctx context.Context, q steps.Question) (bool, error) {
	r, q := hp.next(q)
	if r != nil {
		hp.recordConfirm(q.ID, r.yes)
		return r.yes, nil
	}
	yes, err := hp.p.Confirm(ctx, q)
	if err == nil {
		hp.recordConfirm(q.ID, yes)
	}
	return yes, err
}

// Choose replays or asks a choice.
func (hp *historyPrompter) Choose(ctx context.Context, q steps.Question, options []steps.Option) (string, error) {
	r, q := hp.next(q)
	if r != nil {
		hp.record(q.ID, r.value, false)
		return r.value, nil
	}
	v, err := hp.p.Choose(ctx, q, options)
	if err == nil {
		hp.record(q.ID, v, false)
	}
	return v, err
}

// Input replays or asks for a line of text.
func (hp *historyPrompter) Input(ctx context.Context, q steps.Question, validate func(string) error) (string, error) {
	r, q := hp.next(q)
	if r != nil {
		hp.record(q.ID, r.value, false)
		return r.value, nil
	}
	v, err := hp.p.Input(ctx, q, validate)
	if err == nil {
		hp.record(q.ID, v, false)
	}
	return v, err
}
