package ui

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/sesame-tool/sesame/steps"
)

// WriteJSON writes the --json document: one indented object for the run.
// The Report carries the SMTP username but never a password, and Secret
// values marshal as "" anyway.
func WriteJSON(w io.Writer, r *steps.Report) error {
	if r == nil {
		return fmt.Errorf("write --json report: the run ended before it had one")
	}
	if r.Steps == nil {
		r.Steps = []steps.StepReport{}
	}
	if r.Files == nil {
		r.Files = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write --json report: %w", err)
	}
	return nil
}
