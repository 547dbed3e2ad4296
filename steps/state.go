package steps

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// StateSchema is the version of the state file format.
const StateSchema = 1

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
}

// Store keeps state files under a directory: one file per setup, named
// <account>_<region>_<domain>.json, 0600, written atomically.
type Store struct {
	Dir string
}

// DefaultStateDir is $XDG_STATE_HOME/sesame, or ~/.local/state/sesame.
func DefaultStateDir(getenv func(string) string) string {
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
// (nil, nil).
func (s Store) Load(account, region, domain string) (*Saved, error) {
	return readSaved(s.Path(account, region, domain))
}

func readSaved(path string) (*Saved, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	var sv Saved
	if err := json.Unmarshal(data, &sv); err != nil {
		return nil, fmt.Errorf("read state %s: not a sesame state file (%v); move it aside to start over", path, err)
	}
	if sv.Schema > StateSchema {
		return nil, fmt.Errorf("read state %s: schema %d is newer than this sesame understands (%d); upgrade sesame", path, sv.Schema, StateSchema)
	}
	return &sv, nil
}

// Save writes one setup's state atomically, 0600.
func (s Store) Save(sv *Saved) error {
	sv.Schema = StateSchema
	data, err := json.MarshalIndent(sv, "", "  ")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return WriteFileAtomic(s.Path(sv.Account, sv.Region, sv.Domain), append(data, '\n'), 0o600)
}

// List returns every saved setup, most recently updated first. Unreadable
// files are skipped.
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
		sv, err := readSaved(filepath.Join(s.Dir, e.Name()))
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
