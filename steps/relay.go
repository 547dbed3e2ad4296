package steps

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/smtpcheck"
)

// Relay is the "relay" step: it writes the Postfix relay files (the main.cf
// snippet, sasl_passwd and apply-postfix.sh) into the output directory from
// the SMTP credentials on disk, tests the SMTP login with them, and with
// --apply-postfix installs them into the local Postfix. It makes no AWS call.
type Relay struct {
	// OSRelease is the os-release file that picks the CA bundle and the
	// SASL package ("" means /etc/os-release).
	OSRelease string
	// CAFile overrides the distribution's smtp_tls_CAfile.
	CAFile string
	// Sbin is where Postfix's commands are for --apply-postfix ("" means
	// PATH, then /usr/sbin).
	Sbin string

	// tested identifies the login that passed this run (endpoint, user and
	// a hash of the password), so the Check after Apply can say Done.
	tested string
	// testDetail says how the test went, for the Done detail.
	testDetail string
	// testSentTo is the address SES accepted the test message for.
	testSentTo string
	// rewrite is the operator's answer to the sender rewrite question
	// (asked once, with --apply-postfix, when no flag answered it).
	rewrite      string
	rewriteAsked bool
}

// askRewrite asks, once, with --apply-postfix on an interactive run that
// --rewrite-local-senders did not answer, whether this machine's own
// senders should be rewritten to an address SES accepts.
func (r *Relay) askRewrite(ctx context.Context, env *Env) error {
	o := env.Options
	if !o.ApplyPostfix || o.RewriteLocalSenders != "" || o.NoInput || o.Yes || r.rewriteAsked || env.Prompt == nil {
		return nil
	}
	r.rewriteAsked = true
	domain := cmp.Or(env.Answers.Domain, "your-domain")
	v, err := env.Prompt.Input(ctx, Question{
		ID: "rewrite-local-senders", Step: "relay",
		Title:  "Rewrite this machine's local senders (root@host, cron) to an address of " + domain + "? Give it, or leave empty for no",
		Detail: "SES refuses a sender that is not a verified identity, so system mail from root@" + "<this host>" + " bounces with 554 once the relay is on. Postfix's smtp_generic_maps can rewrite it to, for example, postmaster@" + domain + ".",
		Flag:   "--rewrite-local-senders",
	}, postfix.ValidateRewriteSender)
	if err != nil {
		return err
	}
	r.rewrite = strings.TrimSpace(v)
	return nil
}

// ID implements Step.
func (*Relay) ID() string { return "relay" }

// Title implements Step.
func (*Relay) Title() string { return "Write the Postfix relay config" }

// relayState is what Check works out, shared by Plan and Apply.
type relayState struct {
	cfg   postfix.Config
	out   string
	stale []string
	// postfix are the --apply-postfix changes (nil without the flag).
	postfix []Change
}

func (s relayState) postfixPending() bool {
	for _, c := range s.postfix {
		if c.Action != ActionUnchanged {
			return true
		}
	}
	return false
}

