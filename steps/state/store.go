package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Schema is the version of the state file format.
const Schema = 1

// Saved is one setup's state file: the answers and the ids sesame created,
// for one (account, region, domain). It never holds a secret.
type Saved struct {
	Schema    int       `json:"schema"`
	Account   string    `json:"account"`
	Region    string    `json:"region"`
	Domain    string    `json:"domain"`
	UpdatedAt time.Time `json:"updated_at"`
	Answers   Answers   `json:"answers"`
	Record    Record    `json:"record"`
	// Production are the production-access request's answers given so
	// far, kept so that a request interrupted halfway asks nothing twice.
	Production *ProductionAnswers `json:"production,omitempty"`
}

// Store keeps state files under a directory: one file per setup, named
// <account>_<region>_<domain>.json, 0600, written atomically.
type Store struct {
	Dir string
}

// DefaultDir is $XDG_STATE_HOME/sesame, or ~/.local/state/sesame.
func DefaultDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "sesame")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "sesame")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "sesame")
	}
	return filepath.Join(os.TempDir(), "sesame-state")
}

// Path is the state file of one setup.
func (s Store) Path(account, region, domain string) string {
	return filepath.Join(s.Dir, fmt.Sprintf("%s_%s_%s.json", account, region, domain))
}

// Load reads one setup's state. A missing file is not an error: it returns
// (nil, nil). A file at the path that is not sesame's state file for this
// setup is refused (see read), never taken for one.
func (s Store) Load(account, region, domain string) (*Saved, error) {
	return s.read(s.Path(account, region, domain))
}

// maxStateSize bounds what read takes in: a state file is a few kB; a
// larger file at the path is not one.
const maxStateSize = 1 << 20

// read reads the state file at path. It is sesame's when it is a regular
// file (not a link: it is opened with O_NOFOLLOW) owned by this user,
// holding JSON with a known schema and the account, region and domain
// whose state file path is path. Anything else is refused with a
// *ForeignError saying to move the file aside: it may be the operator's,
// and Save would replace it.
func (s Store) read(path string) (*Saved, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, foreignState(path, "it is a symbolic link")
	}
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, foreignState(path, "it is not a regular file")
	}
	if euid := uint32(os.Geteuid()); st.Uid != euid {
		return nil, foreignState(path, fmt.Sprintf("it is owned by uid %d, not by you (uid %d)", st.Uid, euid))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxStateSize+1))
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	if len(data) > maxStateSize {
		return nil, foreignState(path, "it is larger than any state file sesame writes")
	}
	var sv Saved
	if err := json.Unmarshal(data, &sv); err != nil {
		return nil, foreignState(path, fmt.Sprintf("it is not sesame's JSON (%v)", err))
	}
	switch {
	case sv.Schema > Schema:
		return nil, fmt.Errorf("read state %s: schema %d is newer than this sesame understands (%d); upgrade sesame", path, sv.Schema, Schema)
	case sv.Schema < 1:
		return nil, foreignState(path, "it has no sesame schema version")
	case sv.Account == "" || sv.Region == "" || sv.Domain == "":
		return nil, foreignState(path, "it names no account, region and domain")
	case s.Path(sv.Account, sv.Region, sv.Domain) != path:
		return nil, foreignState(path, fmt.Sprintf("it is about %s in %s, account %s, which is not the setup of this file name", sv.Domain, sv.Region, sv.Account))
	}
	return &sv, nil
}

// foreignState is the refusal of a file at a state path that is not
// sesame's state file there.
func foreignState(path, why string) error {
	return &ForeignError{File: "state file", Path: path, Why: why,
		advice: "sesame never overwrites a file it did not write: move it aside to start over (or choose another directory)"}
}

// Save writes one setup's state atomically, 0600. A file already at the
// path must be sesame's state file of that setup (see read): anything else
// is refused, never replaced. The write renames a new file over the path,
// so it never writes through a link.
func (s Store) Save(sv *Saved) error {
	sv.Schema = Schema
	path := s.Path(sv.Account, sv.Region, sv.Domain)
	if _, err := s.read(path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	data, err := json.MarshalIndent(sv, "", "  ")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return WriteFileAtomic(path, append(data, '\n'), 0o600)
}

// List returns every saved setup, most recently updated first. Unreadable
// files, and files that are not sesame's (see read), are skipped.
func (s Store) List() ([]*Saved, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list setups in %s: %w", s.Dir, err)
	}
	var out []*Saved
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		sv, err := s.read(filepath.Join(s.Dir, e.Name()))
		if err != nil || sv == nil {
			continue
		}
		out = append(out, sv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UpdatedAt.After(out[j].UpdatedAt) })
	return out, nil
}

// Find returns the saved setups for a region and domain, in any account,
// most recent first.
func (s Store) Find(region, domain string) ([]*Saved, error) {
	all, err := s.List()
	var out []*Saved
	for _, sv := range all {
		if sv.Region == region && sv.Domain == domain {
			out = append(out, sv)
		}
	}
	return out, err
}
