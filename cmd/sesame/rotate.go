package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
	"github.com/sesame-tool/sesame/ui"
)

// rotateOptions are rotate's own flags beside the shared ones.
type rotateOptions struct {
	grace time.Duration
}

func newRotateCmd(s *ioStreams, getenv func(string) string) *cobra.Command {
	o := &options{fromEnv: map[string]string{}}
	ro := &rotateOptions{}
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Replace the SMTP key with a new one, with no downtime",
		Long: `rotate replaces the access key whose SMTP password Postfix uses, using IAM's
second key slot so mail keeps flowing: it creates a new key, derives its password
for the setup's region, writes it into sasl_passwd (the previous file kept as a
backup), installs it into Postfix and reloads where sesame installed the relay
(or with --apply-postfix), tests the SMTP login with the new key, and only then
deactivates the old key and deletes it (after --grace). A login that keeps
failing rolls everything back to the old key and says why.

Only the user sesame made (tagged managed-by=sesame) is rotated; a second key
sesame did not make is never touched unless you name it with --replace-key.
Every change is recorded before it is made: if rotate is killed, run it again
and it continues where it stopped.`,
		Example: `  sesame rotate --domain example.com --region eu-west-1
  sesame rotate --dry-run
  sesame rotate --yes --no-input --grace 24h   # old key inactive for a day, then deleted on the next run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRotate(cmd.Context(), o, ro, s, getenv)
		},
	}
	f := cmd.Flags()
	addCommonFlags(f, o)
	f.StringVar(&o.smtpUser, "smtp-user", "", "the setup's IAM user (default: the saved setup's)")
	f.StringVar(&o.out, "out", "", "the setup's relay directory (default: the saved setup's)")
	f.BoolVarP(&o.yes, "yes", "y", false, "approve the rotation without asking")
	f.BoolVar(&o.dryRun, "dry-run", false, "show the rotation's plan and change nothing")
	f.BoolVar(&o.noInput, "no-input", false, "never ask: a missing answer is an error naming its flag (exit 2)")
	f.DurationVar(&ro.grace, "grace", 0, "keep the old key inactive this long before deleting it (0: delete it once the new key logged in and no mail waits for a refused login)")
	f.StringSliceVar(&o.replaceKeys, "replace-key", nil, "a second access key of the user that sesame may delete to make room (repeatable)")
	f.BoolVar(&o.applyPostfix, "apply-postfix", false, "install the new password into this machine's Postfix and reload it (root), even if sesame did not install the relay")
	f.StringVar(&o.postfixDir, "postfix-dir", "/etc/postfix", "Postfix configuration directory for --apply-postfix")
	f.StringVar(&o.smtpEndpoint, "smtp-endpoint", "", "host:port for the SMTP login test (default email-smtp.<region>.amazonaws.com:<port>)")
	f.StringVar(&o.smtpCA, "smtp-ca", "", "PEM file of extra CAs to trust for the SMTP login test")
	f.BoolVar(&o.debug, "debug", false, "log AWS calls to stderr (credentials and signatures redacted)")
	return cmd
}

// runRotate binds the saved setup and runs the rotation's steps.
func runRotate(ctx context.Context, o *options, ro *rotateOptions, s *ioStreams, getenv func(string) string) error {
	if ro.grace < 0 {
		return exitWith(exitInput, &steps.InputError{Field: "grace", Flag: "--grace", Msg: fmt.Sprintf("%s is negative; give how long the old key stays inactive before it is deleted, such as 24h (0 deletes it right away)", ro.grace)})
	}
	// The port is sasl_passwd's: the new entry keeps the old one's.
	o.smtpPort = ses.PortOrDefault(o.smtpPort)
	// Rotation replaces a live key: with several saved setups it never
	// guesses which one.
	if err := pickSetup(o, state.Store{Dir: stateDirOr(o.stateDir, getenv)}, "rotate", false); err != nil {
		return err
	}
	w, err := wire(ctx, o, s, getenv, false)
	if err != nil {
		return err
	}
	defer w.close()
	env := w.env
	runner := &steps.Runner{Steps: steps.RotateSteps(steps.RotateOptions{Grace: ro.grace})}
	runFn := func(ctx context.Context, p steps.Prompter, emit func(steps.Event)) (*steps.Report, error) {
		env.Prompt, env.Emit = p, emit
		err := w.loadConfig(ctx)
		if err == nil {
			// Rotation asks none of the wizard's questions: the saved
			// setup answers them, and what it lacks has its default.
			ask := env.Options.NoInput
			env.Options.NoInput = true
			err = steps.AskAnswers(ctx, env, steps.AskOptions{DefaultRegion: w.cfg.Region, OutDir: w.outDirFn, Resume: w.sess.resume})
			env.Options.NoInput = ask
		}
		if err == nil {
			err = w.prepare()
		}
		if err != nil {
			rep := &steps.Report{Domain: env.Answers.Domain, Region: env.Answers.Region, Demo: o.demo, Steps: []steps.StepReport{}, Files: []string{}, Error: err.Error()}
			return rep, err
		}
		return runner.Run(ctx, env)
	}

	ids := make([]string, len(runner.Steps))
	for i, st := range runner.Steps {
		ids[i] = st.ID()
	}
	return w.runOnFront(ctx, o, s, getenv, frontRun{
		tui:     ui.TUIOptions{Demo: o.demo, Domain: env.Answers.Domain, Region: env.Answers.Region, Steps: ids},
		run:     runFn,
		summary: ui.PrintSummary,
	})
}
