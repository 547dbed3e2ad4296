package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/state"
	"github.com/sesame-tool/sesame/ui"
)

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
	saved []*state.Saved
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
	// callTimeout bounds each attempt of each AWS call.
	callTimeout time.Duration
	// caller is the identity resume learned from STS, reused by the
	// account step; nil until then.
	caller *knownCaller
}

// wire validates the flag answers (exit 2 before any AWS call) and builds
// the Env. It makes no network call.
func wire(ctx context.Context, o *options, s *ioStreams, getenv func(string) string, readOnly bool) (*wiring, error) {
	w := &wiring{o: o, outDirFn: defaultOutDir(getenv), log: &sdkLogger{}}
	a := o.answers()
	if a.Domain != "" {
		d, err := steps.NormalizeDomain(a.Domain)
		if err != nil {
			return nil, exitWith(exitInput, o.nameEnv(err))
		}
		a.Domain = d
	}
	if a.Region != "" {
		if err := steps.ValidateRegion(a.Region); err != nil {
			return nil, exitWith(exitInput, o.nameEnv(err))
		}
	}
	opts := o.stepOptions()
	if !s.InTTY {
		opts.NoInput = true // nobody to ask
	}
	if err := steps.ValidateSMTPPort(opts.SMTPPort); err != nil {
		return nil, exitWith(exitInput, o.nameEnv(err))
	}
	if err := steps.ValidatePostfixDir(opts.PostfixDir); err != nil {
		return nil, exitWith(exitInput, err)
	}
	if err := validateRequestFlags(opts); err != nil {
		return nil, exitWith(exitInput, o.nameEnv(err))
	}
	if err := validateFlags(o, a.Domain); err != nil {
		return nil, exitWith(exitInput, o.nameEnv(err))
	}
	ct, err := callTimeout(getenv)
	if err != nil {
		return nil, exitWith(exitInput, err)
	}
	w.callTimeout = ct

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
		w.stateDir = state.DefaultDir(getenv)
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
	env := steps.NewEnv(awsapi.Clients{}, a, opts)
	store := state.Store{Dir: w.stateDir}
	w.sess = &session{store: store, env: env, readOnly: readOnly, ctx: ctx,
		account: w.callerAccount, outDir: func(d, r string) string { return w.outDirFn(d, r) }}
	env.Bind = w.sess.bind
	w.env = env
	resolver := o.resolver
	if w.demo != nil && resolver == "" {
		resolver = w.demo.dnsAddr
	}
	env.DNS = dns.NewResolver(resolver, dns.DefaultLookupTimeout)
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

// callerAccountTimeout bounds resume's question to STS; past it the run
// goes on without saved answers and the account step reports the problem.
const callerAccountTimeout = 30 * time.Second

// callerAccount asks STS which account the run's credentials belong to in
// region, so resume takes saved answers only from that account's setup.
// It only reads; the account step asks again and explains any failure.
func (w *wiring) callerAccount(ctx context.Context, region string) (string, error) {
	if err := w.loadConfig(ctx); err != nil {
		return "", err
	}
	cfg := w.cfg.Copy()
	cfg.Region = region
	ctx, cancel := context.WithTimeout(ctx, callerAccountTimeout)
	defer cancel()
	out, err := newClients(cfg, func(e steps.Event) { w.env.Emit(e) }, w.callTimeout).STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	w.caller = &knownCaller{region: region, out: out}
	return aws.ToString(out.Account), nil
}

// knownCaller answers GetCallerIdentity with what resume already learned
// (who the credentials are does not change within a run), so the account
// step and status make the call once. It is installed for the region it
// was learned in only.
type knownCaller struct {
	region string
	out    *sts.GetCallerIdentityOutput
}

// GetCallerIdentity returns the known identity.
func (k *knownCaller) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return k.out, nil
}