// state reads the credentials on disk and compares the files. A non-nil
// Result means the step cannot go on (Failed, with the reason).
func (r *Relay) state(ctx context.Context, env *Env) (relayState, *Result, error) {
	failed := func(format string, args ...any) (relayState, *Result, error) {
		return relayState{}, &Result{Status: StatusFailed, Detail: fmt.Sprintf(format, args...)}, nil
	}
	region := env.Answers.Region
	if err := ValidateRegion(region); err != nil {
		return failed("%v", err)
	}
	port := ses.PortOrDefault(env.Options.SMTPPort)
	if err := ValidateSMTPPort(port); err != nil {
		return failed("%v", err)
	}
	out := env.Answers.OutDir
	if out == "" {
		return failed("no directory for the relay files: set it with --out")
	}
	host := ses.SMTPHost(region)
	target := env.mtaTarget()
	entry, err := target.ReadCredentials(out, host, port)
	if errors.Is(err, os.ErrNotExist) && env.Options.DryRun {
		// A dry run made no credentials: the files are still to come.
		return relayState{}, &Result{Status: StatusTodo, Detail: fmt.Sprintf("write the Postfix relay files for %s in %s once the smtp-user step has made the credentials", host, out)}, nil
	}
	if errors.Is(err, os.ErrNotExist) {
		// Only another region's SES entry there: say why it cannot serve.
		if o, oerr := ReadSESCredentials(target, out); oerr == nil {
			other := cmp.Or(ses.RegionOfSMTPHost(o.Host), o.Host)
			return failed("%s holds an SMTP password for %s, but the region is %s: SMTP passwords are bound to their region. Run sesame with --region %s, or run sesame again so that its smtp-user step adds credentials for %s beside it",
				target.CredentialsFile(out), other, region, other, region)
		}
		return failed("no SMTP credentials on disk: the smtp-user step makes them; run sesame again")
	}
	if err != nil {
		return failed("%v: the smtp-user step writes it; move the file aside and run sesame again to make new credentials", err)
	}
	postfixDir := cmp.Or(env.Options.PostfixDir, DefaultPostfixDir)
	s := relayState{out: out, cfg: postfix.Config{
		Region: region, Port: port, Username: entry.Username, Password: entry.Password,
		PostfixDir: postfixDir, Distro: postfix.DetectDistro(r.OSRelease), CAFile: r.CAFile,
		RewriteSender: cmp.Or(env.Options.RewriteLocalSenders, r.rewrite),
	}}
	if err := ValidateRelayConfig(s.cfg); err != nil {
		return failed("%v", err)
	}
	s.stale = postfix.Stale(out, s.cfg)
	if env.Options.ApplyPostfix {
		pf := r.postfix(env)
		if err := pf.Preflight(); err != nil {
			return failed("%v", err)
		}
		diff, err := pf.Diff(ctx, s.cfg)
		if err != nil {
			return relayState{}, nil, err
		}
		s.postfix = postfixChanges(diff)
	}
	return s, nil, nil
}

// Preflight implements Preflighter: before the run's first change (the
// smtp-user step creates a user and a key whose password must land in
// --out), it checks that the region's SMTP host exists (CheckSMTPHost) and
// that the relay files can be written: --postfix-dir is
// a path the script may hold, --out is a directory or can become one, no
// file sesame would replace there is the operator's, and --apply-postfix
// can run here.
func (r *Relay) Preflight(ctx context.Context, env *Env) ([]Change, error) {
	if err := CheckSMTPHost(ctx, env); err != nil {
		return nil, err
	}
	if err := ValidatePostfixDir(env.Options.PostfixDir); err != nil {
		return nil, err
	}
	if err := postfix.ValidateRewriteSender(env.Options.RewriteLocalSenders); err != nil {
		return nil, &InputError{Field: "rewrite-local-senders", Flag: "--rewrite-local-senders", Msg: err.Error()}
	}
	out := env.Answers.OutDir
	if out == "" {
		return nil, nil
	}
	// Not a directory, world-writable, another user's: refused before the
	// first AWS write, whether --out came from a flag, a question or a
	// saved answer (sesame never chmods a directory it did not create).
	if err := CheckDirInput(out, "out", "--out"); err != nil {
		return nil, err
	}
	if env.Options.ApplyPostfix {
		if err := r.postfix(env).Preflight(); err != nil {
			return nil, err
		}
	}
	return RelayFileConflicts(env.mtaTarget(), out), nil
}

func (r *Relay) postfix(env *Env) postfix.Install {
	return postfix.Install{Dir: env.Options.PostfixDir, Sbin: r.Sbin, Now: env.Clock.Now}
}

func (r *Relay) loginKey(env *Env, cfg postfix.Config) string {
	sum := sha256.Sum256([]byte(cfg.Password.Reveal()))
	return SMTPEndpoint(env.Options, cfg.Region) + "\x00" + cfg.Username + "\x00" + hex.EncodeToString(sum[:8])
}

