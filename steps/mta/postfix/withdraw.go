package postfix

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sesame-tool/sesame/steps/mta"
)

// Withdrawal is sesame's entry taken back out of the password map of an
// installed Postfix (the sasl_passwd --apply-postfix merged it into).
type Withdrawal struct {
	// Path is the installed sasl_passwd; "" when there is none.
	Path string
	// Data is the file without sesame's entries: every other line byte for
	// byte.
	Data []byte
	// Removed are the access key ids of the entries taken out.
	Removed []string
	// Kept are the other entries for the same SES host ("[host]:port
	// AKIA…", never the password): another key's, left as they are.
	Kept []string
}

// PlanWithdraw reads dir/sasl_passwd and plans taking out sesame's
// entries: those for host (any port) whose username is one of keys, the
// access keys sesame made for the setup. An entry for host with another
// key is not sesame's: it stays, and is listed in Kept. A missing file
// is a Withdrawal with no Path.
func PlanWithdraw(dir, host string, keys []string) (Withdrawal, error) {
	path := filepath.Join(dir, SASLPasswdFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Withdrawal{}, nil
	}
	if err != nil {
		return Withdrawal{}, fmt.Errorf("read %s to take sesame's entry out of it: %w", path, err)
	}
	w := Withdrawal{Path: path}
	w.Data, _, _ = removeSASL(data, func(e mta.Credentials) bool {
		if !strings.EqualFold(e.Host, host) {
			return false
		}
		if slices.Contains(keys, e.Username) {
			w.Removed = append(w.Removed, e.Username)
			return true
		}
		w.Kept = append(w.Kept, RelayHostField(e.Host, e.Port)+" "+e.Username)
		return false
	})
	return w, nil
}

// RelayHost is the relayhost Postfix uses now (postconf -h relayhost).
func (p Install) RelayHost(ctx context.Context) (string, error) {
	out, err := p.run(ctx, "postconf", "-h", "relayhost")
	if err != nil {
		return "", fmt.Errorf("read Postfix's relayhost: %w", err)
	}
	return strings.TrimSpace(out), nil
}

// Withdraw writes w.Data over the installed sasl_passwd (when w removes
// an entry), keeping a copy
// of the file as it was beside it (sasl_passwd.sesame-<time>) and its
// mode and owner (and its .db's), and postmaps it; when mainCFBackup is
// not "", main.cf is put back from that copy too. Then postfix check runs
// (a refusal puts both files back) and a running Postfix is reloaded.
// Applied.PasswdBackup names the copy; Applied.Note says when Postfix is
// not running.
func (p Install) Withdraw(ctx context.Context, w Withdrawal, mainCFBackup string) (Applied, error) {
	var res Applied
	passwd := w.Path != "" && len(w.Removed) > 0
	if !passwd && mainCFBackup == "" {
		return res, nil
	}
	var old []byte
	var st os.FileInfo
	var err error
	if passwd {
		if old, err = os.ReadFile(w.Path); err == nil {
			st, err = os.Stat(w.Path)
		}
		if err != nil {
			return res, fmt.Errorf("read %s before taking sesame's entry out: %w", w.Path, err)
		}
		now := time.Now
		if p.Now != nil {
			now = p.Now
		}
		res.PasswdBackup = freeName(w.Path + ".sesame-" + now().UTC().Format("20060102T150405Z"))
		if err := writeLike(res.PasswdBackup, old, st); err != nil {
			return res, fmt.Errorf("back up %s before taking sesame's entry out: %w", w.Path, err)
		}
	}
	mainCF := filepath.Join(p.dir(), "main.cf")
	var mainBefore []byte
	var mainSt os.FileInfo
	if mainCFBackup != "" {
		if mainBefore, err = os.ReadFile(mainCF); err == nil {
			mainSt, err = os.Stat(mainCF)
		}
		if err != nil {
			return res, fmt.Errorf("read %s before restoring it: %w", mainCF, err)
		}
	}
	// putBack undoes what was done when a later part fails: Postfix is
	// left as it was found.
	putBack := func(cause error) error {
		var errs []error
		if passwd {
			errs = append(errs, writeLike(w.Path, old, st))
			if _, err := p.run(ctx, "postmap", "hash:"+w.Path); err != nil {
				errs = append(errs, err)
			}
		}
		if mainSt != nil {
			errs = append(errs, writeLike(mainCF, mainBefore, mainSt))
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("%w; putting Postfix back failed too: %v (the copy of sasl_passwd is %s)", cause, err, res.PasswdBackup)
		}
		return fmt.Errorf("%w\n  → nothing changed: sasl_passwd and main.cf were put back as they were", cause)
	}
	if passwd {
		if err := writeLike(w.Path, w.Data, st); err != nil {
			return res, putBack(err)
		}
		db, dbErr := os.Stat(w.Path + ".db")
		if _, err := p.run(ctx, "postmap", "hash:"+w.Path); err != nil {
			return res, putBack(fmt.Errorf("rebuild the password map: %w", err))
		}
		if dbErr != nil {
			db = st // a map that was not there takes the file's mode and owner
		}
		if err := chmodChownLike(w.Path+".db", db); err != nil {
			return res, putBack(fmt.Errorf("keep the mode and owner of %s.db: %w", w.Path, err))
		}
	}
	if mainCFBackup != "" {
		if err := RestoreMainCF(mainCFBackup, mainCF); err != nil {
			return res, putBack(err)
		}
	}
	res.Changed = true
	if _, err := p.Check(ctx); err != nil {
		return res, putBack(fmt.Errorf("postfix check refused the configuration without sesame's entry: %w", err))
	}
	if _, err := p.run(ctx, "postfix", "status"); err != nil {
		res.Note = "Postfix is not running, so it was not reloaded: it reads the new files when it starts"
		return res, nil
	}
	if _, err := p.run(ctx, "postfix", "reload"); err != nil {
		return res, fmt.Errorf("sesame's entry is out of %s but postfix reload failed: %w\n  → run `postfix reload` (or systemctl reload postfix) yourself", w.Path, err)
	}
	res.Reloaded = true
	return res, nil
}