// prepare runs once the answers are settled: it builds the clients for
// the chosen region and readies the demo account.
func (w *wiring) prepare() error {
	a := w.env.Answers
	cfg := w.cfg.Copy()
	cfg.Region = a.Region
	w.env.Clients = newClients(cfg, func(e steps.Event) { w.env.Emit(e) }, w.callTimeout)
	if k := w.caller; k != nil && k.region == a.Region {
		w.env.Clients.STS = k
	}
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
		if ferr := w.sess.forgetFailed(err); ferr != nil {
			env.Warn("account", "could not keep the refused answer out of the saved setup: %v", ferr)
		}
		// The run is over: another sesame may work on the setup while
		// this one shows its end screen (r takes the lock again).
		w.sess.close()
		return rep, err
	}

	f := frontRun{
		tui:     ui.TUIOptions{Demo: o.demo, DryRun: o.dryRun, Domain: env.Answers.Domain, Region: env.Answers.Region},
		run:     runFn,
		summary: ui.PrintSummary,
	}
	if w.demo != nil {
		f.before = func(out io.Writer) { fmt.Fprintln(out, describeDemo(w.stateDir, filepath.Join(w.demo.dir, "relay"))) }
	}
	return w.runOnFront(ctx, o, s, getenv, f)
}

// validateFlags checks the flags (and SESAME_* variables) that no question
// asks again, before any AWS call: a bad value stops the run with exit 2
// naming it. domain is the normalised --domain, or "" when not given yet.
func validateFlags(o *options, domain string) error {
	if o.timeout < 0 {
		return &steps.InputError{Field: "timeout", Flag: "--timeout", Msg: fmt.Sprintf("%s is negative; give how long to wait for verification, such as 30m or 72h (0 for the default, 72h)", o.timeout)}
	}
	if o.resolver != "" {
		if err := steps.ValidateHostPort("resolver", "--resolver", o.resolver, "127.0.0.1:53 or [2001:db8::53]:53"); err != nil {
			return err
		}
	}
	if o.smtpEndpoint != "" {
		if err := steps.ValidateHostPort("smtp-endpoint", "--smtp-endpoint", o.smtpEndpoint, "email-smtp.us-east-1.amazonaws.com:587"); err != nil {
			return err
		}
	}
	if o.smtpCA != "" {
		if err := steps.ValidateCAFile(o.smtpCA); err != nil {
			return err
		}
	}
	if err := postfix.ValidateRewriteSender(o.rewriteSenders); err != nil {
		return &steps.InputError{Field: "rewrite-local-senders", Flag: "--rewrite-local-senders", Msg: err.Error()}
	}
	for _, k := range o.replaceKeys {
		if err := steps.ValidateAccessKeyID(k); err != nil {
			return err
		}
	}
	if o.smtpUser != "" {
		if err := steps.ValidateUserName(o.smtpUser); err != nil {
			return err
		}
	}
	if o.mailFrom != "" {
		if err := steps.ValidateMailFrom(o.mailFrom, domain); err != nil {
			return err
		}
	}
	if o.confirmDomain != "" {
		if _, err := steps.NormalizeDomain(o.confirmDomain); err != nil {
			var ie *steps.InputError
			if errors.As(err, &ie) {
				ie.Field, ie.Flag = "confirm-domain", "--confirm-domain"
			}
			return err
		}
	}
	return nil
}

// validateRequestFlags checks the answers flags give for later steps (the
// production-access request, addresses to verify or mail) before any AWS
// call, so a typo stops the run at once, not after the domain is set up.
func validateRequestFlags(opts steps.Options) error {
	if err := opts.Production.ValidateGiven(); err != nil {
		return err
	}
	for _, a := range []struct{ field, value string }{{"verify-recipient", opts.VerifyRecipient}, {"test-to", opts.TestTo}} {
		if a.value == "" {
			continue
		}
		if err := steps.ValidateEmailFor(a.field, a.value); err != nil {
			return err
		}
	}
	return nil
}
