package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
	"github.com/sesame-tool/sesame/ui"
)

func newStatusCmd(s *ioStreams, getenv func(string) string) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what is done, what is pending and what to do next (read-only)",
		Long: `status checks every step against AWS and changes nothing: no AWS write, no
state file write, no question. Without --domain it shows the most recent saved setup.`,
		Example: `  sesame status
  sesame status --domain example.com --region eu-west-1
  sesame status --json | jq '.steps[] | select(.status != "done")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), o, s, getenv)
		},
	}
	addCommonFlags(cmd.Flags(), o)
	cmd.Flags().BoolVar(&o.demo, "demo", false, "check against a fresh simulated account")
	cmd.Flags().StringVar(&o.postfixDir, "postfix-dir", "", "Postfix's configuration directory whose relay to check (default: the one the setup installed into)")
	return cmd
}

// runStatus checks every step, read-only. Its exit code is 0 when all is
// done, 3 when something is pending or still to do, 1 on a failure.
func runStatus(ctx context.Context, o *options, s *ioStreams, getenv func(string) string) error {
	o.noInput = true
	o.smtpPort = ses.PortOrDefault(o.smtpPort)
	if o.domain == "" {
		saved, err := state.Store{Dir: stateDirOr(o.stateDir, getenv)}.List()
		if err != nil {
			return exitWith(exitFailure, err)
		}
		if len(saved) == 0 {
			return exitWith(exitInput, &steps.InputError{Field: "domain", Flag: "--domain", Msg: "no saved setup to show; name the domain"})
		}
		o.domain = saved[0].Domain
		if o.region == "" {
			o.region = saved[0].Region
		}
	}
	w, err := wire(ctx, o, s, getenv, true)
	if err != nil {
		return err
	}
	defer w.close()
	env := w.env
	env.Options.ReadOnly = true
	if err := w.loadConfig(ctx); err != nil {
		return exitFor(err)
	}
	if err := steps.AskAnswers(ctx, env, steps.AskOptions{DefaultRegion: w.cfg.Region, OutDir: w.outDirFn, Resume: w.sess.resume}); err != nil {
		return exitFor(err)
	}
	if err := w.prepare(); err != nil {
		return exitWith(exitFailure, err)
	}
	color := colorOK(o, s, getenv)
	out := s.Out
	if o.json {
		out = s.ErrOut
	}
	plain := ui.NewPlain(out, color && !o.json)
	env.Emit = plain.Event
	w.log.setEmit(plain.Event)
	runner := &steps.Runner{Steps: steps.Default()}
	steps.Prefetch(ctx, env) // independent reads at once: about three round trips in all
	rep, err := runner.Status(ctx, env)
	if err != nil {
		return exitFor(err)
	}
	if o.json {
		if err := ui.WriteJSON(s.Out, rep); err != nil {
			return exitWith(exitFailure, err)
		}
	}
	if err := relayHealth(ctx, out, env.Answers.PostfixDir); err != nil {
		return err
	}
	return statusExit(rep)
}

// relayHealth is the offline doctor's verdict on the relay installed in
// dir (the setup's --postfix-dir), in a few lines; a broken relay is exit
// 1. Without a remembered directory, or without Postfix there, it says
// nothing.
func relayHealth(ctx context.Context, w io.Writer, dir string) error {
	if dir == "" {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "main.cf")); err != nil {
		return nil
	}
	d, err := postfix.Install{Dir: dir}.Doctor(ctx, postfix.DoctorOptions{Distro: postfix.DetectDistro("")})
	if err != nil {
		fmt.Fprintf(w, "Postfix relay in %s: not checked: %v\n", dir, err)
		return nil
	}
	var problems []postfix.Finding
	for _, f := range d.Findings {
		if f.Severity != postfix.SeverityOK {
			problems = append(problems, f)
		}
	}
	if len(problems) == 0 {
		fmt.Fprintf(w, "Postfix relay in %s (relayhost %s): healthy\n", dir, d.RelayHost)
		return nil
	}
	fmt.Fprintf(w, "Postfix relay in %s (relayhost %s): %s\n", dir, d.RelayHost, d.Worst())
	for _, f := range problems {
		fmt.Fprintf(w, "  %s: %s\n", f.Severity, f.Summary)
	}
	fmt.Fprintln(w, "  → run `sudo sesame doctor` for the fixes, `sudo sesame doctor --fix` to repair")
	if d.Worst() == postfix.SeverityBroken {
		return exitWith(exitFailure, fmt.Errorf("the Postfix relay in %s is broken: run sesame doctor", dir))
	}
	return nil
}

// statusExit is 0 when every step is done or skipped, 1 when one failed,
// 3 otherwise (something left to do: run sesame to finish). A step that
// fails only because an earlier one is still to do (relay without the
// SMTP credentials the smtp-user step makes) is left to do, not failed: a
// setup that has not started is not broken.
func statusExit(rep *steps.Report) error {
	code := exitOK
	for _, st := range rep.Steps {
		switch st.Status {
		case steps.StatusFailed:
			if code == exitPending {
				continue
			}
			return exitWith(exitFailure, fmt.Errorf("%s: %s", st.ID, st.Detail))
		case steps.StatusTodo, steps.StatusPending:
			code = exitPending
		}
	}
	if code == exitPending {
		return exitWith(exitPending, fmt.Errorf("not finished: run `sesame --domain %s --region %s` to resume", rep.Domain, rep.Region))
	}
	return nil
}

func stateDirOr(dir string, getenv func(string) string) string {
	if dir != "" {
		return dir
	}
	return state.DefaultDir(getenv)
}