// freeName is base, or base-2, base-3… when a file of that name is
// there: a backup taken in the same second as an earlier one (by
// --apply-postfix or rotate) never replaces it.
func freeName(base string) string {
	name := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); err != nil {
			return name // not there (or unreadable: writing it says why)
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

// writeLike writes data to path atomically (a temporary file in the same
// directory renamed over it) with like's mode and owner, without touching
// the directory.
func writeLike(path string, data []byte, like os.FileInfo) error {
	return writeAtomic(path, data, like.Mode().Perm(), like)
}

// writeAtomic writes data to path through a temporary file in the same
// directory renamed over it, with perm and, when owner is not nil, its
// owner; the directory is left as it is (Postfix's daemons must still
// read it).
func writeAtomic(path string, data []byte, perm os.FileMode, owner os.FileInfo) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".sesame-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	_, werr := f.Write(data)
	errs := []error{werr, f.Chmod(perm)}
	if owner != nil {
		if sys, ok := owner.Sys().(*syscall.Stat_t); ok {
			errs = append(errs, f.Chown(int(sys.Uid), int(sys.Gid)))
		}
	}
	errs = append(errs, f.Sync(), f.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// chmodChownLike gives path like's mode and owner.
func chmodChownLike(path string, like os.FileInfo) error {
	if err := os.Chmod(path, like.Mode().Perm()); err != nil {
		return err
	}
	if sys, ok := like.Sys().(*syscall.Stat_t); ok {
		return os.Chown(path, int(sys.Uid), int(sys.Gid))
	}
	return nil
}

// MainCFValue is the value main.cf's text gives the parameter name: the
// last "name = value" of it, with its continuation lines (lines that start
// with whitespace) joined, as Postfix reads it; "" when it is not set
// (Postfix's default). $references are not expanded.
func MainCFValue(data []byte, name string) string {
	var logical []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(strings.TrimSpace(line), "#") || strings.TrimSpace(line) == "":
		case (line[0] == ' ' || line[0] == '\t') && len(logical) > 0:
			logical[len(logical)-1] += " " + strings.TrimSpace(line)
		default:
			logical = append(logical, line)
		}
	}
	value := ""
	for _, l := range logical {
		if k, v, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == name {
			value = strings.TrimSpace(v)
		}
	}
	return value
}
