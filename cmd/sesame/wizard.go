package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/term"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/ui"
)

// resolverTimeout bounds each DNS lookup of the visibility checks.
const resolverTimeout = 2 * time.Second

// frontEnd is how a run talks to the operator.
type frontEnd int

const (
	frontTUI   frontEnd = iota // bubbletea, on a terminal
	frontPlain                 // one line per transition; questions as numbered prompts
)

// chooseFrontEnd picks the TUI only on a real terminal with questions
// allowed; ACCESSIBLE=1, TERM=dumb, --json, --no-input and pipes get plain lines.
func chooseFrontEnd(o *options, s *ioStreams, getenv func(string) string) frontEnd {
	if s.InTTY && s.OutTTY && !o.noInput && !o.json && getenv("ACCESSIBLE") == "" && getenv("TERM") != "dumb" {
		return frontTUI
	}
	return frontPlain
}

// colorOK says whether output may carry colour codes.
func colorOK(o *options, s *ioStreams, getenv func(string) string) bool {
	return ui.ColorAllowed(o.noColor, getenv) && s.OutTTY
}

// wiring is what the wizard and status share: the answers, the Env, the
// saved setups and the AWS configuration (real or simulated).
type wiring struct {
	o     *options
	env   *steps.Env
	sess  *session
	saved []*steps.Saved
	cfg   aws.Config
	// cfgLoaded is false until loadConfig has read the AWS configuration.
	cfgLoaded bool
	// debugOut receives --debug's request log once the config is loaded.
	debugOut io.Writer
	// debugFile is the --debug log file when the TUI owns the terminal
	// (debugPath says where), closed at the end.
	debugFile *os.File
	debugPath string
	// log takes the AWS SDK's own log lines.
	log      *sdkLogger
	demo     *demo
	stateDir string
	outDirFn func(domain, region string) string
}

// wire validates the flag answers (exit 2 before any AWS call) and builds
// the Env. It makes no network call.
func wire(ctx context.Context, o *options, s *ioStreams, getenv func(string) string, readOnly bool) (*wiring, error) {
	w := &wiring{o: o, outDirFn: defaultOutDir(getenv), log: &sdkLogger{}}
	a := o.answers()
	if a.Domain != "" {
		d, err := steps.NormalizeDomain(a.Domain)
		if err != nil {
			return nil, exitWith(exitInput, err)
		}
		a.Domain = d
	}
	if a.Region != "" {
		if err := steps.ValidateRegion(a.Region); err != nil {
			return nil, exitWith(exitInput, err)
		}
	}
	opts := o.stepOptions()
	if !s.InTTY {
		opts.NoInput = true // nobody to ask
	}
	switch opts.SMTPPort {
	case 587, 2587, 465, 2465:
	default:
		return nil, exitWith(exitInput, &steps.InputError{Field: "smtp-port", Flag: "--smtp-port", Msg: fmt.Sprintf("%d is not an SES SMTP port; use 587 or 2587 (STARTTLS), 465 or 2465 (TLS wrapper)", opts.SMTPPort)})
	}
	if err := steps.ValidatePostfixDir(opts.PostfixDir); err != nil {
		return nil, exitWith(exitInput, err)
	}
	if err := validateRequestFlags(opts); err != nil {
		return nil, exitWith(exitInput, err)
	}

	w.stateDir = o.stateDir
	if o.demo {
		d, err := startDemo()
		if err != nil {
			return nil, err
		}
		w.demo = d
		if w.stateDir == "" {
			w.stateDir = filepath.Join(d.dir, "state")
		}
		w.outDirFn = func(domain, region string) string { return filepath.Join(d.dir, "relay", domain+"-"+region) }
		w.cfg = d.config("us-east-1")
		w.cfg.Logger = w.log
		opts.Demo = true
		opts.SMTPCA = "" // set once the SMTP endpoint runs (prepare)
		w.cfgLoaded = true
	}
	if w.stateDir == "" {
		w.stateDir = steps.DefaultStateDir(getenv)
	}
	if !readOnly {
		if err := checkDirs(w.stateDir, o.out); err != nil {
			if w.demo != nil {
				w.demo.stop()
			}
			return nil, exitWith(exitInput, err)
		}
	}
	if o.debug {
		w.debugOut = s.ErrOut
		if !readOnly && chooseFrontEnd(o, s, getenv) == frontTUI {
			// Under the TUI nothing else may write to the terminal: the
			// log goes to a file, and the operator is told where.
			w.debugPath = debugLogPath(w.stateDir)
			f, err := openDebugLog(w.debugPath)
			if err != nil {
				if w.demo != nil {
					w.demo.stop()
				}
				return nil, exitWith(exitInput, &steps.InputError{Field: "debug", Flag: "--debug", Msg: fmt.Sprintf("cannot write the debug log %s: %v", w.debugPath, err)})
			}
			w.debugFile, w.debugOut = f, f
		}
		w.log.debug = w.debugOut
	}
	env := steps.NewEnv(steps.Clients{}, a, opts)
	store := steps.Store{Dir: w.stateDir}
	w.sess = &session{store: store, env: env, readOnly: readOnly, ctx: ctx}
	env.Bind = w.sess.bind
	w.env = env
	resolver := o.resolver
	if w.demo != nil && resolver == "" {
		resolver = w.demo.dnsAddr
	}
	env.DNS = steps.NewResolver(resolver, resolverTimeout)
	return w, nil
}

