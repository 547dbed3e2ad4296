package steps

import (
	"context"
	"errors"
	"fmt"
)

// InputError is a bad or missing answer. Front ends exit with code 2.
type InputError struct {
	// Field is what was wrong ("domain"); Flag is the flag that sets it.
	Field, Flag string
	// Msg says what is accepted.
	Msg string
}

func (e *InputError) Error() string {
	if e.Flag != "" {
		return fmt.Sprintf("%s: %s (set it with %s)", e.Field, e.Msg, e.Flag)
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Msg)
}

// ErrPending means the run stopped while something is still pending (SES
// verification with --no-wait or at --timeout). It is safe to resume; front
// ends exit with code 3.
var ErrPending = errors.New("stopped while still pending")

// PendingError is an ErrPending with what is pending and how to resume.
type PendingError struct {
	Step   string
	Detail string
}

func (e *PendingError) Error() string { return e.Detail }

// Unwrap makes errors.Is(err, ErrPending) true.
func (e *PendingError) Unwrap() error { return ErrPending }

// ErrDeclined means the operator declined a planned change. Nothing was
// changed; the run stops resumable (exit 3).
var ErrDeclined = errors.New("declined")

// ErrNeedsApproval means changes were planned under --no-input without
// --yes; the plan was shown and nothing changed (exit 2).
var ErrNeedsApproval = errors.New("changes need approval: run again with --yes to apply them")

// ExitCode maps an error from the runner to sesame's exit codes: 0 finished,
// 1 error, 2 bad input or a missing answer, 3 stopped while pending, 130
// interrupted.
func ExitCode(err error) int {
	var ie *InputError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled):
		return 130
	case errors.As(err, &ie), errors.Is(err, ErrNeedsApproval):
		return 2
	case errors.Is(err, ErrPending), errors.Is(err, ErrDeclined):
		return 3
	default:
		return 1
	}
}
