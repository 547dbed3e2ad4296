package main

import "fmt"

// Exit codes, as the README's "Flags and exit codes" gives them.
const (
	exitOK          = 0   // finished: verified, files written
	exitFailure     = 1   // an error
	exitInput       = 2   // bad input, or a missing answer with --no-input
	exitPending     = 3   // stopped while something is pending; safe to resume
	exitInterrupted = 130 // interrupted (Ctrl-C, SIGTERM)
)

// exitError carries an exit code out of a cobra RunE. A nil Err means the
// command already said everything it had to say.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }

// exitWith wraps err with an exit code.
func exitWith(code int, err error) error { return &exitError{Code: code, Err: err} }
