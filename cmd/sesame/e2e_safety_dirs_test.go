package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The directory cases of TestNeverDamage: sesame changes the mode only
// of a directory it creates, refuses (exit 2, before any AWS request) one
// where its files would be unsafe, and never overwrites, truncates or
// leaves behind a file it did not make. The directories here stand in for
// /, /tmp and /etc/postfix with the same owner and mode: sesame is never
// run on those for real.

// safetyDirsAccount is the account sesame-sim reports.
const safetyDirsAccount = "123456789012"

// statMode is a path's mode bits with setuid/setgid/sticky (following links).
func statMode(t *testing.T, path string) uint32 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Mode & 0o7777
}

// dirWithMode makes dir with exactly mode, whatever the umask.
func dirWithMode(t *testing.T, dir string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// wantDone checks a full run finished and wrote sasl_passwd 0600 in dir.
func wantDone(t *testing.T, r result, dir string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if m := statMode(t, filepath.Join(dir, "sasl_passwd")); m != 0o600 {
		t.Fatalf("sasl_passwd is %04o, want 0600", m)
	}
}

// wantRefused checks a run was refused with exit 2 naming flag and saying
// why, with no AWS request at all.
func wantRefused(t *testing.T, sim *simProc, before int, r result, flag, why string) {
	t.Helper()
	if r.code != 2 || !strings.Contains(r.stderr, flag) || !strings.Contains(r.stderr, why) {
		t.Fatalf("exit %d, want 2 naming %s and saying %q\nstdout:\n%s\nstderr:\n%s", r.code, flag, why, r.stdout, r.stderr)
	}
	if n := sim.calls() - before; n != 0 {
		t.Fatalf("%d AWS requests before the refusal", n)
	}
}

func safetyDirsOutKeepsMode(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	out := dirWithMode(t, filepath.Join(home, "etc-postfix"), 0o755)
	wantDone(t, sim.sesame(t, home, onboardArgs(out)...), out)
	if m := statMode(t, out); m != 0o755 {
		t.Fatalf("--out became %04o, want 0755 as it was", m)
	}
}

func safetyDirsOutWorldWritableRefused(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	out := dirWithMode(t, filepath.Join(home, "tmp"), 0o777|os.ModeSticky)
	r := sim.sesame(t, home, onboardArgs(out)...)
	wantRefused(t, sim, 0, r, "--out", "writable by every user")
	if m := statMode(t, out); m != 0o1777 {
		t.Fatalf("--out became %04o, want 1777 as it was", m)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Fatalf("files written into the refused directory: %v", entries)
	}
}

func safetyDirsOutOtherUserRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	sim := startSim(t)
	home := t.TempDir()
	out := dirWithMode(t, filepath.Join(home, "theirs"), 0o755)
	if err := os.Chown(out, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	r := sim.sesame(t, home, onboardArgs(out)...)
	wantRefused(t, sim, 0, r, "--out", "owned by uid 65534")
	var st syscall.Stat_t
	if err := syscall.Stat(out, &st); err != nil || st.Mode&0o7777 != 0o755 || st.Uid != 65534 {
		t.Fatalf("the directory changed: mode %04o, owner %d (%v)", st.Mode&0o7777, st.Uid, err)
	}
}

func safetyDirsOutSymlinkKeepsTarget(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	target := dirWithMode(t, filepath.Join(home, "shared-config"), 0o755)
	link := filepath.Join(home, "relay")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	wantDone(t, sim.sesame(t, home, onboardArgs(link)...), target)
	if m := statMode(t, target); m != 0o755 {
		t.Fatalf("the directory behind --out became %04o, want 0755 as it was", m)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("--out is no longer the symlink: %v, %v", fi.Mode(), err)
	}
}

func safetyDirsStateDirKeepsMode(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	state := dirWithMode(t, filepath.Join(home, "state"), 0o755)
	out := filepath.Join(home, "relay")
	wantDone(t, sim.sesame(t, home, onboardArgs(out, "--state-dir", state)...), out)
	if m := statMode(t, state); m != 0o755 {
		t.Fatalf("--state-dir became %04o, want 0755 as it was", m)
	}
	files, _ := filepath.Glob(filepath.Join(state, "*.json"))
	if len(files) != 1 || statMode(t, files[0]) != 0o600 {
		t.Fatalf("state files %v, want one, 0600", files)
	}
	if m := statMode(t, out); m != 0o700 {
		t.Fatalf("the --out sesame created is %04o, want 0700", m)
	}
}

func safetyDirsStateDirWorldWritableRefused(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	state := dirWithMode(t, filepath.Join(home, "tmp"), 0o777|os.ModeSticky)
	r := sim.sesame(t, home, onboardArgs(filepath.Join(home, "relay"), "--state-dir", state)...)
	wantRefused(t, sim, 0, r, "--state-dir", "writable by every user")
	if m := statMode(t, state); m != 0o1777 {
		t.Fatalf("--state-dir became %04o, want 1777 as it was", m)
	}
	if entries, _ := os.ReadDir(state); len(entries) != 0 {
		t.Fatalf("files written into the refused directory: %v", entries)
	}
}

func safetyDirsForeignStateRefused(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	state := dirWithMode(t, filepath.Join(home, "state"), 0o700)
	path := filepath.Join(state, safetyDirsAccount+"_us-east-1_example.com.json")
	foreign := []byte(`{"name": "the operator's own settings", "version": 3, "answers": {"domain": "other.example"}}` + "\n")
	if err := os.WriteFile(path, foreign, 0o600); err != nil {
		t.Fatal(err)
	}
	r := sim.sesame(t, home, onboardArgs(filepath.Join(home, "relay"), "--state-dir", state)...)
	if r.code != 2 || !strings.Contains(r.stderr, "not a sesame state file") || !strings.Contains(r.stderr, "move it aside") {
		t.Fatalf("exit %d, want 2 saying it is not a sesame state file and to move it aside\nstderr:\n%s", r.code, r.stderr)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, foreign) {
		t.Fatalf("the foreign file changed: %q (%v)", got, err)
	}
	if m := sim.mutating(); len(m) != 0 {
		t.Fatalf("AWS changes made: %v", m)
	}
}

func safetyDirsSymlinkLockRefused(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	state := dirWithMode(t, filepath.Join(home, "state"), 0o700)
	target := filepath.Join(home, "precious.conf")
	precious := []byte("# the operator's configuration\nkeep = yes\n")
	if err := os.WriteFile(target, precious, 0o644); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(state, safetyDirsAccount+"_us-east-1_example.com.json.lock")
	if err := os.Symlink(target, lock); err != nil {
		t.Fatal(err)
	}
	r := sim.sesame(t, home, onboardArgs(filepath.Join(home, "relay"), "--state-dir", state)...)
	if r.code != 2 || !strings.Contains(r.stderr, "symbolic link") || !strings.Contains(r.stderr, "move it aside") {
		t.Fatalf("exit %d, want 2 saying the lock is a symbolic link to move aside\nstderr:\n%s", r.code, r.stderr)
	}
	if got, err := os.ReadFile(target); err != nil || !bytes.Equal(got, precious) {
		t.Fatalf("the link's target changed: %q (%v)", got, err)
	}
	if m := sim.mutating(); len(m) != 0 {
		t.Fatalf("AWS changes made: %v", m)
	}
}

func safetyDirsStaleTempRemoved(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	out := dirWithMode(t, filepath.Join(home, "relay"), 0o700)
	// What a sesame killed while writing sasl_passwd leaves behind.
	stale := filepath.Join(out, ".sasl_passwd.tmp-123")
	if err := os.WriteFile(stale, []byte("[email-smtp.us-east-1.amazonaws.com]:587 AKIAOLD:BFAKESECRETFAKESECRETFAKESECRETFAKESECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Not sesame's naming: the operator's, left alone.
	keep := filepath.Join(out, ".sasl_passwd.tmp-mine")
	if err := os.WriteFile(keep, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantDone(t, sim.sesame(t, home, onboardArgs(out)...), out)
	if _, err := os.Lstat(stale); !os.IsNotExist(err) {
		t.Fatalf("the leftover %s is still there (%v)", stale, err)
	}
	if _, err := os.Lstat(keep); err != nil {
		t.Fatalf("a file not of sesame's naming was removed: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(out, ".*.tmp-[0-9]*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
