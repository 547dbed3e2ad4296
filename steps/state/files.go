package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// WriteFileAtomic writes data to path so that a reader sees either the old
// file or the whole new one, never a part: it writes a temporary file in the
// same directory, syncs it, sets perm explicitly (so the umask cannot widen
// or narrow it) and renames it over path. A missing directory is created
// 0700; an existing one is used as it is, never chmod'ed, and refused when
// it is unsafe (see CheckDir).
//
// The temporary file is ".<name>.tmp-<digits>", created 0600 (os.CreateTemp)
// and flock'ed while it is written. A temporary file of that name left by a
// writer that died (SIGKILL, power loss: the kernel dropped its lock) may
// hold a password, so each write first removes those of the file it writes.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := EnsurePrivateDir(dir); err != nil {
		return err
	}
	base := filepath.Base(path)
	removeStaleTemps(dir, base)
	f, err := createLockedTemp(dir, base)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	// The rename happens while the lock is held, so a concurrent cleaner
	// never takes this file for a leftover.
	if err := os.Rename(tmp, path); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Make the rename durable: a crash right after must not lose the file
	// that holds the only copy of a new SMTP password.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// tempPrefix is how WriteFileAtomic's temporary files for base start;
// os.CreateTemp puts decimal digits after it.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// createLockedTemp creates the temporary file for base in dir, 0600, and
// holds an exclusive flock on it. A cleaner (removeStaleTemps of another
// process) may have taken the lock between the create and ours and removed
// the file: then the file has no name any more and another is made.
func createLockedTemp(dir, base string) (*os.File, error) {
	for range 5 {
		f, err := os.CreateTemp(dir, tempPrefix(base)+"*")
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
		if st.Nlink > 0 {
			return f, nil
		}
		f.Close() // removed by a cleaner before we locked it: try again
	}
	return nil, errors.New("temporary files keep disappearing: is another program cleaning the directory?")
}

// removeStaleTemps removes the temporary files WriteFileAtomic left for base
// in dir when its process died: files named exactly .<base>.tmp-<digits>,
// owned by this user, that no live writer holds locked. Nothing else is
// touched. Failures are ignored: a leftover is removed on a later write.
func removeStaleTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := tempPrefix(base)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG &&
			st.Uid == uint32(os.Geteuid()) && syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.Remove(p)
		}
		f.Close()
	}
}

// DirError says why sesame will not write into an existing directory it did
// not create, and what to do instead.
type DirError struct {
	Dir     string
	Problem string // "is writable by every user (mode 1777)"
	Fix     string
}

func (e *DirError) Error() string {
	return fmt.Sprintf("%s %s; %s", e.Dir, e.Problem, e.Fix)
}

const dirFix = "sesame never changes the mode of a directory it did not create: name a directory you own that others cannot write, or a new path (sesame creates it 0700)"

// CheckDir says whether sesame may write its files into dir, without
// changing anything. A directory that does not exist is fine when it can be
// created (its nearest existing parent is a directory this user can write).
// An existing directory is used as it is, whatever its mode (the files
// holding a secret are 0600), unless that is unsafe: it is refused when it
// is not a directory, is writable by every user (like /tmp: anyone could
// swap the names sesame writes), is owned by another user than this one or
// root, or is not writable by this user. The error is a *DirError.
// A symbolic link is followed: the directory behind it is what is checked.
func CheckDir(dir string) error {
	dir = filepath.Clean(dir)
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return checkCreatable(dir)
	}
	if err != nil {
		return &DirError{Dir: dir, Problem: fmt.Sprintf("cannot be read (%v)", err), Fix: dirFix}
	}
	return checkExisting(dir, st)
}