// loadConfig loads the AWS configuration the first time it is needed,
// inside the run: it reads files only (no network), but a CA bundle or a
// large config can take milliseconds the TUI's first frame need not wait
// for. The demo's configuration is ready from the start.
func (w *wiring) loadConfig(ctx context.Context) error {
	if !w.cfgLoaded {
		cfg, err := loadAWSConfig(ctx, w.env.Answers.Profile, w.env.Answers.Region, w.log)
		if err != nil {
			return err
		}
		w.cfg, w.cfgLoaded = cfg, true
	}
	if w.debugOut != nil {
		withDebug(&w.cfg, w.debugOut)
		w.debugOut = nil
	}
	return nil
}

// prepare runs once the answers are settled: it builds the clients for
// the chosen region and readies the demo account.
func (w *wiring) prepare() error {
	a := w.env.Answers
	cfg := w.cfg.Copy()
	cfg.Region = a.Region
	w.env.Clients = newClients(cfg, func(e steps.Event) { w.env.Emit(e) })
	if w.demo != nil {
		if err := w.demo.prepare(a.Domain, a.Region); err != nil {
			return err
		}
		if w.env.Options.SMTPEndpoint == "" {
			w.env.Options.SMTPEndpoint = w.demo.smtpAddr
		}
		if w.env.Options.SMTPCA == "" {
			w.env.Options.SMTPCA = w.demo.certFile
		}
	}
	return nil
}

func (w *wiring) close() {
	w.sess.close()
	if w.debugFile != nil {
		_ = w.debugFile.Close()
	}
	if w.demo != nil {
		w.demo.stop()
	}
}

