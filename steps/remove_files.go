package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/state"
)

// RoleMainCFBackup is the Record.Files role of the copy of Postfix's
// main.cf that --apply-postfix took before changing it.
const RoleMainCFBackup = "main.cf-backup"

// RemoveFiles takes back the files sesame wrote for the setup (the saved
// setup's Record.Files): a file is deleted only while it carries sesame's
// "# Written by sesame" mark; from sasl_passwd only sesame's entries go
// (the lines of this setup's access keys), and the file goes only when
// nothing else is left in it. The Postfix --apply-postfix changed is
// RemovePostfix's.
type RemoveFiles struct{}

// ID is the step's stable key.
func (*RemoveFiles) ID() string { return "remove-files" }

// Title is the step's name for the operator.
func (*RemoveFiles) Title() string { return "Take back the files sesame wrote" }

// fileRemoval is what would happen to one file.
type fileRemoval struct {
	role, path string
	action     Action // ActionDelete, ActionUpdate (sasl_passwd rewritten), ActionUnchanged
	data       []byte // the new contents of a rewritten sasl_passwd
	note       string
}

// mainCFBackup is the backup of Postfix's main.cf sesame took, and where
// main.cf is, or "" when there is none on disk.
func mainCFBackup(env *Env) (backup, mainCF string) {
	b := env.Record.Files[RoleMainCFBackup]
	if b == "" {
		return "", ""
	}
	if _, err := os.Stat(b); err != nil {
		return "", ""
	}
	return b, filepath.Join(filepath.Dir(b), "main.cf")
}

func (*RemoveFiles) read(env *Env) ([]fileRemoval, error) {
	var out []fileRemoval
	keys := setupKeys(env.Record)
	for _, role := range slices.Sorted(maps.Keys(env.Record.Files)) {
		if role == RoleMainCFBackup {
			continue
		}
		path := env.Record.Files[role]
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s to take back sesame's part of it: %w", path, err)
		}
		f := fileRemoval{role: role, path: path, action: ActionUnchanged}
		switch {
		case role == postfix.RoleSASLPasswd:
			rest, n, empty := postfix.RemoveSASLEntries(data, keys)
			switch {
			case n > 0 && empty:
				f.action, f.note = ActionDelete, "holds only sesame's entry"
			case n > 0:
				f.action, f.data, f.note = ActionUpdate, rest, "only sesame's entry goes; the other lines stay"
			default:
				f.note = "holds no entry of this setup's keys: left as it is"
			}
		case postfix.HasSesameMark(data):
			f.action, f.note = ActionDelete, "written by sesame"
		default:
			f.note = "no longer carries sesame's mark, so it is yours now: left as it is"
		}
		out = append(out, f)
	}
	return out, nil
}

// Check is Todo while a file to delete or rewrite is there.
func (s *RemoveFiles) Check(_ context.Context, env *Env) (Result, error) {
	files, err := s.read(env)
	if err != nil {
		return Result{}, err
	}
	var res Result
	n := 0
	for _, f := range files {
		if f.action != ActionUnchanged {
			n++
		} else {
			res.Warnings = append(res.Warnings, f.path+": "+f.note)
		}
	}
	if n == 0 {
		res.Status, res.Detail = StatusDone, "no file sesame wrote for this setup is left"
		return res, nil
	}
	res.Status, res.Detail = StatusTodo, fmt.Sprintf("%d %s to take back", n, plural(n, "file", "files"))
	return res, nil
}

// Plan lists each file and what happens to it.
func (s *RemoveFiles) Plan(ctx context.Context, env *Env) (Plan, error) {
	files, err := s.read(env)
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	n := 0
	for _, f := range files {
		p.Changes = append(p.Changes, Change{Action: f.action, Resource: "file", Name: f.path, Note: f.note})
		if f.action != ActionUnchanged {
			n++
		}
	}
	p.Summary = fmt.Sprintf("take back %d %s sesame wrote", n, plural(n, "file", "files"))
	p.NeedsApproval = n > 0
	return p, nil
}

// Apply deletes or rewrites (atomically) each file.
func (s *RemoveFiles) Apply(_ context.Context, env *Env) error {
	files, err := s.read(env)
	if err != nil {
		return err
	}
	for _, f := range files {
		switch f.action {
		case ActionDelete:
			if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("delete %s: %w", f.path, err)
			}
		case ActionUpdate:
			if err := state.WriteFileAtomic(f.path, f.data, 0o600); err != nil {
				return fmt.Errorf("take sesame's entry out of %s: %w", f.path, err)
			}
		}
	}
	return nil
}

// RemoveState deletes the saved setup, last, once everything it recorded
// is taken back: a remove that stopped before still knows what to do.
type RemoveState struct {
	// Path is the saved setup's file, for the plan.
	Path func() string
	// Exists reports whether the saved setup is still on disk.
	Exists func() bool
	// Forget deletes it; nothing is saved after.
	Forget func() error
}

// ID is the step's stable key.
func (*RemoveState) ID() string { return "remove-state" }

// Title is the step's name for the operator.
func (*RemoveState) Title() string { return "Forget the saved setup" }

// Check is Todo while the saved setup is on disk, unless the Postfix
// sesame installed into still holds this setup's entry (RemovePostfix left
// it for a live relay): the saved setup is what tells the rerun which
// entry is sesame's, so it stays.
func (s *RemoveState) Check(_ context.Context, env *Env) (Result, error) {
	if s.Exists == nil || !s.Exists() {
		return Result{Status: StatusDone, Detail: "no saved setup is left"}, nil
	}
	// A dry run's remove-postfix plan says whether the entry would stay.
	if path := postfixEntryLeft(env); path != "" && !env.Options.DryRun {
		return Result{Status: StatusSkipped, Detail: fmt.Sprintf("the saved setup stays while %s holds sesame's entry: it is what tells sesame remove, run again, which entry is its own", path)}, nil
	}
	return Result{Status: StatusTodo, Detail: "the saved setup is still on disk"}, nil
}

// Plan names the file.
func (s *RemoveState) Plan(context.Context, *Env) (Plan, error) {
	return Plan{Summary: "delete the saved setup", NeedsApproval: true,
		Changes: []Change{{Action: ActionDelete, Resource: "file", Name: s.Path(), Note: "sesame's record of what it made; removed last"}}}, nil
}

// Apply deletes the saved setup.
func (s *RemoveState) Apply(context.Context, *Env) error { return s.Forget() }
