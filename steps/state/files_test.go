package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// dirMode is a directory's permission bits with setuid/setgid/sticky, as
// chmod(1) shows them.
func dirMode(t *testing.T, path string) uint32 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Mode & 0o7777
}

// mkdirMode makes dir with exactly mode (chmod, since mkdir obeys the umask).
func mkdirMode(t *testing.T, dir string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sesame uses an existing directory as it is or refuses it; it never
// changes its mode. A missing one is fine when it can be created.
func TestCheckDirAndMakeDir(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	shared := mkdirMode(t, filepath.Join(root, "shared"), 0o777|os.ModeSticky)
	open := mkdirMode(t, filepath.Join(root, "open"), 0o755)
	tests := []struct {
		name string
		dir  func(t *testing.T) string
		// refused is a text of the refusal; "" means the directory is used.
		refused string
	}{
		{"private directory", func(t *testing.T) string { return mkdirMode(t, filepath.Join(root, "private"), 0o700) }, ""},
		{"0755 directory is used as it is", func(t *testing.T) string { return open }, ""},
		{"0750 directory is used as it is", func(t *testing.T) string { return mkdirMode(t, filepath.Join(root, "grp"), 0o750) }, ""},
		{"missing directory under a private one", func(t *testing.T) string { return filepath.Join(root, "new", "relay") }, ""},
		{"missing directory under a shared one like /tmp", func(t *testing.T) string { return filepath.Join(shared, "mine") }, ""},
		{"symlink to a 0755 directory", func(t *testing.T) string {
			l := filepath.Join(root, "link-open")
			if err := os.Symlink(open, l); err != nil && !errors.Is(err, os.ErrExist) {
				t.Fatal(err)
			}
			return l
		}, ""},
		{"world-writable sticky directory like /tmp", func(t *testing.T) string { return shared }, "writable by every user (mode 1777)"},
		{"world-writable directory", func(t *testing.T) string { return mkdirMode(t, filepath.Join(root, "ww"), 0o777) }, "writable by every user (mode 0777)"},
		{"symlink to a world-writable directory", func(t *testing.T) string {
			l := filepath.Join(root, "link-shared")
			if err := os.Symlink(shared, l); err != nil && !errors.Is(err, os.ErrExist) {
				t.Fatal(err)
			}
			return l
		}, "writable by every user"},
		{"a regular file", func(t *testing.T) string { return file }, "is not a directory"},
		{"below a regular file", func(t *testing.T) string { return filepath.Join(file, "relay") }, "is not a directory"},
		{"another user's directory", func(t *testing.T) string {
			if os.Geteuid() != 0 {
				t.Skip("needs root to chown")
			}
			d := mkdirMode(t, filepath.Join(root, "nobody"), 0o755)
			if err := os.Chown(d, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return d
		}, "owned by uid 65534"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			var before uint32
			_, statErr := os.Stat(dir)
			if statErr == nil {
				before = dirMode(t, dir)
			}
			err := CheckDir(dir)
			_, makeErr := MakeDir(dir)
			if tt.refused == "" {
				if err != nil || makeErr != nil {
					t.Fatalf("CheckDir = %v, MakeDir = %v; want the directory used", err, makeErr)
				}
			} else {
				var de *DirError
				if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.refused) || !errors.As(makeErr, &de) {
					t.Fatalf("CheckDir = %v, MakeDir = %v; want a *DirError saying %q", err, makeErr, tt.refused)
				}
			}
			if statErr == nil {
				if after := dirMode(t, dir); after != before {
					t.Fatalf("mode changed from %04o to %04o", before, after)
				}
			}
		})
	}
}

// Only the directories sesame creates get a mode, exactly 0700 whatever
// the umask; MakeDir lists them, outermost first.
func TestMakeDirCreatesMissingComponents0700(t *testing.T) {
	for _, umask := range []int{0, 0o022, 0o077, 0o777} {
		old := syscall.Umask(umask)
		root := mkdirMode(t, filepath.Join(t.TempDir(), "existing"), 0o755)
		dir := filepath.Join(root, "a", "b")
		created, err := MakeDir(dir)
		syscall.Umask(old)
		if err != nil {
			t.Fatalf("umask %04o: %v", umask, err)
		}
		if want := []string{filepath.Join(root, "a"), dir}; strings.Join(created, ",") != strings.Join(want, ",") {
			t.Fatalf("umask %04o: created %v, want %v", umask, created, want)
		}
		for _, d := range created {
			if m := dirMode(t, d); m != 0o700 {
				t.Errorf("umask %04o: %s is %04o, want 0700", umask, d, m)
			}
		}
		if m := dirMode(t, root); m != 0o755 {
			t.Errorf("umask %04o: the existing parent became %04o", umask, m)
		}
		if again, err := MakeDir(dir); err != nil || len(again) != 0 {
			t.Errorf("second MakeDir = %v, %v; want nothing created", again, err)
		}
	}
}