// runWizard is the root command: answers, then every step.
func runWizard(ctx context.Context, o *options, s *ioStreams, getenv func(string) string) error {
	w, err := wire(ctx, o, s, getenv, false)
	if err != nil {
		return err
	}
	defer w.close()
	env := w.env
	color := colorOK(o, s, getenv)
	runner := &steps.Runner{Steps: steps.Default()}
	runFn := func(ctx context.Context, p steps.Prompter, emit func(steps.Event)) (*steps.Report, error) {
		env.Prompt, env.Emit = p, emit
		w.log.setEmit(emit)
		regionNote := "from your AWS configuration"
		if w.demo != nil {
			regionNote = "the demo's default"
		}
		// The saved setups are read here, inside the run, so the TUI's
		// first frame waits for no file scan.
		w.saved, _ = w.sess.store.List()
		err := w.loadConfig(ctx)
		if err == nil {
			// Shift+Tab in the TUI goes back a question: the answers
			// start again from what the flags gave, the ones before it
			// are replayed, and it is asked again.
			var hist ui.History
			given := *env.Answers
			for {
				env.Prompt = hist.Prompter(p)
				err = steps.AskAnswers(ctx, env, steps.AskOptions{
					Saved: w.saved, DefaultRegion: w.cfg.Region, DefaultRegionNote: regionNote, OutDir: w.outDirFn, Resume: w.sess.resume,
				})
				if !errors.Is(err, ui.ErrBack) {
					break
				}
				hist.Back() // with nothing before it, the round starts over
				*env.Answers = given
			}
			env.Prompt = savingPrompter{Prompter: p, env: env}
		}
		if err == nil {
			err = w.prepare()
		}
		if err != nil {
			rep := &steps.Report{Domain: env.Answers.Domain, Region: env.Answers.Region, Demo: o.demo, Steps: []steps.StepReport{}, Files: []string{}, Error: err.Error()}
			return rep, err
		}
		steps.Prefetch(ctx, env) // the first checks' reads, all at once
		rep, err := runner.Run(ctx, env)
		// The run is over: another sesame may work on the setup while
		// this one shows its end screen (r takes the lock again).
		w.sess.close()
		return rep, err
	}

	var rep *steps.Report
	var out io.Writer = s.Out
	if o.json {
		out = s.ErrOut // stdout carries only the JSON document
	}
	front := chooseFrontEnd(o, s, getenv)
	if w.demo != nil && front != frontTUI {
		fmt.Fprintln(out, describeDemo(w.stateDir, filepath.Join(w.demo.dir, "relay")))
	}
	if w.debugPath != "" {
		fmt.Fprintf(s.ErrOut, "sesame: --debug writes to %s\n", w.debugPath)
	}
	switch front {
	case frontTUI:
		// Go's standard logger (net/http's server errors in the demo's
		// simulator, for one) writes to stderr, which would draw over
		// the screen: while the TUI runs it goes to the --debug log, or
		// nowhere.
		var logTo io.Writer = io.Discard
		if w.debugFile != nil {
			logTo = w.debugFile
		}
		log.SetOutput(logTo)
		defer log.SetOutput(os.Stderr)
		rep, err = ui.RunTUI(ctx, s.In, s.Out, ui.TUIOptions{Demo: o.demo, DryRun: o.dryRun, NoColor: !color, Domain: env.Answers.Domain, Region: env.Answers.Region}, runFn)
	default:
		plain := ui.NewPlain(out, color && !o.json)
		if f, ok := out.(*os.File); ok && s.OutTTY && !o.json {
			// On a terminal (ACCESSIBLE=1), plans fit its width.
			if w, _, err := term.GetSize(int(f.Fd())); err == nil {
				plain.Width = w
			}
		}
		var p steps.Prompter = steps.NoInput{}
		if !env.Options.NoInput {
			p = &ui.LinePrompter{In: s.In, Out: out, PlansShown: true}
		}
		rep, err = runFn(ctx, p, plain.Event)
		if errors.Is(err, context.Canceled) && s.InTTY {
			// The terminal echoed ^C where the cursor was: what follows
			// starts on a line of its own.
			fmt.Fprintln(out)
		}
	}
	if w.debugPath != "" {
		fmt.Fprintf(s.ErrOut, "sesame: the --debug log is in %s\n", w.debugPath)
	}
	if o.json && rep != nil {
		if jerr := ui.WriteJSON(s.Out, rep); jerr != nil && err == nil {
			err = jerr
		}
	} else if rep != nil && len(rep.Steps) > 0 && front == frontPlain {
		// The TUI prints its own summary when it ends.
		ui.PrintSummary(out, rep, err, color)
	}
	res := exitFor(err)
	var ee *exitError
	if front == frontTUI && rep != nil && errors.As(res, &ee) {
		// The TUI's summary, in the scrollback, already says what
		// stopped the run and what to do: say it once.
		ee.Err = nil
	}
	return res
}

// validateRequestFlags checks the answers flags give for later steps (the
// production-access request, addresses to verify or mail) before any AWS
// call, so a typo stops the run at once, not after the domain is set up.
func validateRequestFlags(opts steps.Options) error {
	pr := opts.Production
	if pr.WebsiteURL != "" {
		if err := steps.ValidateWebsiteURL(pr.WebsiteURL); err != nil {
			return err
		}
	}
	switch pr.MailType {
	case "", "TRANSACTIONAL", "MARKETING":
	default:
		return &steps.InputError{Field: "mail-type", Flag: "--mail-type", Msg: fmt.Sprintf("%q is not a mail type; use TRANSACTIONAL or MARKETING", pr.MailType)}
	}
	switch pr.ContactLanguage {
	case "", "EN", "JA":
	default:
		return &steps.InputError{Field: "contact-language", Flag: "--contact-language", Msg: fmt.Sprintf("%q is not a language SES answers in; use EN or JA", pr.ContactLanguage)}
	}
	for _, c := range pr.Contacts {
		if err := steps.ValidateEmail(c); err != nil {
			return err
		}
	}
	for _, a := range []struct{ field, value string }{{"verify-recipient", opts.VerifyRecipient}, {"test-to", opts.TestTo}} {
		if a.value == "" {
			continue
		}
		if err := steps.ValidateEmail(a.value); err != nil {
			var ie *steps.InputError
			if errors.As(err, &ie) {
				ie.Field, ie.Flag = a.field, "--"+a.field
			}
			return err
		}
	}
	return nil
}
