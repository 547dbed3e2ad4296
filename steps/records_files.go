package steps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/state"
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
func writeRecordFiles(env *Env, step string, m *dns.Manual) {
	env.Facts.Manual = m
	out := env.Answers.OutDir
	if env.Options.ReadOnly || env.Options.DryRun || out == "" || len(m.Records) == 0 {
		return
	}
	if err := state.EnsurePrivateDir(out); err != nil {
		env.Warn(step, "the records to publish could not be saved in %s: %v", out, err)
		return
	}
	m.Files = nil
	wrote := false
	for _, f := range []struct{ name, data string }{{RecordsZoneFile, m.ZoneFile}, {RecordsJSONFile, m.JSON}} {
		path := filepath.Join(out, f.name)
		if !mayReplaceRecordsFile(env, f.name, path) {
			env.Warn(step, "%s is there and sesame did not write it, so it is left as it is: the records are on screen (move the file aside to have them saved there)", path)
			continue
		}
		if err := state.WriteFileAtomic(path, []byte(f.data), 0o644); err != nil {
			env.Warn(step, "%s", fmt.Errorf("save the records to publish as %s: %w", path, err))
			continue
		}
		if env.Record.Files == nil {
			env.Record.Files = map[string]string{}
		}
		env.Record.Files[f.name] = path
		wrote = true
		m.Files = append(m.Files, path)
	}
	if wrote {
		if err := env.SaveState(); err != nil {
			env.Warn(step, "could not save that sesame wrote %s: %v", strings.Join(m.Files, " and "), err)
		}
	}
}

// mayReplaceRecordsFile says whether sesame may write path: nothing is
// there, or it is the regular file sesame wrote there before (recorded in
// the setup's files under its role). A JSON file has no room for a mark,
// so the record is the proof; an operator's file of that name is kept.
func mayReplaceRecordsFile(env *Env, role, path string) bool {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	return err == nil && st.Mode().IsRegular() && env.Record.Files[role] == path
}