// Check implements Step: Done when the files in --out agree with the
// credentials for the region and port, Postfix is configured (with
// --apply-postfix), and the SMTP login passed this run or was skipped.
func (r *Relay) Check(ctx context.Context, env *Env) (Result, error) {
	s, res, err := r.state(ctx, env)
	if res != nil || err != nil {
		return deref(res), err
	}
	host := s.cfg.RelayHost()
	if len(s.stale) > 0 {
		return Result{Status: StatusTodo, Detail: fmt.Sprintf("write the relay files for %s in %s (%s)", host, s.out, strings.Join(s.stale, ", "))}, nil
	}
	if s.postfixPending() {
		return Result{Status: StatusTodo, Detail: fmt.Sprintf("the relay files for %s are written; Postfix in %s is not configured with them yet", host, s.cfg.Dir())}, nil
	}
	r.publishFacts(env, s, r.loginState(env, s))
	if !env.Options.NoSMTPTest && !env.Options.ReadOnly && r.tested != r.loginKey(env, s.cfg) {
		return Result{Status: StatusTodo, Detail: fmt.Sprintf("the relay files for %s are written; the SMTP login test has not run yet", host)}, nil
	}
	detail := fmt.Sprintf("Postfix relay files for %s in %s", host, s.out)
	if env.Options.ApplyPostfix {
		detail += "; installed in " + s.cfg.Dir()
	}
	switch {
	case env.Options.NoSMTPTest:
		detail += "; SMTP login test skipped (--no-smtp-test)"
	case env.Options.ReadOnly:
		detail += " (status does not test the SMTP login; `sesame` does)"
	default:
		detail += "; " + r.testDetail
	}
	return Result{Status: StatusDone, Detail: detail}, nil
}

func deref(r *Result) Result {
	if r == nil {
		return Result{}
	}
	return *r
}

func (r *Relay) loginState(env *Env, s relayState) string {
	switch {
	case env.Options.NoSMTPTest:
		return "skipped"
	case r.tested == r.loginKey(env, s.cfg):
		return "ok"
	}
	return "not run"
}

// Plan implements Step. Writing into sesame's own output directory needs no
// approval; changing the local Postfix (--apply-postfix) does, and the
// plan shows each main.cf parameter's current and new value.
func (r *Relay) Plan(ctx context.Context, env *Env) (Plan, error) {
	if err := r.askRewrite(ctx, env); err != nil {
		return Plan{}, err
	}
	s, res, err := r.state(ctx, env)
	if err != nil {
		return Plan{}, err
	}
	if res != nil && res.Status == StatusTodo {
		return Plan{Summary: res.Detail}, nil
	}
	if res != nil {
		return Plan{}, errors.New(res.Detail)
	}
	var p Plan
	var parts []string
	conflicts := map[string]Change{}
	for _, c := range RelayFileConflicts(env.mtaTarget(), s.out) {
		conflicts[c.Name] = c
	}
	for _, f := range s.cfg.Files() {
		path := filepath.Join(s.out, f.Name)
		if c, ok := conflicts[path]; ok {
			p.Changes = append(p.Changes, c)
			continue
		}
		ch := Change{Action: ActionUnchanged, Resource: "file", Name: path}
		for _, st := range s.stale {
			if strings.HasPrefix(st, f.Name) {
				ch.Action = ActionWrite
			}
		}
		if f.Role == RoleSASLPasswd && ch.Action == ActionWrite {
			if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
				ch.Action, ch.Note = ActionMerge, fmt.Sprintf("sesame's entry for %s is set; every other line stays as it is", s.cfg.RelayHost())
			}
		}
		p.Changes = append(p.Changes, ch)
	}
	if len(s.stale) > 0 {
		parts = append(parts, fmt.Sprintf("write the relay files for %s in %s", s.cfg.RelayHost(), s.out))
	}
	if s.postfixPending() {
		p.Changes = append(p.Changes, s.postfix...)
		p.NeedsApproval = true
		parts = append(parts, fmt.Sprintf("configure Postfix in %s (main.cf is backed up first)", s.cfg.Dir()))
	}
	if env.Options.NoSMTPTest {
		parts = append(parts, "skip the SMTP login test (--no-smtp-test)")
	} else {
		parts = append(parts, "test the SMTP login at "+SMTPEndpoint(env.Options, s.cfg.Region))
	}
	if to := env.testTo(); to != "" && !env.Options.NoSMTPTest {
		parts = append(parts, "send one test message to "+to)
	}
	p.Summary = strings.Join(parts, ", then ")
	return p, nil
}

