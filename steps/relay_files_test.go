package steps

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

func TestValidatePostfixDir(t *testing.T) {
	tests := []struct {
		dir  string
		want string // "" means accepted; else in the message
	}{
		{"", ""},
		{"/etc/postfix", ""},
		{"/srv/postfix-2/conf.d", ""},
		{"/etc/postfix\ntouch /tmp/PWNED\n#", "control character"},
		{"/etc/postfix\r", "control character"},
		{"/etc/\x00postfix", "control character"},
		{"/etc/\x7fpostfix", "control character"},
		{"/etc/\u0085postfix", "control character"},
		{"/etc/\xffpostfix", "control character"},
		{"etc/postfix", "absolute"},
		{"./postfix", "absolute"},
		{"/etc/post fix", "space"},
		{"/etc/post\tfix", "control character"},
		{"/etc/postfix,/tmp", "comma"},
		{"/etc/$(id)", "parameter"},
	}
	for _, tt := range tests {
		err := ValidatePostfixDir(tt.dir)
		var ie *InputError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("ValidatePostfixDir(%q) = %v, want accepted", tt.dir, err)
		case tt.want != "" && (!errors.As(err, &ie) || ie.Flag != "--postfix-dir" || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("ValidatePostfixDir(%q) = %v, want an input error naming --postfix-dir with %q", tt.dir, err, tt.want)
		}
	}
}

// relayFilesDir makes a directory with the named files: "mark" is a file
// sesame wrote, "foreign" one it did not, "link" a symbolic link, "dir" a
// directory.
func relayFilesDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	c := postfix.Config{Region: "us-east-1", Port: 587, Username: testKeyID, Password: "BPW"}
	for name, kind := range files {
		p := filepath.Join(dir, name)
		var err error
		switch kind {
		case "mark":
			data := c.MainCF()
			if name == ApplyScriptFile {
				data = c.ApplyScript()
			}
			err = os.WriteFile(p, []byte(data), 0o644)
		case "foreign":
			err = os.WriteFile(p, []byte("# the operator's own\nrelayhost = [smtp.example]:587\n"), 0o644)
		case "link":
			err = os.Symlink(filepath.Join(dir, "elsewhere"), p)
		case "dir":
			err = os.Mkdir(p, 0o700)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRelayFileConflicts(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // the conflicting names
	}{
		{"empty directory", nil, nil},
		{"sesame's files", map[string]string{MainCFSnippetFile: "mark", ApplyScriptFile: "mark"}, nil},
		{"an operator's snippet and script", map[string]string{MainCFSnippetFile: "foreign", ApplyScriptFile: "foreign"}, []string{MainCFSnippetFile, ApplyScriptFile}},
		{"an operator's sasl_passwd is merged, not a conflict", map[string]string{SASLPasswdFile: "foreign"}, nil},
		{"a link at the snippet", map[string]string{MainCFSnippetFile: "link"}, []string{MainCFSnippetFile}},
		{"a link at sasl_passwd", map[string]string{SASLPasswdFile: "link"}, []string{SASLPasswdFile}},
		{"a directory at the script", map[string]string{ApplyScriptFile: "dir"}, []string{ApplyScriptFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := relayFilesDir(t, tt.files)
			var got []string
			for _, c := range RelayFileConflicts(postfix.Target{}, dir) {
				if c.Action != ActionConflict || !strings.Contains(c.Note, "--out") {
					t.Errorf("conflict %+v does not say what to do", c)
				}
				got = append(got, filepath.Base(c.Name))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("conflicts %q, want %q", got, tt.want)
			}
		})
	}
}

// WriteRelayFiles (`sesame postfix`) writes nothing where a file is not
// sesame's, and merges into an operator's sasl_passwd.
func TestWriteRelayFilesOperatorFiles(t *testing.T) {
	c := postfix.Config{Region: "us-east-1", Port: 587, Username: testKeyID, Password: mta.Secret(ses.SMTPPassword(testSecret, "us-east-1"))}
	dir := relayFilesDir(t, map[string]string{MainCFSnippetFile: "foreign"})
	before, _ := os.ReadFile(filepath.Join(dir, MainCFSnippetFile))
	if _, err := WriteRelayFiles(dir, c); err == nil || !strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("WriteRelayFiles over an operator's snippet = %v, want a conflict", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, MainCFSnippetFile)); string(after) != string(before) {
		t.Error("the operator's snippet changed")
	}
	for _, name := range []string{SASLPasswdFile, ApplyScriptFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s was written although the run stopped", name)
		}
	}

	dir = t.TempDir()
	operators := "[smtp.other.example]:587 user:pass\n"
	if err := os.WriteFile(filepath.Join(dir, SASLPasswdFile), []byte(operators), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteRelayFiles(dir, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, SASLPasswdFile)); string(got) != operators+postfix.Line(c.Credentials()) {
		t.Errorf("sasl_passwd = %q, want the operator's line and sesame's", got)
	}
	if stale := postfix.Stale(dir, c); len(stale) != 0 {
		t.Errorf("stale after writing: %q", stale)
	}
}

