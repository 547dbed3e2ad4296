package postfix

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sesame-tool/sesame/steps/mta"
)

var testEntry = mta.Credentials{Host: "email-smtp.us-east-1.amazonaws.com", Port: 587, Username: "AKIANEWNEWNEWNEWNEW1", Password: "BNEWPASSWORD"}

func TestMergeSASLPasswd(t *testing.T) {
	mine := Line(testEntry)
	tests := []struct {
		name, existing, want string
	}{
		{"no file: header and entry", "", saslHeader + mine},
		{"sesame's own file: entry replaced",
			saslHeader + "[email-smtp.us-east-1.amazonaws.com]:587 AKIAOLDOLDOLDOLDOLD1:BOLD\n",
			saslHeader + mine},
		{"another relay's entry kept, sesame's appended",
			"[smtp.other.example]:587 user:pass\n",
			"[smtp.other.example]:587 user:pass\n" + mine},
		{"another SES region's entry kept",
			"[email-smtp.eu-west-1.amazonaws.com]:587 AKIAOTHEROTHEROTHER1:BOTHER\n",
			"[email-smtp.eu-west-1.amazonaws.com]:587 AKIAOTHEROTHEROTHER1:BOTHER\n" + mine},
		{"entry replaced in place, comments and blank lines kept byte for byte",
			"# mine\n\n[a.example]:25\tx:y  \n[email-smtp.us-east-1.amazonaws.com]:587 AKIAOLD:BOLD\n# after\r\n[b.example]:587 p:q\n",
			"# mine\n\n[a.example]:25\tx:y  \n" + mine + "# after\r\n[b.example]:587 p:q\n"},
		{"the key compares without case, as postmap folds it",
			"[EMAIL-SMTP.us-east-1.amazonaws.com]:587 AKIAOLD:BOLD\n",
			mine},
		{"a continuation line of sesame's old entry goes with it",
			"[email-smtp.us-east-1.amazonaws.com]:587\n  AKIAOLD:BOLD\n[c.example]:587 c:d\n  continued\n",
			mine + "[c.example]:587 c:d\n  continued\n"},
		{"a last line without newline gets one before sesame's entry",
			"[d.example]:587 d:e",
			"[d.example]:587 d:e\n" + mine},
		{"duplicate sesame entries become one",
			"[email-smtp.us-east-1.amazonaws.com]:587 A:B\n[x.example]:1 x:y\n[email-smtp.us-east-1.amazonaws.com]:587 C:D\n",
			mine + "[x.example]:1 x:y\n"},
		{"sesame's key at another port (the port changed) is replaced",
			"[email-smtp.us-east-1.amazonaws.com]:465 AKIANEWNEWNEWNEWNEW1:BNEWPASSWORD\n",
			mine},
		{"the same host at another port with another key is not sesame's",
			"[email-smtp.us-east-1.amazonaws.com]:2587 AKIACOLLEAGUECOLLEA1:BX\n",
			"[email-smtp.us-east-1.amazonaws.com]:2587 AKIACOLLEAGUECOLLEA1:BX\n" + mine},
		{"a look-alike key is not sesame's",
			"[email-smtp.us-east-1.amazonaws.com]:5870 a:b\nemail-smtp.us-east-1.amazonaws.com:587 c:d\n",
			"[email-smtp.us-east-1.amazonaws.com]:5870 a:b\nemail-smtp.us-east-1.amazonaws.com:587 c:d\n" + mine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MergeSASLPasswd([]byte(tt.existing), testEntry)
			if string(got) != tt.want {
				t.Fatalf("MergeSASLPasswd =\n%q\nwant\n%q", got, tt.want)
			}
			if again := MergeSASLPasswd(got, testEntry); !bytes.Equal(again, got) {
				t.Errorf("a second merge changed the file:\n%q", again)
			}
		})
	}
}

// FuzzMergeSASLPasswd: whatever the file holds, the merge holds sesame's
// entry exactly once, keeps every line that is not sesame's in order and
// byte for byte, and changes nothing when merged again.
func FuzzMergeSASLPasswd(f *testing.F) {
	for _, s := range []string{"", "[a]:1 b:c\n", "# x\n[email-smtp.us-east-1.amazonaws.com]:587 A:B\n  cont\n", "\r\n\t\n", "[a]:1 b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, existing string) {
		got := MergeSASLPasswd([]byte(existing), testEntry)
		if again := MergeSASLPasswd(got, testEntry); !bytes.Equal(again, got) {
			t.Fatalf("merge is not idempotent: %q then %q", got, again)
		}
		lines := func(data []byte, owned bool) []string {
			var out []string
			dropping := false
			for _, l := range splitSASLPasswd(data) {
				switch {
				case l.cont && dropping:
					continue
				case l.key != "" && ownsSASLLine(l, testEntry):
					dropping = true
					if owned {
						out = append(out, l.text)
					}
					continue
				case !l.cont:
					dropping = false
				}
				if !owned {
					out = append(out, strings.TrimSuffix(l.text, "\n"))
				}
			}
			return out
		}
		if mine := lines(got, true); len(mine) != 1 || mine[0] != Line(testEntry) {
			t.Fatalf("sesame's entries in %q: %q, want one", got, mine)
		}
		want, rest := lines([]byte(existing), false), lines(got, false)
		if existing == "" {
			want = []string{strings.TrimSuffix(saslHeader, "\n")}
		}
		if strings.Join(rest, "\n") != strings.Join(want, "\n") {
			t.Fatalf("other lines changed:\n%q\nwant\n%q", rest, want)
		}
	})
}

