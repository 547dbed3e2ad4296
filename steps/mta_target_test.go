package steps

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
)

// memMTA is a second MTA as the wizard sees it: it keeps the credentials
// in memory, keyed by file, and writes nothing Postfix would read.
type memMTA struct {
	files  map[string][]mta.Credentials
	writes int
}

func (m *memMTA) Name() string                      { return "mem" }
func (m *memMTA) CredentialsRole() string           { return "mem-credentials" }
func (m *memMTA) CredentialsFile(dir string) string { return filepath.Join(dir, "mem.creds") }
func (m *memMTA) Conflicts(string) []mta.Conflict   { return nil }

func (m *memMTA) WriteCredentials(dir string, c mta.Credentials) (string, error) {
	p := m.CredentialsFile(dir)
	if m.files == nil {
		m.files = map[string][]mta.Credentials{}
	}
	m.files[p] = append(m.files[p], c)
	m.writes++
	return p, nil
}

func (m *memMTA) ReadCredentials(dir, host string, port int) (mta.Credentials, error) {
	for _, c := range m.files[m.CredentialsFile(dir)] {
		if c.Host == host && c.Port == port {
			return c, nil
		}
	}
	return mta.Credentials{}, fmt.Errorf("no credentials for %s:%d: %w", host, port, fs.ErrNotExist)
}

func (m *memMTA) ReadSESCredentials(dir string) (mta.Credentials, error) {
	if cs := m.files[m.CredentialsFile(dir)]; len(cs) == 1 {
		return cs[0], nil
	}
	return mta.Credentials{}, fs.ErrNotExist
}

func (m *memMTA) FileHoldsUsername(path, username string) bool {
	for _, c := range m.files[path] {
		if c.Username == username {
			return true
		}
	}
	return false
}

var _ mta.Target = (*memMTA)(nil)

// The smtp-user step reads and writes the SMTP credentials only through
// env.MTA: with another MTA there, the password goes to it, no
// sasl_passwd is written, the record names its file under its role, and
// the next Check finds the credentials there (Done, no second key).
func TestSMTPUserThroughMTATarget(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	m := &memMTA{}
	e.MTA = m
	s := SMTPUser{}
	if err := s.Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	res, err := s.Check(ctx, e.Env)
	if err != nil || res.Status != StatusDone {
		t.Fatalf("Check after Apply = %v %q %v, want done", res.Status, res.Detail, err)
	}
	keys := e.iam.Keys(testUser)
	path := m.CredentialsFile(e.Answers.OutDir)
	tests := []struct {
		name string
		ok   bool
	}{
		{"one key, written once to the MTA", len(keys) == 1 && m.writes == 1 && len(m.files[path]) == 1},
		{"the MTA holds the key as the login", len(keys) == 1 && m.FileHoldsUsername(path, keys[0])},
		{"the record names the MTA's file under its role", e.Record.Files["mem-credentials"] == path && e.Record.Files[RoleSASLPasswd] == ""},
		{"the credentials fact names the MTA's file", e.Facts.Credentials != nil && e.Facts.Credentials.File == path},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("%s: keys %v, writes %d, record files %v", tt.name, keys, m.writes, e.Record.Files)
		}
	}
	if _, err := os.Stat(filepath.Join(e.Answers.OutDir, SASLPasswdFile)); err == nil {
		t.Error("a sasl_passwd was written although the MTA is not Postfix")
	}
}

// --apply-postfix's changes keep their action when they become plan
// changes: the leaf's action names are the wizard's.
func TestPostfixChangesKeepActions(t *testing.T) {
	for _, tt := range []struct {
		in   postfix.Action
		want Action
	}{
		{postfix.Unchanged, ActionUnchanged},
		{postfix.Update, ActionUpdate},
		{postfix.Write, ActionWrite},
		{postfix.Merge, ActionMerge},
	} {
		got := postfixChanges([]postfix.Change{{Action: tt.in, Resource: "file", Name: "/etc/postfix/sasl_passwd", Note: "n"}})
		if len(got) != 1 || got[0].Action != tt.want || got[0].Name != "/etc/postfix/sasl_passwd" || got[0].Note != "n" {
			t.Errorf("postfixChanges(%s) = %+v, want action %s", tt.in, got, tt.want)
		}
	}
}