// Apply implements Step: it writes the files, configures Postfix with
// --apply-postfix, tests the login (retrying a 535 while a new key
// propagates) and sends the optional test message.
func (r *Relay) Apply(ctx context.Context, env *Env) error {
	s, res, err := r.state(ctx, env)
	if err != nil {
		return err
	}
	if res != nil {
		return errors.New(res.Detail)
	}
	if len(s.stale) > 0 {
		if _, err := WriteRelayFiles(s.out, s.cfg); err != nil {
			return err
		}
	}
	if env.Record.Files == nil {
		env.Record.Files = map[string]string{}
	}
	for role, path := range relayPaths(s.out) {
		env.Record.Files[role] = path
	}
	if err := env.SaveState(); err != nil {
		return fmt.Errorf("the relay files are written but the state file could not be saved: %w", err)
	}
	if s.postfixPending() {
		applied, err := r.postfix(env).Apply(ctx, s.cfg)
		if err != nil {
			return err
		}
		if applied.Changed {
			env.Info(r.ID(), "configured Postfix in %s; main.cf was backed up to %s", s.cfg.Dir(), applied.Backup)
			// sesame remove offers to restore main.cf from the first
			// backup: the one from before sesame changed Postfix.
			if applied.Backup != "" && env.Record.Files[RoleMainCFBackup] == "" {
				env.Record.Files[RoleMainCFBackup] = applied.Backup
				if err := env.SaveState(); err != nil {
					return fmt.Errorf("Postfix is configured but the state file could not be saved: %w", err)
				}
			}
		}
		if applied.PasswdBackup != "" {
			env.Info(r.ID(), "merged sesame's entry into %s (its other lines kept); the previous file is %s", filepath.Join(s.cfg.Dir(), SASLPasswdFile), applied.PasswdBackup)
		}
		if applied.Note != "" {
			env.Warn(r.ID(), "%s", applied.Note)
		} else if applied.Reloaded {
			env.Info(r.ID(), "reloaded Postfix")
		}
	}
	if env.Options.ApplyPostfix && env.Record.PostfixDir != s.cfg.Dir() {
		// `sesame rotate` installs a new password where sesame installed
		// this one, and reloads that Postfix.
		env.Record.PostfixDir = s.cfg.Dir()
		if err := env.SaveState(); err != nil {
			return fmt.Errorf("Postfix is configured but the state file could not be saved: %w", err)
		}
	}
	if env.Options.NoSMTPTest {
		env.Info(r.ID(), "SMTP login test skipped (--no-smtp-test): Postfix's first message will tell whether SES accepts the credentials")
		r.publish(env, s, "skipped", "skipped by --no-smtp-test")
		return nil
	}
	login, err := r.login(env, s.cfg)
	if err != nil {
		return err
	}
	window := smtpcheck.DefaultLoginRetry
	if c := env.Facts.Credentials; c != nil && c.Created {
		window = smtpcheck.NewKeyLoginRetry // a key made in this run may not work over SMTP yet
	}
	err = smtpcheck.LoginTest(ctx, env.Clock, window, login, func(attempt int, err error) {
		env.Emit(Event{Kind: EventRetrying, Step: r.ID(), Attempt: attempt, MaxAttempts: int(window / smtpcheck.RetryInterval),
			Detail: fmt.Sprintf("SES refused the SMTP login (%v); a new access key takes seconds to work, retrying for up to %s", err, window), Time: env.Clock.Now()})
	})
	if err != nil {
		r.publish(env, s, "failed", err.Error())
		return err
	}
	r.tested = r.loginKey(env, s.cfg)
	r.testDetail = fmt.Sprintf("SMTP login as %s at %s ok", login.Username, login.Endpoint)
	if to := env.testTo(); to != "" {
		if env.Answers.Domain == "" {
			return &InputError{Field: "domain", Flag: "--domain", Msg: "the test message needs the verified domain for its From address"}
		}
		if err := awaitTestRecipient(ctx, env, r.ID(), to); err != nil {
			r.publish(env, s, "ok", r.testDetail+"; "+err.Error())
			return err
		}
		m := smtpcheck.Message{From: "sesame-test@" + env.Answers.Domain, To: to, Region: s.cfg.Region, Host: s.cfg.SMTPHost(), Date: env.Clock.Now()}
		if err := smtpcheck.ExplainSend(login.Send(ctx, m), m); err != nil {
			r.publish(env, s, "ok", "the login worked but the test message failed: "+err.Error())
			return err
		}
		r.testDetail += fmt.Sprintf("; test message from %s to %s accepted", m.From, to)
		r.testSentTo = to
		env.Info(r.ID(), "SES accepted the test message from %s to %s", m.From, to)
		if env.Answers.TestTo == to {
			// The test a stopped run left to send is sent: a later run
			// offers it again rather than mailing unasked.
			env.Answers.TestTo = ""
			if err := env.SaveState(); err != nil {
				return fmt.Errorf("SES accepted the test message but the state file could not be saved: %w", err)
			}
		}
	}
	r.publish(env, s, "ok", r.testDetail)
	return nil
}