func TestReadSASLPasswdFor(t *testing.T) {
	other := "[email-smtp.eu-west-1.amazonaws.com]:587 AKIAOTHEROTHEROTHER1:BOTHER\n"
	tests := []struct {
		name, file string
		port       int
		want       string // the user name found; "" means not found
	}{
		{"sesame's line after another relay's", other + Line(testEntry), 587, testEntry.Username},
		{"only another region's line", other, 587, ""},
		{"the same host at another port", "[email-smtp.us-east-1.amazonaws.com]:465 AKIAPORT:BP\n", 587, "AKIAPORT"},
		{"the exact port before another", "[email-smtp.us-east-1.amazonaws.com]:465 AKIAPORT:BP\n" + Line(testEntry), 587, testEntry.Username},
		{"comments only", "# nothing\n", 587, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, SASLPasswdFile), []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			e, err := ReadSASLPasswdFor(dir, testEntry.Host, tt.port)
			if tt.want == "" {
				if !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("ReadSASLPasswdFor = %+v, %v; want not found", e, err)
				}
				return
			}
			if err != nil || e.Username != tt.want || e.Host != testEntry.Host {
				t.Fatalf("ReadSASLPasswdFor = %+v, %v; want %s", e, err, tt.want)
			}
		})
	}
}

func TestReadSASLPasswdSeveralRegions(t *testing.T) {
	dir := t.TempDir()
	file := "[smtp.other.example]:587 a:b\n[email-smtp.eu-west-1.amazonaws.com]:587 A:B\n" + Line(testEntry)
	if err := os.WriteFile(filepath.Join(dir, SASLPasswdFile), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadSASLPasswd(dir)
	var re *mta.RegionsError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "eu-west-1, us-east-1") {
		t.Fatalf("ReadSASLPasswd = %v, want a *mta.RegionsError naming both regions", err)
	}
	if err := os.WriteFile(filepath.Join(dir, SASLPasswdFile), []byte("[smtp.other.example]:587 a:b\n"+Line(testEntry)), 0o600); err != nil {
		t.Fatal(err)
	}
	if e, err := ReadSASLPasswd(dir); err != nil || e.Username != testEntry.Username {
		t.Fatalf("ReadSASLPasswd = %+v, %v; want sesame's entry, not the first line", e, err)
	}
}

// WriteSASLPasswd keeps the operator's lines on the first write and on a
// rerun, after the operator added one; a rerun with nothing to change
// leaves the file alone.
func TestWriteSASLPasswdKeepsOtherLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SASLPasswdFile)
	operators := "# other relays\n[smtp.other.example]:587 user:pass\n"
	if err := os.WriteFile(path, []byte(operators), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteSASLPasswd(dir, testEntry); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != operators+Line(testEntry) {
		t.Fatalf("first write: %q", got)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("sasl_passwd is %o, want 0600", st.Mode().Perm())
	}
	added := operators + Line(testEntry) + "[added.example]:25 later:line\n"
	if err := os.WriteFile(path, []byte(added), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	if _, err := WriteSASLPasswd(dir, testEntry); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if got, _ := os.ReadFile(path); string(got) != added {
		t.Fatalf("rerun: %q, want the added line kept", got)
	}
	if !os.SameFile(before, after) {
		t.Error("a rerun with nothing to change rewrote sasl_passwd")
	}
}

// The sasl_passwd and its directory get their exact modes whatever the
// umask, and the file reads back.
func TestWriteSASLPasswdIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "out")
	p, err := WriteSASLPasswd(dir, mta.Credentials{Host: "email-smtp.eu-west-1.amazonaws.com", Port: 587, Username: "AKIAEXAMPLE", Password: "BSECRET"})
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("modes file %v dir %v; want 0600 and 0700", fi.Mode().Perm(), di.Mode().Perm())
	}
	e, err := ReadSASLPasswd(dir)
	if err != nil || e.Host != "email-smtp.eu-west-1.amazonaws.com" || e.Port != 587 || e.Username != "AKIAEXAMPLE" || e.Password.Reveal() != "BSECRET" {
		t.Fatalf("ReadSASLPasswd = %+v, %v", e, err)
	}
	if _, err := ReadSASLPasswd(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v, want ErrNotExist", err)
	}
}
