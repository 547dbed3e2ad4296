package steps

import (
	"errors"

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
