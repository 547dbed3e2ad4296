package steps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
)

// RemovePostfix takes sesame's entry back out of the Postfix that
// --apply-postfix installed the relay into (the saved setup's
// PostfixDir): only the "[host]:port KEY:PASSWORD" line of this setup's
// SES host whose key sesame made for this setup; every other line stays
// byte for byte, the file as it was is kept beside it, its mode and owner
// (and its map's) stay, and Postfix gets postmap, postfix check and a
// reload. It runs first, before the key is deleted, and says what happens
// to mail:
//
//   - with --restore-postfix (or yes to the question), main.cf goes back
//     to the copy from before sesame and Postfix sends mail the way it
//     did then; the entry goes with it;
//   - where Postfix no longer relays through SES, nothing uses the entry
//     and it goes;
//   - where main.cf still relays through SES, the entry stays and the step
//     is left pending (exit 3): without it SES refuses Postfix's mail with
//     530 Authentication required and Postfix bounces it to the senders,
//     while with it, once the key is deleted, SES answers 535 and Postfix
//     keeps the mail deferred (smtp_sasl_auth_soft_bounce) until the relay
//     is pointed elsewhere. The saved setup stays too (RemoveState), for
//     the rerun that takes the entry out.
type RemovePostfix struct {
	// RestorePostfix restores main.cf from sesame's backup without asking.
	RestorePostfix bool
	// Sbin is where Postfix's commands are ("" means PATH, then /usr/sbin).
	Sbin string
}

// ID is the step's stable key.
func (*RemovePostfix) ID() string { return "remove-postfix" }

// Title is the step's name for the operator.
func (*RemovePostfix) Title() string { return "Take sesame's entry out of Postfix" }

// postfixRemoval is what the installed Postfix holds of the setup.
type postfixRemoval struct {
	dir    string
	host   string // this setup's SES SMTP host
	w      postfix.Withdrawal
	backup string // main.cf's backup, "" when there is none on disk
	// relay is Postfix's relayhost now, and backupRelay the backup's: read
	// only while the entry is there.
	relay, backupRelay string
}

// throughSES reports whether a relayhost value is this setup's SES host.
func (r *postfixRemoval) throughSES(relay string) bool {
	h := strings.TrimPrefix(strings.TrimSpace(relay), "[")
	if i := strings.IndexAny(h, "]:"); i >= 0 {
		h = h[:i]
	}
	return strings.EqualFold(h, r.host)
}

// relayAfter is the relayhost Postfix uses once the step is done: the
// backup's when main.cf is restored.
func (r *postfixRemoval) relayAfter(restore bool) string {
	if restore {
		return r.backupRelay
	}
	return r.relay
}

// entryGoes reports whether sesame's entry is taken out: only where
// Postfix will not relay through SES any more, as without the entry SES
// would refuse its mail with 530 and Postfix would bounce it.
func (r *postfixRemoval) entryGoes(restore bool) bool {
	return len(r.w.Removed) > 0 && !r.throughSES(r.relayAfter(restore))
}

// entryStays reports whether sesame's entry must stay for a live relay.
func (r *postfixRemoval) entryStays(restore bool) bool {
	return len(r.w.Removed) > 0 && r.throughSES(r.relayAfter(restore))
}

// removePostfixDir is the Postfix sesame installed the relay into: the
// saved setup's PostfixDir, or (a setup saved before sesame recorded it)
// the directory of the main.cf backup --apply-postfix took; "" for none.
func removePostfixDir(env *Env) string {
	if d := env.Record.PostfixDir; d != "" {
		return d
	}
	if b := env.Record.Files[RoleMainCFBackup]; b != "" {
		return filepath.Dir(b)
	}
	return ""
}

// postfixEntryLeft reports where the installed Postfix still holds one of
// this setup's entries ("" for nowhere, or when it cannot be read).
func postfixEntryLeft(env *Env) string {
	dir := removePostfixDir(env)
	if dir == "" {
		return ""
	}
	w, err := postfix.PlanWithdraw(dir, ses.SMTPHost(env.Answers.Region), setupKeys(env.Record))
	if err != nil || len(w.Removed) == 0 {
		return ""
	}
	return w.Path
}

