package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/state"
)

// session ties one run's Env to its saved setup: it loads the record once
// the account is known, holds the setup's lock, and saves.
//
// Saved answers never cross accounts: resume takes them only from the
// setup of the account the credentials belong to, and bind only from the
// bound setup. And only answers that held are saved: until the run got
// past its checks before the first change (Env.AnswersChecked), Save writes
// the answers saved before, so a dry run's answers and an answer that
// failed a check are never reused by the next run; an answer AWS refused
// later (an *InputError naming it) is put back as well (forgetFailed).
type session struct {
	store    state.Store
	env      *steps.Env
	readOnly bool // status: load, never lock or save
	lock     *state.Lock
	lockPath string
	ctx      context.Context
	// account returns the account id the credentials belong to in a
	// region (STS GetCallerIdentity); nil means resume merges nothing.
	account func(ctx context.Context, region string) (string, error)
	// outDir is the default output directory for a domain and region.
	outDir func(domain, region string) string
	// resumedAccount is the account resume learned, "" until then.
	resumedAccount string
	// prev are the answers of the setup's state file before this run.
	prev state.Answers
	// failed are the answers (InputError fields) refused during this run.
	failed map[string]bool
}

// bind is the Env's Bind hook: the runner calls it in its bind phase,
// right after the account step's Check (see steps.SetupBinder).
func (s *session) bind(acct *steps.AccountInfo) error {
	a := s.env.Answers
	saved, err := s.store.Load(acct.ID, a.Region, a.Domain)
	if err != nil {
		return steps.StateDirInput(err)
	}
	s.prev = state.Answers{Domain: a.Domain, Region: a.Region}
	if saved != nil {
		steps.MergeAnswers(a, saved.Answers)
		*s.env.Record = saved.Record
		s.prev = saved.Answers
		if saved.Production != nil {
			pr := s.env.Production()
			mergeProduction(&pr, saved.Production)
			s.env.Decisions.Production = &pr
		}
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
		s.lock, err = state.TryLock(path)
	default:
		s.lock, err = state.WaitLock(s.ctx, path, func(el *state.ErrLocked) {
			s.env.Warn("account", "%v; waiting for it (Ctrl-C to leave)", el)
		})
	}
	if err != nil {
		return steps.StateDirInput(err)
	}
	s.lockPath = path
	// A retried run (r in the TUI) checks its answers again.
	s.failed = nil
	s.env.AnswersChecked = false
	s.env.Save = func() error {
		return steps.StateDirInput(s.store.Save(&state.Saved{
			Account: acct.ID, Region: a.Region, Domain: a.Domain,
			UpdatedAt: time.Now().UTC(), Answers: s.answersToSave(), Record: *s.env.Record,
			Production: productionToSave(s.env.Production()),
		}))
	}
	if s.env.Options.DryRun {
		return nil // a dry run leaves no state behind
	}
	return s.env.Save()
}

// answersToSave are the run's answers once they held (AnswersChecked),
// without those refused since; before that, the answers saved before.
func (s *session) answersToSave() state.Answers {
	a := s.env.Answers
	out := s.prev
	if s.env.AnswersChecked {
		out = *a
		for f := range s.failed {
			steps.RevertAnswer(&out, s.prev, f)
		}
	}
	out.Domain, out.Region = a.Domain, a.Region
	return out
}

// forgetFailed puts back, in the state file, an answer the run's error
// names as refused (an *InputError for --zone-id when the zone does not
// exist), so the next run does not fail on it again.
func (s *session) forgetFailed(err error) error {
	var ie *steps.InputError
	if s.env.Save == nil || s.readOnly || !errors.As(err, &ie) {
		return nil
	}
	if !steps.RevertAnswer(&state.Answers{}, state.Answers{}, ie.Field) {
		return nil
	}
	if s.failed == nil {
		s.failed = map[string]bool{}
	}
	s.failed[ie.Field] = true
	return s.env.Save()
}

// resume fills the answers saved for this domain and region in the account
// the credentials belong to (asked of STS, once the domain and region are
// settled and before the remaining questions). Without an account (the
// call failed: the account step says why) it merges nothing; bind then
// loads the setup once the account is known.
func (s *session) resume(ctx context.Context, a *state.Answers) error {
	if s.account == nil {
		return nil
	}
	id, err := s.account(ctx, a.Region)
	if err != nil || id == "" {
		return nil
	}
	s.resumedAccount = id
	if saved, err := s.store.Load(id, a.Region, a.Domain); err == nil && saved != nil {
		steps.MergeAnswers(a, saved.Answers)
	} else if others := s.otherAccounts(id, a.Region, a.Domain); len(others) > 0 {
		s.env.Info("account", "answers saved for %s in %s belong to account %s; these credentials are account %s, so they are not used here",
			a.Domain, a.Region, strings.Join(others, ", "), id)
	}
	if a.OutDir == "" && s.outDir != nil {
		a.OutDir = s.defaultOut(id, a.Domain, a.Region)
	}
	return nil
}

// otherAccounts lists the accounts other than account with a saved setup
// of domain and region.
func (s *session) otherAccounts(account, region, domain string) []string {
	found, _ := s.store.Find(region, domain)
	var out []string
	for _, sv := range found {
		if sv.Account != account {
			out = append(out, sv.Account)
		}
	}
	return out
}

// defaultOut is the default output directory of a setup, unless another
// account's saved setup of the same domain and region uses it: then the
// account id is added, so two accounts never share (and overwrite) one
// directory of relay files.
func (s *session) defaultOut(account, domain, region string) string {
	dir := s.outDir(domain, region)
	all, _ := s.store.List()
	for _, sv := range all {
		if sv.Account != account && filepath.Clean(sv.Answers.OutDir) == filepath.Clean(dir) {
			return dir + "-" + account
		}
	}
	return dir
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
