package steps

import (
	"context"
	"fmt"
)

// NoInput is the Prompter of non-interactive runs: every question is an
// InputError that names the flag answering it.
type NoInput struct{}

func noInput(q Question) error {
	flag := q.Flag
	if flag == "" {
		flag = "--yes"
	}
	return &InputError{Field: q.ID, Flag: flag, Msg: fmt.Sprintf("%q needs an answer, and sesame cannot ask (--no-input, or no terminal to ask on)", q.Title)}
}

// Confirm fails with an InputError naming q.Flag.
func (NoInput) Confirm(_ context.Context, q Question) (bool, error) { return false, noInput(q) }

// Choose fails with an InputError naming q.Flag.
func (NoInput) Choose(_ context.Context, q Question, _ []Option) (string, error) {
	return "", noInput(q)
}

// Input fails with an InputError naming q.Flag.
func (NoInput) Input(_ context.Context, q Question, _ func(string) error) (string, error) {
	return "", noInput(q)
}