func (s *RemovePostfix) read(ctx context.Context, env *Env) (*postfixRemoval, error) {
	r := &postfixRemoval{dir: removePostfixDir(env), host: ses.SMTPHost(env.Answers.Region)}
	if r.dir == "" {
		return r, nil
	}
	r.backup, _ = mainCFBackup(env)
	w, err := postfix.PlanWithdraw(r.dir, r.host, setupKeys(env.Record))
	if err != nil {
		return nil, fmt.Errorf("%w: sesame remove takes its entry out of the Postfix it installed the relay into, which needs root (run it with sudo)", err)
	}
	r.w = w
	if len(w.Removed) > 0 {
		relay, err := (postfix.Install{Dir: r.dir, Sbin: s.Sbin}).RelayHost(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: sesame needs Postfix's relayhost to know whether taking its entry out of %s would make Postfix bounce mail", err, w.Path)
		}
		r.relay = relay
		if r.backup != "" {
			data, err := os.ReadFile(r.backup)
			if err != nil {
				return nil, fmt.Errorf("read main.cf's backup %s: %w", r.backup, err)
			}
			r.backupRelay = postfix.MainCFValue(data, "relayhost")
		}
	}
	return r, nil
}

// stays says why a live relay's entry stays, and what to do.
func (r *postfixRemoval) stays(restore bool) string {
	if restore {
		return fmt.Sprintf("main.cf's copy from before sesame (%s) relays through SES too (relayhost = %s), so sesame's entry in %s stays: without it SES would refuse Postfix's mail with 530 Authentication required and Postfix would bounce it to the senders; with it, once the key is deleted, SES answers 535 and Postfix keeps the mail deferred until it can go. Point relayhost elsewhere, then run sesame remove again to take the entry out",
			r.backup, r.backupRelay, r.w.Path)
	}
	what := "point relayhost elsewhere"
	if r.backup != "" {
		what = "run sesame remove --restore-postfix to put main.cf back from " + r.backup + " (the copy from before sesame), or point relayhost elsewhere"
	}
	return fmt.Sprintf("Postfix in %s still relays through SES (relayhost = %s), so sesame's entry in %s stays: without it SES would refuse Postfix's mail with 530 Authentication required and Postfix would bounce it to the senders; with it, once the key is deleted, SES answers 535 and Postfix keeps the mail deferred until it can go. %s, then run sesame remove again to take the entry out",
		r.dir, r.relay, r.w.Path, what)
}

// relayWords names a relayhost value for the operator.
func relayWords(v string) string {
	if v == "" {
		return "no relayhost: Postfix delivers mail itself"
	}
	return "relayhost = " + v
}

// restoring is whether main.cf is restored: asked for and possible.
func (s *RemovePostfix) restoring(r *postfixRemoval) bool { return s.RestorePostfix && r.backup != "" }

// canAsk is whether Plan will still ask about restoring main.cf.
func (s *RemovePostfix) canAsk(env *Env, r *postfixRemoval) bool {
	return r.backup != "" && !s.RestorePostfix && !env.Options.NoInput && !env.Options.DryRun
}

// Check is Done when the installed Postfix holds no entry of this setup
// and there is no main.cf to restore, Pending while the entry must stay
// for a relay that is still live, Todo otherwise.
func (s *RemovePostfix) Check(ctx context.Context, env *Env) (Result, error) {
	r, err := s.read(ctx, env)
	switch {
	case err != nil:
		return Result{}, err
	case r.dir == "":
		return Result{Status: StatusSkipped, Detail: "sesame did not install the relay into a Postfix on this machine (--apply-postfix)"}, nil
	}
	var res Result
	for _, k := range r.w.Kept {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s holds %s, another key than this setup's: left as it is", r.w.Path, k))
	}
	restore := s.restoring(r)
	entry := fmt.Sprintf("%s holds sesame's entry for %s (key %s)", r.w.Path, r.host, strings.Join(r.w.Removed, ", "))
	switch {
	case s.canAsk(env, r) && (r.entryGoes(true) || r.entryGoes(false)):
		res.Status, res.Detail = StatusTodo, entry
	case restore:
		res.Status, res.Detail = StatusTodo, fmt.Sprintf("main.cf in %s is to be restored from %s", r.dir, r.backup)
		if len(r.w.Removed) > 0 {
			res.Detail = entry + "; " + res.Detail
		}
	case r.entryGoes(false):
		res.Status, res.Detail = StatusTodo, entry
	case r.entryStays(false):
		res.Status, res.Detail = StatusPending, r.stays(false)
	default:
		res.Status, res.Detail = StatusDone, fmt.Sprintf("the Postfix in %s holds no entry of this setup", r.dir)
		if r.backup != "" {
			res.Warnings = append(res.Warnings, fmt.Sprintf("main.cf in %s still has the settings --apply-postfix gave it: sesame remove --restore-postfix puts it back from %s, the copy taken before sesame changed it", r.dir, r.backup))
		}
	}
	return res, nil
}

