package steps

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/state"
)

// TestWriteRecordFiles: the records to publish by hand are saved as
// records.zone and records.json in the output directory and reach the
// report; a status or dry run writes nothing.
func TestWriteRecordFiles(t *testing.T) {
	recs := []dns.Desired{
		{Name: "tok._domainkey.example.com", Type: "CNAME", TTL: 1800, Values: []string{"tok.dkim.amazonses.com"}, Purpose: PurposeDKIM},
		{Name: "_dmarc.example.com", Type: "TXT", TTL: 300, Values: []string{"v=DMARC1; p=none;"}, Purpose: PurposeDMARC},
	}
	tests := []struct {
		name      string
		opts      Options
		wantFiles bool
	}{
		{"a run writes them", Options{}, true},
		{"status writes nothing", Options{ReadOnly: true}, false},
		{"a dry run writes nothing", Options{DryRun: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			env := NewEnv(awsapi.Clients{}, &state.Answers{Domain: "example.com", Region: "eu-west-1", OutDir: out}, tt.opts)
			m := dns.NewManual(recs)
			writeRecordFiles(env, "dns", m)
			if env.Facts.Manual != m {
				t.Fatal("the records are not in the run's facts")
			}
			rep := (&Runner{}).newReport(env)
			(&Runner{}).fill(rep, env)
			if len(rep.Records) != 2 {
				t.Errorf("the report lists %d records, want 2", len(rep.Records))
			}
			zone, zerr := os.ReadFile(filepath.Join(out, RecordsZoneFile))
			js, jerr := os.ReadFile(filepath.Join(out, RecordsJSONFile))
			if !tt.wantFiles {
				if zerr == nil || jerr == nil || len(m.Files) != 0 {
					t.Errorf("files written: %v", m.Files)
				}
				return
			}
			if zerr != nil || jerr != nil {
				t.Fatalf("records files: %v %v", zerr, jerr)
			}
			if !strings.Contains(string(zone), "tok._domainkey.example.com.") || !strings.Contains(string(zone), `"v=DMARC1; p=none;"`) {
				t.Errorf("records.zone:\n%s", zone)
			}
			var list []map[string]any
			if err := json.Unmarshal(js, &list); err != nil || len(list) != 2 {
				t.Errorf("records.json (%v):\n%s", err, js)
			}
			if len(m.Files) != 2 || !strings.Contains(strings.Join(rep.Files, " "), RecordsJSONFile) {
				t.Errorf("files %v, report files %v", m.Files, rep.Files)
			}
			if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o700 {
				t.Errorf("output directory mode %v (%v), want 0700", st.Mode(), err)
			}
		})
	}
}

// An operator's records.zone or records.json in --out is never replaced
// (a JSON file has no room for a mark: only a file the setup's record says
// sesame wrote there is); sesame's own files are rewritten on the next run.
func TestWriteRecordFilesKeepsOperatorFiles(t *testing.T) {
	recs := []dns.Desired{{Name: "tok._domainkey.example.com", Type: "CNAME", TTL: 1800, Values: []string{"tok.dkim.amazonses.com"}, Purpose: PurposeDKIM}}
	tests := []struct {
		name     string
		operator []string // files the operator had there
		wantKept []string
	}{
		{"nothing there", nil, nil},
		{"the operator's records.zone", []string{RecordsZoneFile}, []string{RecordsZoneFile}},
		{"the operator's records.json", []string{RecordsJSONFile}, []string{RecordsJSONFile}},
		{"both", []string{RecordsZoneFile, RecordsJSONFile}, []string{RecordsZoneFile, RecordsJSONFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			for _, f := range tt.operator {
				if err := os.WriteFile(filepath.Join(out, f), []byte("the operator's\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			env := NewEnv(awsapi.Clients{}, &state.Answers{Domain: "example.com", Region: "eu-west-1", OutDir: out}, Options{})
			for run := 1; run <= 2; run++ { // the second run rewrites sesame's own files
				writeRecordFiles(env, "dns", dns.NewManual(recs))
			}
			for _, f := range []string{RecordsZoneFile, RecordsJSONFile} {
				data, err := os.ReadFile(filepath.Join(out, f))
				if err != nil {
					t.Fatal(err)
				}
				kept := string(data) == "the operator's\n"
				if want := slices.Contains(tt.wantKept, f); kept != want {
					t.Errorf("%s kept = %v, want %v (%q)", f, kept, want, data)
				}
				if _, recorded := env.Record.Files[f]; recorded == kept {
					t.Errorf("%s recorded as sesame's = %v, kept = %v", f, recorded, kept)
				}
			}
		})
	}
}