func TestRelayPreflight(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		out        string
		postfixDir string
		wantFlag   string   // an *InputError naming this flag
		conflicts  []string // else these conflicts
	}{
		{name: "a new directory", out: filepath.Join(t.TempDir(), "new", "relay")},
		{name: "an existing directory with sesame's files", out: relayFilesDir(t, map[string]string{MainCFSnippetFile: "mark"})},
		{name: "--out is a regular file", out: file, wantFlag: "--out"},
		{name: "--out is under a regular file", out: filepath.Join(file, "relay"), wantFlag: "--out"},
		{name: "the operator's files", out: relayFilesDir(t, map[string]string{MainCFSnippetFile: "foreign", ApplyScriptFile: "foreign", SASLPasswdFile: "foreign"}),
			conflicts: []string{MainCFSnippetFile, ApplyScriptFile}},
		{name: "a newline in --postfix-dir", out: t.TempDir(), postfixDir: "/etc/postfix\ntouch /tmp/PWNED\n#", wantFlag: "--postfix-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := NewEnv(awsapi.Clients{}, &state.Answers{Domain: "example.com", Region: "us-east-1", OutDir: tt.out}, Options{PostfixDir: tt.postfixDir})
			changes, err := (&Relay{}).Preflight(context.Background(), env)
			var ie *InputError
			if tt.wantFlag != "" {
				if !errors.As(err, &ie) || ie.Flag != tt.wantFlag || ExitCode(err) != 2 {
					t.Fatalf("Preflight = %v, want an input error naming %s", err, tt.wantFlag)
				}
				return
			}
			if err != nil {
				t.Fatalf("Preflight = %v", err)
			}
			var got []string
			for _, c := range changes {
				got = append(got, filepath.Base(c.Name))
			}
			if strings.Join(got, ",") != strings.Join(tt.conflicts, ",") {
				t.Errorf("conflicts %q, want %q", got, tt.conflicts)
			}
		})
	}
}

// The relay step over an operator's files: the plan shows the conflicts,
// the run stops and the files stay as they were; another relay's entry in
// sasl_passwd stays, through a rerun after the operator added a line.
func TestRelayStepOperatorFiles(t *testing.T) {
	f := newRelayFixture(t, Options{NoSMTPTest: true})
	f.credentials(t, "us-east-1", 587)
	foreign := "# the operator's own\nrelayhost = [smtp.example]:587\n"
	if err := os.WriteFile(filepath.Join(f.out, MainCFSnippetFile), []byte(foreign), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := f.run(&Relay{})
	if err == nil || !strings.Contains(err.Error(), "sesame did not write it") {
		t.Fatalf("Run = %v, want a conflict", err)
	}
	if got, _ := os.ReadFile(filepath.Join(f.out, MainCFSnippetFile)); string(got) != foreign {
		t.Error("the operator's snippet changed")
	}
	if _, err := os.Stat(filepath.Join(f.out, ApplyScriptFile)); err == nil {
		t.Error("the script was written although the plan had a conflict")
	}
	if err := os.Remove(filepath.Join(f.out, MainCFSnippetFile)); err != nil {
		t.Fatal(err)
	}

	passwd := filepath.Join(f.out, SASLPasswdFile)
	mine, _ := os.ReadFile(passwd)
	withOther := "[smtp.other.example]:587 user:pass\n" + string(mine)
	if err := os.WriteFile(passwd, []byte(withOther), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.run(&Relay{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(passwd); string(got) != withOther {
		t.Errorf("sasl_passwd = %q, want %q", got, withOther)
	}
	added := withOther + "[added.example]:25 later:line\n"
	if err := os.WriteFile(passwd, []byte(added), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.run(&Relay{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(passwd); string(got) != added {
		t.Errorf("a rerun dropped the operator's line: %q", got)
	}
}