// Plan offers to restore main.cf (interactive runs; --restore-postfix
// says yes) and lists the changes in order, with what happens to mail.
func (s *RemovePostfix) Plan(ctx context.Context, env *Env) (Plan, error) {
	r, err := s.read(ctx, env)
	if err != nil {
		return Plan{}, err
	}
	if s.canAsk(env, r) {
		ok, err := env.Prompt.Confirm(ctx, Question{
			ID: "restore-postfix", Step: s.ID(), Title: fmt.Sprintf("Restore %s from %s?", filepath.Join(r.dir, "main.cf"), r.backup), Flag: "--restore-postfix", Default: "n",
			Detail: "--apply-postfix changed Postfix to relay through SES and kept this copy of main.cf from before; restoring it undoes those settings (and any change made to main.cf since), and Postfix sends mail the way it did before sesame",
		})
		if err != nil {
			return Plan{}, err
		}
		s.RestorePostfix = ok
	}
	restore := s.restoring(r)
	var p Plan
	if restore {
		p.Changes = append(p.Changes, Change{Action: ActionUpdate, Resource: "file", Name: filepath.Join(r.dir, "main.cf"), Value: "the copy " + r.backup,
			Note: fmt.Sprintf("the settings from before sesame (%s): Postfix sends mail the way it did then", relayWords(r.backupRelay))})
	}
	if r.entryGoes(restore) {
		p.Changes = append(p.Changes,
			Change{Action: ActionUpdate, Resource: "file", Name: r.w.Path, Current: "sesame's entry for " + r.host + " (key " + strings.Join(r.w.Removed, ", ") + ")", Value: "without it",
				Note: "every other line stays byte for byte; the file as it is now is kept beside it (" + postfix.SASLPasswdFile + ".sesame-<time>); its mode and owner stay"},
			Change{Action: ActionRequest, Resource: "command", Name: "postmap hash:" + r.w.Path, Note: "the map Postfix reads; its mode and owner stay"})
	}
	for _, k := range r.w.Kept {
		p.Changes = append(p.Changes, Change{Action: ActionUnchanged, Resource: "sasl-entry", Name: k, Note: "another key than this setup's: left as it is"})
	}
	if r.entryStays(restore) {
		p.Changes = append(p.Changes, Change{Action: ActionUnchanged, Resource: "sasl-entry", Name: r.w.Path + ": " + strings.Join(r.w.Removed, ", "), Note: r.stays(restore)})
	}
	if !restore && !r.entryGoes(false) {
		// Nothing to change: the entry stays for the live relay.
		p.Summary = r.stays(false)
		return p, nil
	}
	p.Changes = append(p.Changes, Change{Action: ActionRequest, Resource: "command", Name: "postfix check, postfix reload",
		Note: "a configuration postfix check refuses puts the files back; a Postfix that is not running reads them when it starts"})
	mail := fmt.Sprintf("Postfix no longer relays through SES (%s), so nothing uses the entry", relayWords(r.relay))
	if restore {
		mail = "Postfix sends mail the way it did before sesame"
	}
	p.Summary = fmt.Sprintf("take sesame's part out of the Postfix in %s before its access key is deleted: %s", r.dir, mail)
	p.NeedsApproval = true
	return p, nil
}

// Apply takes the entry out and restores main.cf when chosen; an entry
// that must stay for a live relay leaves the step pending.
func (s *RemovePostfix) Apply(ctx context.Context, env *Env) error {
	r, err := s.read(ctx, env)
	if err != nil {
		return err
	}
	restore := s.restoring(r)
	w := r.w
	if !r.entryGoes(restore) {
		w.Removed = nil
	}
	from := ""
	if restore {
		from = r.backup
	}
	applied, err := postfix.Install{Dir: r.dir, Sbin: s.Sbin, Now: env.Clock.Now}.Withdraw(ctx, w, from)
	if err != nil {
		return err
	}
	if applied.PasswdBackup != "" {
		env.Info(s.ID(), "took sesame's entry (key %s) out of %s; the file as it was is %s", strings.Join(w.Removed, ", "), w.Path, applied.PasswdBackup)
	}
	if restore {
		env.Info(s.ID(), "restored %s from %s", filepath.Join(r.dir, "main.cf"), r.backup)
		// Restored: the next run has nothing to offer.
		delete(env.Record.Files, RoleMainCFBackup)
		if err := env.SaveState(); err != nil {
			return fmt.Errorf("main.cf is restored but the state file could not be saved: %w", err)
		}
	}
	switch {
	case applied.Note != "":
		env.Warn(s.ID(), "%s", applied.Note)
	case applied.Reloaded:
		env.Info(s.ID(), "reloaded Postfix")
	}
	if r.entryStays(restore) {
		return &PendingError{Step: s.ID(), Detail: r.stays(restore)}
	}
	return nil
}
