package postfix

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/sesame-tool/sesame/steps/mta"
)

// Target keeps the credentials in dir/sasl_passwd: what it writes it reads
// back, by host and port or as the one SES entry, and it tells which
// sasl_passwd names a key as its login.
func TestTargetCredentials(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var tg mta.Target = Target{}
	c := mta.Credentials{Host: "email-smtp.eu-west-1.amazonaws.com", Port: 587, Username: testKeyID, Password: "BPW"}
	path, err := tg.WriteCredentials(dir, c)
	if err != nil || path != tg.CredentialsFile(dir) || path != filepath.Join(dir, SASLPasswdFile) || tg.CredentialsRole() != RoleSASLPasswd {
		t.Fatalf("WriteCredentials = %q, %v; CredentialsFile %q, role %q", path, err, tg.CredentialsFile(dir), tg.CredentialsRole())
	}
	other := filepath.Join(t.TempDir(), SASLPasswdFile)
	if err := os.WriteFile(other, []byte("# "+testKeyID+":x\n[smtp.other.example]:587 AKIAOTHER:pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		read func() (mta.Credentials, error)
		want string // the username; "" means fs.ErrNotExist
	}{
		{"the host and port", func() (mta.Credentials, error) { return tg.ReadCredentials(dir, c.Host, 587) }, testKeyID},
		{"the host at another port", func() (mta.Credentials, error) { return tg.ReadCredentials(dir, c.Host, 465) }, testKeyID},
		{"another host", func() (mta.Credentials, error) {
			return tg.ReadCredentials(dir, "email-smtp.us-east-1.amazonaws.com", 587)
		}, ""},
		{"the one SES entry", func() (mta.Credentials, error) { return tg.ReadSESCredentials(dir) }, testKeyID},
		{"no file", func() (mta.Credentials, error) { return tg.ReadSESCredentials(t.TempDir()) }, ""},
	}
	for _, tt := range tests {
		got, err := tt.read()
		switch {
		case tt.want == "" && !errors.Is(err, fs.ErrNotExist):
			t.Errorf("%s: %+v, %v; want fs.ErrNotExist", tt.name, got, err)
		case tt.want != "" && (err != nil || got.Username != tt.want || got.Password.Reveal() != "BPW"):
			t.Errorf("%s: %+v, %v; want %s", tt.name, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		path, user string
		want       bool
	}{
		{path, testKeyID, true},
		{path, "AKIAOTHER", false},
		{other, "AKIAOTHER", true},
		{other, testKeyID, false}, // only in a comment
		{other, "AKIAOTH", false}, // a prefix of a login is not it
		{filepath.Join(dir, "missing"), testKeyID, false},
		{"", testKeyID, false},
	} {
		if got := tg.FileHoldsUsername(tt.path, tt.user); got != tt.want {
			t.Errorf("FileHoldsUsername(%s, %s) = %v, want %v", tt.path, tt.user, got, tt.want)
		}
	}
}