// login builds the login test for the credentials of cfg.
func (r *Relay) login(env *Env, cfg postfix.Config) (smtpcheck.Login, error) {
	roots, err := smtpRoots(env.Options.SMTPCA)
	if err != nil {
		return smtpcheck.Login{}, err
	}
	endpoint := SMTPEndpoint(env.Options, cfg.Region)
	return smtpcheck.Login{
		Endpoint: endpoint, Roots: roots, Implicit: smtpcheck.ImplicitTLS(endpoint),
		Username: cfg.Username, Password: cfg.Password, Region: cfg.Region,
	}, nil
}

func relayPaths(out string) map[string]string {
	return map[string]string{
		RoleMainCF:      filepath.Join(out, MainCFSnippetFile),
		RoleSASLPasswd:  filepath.Join(out, SASLPasswdFile),
		RoleApplyScript: filepath.Join(out, ApplyScriptFile),
	}
}

// publishFacts fills env.Facts for front ends and the --json report, and
// the credentials when no earlier step did (a run that found them on disk).
func (r *Relay) publishFacts(env *Env, s relayState, login string) *RelayReport {
	rep := &RelayReport{Host: s.cfg.SMTPHost(), Port: s.cfg.Port, Files: relayPaths(s.out), LoginTest: login, TestSentTo: r.testSentTo}
	env.Facts.Relay = rep
	if env.Facts.Credentials == nil {
		env.Facts.Credentials = &Credentials{AccessKeyID: s.cfg.Username, Host: s.cfg.SMTPHost(), Port: s.cfg.Port,
			Password: s.cfg.Password, File: filepath.Join(s.out, SASLPasswdFile)}
	}
	return rep
}

func (r *Relay) publish(env *Env, s relayState, login, detail string) {
	rep := r.publishFacts(env, s, login)
	rep.Detail = detail
	env.Publish(r.ID(), rep)
}
