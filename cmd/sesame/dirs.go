package main

import "github.com/sesame-tool/sesame/steps"

// checkDirs refuses, before any AWS call, a state directory or an --out
// directory that sesame must not write into (world-writable, another
// user's, not a directory): sesame never changes the mode of a directory
// it did not create, so an unsafe one is refused with the flag to change.
// An --out that comes from a question or a saved answer is checked by the
// relay step's preflight, before the run's first AWS write.
func checkDirs(stateDir, out string) error {
	if err := steps.CheckDirInput(stateDir, "state-dir", "--state-dir"); err != nil {
		return err
	}
	if out != "" {
		return steps.CheckDirInput(out, "out", "--out")
	}
	return nil
}
