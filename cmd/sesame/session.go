package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/sesame-tool/sesame/steps"
)

// session ties one run's Env to its saved setup: it loads the record once
// the account is known, holds the setup's lock, and saves.
type session struct {
	store    steps.Store
	env      *steps.Env
	readOnly bool // status: load, never lock or save
	lock     *steps.Lock
	lockPath string
	ctx      context.Context
}

// bind is the Env's Bind hook: called by the account step.
func (s *session) bind(acct *steps.AccountInfo) error {
	a := s.env.Answers
	saved, err := s.store.Load(acct.ID, a.Region, a.Domain)
	if err != nil {
		return err
	}
	if saved != nil {
		steps.MergeAnswers(a, saved.Answers)
		*s.env.Record = saved.Record
		mergeProduction(&s.env.Options.Production, saved.Production)
	}
	if s.readOnly {
		return nil
	}
	path := s.store.Path(acct.ID, a.Region, a.Domain) + ".lock"
	if s.lock != nil && s.lockPath != path {
		// A retried run on another setup: let the old one go.
		_ = s.lock.Unlock()
		s.lock = nil
	}
	switch {
	case s.lock != nil:
		// A retried run (r in the TUI) binds again and this process
		// already holds the lock: a second flock on a new descriptor
		// would wait for itself.
	case s.env.Options.NoInput:
		s.lock, err = steps.TryLock(path)
	default:
		s.lock, err = steps.WaitLock(s.ctx, path, func(el *steps.ErrLocked) {
			s.env.Warn("account", "%v; waiting for it (Ctrl-C to leave)", el)
		})
	}
	if err != nil {
		return err
	}
	s.lockPath = path
	s.env.Save = func() error {
		return s.store.Save(&steps.Saved{
			Account: acct.ID, Region: a.Region, Domain: a.Domain,
			UpdatedAt: time.Now().UTC(), Answers: *a, Record: *s.env.Record,
			Production: productionToSave(s.env.Options.Production),
		})
	}
	return s.env.Save()
}

// resume fills answers saved for this domain and region (in any account:
// the most recent) before the remaining questions are asked.
func (s *session) resume(a *steps.Answers) {
	found, _ := s.store.Find(a.Region, a.Domain)
	if len(found) > 0 {
		steps.MergeAnswers(a, found[0].Answers)
	}
}

func (s *session) close() {
	if s.lock != nil {
		_ = s.lock.Unlock()
		s.lock, s.lockPath = nil, ""
	}
}

// defaultOutDir is where the relay files go when --out is not given.
func defaultOutDir(getenv func(string) string) func(domain, region string) string {
	return func(domain, region string) string {
		base := getenv("XDG_DATA_HOME")
		if base == "" {
			base = filepath.Join(getenv("HOME"), ".local", "share")
		}
		return filepath.Join(base, "sesame", domain+"-"+region)
	}
}

// exitFor maps a run's error to an exit code and the message to print
// (nil when the front end already showed it).
func exitFor(err error) error {
	code := steps.ExitCode(err)
	if code == exitOK {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return exitWith(exitInterrupted, errors.New("interrupted: nothing half-done is left behind; run sesame again to resume"))
	}
	return exitWith(code, err)
}

func describeDemo(stateDir, outDir string) string {
	return fmt.Sprintf("DEMO: a simulated AWS account; nothing real is touched. State in %s, files in %s.", stateDir, outDir)
}
