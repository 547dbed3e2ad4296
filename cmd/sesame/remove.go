package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
	"github.com/sesame-tool/sesame/ui"
)

func newRemoveCmd(s *ioStreams, getenv func(string) string) *cobra.Command {
	o := &options{}
	var restorePostfix bool
	cmd := &cobra.Command{
		Use:   "remove",
		Short: "Take back what sesame made for a setup (DNS records, SES identity, SMTP user, files), as a plan first",
		Long: `remove takes back exactly what sesame made for one saved setup (a domain in a
region), as a plan you approve first:

  Postfix  first, where --apply-postfix installed the relay: sesame's entry
           in its sasl_passwd (other lines kept byte for byte, a backup kept
           beside it, mode and owner kept), postmap, postfix check, reload;
           with --restore-postfix main.cf goes back to the copy from before
           sesame. While main.cf still relays through SES the entry stays
           (without it SES answers 530 and Postfix bounces the mail; with it,
           once the key is gone, SES answers 535 and Postfix defers it) and
           remove ends pending (exit 3) until relayhost points elsewhere
  IAM      the SMTP user's keys, sesame's inline policies and the user, only
           if it is tagged managed-by=sesame (before the identity, so mail
           still sent through SES is deferred, not bounced); while the user
           serves the domain's setup in another region, only this setup's
           key and policy go
  DNS      the records sesame created, only while they still hold the values
           it wrote; from a TXT set it merged into, only its own value (and
           only include:amazonses.com from an SPF record), one atomic change
           per zone
  SES      the identity, only if sesame created it (else only the MAIL FROM
           domain sesame set up)
  files    the relay files sesame wrote (only its entry from sasl_passwd)

Anything that changed since sesame made it is listed and left alone. The saved
setup goes last, so a remove that stops part way is finished by running it
again.`,
		Example: `  sesame remove --domain example.com --region eu-west-1 --dry-run
  sesame remove --domain example.com --region eu-west-1
  sesame remove --domain example.com --region eu-west-1 --yes --no-input --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRemove(cmd.Context(), o, restorePostfix, s, getenv)
		},
	}
	f := cmd.Flags()
	addCommonFlags(f, o)
	f.BoolVarP(&o.yes, "yes", "y", false, "approve planned changes without asking")
	f.BoolVar(&o.dryRun, "dry-run", false, "show every step's plan and change nothing")
	f.BoolVar(&o.noInput, "no-input", false, "never ask: a missing answer is an error naming its flag (exit 2)")
	f.BoolVar(&restorePostfix, "restore-postfix", false, "restore Postfix's main.cf from the backup --apply-postfix took, then reload it")
	return cmd
}

// pickSetup fills the domain and region from the saved setups when the
// flags leave them out and only one setup fits: remove and rotate change
// things, so they never guess between several. verb is what the command
// does to the setup ("remove", "rotate"), for the message. With noneOK, a
// named domain no saved setup fits is no error (remove then looks in AWS
// for what is left of sesame's, in --region or the AWS configuration's).
func pickSetup(o *options, store state.Store, verb string, noneOK bool) error {
	if o.domain != "" {
		d, err := steps.NormalizeDomain(o.domain)
		if err != nil {
			return exitWith(exitInput, o.nameEnv(err))
		}
		o.domain = d
	}
	if o.domain != "" && o.region != "" {
		return nil
	}
	all, err := store.List()
	if err != nil {
		return exitWith(exitFailure, err)
	}
	var fit []*state.Saved
	for _, sv := range all {
		if (o.domain == "" || strings.EqualFold(sv.Domain, o.domain)) && (o.region == "" || sv.Region == o.region) {
			fit = append(fit, sv)
		}
	}
	switch {
	case len(fit) == 0 && noneOK && o.domain != "":
		return nil
	case len(fit) == 0:
		return exitWith(exitInput, &steps.InputError{Field: "domain", Flag: "--domain", Msg: fmt.Sprintf("no saved setup in %s to %s; name the domain and region (--domain, --region)", store.Dir, verb)})
	case len(fit) > 1:
		var names []string
		for _, sv := range fit {
			names = append(names, sv.Domain+" in "+sv.Region)
		}
		flag := "--domain"
		if o.domain != "" {
			flag = "--region"
		}
		return exitWith(exitInput, &steps.InputError{Field: strings.TrimPrefix(flag, "--"), Flag: flag, Msg: "several saved setups fit (" + strings.Join(names, ", ") + "); name the one to " + verb})
	}
	o.domain, o.region = fit[0].Domain, fit[0].Region
	return nil
}

// runRemove plans and applies the removal of one saved setup through the
// runner, so the TUI, plain lines and --json all work as for the wizard.
func runRemove(ctx context.Context, o *options, restorePostfix bool, s *ioStreams, getenv func(string) string) error {
	o.smtpPort = ses.PortOrDefault(o.smtpPort)
	o.wait = true
	store := state.Store{Dir: stateDirOr(o.stateDir, getenv)}
	if err := pickSetup(o, store, "remove", true); err != nil {
		return err
	}
	w, err := wire(ctx, o, s, getenv, false)
	if err != nil {
		return err
	}
	defer w.close()
	env := w.env
	store = w.sess.store

	var path string
	unsaved := &steps.RemoveUnsaved{}
	bind := env.Bind
	env.Bind = func(acct *steps.AccountInfo) error {
		a := env.Answers
		sv, err := store.Load(acct.ID, a.Region, a.Domain)
		if err != nil {
			return steps.StateDirInput(err)
		}
		// Without a saved setup the steps only look for what AWS still
		// holds of sesame's (a remove that finished, rerun), and nothing
		// is locked or saved.
		*unsaved = steps.RemoveUnsaved{On: sv == nil}
		if sv == nil {
			path = ""
			return nil
		}
		path = store.Path(acct.ID, a.Region, a.Domain)
		return bind(acct)
	}
	saved := func() []*state.Saved {
		all, _ := store.List()
		return all
	}
	forget := &steps.RemoveState{
		Path: func() string { return path },
		Exists: func() bool {
			_, err := os.Lstat(path)
			return path != "" && err == nil
		},
		Forget: func() error {
			// Nothing is saved after this: the run's end would write
			// the setup again.
			env.Save, env.AnswersChecked = nil, true
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("delete the saved setup %s: %w", path, err)
			}
			return nil
		},
	}
	runner := &steps.Runner{Steps: steps.RemoveSteps(unsaved, &steps.RemovePostfix{RestorePostfix: restorePostfix}, &steps.RemoveFiles{}, &steps.RemoveSMTPUser{Saved: saved}, forget)}
	runFn := func(ctx context.Context, p steps.Prompter, emit func(steps.Event)) (*steps.Report, error) {
		env.Prompt, env.Emit = p, emit
		err := w.loadConfig(ctx)
		if err == nil && env.Answers.Region == "" {
			// A domain with no saved setup here and no --region: the
			// region the AWS configuration names.
			env.Answers.Region = w.cfg.Region
			if env.Answers.Region == "" {
				err = &steps.InputError{Field: "region", Flag: "--region", Msg: fmt.Sprintf("no saved setup of %s in %s names its region, and the AWS configuration names none: name it", env.Answers.Domain, store.Dir)}
			}
		}
		if err == nil {
			err = w.prepare()
		}
		if err != nil {
			return &steps.Report{Domain: env.Answers.Domain, Region: env.Answers.Region, Steps: []steps.StepReport{}, Files: []string{}, Error: err.Error()}, err
		}
		rep, err := runner.Run(ctx, env)
		if rep != nil {
			rep.Sandbox = nil // the account's sending status is the wizard's news, not remove's
		}
		return rep, err
	}
	// The plain front end shows the whole removal first, every step's
	// plan, and asks once: a dry run, then, approved, the run itself.
	// (The TUI asks step by step, each plan on screen.)
	planFirst := func(ctx context.Context, p steps.Prompter, emit func(steps.Event)) (*steps.Report, error) {
		if env.Options.Yes || env.Options.DryRun {
			return runFn(ctx, p, emit)
		}
		// Each plan is shown once: the approved run prints a step's plan
		// again only when it differs from the one approved.
		shown := map[string]*steps.Plan{}
		env.Options.DryRun = true
		rep, err := runFn(ctx, p, func(e steps.Event) {
			if e.Kind == steps.EventPlan {
				shown[e.Step] = e.Plan
			}
			emit(e)
		})
		env.Options.DryRun = false
		if err != nil || nothingToRemove(rep) {
			return rep, err
		}
		ok, err := p.Confirm(ctx, steps.Question{ID: "approve-remove", Step: "remove", Title: "Take back all of the above?",
			Detail: "each step's plan is above; what changed since sesame made it is left alone", Flag: "--yes", Default: "n"})
		var ie *steps.InputError
		if errors.As(err, &ie) && env.Options.NoInput {
			err = fmt.Errorf("the removal above: %w", steps.ErrNeedsApproval)
		}
		if err != nil {
			rep.Error = err.Error()
			return rep, err
		}
		if !ok {
			rep.Error = "declined: nothing was changed"
			return rep, fmt.Errorf("sesame remove: %w", steps.ErrDeclined)
		}
		env.Options.Yes = true
		return runFn(ctx, p, func(e steps.Event) {
			if e.Kind == steps.EventPlan && reflect.DeepEqual(e.Plan, shown[e.Step]) {
				return
			}
			emit(e)
		})
	}

	ids := make([]string, len(runner.Steps))
	for i, st := range runner.Steps {
		ids[i] = st.ID()
	}
	return w.runOnFront(ctx, o, s, getenv, frontRun{
		tui:   ui.TUIOptions{Domain: env.Answers.Domain, Region: env.Answers.Region, Steps: ids},
		run:   runFn,
		plain: planFirst,
		summary: func(out io.Writer, rep *steps.Report, _ error, _ bool) {
			printRemoveSummary(out, rep, env.Options.DryRun)
		},
	})
}

// nothingToRemove reports whether a dry run found every step done or
// skipped: there is nothing to approve.
func nothingToRemove(rep *steps.Report) bool {
	for _, s := range rep.Steps {
		if s.Status != steps.StatusDone && s.Status != steps.StatusSkipped {
			return false
		}
	}
	return true
}

// nothingLeft is the line of a remove without a saved setup that found
// nothing of sesame's left in AWS, or "".
func nothingLeft(rep *steps.Report) string {
	for _, s := range rep.Steps {
		if s.ID == "remove-state" && s.Status == steps.StatusDone && strings.HasPrefix(s.Detail, "nothing of sesame's is left") {
			first, _, _ := strings.Cut(s.Detail, "\n")
			return first
		}
	}
	return ""
}

// printRemoveSummary ends a plain remove: one line per step and the
// outcome.
func printRemoveSummary(w io.Writer, rep *steps.Report, dryRun bool) {
	fmt.Fprintf(w, "\nsesame remove: %s in %s, account %s\n", rep.Domain, rep.Region, rep.Account)
	width := 0
	for _, s := range rep.Steps {
		width = max(width, len(s.ID))
	}
	for _, s := range rep.Steps {
		first, _, _ := strings.Cut(s.Detail, "\n")
		fmt.Fprintf(w, "  %-8s %-*s  %s\n", s.Status, width, s.ID, first)
	}
	switch {
	case rep.Error != "":
		first, _, _ := strings.Cut(rep.Error, "\n")
		fmt.Fprintf(w, "\nStopped: %s\nNothing half-done is left: run sesame remove again to go on from here.\n", first)
	case nothingLeft(rep) != "":
		fmt.Fprintf(w, "\nNothing to remove: %s.\n", nothingLeft(rep))
	case dryRun:
		fmt.Fprintln(w, "\nDry run: nothing was changed. Run without --dry-run to take these back.")
	default:
		fmt.Fprintln(w, "\nRemoved: what sesame made for this setup is taken back, except what is listed above as left alone.")
	}
}
