package state

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// Lock is an exclusive hold on one setup, so two sesame processes never
// write the same setup at once. It is an flock(2) on <state file>.lock: the
// kernel releases it when the holder exits, even on SIGKILL, so a crash
// never leaves a stale lock behind.
type Lock struct {
	f *os.File
}

// ErrLocked is returned by TryLock when another process holds the setup.
type ErrLocked struct {
	Path   string
	Holder string // "pid 1234 on host, since 2026-11-27T02:00:00Z"
}

func (e *ErrLocked) Error() string {
	return fmt.Sprintf("another sesame (%s) is working on this setup (lock %s): wait for it to finish, or stop it", e.Holder, e.Path)
}

// TryLock takes the lock at path or returns *ErrLocked at once.
//
// The lock file is opened without following a link (O_NOFOLLOW) and used
// only when it is a regular file of this user with no other name (a hard
// link): sesame truncates it to write its pid, and must never truncate a
// file it did not make. Anything else is refused with a *ForeignError.
func TryLock(path string) (*Lock, error) {
	if err := EnsurePrivateDir(dirOf(path)); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, foreignLock(path, "it is a symbolic link")
	}
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := checkLockFile(f); err != nil {
		f.Close()
		return nil, foreignLock(path, err.Error())
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(io.LimitReader(f, 512))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			h := strings.TrimSpace(string(holder))
			if h == "" {
				h = "unknown process"
			}
			return nil, &ErrLocked{Path: path, Holder: h}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	host, _ := os.Hostname()
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d on %s, since %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))), 0)
	return &Lock{f: f}, nil
}

// checkLockFile says why the open file f cannot be sesame's lock file, or
// nil when it can.
func checkLockFile(f *os.File) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	euid := uint32(os.Geteuid())
	switch {
	case st.Mode&syscall.S_IFMT != syscall.S_IFREG:
		return errors.New("it is not a regular file")
	case st.Uid != euid:
		return fmt.Errorf("it is owned by uid %d, not by you (uid %d)", st.Uid, euid)
	case st.Nlink != 1:
		return fmt.Errorf("it has %d names (hard links), so it is another file too", st.Nlink)
	}
	return nil
}

// foreignLock is the refusal of a file at a lock path that sesame cannot
// use without damaging it.
func foreignLock(path, why string) error {
	return &ForeignError{File: "lock file", Path: path, Why: why,
		advice: "sesame never truncates a file it did not make: move it aside and run sesame again (or choose another directory)"}
}

// WaitLock takes the lock at path, waiting while another process holds it.
// onWait is called once, with the holder, when it has to wait.
func WaitLock(ctx context.Context, path string, onWait func(*ErrLocked)) (*Lock, error) {
	told := false
	for {
		l, err := TryLock(path)
		var el *ErrLocked
		if !errors.As(err, &el) {
			return l, err
		}
		if !told && onWait != nil {
			onWait(el)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
	return err
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		return path[:i]
	}
	return "."
}