// A temporary file left by a writer that died is removed on the next
// write of the same file; nothing else is, and a live writer's is kept.
func TestWriteFileAtomicRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	leftovers := map[string]bool{ // name → removed
		".sasl_passwd.tmp-123":        true,
		".sasl_passwd.tmp-4294967295": true,
		".sasl_passwd.tmp-":           false, // not sesame's naming
		".sasl_passwd.tmp-12x":        false,
		".sasl_passwd.tmp-12.bak":     false,
		"sasl_passwd.tmp-123":         false,
		".main.cf.snippet.tmp-77":     false, // another file's: removed when that one is written
		".sasl_passwd.tmp-999":        false, // held by a live writer (locked below)
	}
	for name := range leftovers {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("[host]:587 AKIA:BSECRET\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	live, err := os.Open(filepath.Join(dir, ".sasl_passwd.tmp-999"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := syscall.Flock(int(live.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "sasl_passwd"), []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, removed := range leftovers {
		_, err := os.Lstat(filepath.Join(dir, name))
		if gone := errors.Is(err, os.ErrNotExist); gone != removed {
			t.Errorf("%s: removed %v, want %v", name, gone, removed)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(leftovers)-2+1 {
		t.Errorf("directory holds %d entries, want the %d kept and sasl_passwd", len(entries), len(leftovers)-2)
	}
}

// The temporary file is 0600 from its creation, before any byte is
// written, whatever the umask and the final mode.
func TestWriteFileAtomicTempIsPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	f, err := createLockedTemp(dir, "apply-postfix.sh")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	st, _ := f.Stat()
	if st.Mode().Perm() != 0o600 || !strings.HasPrefix(filepath.Base(f.Name()), ".apply-postfix.sh.tmp-") || st.Size() != 0 {
		t.Fatalf("temporary file %s is %v with %d bytes; want an empty 0600 .apply-postfix.sh.tmp-*", f.Name(), st.Mode().Perm(), st.Size())
	}
}

// A write into an unsafe directory is refused and changes nothing there.
func TestWriteFileAtomicRefusesUnsafeDir(t *testing.T) {
	dir := mkdirMode(t, filepath.Join(t.TempDir(), "shared"), 0o777|os.ModeSticky)
	err := WriteFileAtomic(filepath.Join(dir, "sasl_passwd"), []byte("secret\n"), 0o600)
	var de *DirError
	if !errors.As(err, &de) {
		t.Fatalf("WriteFileAtomic = %v; want a *DirError", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 || dirMode(t, dir) != 0o1777 {
		t.Fatalf("the directory changed: %d entries, mode %04o", len(entries), dirMode(t, dir))
	}
}

// FuzzCheckDir checks directory paths of any shape below a scratch tree:
// CheckDir never panics, refuses only with a *DirError, changes no mode
// and creates nothing.
func FuzzCheckDir(f *testing.F) {
	for _, s := range []string{"", ".", "..", "open", "open/new/deeper", "shared", "shared/mine", "file", "file/x", "link", "a\x00b", "a\nb", "ww", "//open//", "open/../shared", strings.Repeat("x/", 300)} {
		f.Add(s)
	}
	root := f.TempDir()
	dirs := map[string]os.FileMode{"open": 0o755, "shared": 0o777 | os.ModeSticky, "ww": 0o777, "private": 0o700}
	for name, mode := range dirs {
		if err := os.Mkdir(filepath.Join(root, name), 0o700); err != nil {
			f.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(root, name), mode); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "file"), nil, 0o600); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "shared"), filepath.Join(root, "link")); err != nil {
		f.Fatal(err)
	}
	snapshot := func() string {
		var b strings.Builder
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if fi, err := os.Lstat(p); err == nil {
				b.WriteString(p + " " + fi.Mode().String() + "\n")
			}
			return nil
		})
		return b.String()
	}
	before := snapshot()
	f.Fuzz(func(t *testing.T, rel string) {
		err := CheckDir(filepath.Join(root, rel))
		var de *DirError
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("CheckDir(%q) = %v; want nil or a *DirError", rel, err)
		}
		if after := snapshot(); after != before {
			t.Fatalf("CheckDir(%q) changed the tree:\n%s\nwas:\n%s", rel, after, before)
		}
	})
}

// Two writers of one file at once (two sesame processes sharing an --out)
// never remove each other's temporary file: every write succeeds, and none
// is left behind.
func TestWriteFileAtomicConcurrentWritersKeepTheirTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sasl_passwd")
	errs := make(chan error, 4)
	for w := range 4 {
		go func() {
			var err error
			for i := 0; i < 100 && err == nil; i++ {
				err = WriteFileAtomic(path, []byte(strings.Repeat(string(rune('a'+w)), 1000)), 0o600)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".sasl_passwd.tmp-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
