package steps

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sesame-tool/sesame/steps/state"
)

// CheckDirInput is state.CheckDir with a refusal reported as the
// *InputError of the flag that named dir (exit 2), for the checks made
// before any AWS write: CheckDirInput(out, "out", "--out").
func CheckDirInput(dir, field, flag string) error {
	err := state.CheckDir(dir)
	var de *state.DirError
	if errors.As(err, &de) {
		return &InputError{Field: field, Flag: flag, Msg: de.Error()}
	}
	return err
}

// StateDirInput reports a file that is in the way of sesame's state or
// lock file (a *state.ForeignError anywhere in err) as the *InputError of
// --state-dir (exit 2), with the leaf's words and whatever context err
// added around them; any other error is returned as it is.
func StateDirInput(err error) error {
	var fe *state.ForeignError
	if !errors.As(err, &fe) {
		return err
	}
	ie := &InputError{Field: fe.File, Flag: "--state-dir", Msg: fe.Error()}
	// Keep the context wrapped around the refusal ("save state: ").
	if prefix, ok := strings.CutSuffix(err.Error(), fe.Error()); ok && prefix != "" {
		return fmt.Errorf("%s%w", prefix, ie)
	}
	return ie
}
