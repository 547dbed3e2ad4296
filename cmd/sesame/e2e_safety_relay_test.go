package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The relay cases of TestNeverDamage: the relay files in --out and the script that runs as root: sesame
// replaces only what it wrote, merges its one line into sasl_passwd, and
// checks the output location and the values the script holds before the
// first AWS write.

// relayArgs are a full unattended run writing into out.
func relayArgs(out string, extra ...string) []string {
	return append([]string{"--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1", "--out", out}, extra...)
}

// privateOut makes --out as sesame would (0700), so the case is about the
// files in it alone.
func privateOut(t *testing.T, home string) string {
	t.Helper()
	out := filepath.Join(home, "relay")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	return out
}

func safetyRelayOperatorFilesConflict(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	out := privateOut(t, home)
	mine := map[string]string{
		"main.cf.snippet":  "# my own relay settings\nrelayhost = [smtp.my-provider.example]:587\n",
		"apply-postfix.sh": "#!/bin/sh\n# my own installer\npostconf -e relayhost=[smtp.my-provider.example]:587\n",
	}
	for name, data := range mine {
		writeFile(t, filepath.Join(out, name), data)
	}
	r := sim.sesame(t, home, relayArgs(out)...)
	if r.code == 0 {
		t.Fatalf("exit 0 over the operator's files\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	for name, data := range mine {
		if got := readFile(t, filepath.Join(out, name)); got != data {
			t.Errorf("%s was changed:\n%s", name, got)
		}
		if !strings.Contains(r.stderr, filepath.Join(out, name)) {
			t.Errorf("the error does not name %s:\n%s", name, r.stderr)
		}
	}
	if !strings.Contains(r.stderr, "move it aside, or choose another --out") {
		t.Errorf("the error does not say what to do:\n%s", r.stderr)
	}
	if m := sim.mutating(); len(m) != 0 {
		t.Errorf("AWS writes before the conflict stopped the run: %v", m)
	}
	if _, err := os.Stat(filepath.Join(out, "sasl_passwd")); err == nil {
		t.Error("sasl_passwd was written although the run stopped")
	}
}

func safetyRelaySASLPasswdMerged(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	out := privateOut(t, home)
	passwd := filepath.Join(out, "sasl_passwd")
	operators := "# relays of the other senders on this host\n[smtp.other-relay.example]:587 other-user:other-password\n"
	writeFile(t, passwd, operators)

	r := sim.sesame(t, home, relayArgs(out)...)
	if r.code != 0 {
		t.Fatalf("first run exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	first := readFile(t, passwd)
	if !strings.HasPrefix(first, operators) {
		t.Fatalf("the first run lost the other relay's entry:\n%s", first)
	}
	sesames := strings.TrimPrefix(first, operators)
	if !strings.HasPrefix(sesames, "[email-smtp.us-east-1.amazonaws.com]:587 AKIA") || strings.Count(sesames, "\n") != 1 {
		t.Fatalf("sesame's part of sasl_passwd is not its one entry: %q", sesames)
	}
	assertMode(t, passwd, 0o600)

	added := first + "[smtp.added-later.example]:25 later:line\n"
	writeFile(t, passwd, added)
	writes := len(sim.mutating())
	r = sim.sesame(t, home, relayArgs(out)...)
	if r.code != 0 {
		t.Fatalf("rerun exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := readFile(t, passwd); got != added {
		t.Errorf("the rerun changed sasl_passwd:\n%s\nwant\n%s", got, added)
	}
	if m := sim.mutating(); len(m) != writes {
		t.Errorf("the rerun wrote to AWS: %v", m[writes:])
	}
}

func safetyRelayOutIsFile(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	file := filepath.Join(home, "notes.txt")
	writeFile(t, file, "the operator's notes\n")
	r := sim.sesame(t, home, relayArgs(file)...)
	if r.code != 2 || !strings.Contains(r.stderr, "--out") || !strings.Contains(r.stderr, "not a directory") {
		t.Fatalf("exit %d, want 2 naming --out\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if m := sim.mutating(); len(m) != 0 {
		t.Errorf("AWS writes before --out was refused: %v", m)
	}
	if n := sim.calls(); n != 0 {
		t.Errorf("%d AWS requests before --out was refused", n)
	}
	if got := readFile(t, file); got != "the operator's notes\n" {
		t.Errorf("the file was changed: %q", got)
	}
}

func safetyRelayPostfixDirNewline(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	pwned := filepath.Join(home, "PWNED")
	r := sim.sesame(t, home, relayArgs(filepath.Join(home, "relay"), "--postfix-dir", "/etc/postfix\ntouch "+pwned+"\n#")...)
	if r.code != 2 || !strings.Contains(r.stderr, "--postfix-dir") {
		t.Fatalf("exit %d, want 2 naming --postfix-dir\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if n := sim.calls(); n != 0 {
		t.Errorf("%d AWS requests before --postfix-dir was refused", n)
	}
	if _, err := os.Stat(filepath.Join(home, "relay", "apply-postfix.sh")); err == nil {
		t.Error("apply-postfix.sh was written")
	}
}
