package steps

import (
	"fmt"
	"path/filepath"
)

// The files the dns step writes into the output directory when the
// domain's records must be published by hand: BIND zone-file lines and
// the same records as JSON, for the operator's DNS host.
const (
	RecordsZoneFile = "records.zone"
	RecordsJSONFile = "records.json"
)

// writeRecordFiles writes m's records as records.zone and records.json in
// the output directory and notes their paths in m.Files and the run's
// facts (so the report lists them). A status or dry run writes nothing.
// A failure to write is a warning, not a stop: the records are on screen.
func writeRecordFiles(env *Env, step string, m *ManualRecords) {
	env.Facts.Manual = m
	out := env.Answers.OutDir
	if env.Options.ReadOnly || env.Options.DryRun || out == "" || len(m.Records) == 0 {
		return
	}
	if err := EnsurePrivateDir(out); err != nil {
		env.Warn(step, "the records to publish could not be saved in %s: %v", out, err)
		return
	}
	m.Files = nil
	for _, f := range []struct{ name, data string }{{RecordsZoneFile, m.ZoneFile}, {RecordsJSONFile, m.JSON}} {
		path := filepath.Join(out, f.name)
		if err := WriteFileAtomic(path, []byte(f.data), 0o644); err != nil {
			env.Warn(step, "%s", fmt.Errorf("save the records to publish as %s: %w", path, err))
			continue
		}
		m.Files = append(m.Files, path)
	}
}