// checkExisting applies CheckDir's rules to an existing dir.
func checkExisting(dir string, st fs.FileInfo) error {
	if !st.IsDir() {
		return &DirError{Dir: dir, Problem: "is not a directory", Fix: "name a directory, or a new path (sesame creates it 0700)"}
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	mode := sys.Mode & 0o7777
	euid := uint32(os.Geteuid())
	if sys.Uid != euid && sys.Uid != 0 {
		return &DirError{Dir: dir, Problem: fmt.Sprintf("is owned by uid %d, not by you (uid %d) or root: its owner could replace the files sesame writes there", sys.Uid, euid), Fix: dirFix}
	}
	if mode&0o002 != 0 {
		return &DirError{Dir: dir, Problem: fmt.Sprintf("is writable by every user (mode %04o): any of them could replace the files sesame writes there", mode), Fix: dirFix}
	}
	if err := syscall.Access(dir, 0o3); err != nil { // W_OK|X_OK
		return &DirError{Dir: dir, Problem: fmt.Sprintf("is not writable by you (mode %04o, owner uid %d)", mode, sys.Uid), Fix: "name a directory you can write, or run sesame as its owner"}
	}
	return nil
}

// checkCreatable says whether the missing dir can be created: its nearest
// existing parent must be a directory this user can write. That parent may
// be shared (like /tmp): what sesame creates in it is its own, 0700.
func checkCreatable(dir string) error {
	p := dir
	for {
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		p = parent
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			continue
		}
		if err != nil {
			return &DirError{Dir: dir, Problem: fmt.Sprintf("cannot be created: %s cannot be read (%v)", p, err), Fix: "name a directory you can write"}
		}
		if !st.IsDir() {
			return &DirError{Dir: dir, Problem: fmt.Sprintf("cannot be created: %s is not a directory", p), Fix: "name a directory, or a new path (sesame creates it 0700)"}
		}
		if err := syscall.Access(p, 0o3); err != nil {
			return &DirError{Dir: dir, Problem: fmt.Sprintf("cannot be created: %s is not writable by you", p), Fix: "name a directory you can write"}
		}
		return nil
	}
}

// MakeDir makes dir ready for sesame's files and returns the directories
// it created, outermost first. Missing components are created 0700 (set
// explicitly, whatever the umask), and only those: an existing directory
// is never chmod'ed. The existing directory at dir must pass CheckDir.
func MakeDir(dir string) ([]string, error) {
	dir = filepath.Clean(dir)
	if err := CheckDir(dir); err != nil {
		return nil, err
	}
	var missing []string
	for p := dir; ; {
		if _, err := os.Stat(p); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("create directory %s: %w", dir, err)
		}
		missing = append([]string{p}, missing...)
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	var created []string
	for _, p := range missing {
		if err := os.Mkdir(p, 0o700); errors.Is(err, fs.ErrExist) {
			// Made meanwhile by someone else: used only if it is safe.
			st, err := os.Stat(p)
			if err != nil {
				return created, fmt.Errorf("create directory %s: %w", dir, err)
			}
			if err := checkExisting(p, st); err != nil {
				return created, err
			}
			continue
		} else if err != nil {
			return created, fmt.Errorf("create directory %s: %w", dir, err)
		}
		created = append(created, p)
		// Set the mode through a descriptor of the directory just made,
		// never through a name someone could have swapped for a link.
		d, err := os.OpenFile(p, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			return created, fmt.Errorf("create directory %s: %w", p, err)
		}
		err = d.Chmod(0o700)
		d.Close()
		if err != nil {
			return created, fmt.Errorf("create directory %s: %w", p, err)
		}
	}
	st, err := os.Stat(dir)
	if err != nil {
		return created, fmt.Errorf("create directory %s: %w", dir, err)
	}
	if err := checkExisting(dir, st); err != nil {
		return created, err
	}
	return created, nil
}

// EnsurePrivateDir is MakeDir without the list: a missing dir is created
// 0700; an existing one is used as it is if CheckDir allows it, or refused
// with a *DirError; it is never chmod'ed.
func EnsurePrivateDir(dir string) error {
	_, err := MakeDir(dir)
	return err
}
