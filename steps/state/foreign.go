package state

import "fmt"

// ForeignError is the refusal of a file found where sesame keeps a state
// file or a lock file, which is not sesame's file there (a link, another
// program's file, another user's, another setup's): sesame never
// overwrites or truncates it. The fault is in the state directory the
// operator chose, so front ends report it as a bad input (package steps
// maps it to its InputError naming --state-dir).
type ForeignError struct {
	// File is what sesame keeps at Path: "state file" or "lock file".
	File string
	Path string
	// Why says how the file differs from sesame's ("it is a symbolic link").
	Why string
	// advice says what sesame never does to it and what to do instead.
	advice string
}

func (e *ForeignError) Error() string {
	return fmt.Sprintf("%s is not a sesame %s: %s. %s", e.Path, e.File, e.Why, e.advice)
}
