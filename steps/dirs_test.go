package steps

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/state"
)

// CheckDirInput reports state.CheckDir's refusals as the *InputError of
// the flag that named the directory (exit 2), with CheckDir's words.
func TestCheckDirInput(t *testing.T) {
	base := t.TempDir()
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, field, flag string
		want                   string // in the message; "" means accepted
	}{
		{"a new path", filepath.Join(base, "new", "out"), "out", "--out", ""},
		{"a world-writable directory", open, "out", "--out", "writable by every user"},
		{"a file", file, "state-dir", "--state-dir", "is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDirInput(tt.dir, tt.field, tt.flag)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckDirInput = %v, want nil", err)
				}
				return
			}
			var in *InputError
			if !errors.As(err, &in) || in.Field != tt.field || in.Flag != tt.flag || ExitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckDirInput = %v; want an *InputError for %s saying %q", err, tt.flag, tt.want)
			}
		})
	}
}

// StateDirInput reports the state leaf's refusal of a file in the way of
// the state or lock file as the *InputError of --state-dir (exit 2), in the
// words sesame has always printed, keeping the context around it; other
// errors pass through.
func TestStateDirInput(t *testing.T) {
	const acct, region, domain = "123456789012", "us-east-1", "example.com"
	dir := t.TempDir()
	st := state.Store{Dir: dir}
	path := st.Path(acct, region, domain)
	if err := os.WriteFile(path, []byte(`{"name":"my app"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), path+".lock"); err != nil {
		t.Fatal(err)
	}
	_, loadErr := st.Load(acct, region, domain)
	saveErr := st.Save(&state.Saved{Account: acct, Region: region, Domain: domain})
	_, lockErr := state.TryLock(path + ".lock")
	other := errors.New("read state: permission denied")

	tests := []struct {
		name  string
		err   error
		field string // "" means the error passes through as it is
		want  string
	}{
		{"a foreign state file", loadErr, "state file",
			"state file: " + path + " is not a sesame state file: it has no sesame schema version. sesame never overwrites a file it did not write: move it aside to start over (or choose another directory) (set it with --state-dir)"},
		{"a foreign state file met by Save", saveErr, "state file",
			"save state: state file: " + path + " is not a sesame state file: it has no sesame schema version. sesame never overwrites a file it did not write: move it aside to start over (or choose another directory) (set it with --state-dir)"},
		{"a foreign lock file", lockErr, "lock file",
			"lock file: " + path + ".lock is not a sesame lock file: it is a symbolic link. sesame never truncates a file it did not make: move it aside and run sesame again (or choose another directory) (set it with --state-dir)"},
		{"another error", other, "", other.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StateDirInput(tt.err)
			if got == nil || got.Error() != tt.want {
				t.Fatalf("StateDirInput(%v) = %v;\nwant %s", tt.err, got, tt.want)
			}
			var ie *InputError
			if tt.field == "" {
				if got != tt.err {
					t.Fatalf("StateDirInput changed %v into %v", tt.err, got)
				}
				return
			}
			if !errors.As(got, &ie) || ie.Field != tt.field || ie.Flag != "--state-dir" || ExitCode(got) != 2 {
				t.Fatalf("StateDirInput = %#v; want an *InputError of %s naming --state-dir (exit 2)", got, tt.field)
			}
		})
	}
	if StateDirInput(nil) != nil {
		t.Fatal("StateDirInput(nil) is not nil")
	}
}
