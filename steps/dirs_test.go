package steps

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
