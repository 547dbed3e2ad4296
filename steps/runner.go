package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sesame-tool/sesame/steps/dns"
)

// Runner drives the steps in order and reports every transition as an
// Event. The TUI, the plain reporter and --json all use the same Runner.
type Runner struct {
	Steps []Step
}

// StepReport is one step's final state in a Report.
type StepReport struct {
	ID     string `json:"id"`
	Title  string `json:"-"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
}

// SMTPReport is where Postfix relays: never the password.
type SMTPReport struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username"`
}

// Report is the outcome of a run, the --json document.
type Report struct {
	Domain  string         `json:"domain"`
	Region  string         `json:"region"`
	Account string         `json:"account"`
	Demo    bool           `json:"demo,omitempty"`
	Steps   []StepReport   `json:"steps"`
	Sandbox *SandboxReport `json:"sandbox"`
	SMTP    *SMTPReport    `json:"smtp"`
	Files   []string       `json:"files"`
	// Records are the DNS records to publish by hand at the domain's DNS
	// host (no Route 53 zone for them in this account); empty otherwise.
	Records []dns.Desired `json:"records,omitempty"`
	Error   string        `json:"error,omitempty"`
}

// SetupBinder is the step whose Check learns which setup the run works on
// (the account step: the account, with the answers' region and domain).
// Right after that Check, the runner binds the run to the setup (bindSetup):
// the setup's saved record is loaded and its lock taken before any later
// step checks or anything changes.
type SetupBinder interface {
	// Setup is the account to bind to, known once Check succeeded.
	Setup(env *Env) *AccountInfo
}

// bindSetup is the run's bind phase, after the Check of a SetupBinder
// step: it hands the account to the front end's Env.Bind (load the saved
// record, take the lock, write the state file). Other steps bind nothing.
func bindSetup(env *Env, s Step) error {
	b, ok := s.(SetupBinder)
	if !ok || env.Bind == nil {
		return nil
	}
	acct := b.Setup(env)
	if acct == nil {
		return fmt.Errorf("%s: the account is not known, so the run cannot be bound to its saved setup", s.Title())
	}
	return env.Bind(acct)
}

// Run takes every step from where AWS says it stands to done. It stops at
// the first failure, at a declined plan, or when the context is cancelled;
// a step left pending (verification with --no-wait or at --timeout) does not
// stop the later steps, but Run then returns a *PendingError (exit 3).
func (r *Runner) Run(ctx context.Context, env *Env) (*Report, error) {
	rep := r.newReport(env)
	var pending *PendingError
	pre := &preflight{steps: r.Steps}
	for i, s := range r.Steps {
		pre.from = i
		sr, err := r.runStep(ctx, env, s, pre)
		rep.Steps[i] = sr
		var pe *PendingError
		if errors.As(err, &pe) {
			if pending == nil {
				pending = pe
			}
			continue
		}
		if err != nil {
			r.fill(rep, env)
			rep.Error = err.Error()
			return rep, err
		}
	}
	// A run with nothing to change never reached the preflight; its
	// answers held all the way, so they are kept too.
	if err := env.AcceptAnswers(); err != nil {
		r.fill(rep, env)
		rep.Error = err.Error()
		return rep, err
	}
	r.fill(rep, env)
	if pending != nil {
		rep.Error = pending.Error()
		return rep, pending
	}
	return rep, nil
}

// Status checks every step and changes nothing: no Plan, no Apply, no
// question. A failing check is reported in its step and does not stop the
// others.
func (r *Runner) Status(ctx context.Context, env *Env) (*Report, error) {
	rep := r.newReport(env)
	for i, s := range r.Steps {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		env.Emit(Event{Kind: EventStepStarted, Step: s.ID(), Title: s.Title(), Time: env.Clock.Now()})
		res, err := s.Check(ctx, env)
		if err == nil {
			err = bindSetup(env, s)
		}
		if errors.Is(err, context.Canceled) {
			return rep, err
		}
		if err != nil {
			res = Result{Status: StatusFailed, Detail: err.Error()}
		}
		rep.Steps[i] = StepReport{ID: s.ID(), Title: s.Title(), Status: res.Status, Detail: res.Detail}
		r.finish(env, s, res.Status, res.Detail, err)
	}
	r.fill(rep, env)
	return rep, nil
}

func (r *Runner) newReport(env *Env) *Report {
	rep := &Report{Domain: env.Answers.Domain, Region: env.Answers.Region, Demo: env.Options.Demo}
	for _, s := range r.Steps {
		rep.Steps = append(rep.Steps, StepReport{ID: s.ID(), Title: s.Title(), Status: StatusTodo, Detail: "not reached"})
	}
	return rep
}

// fill copies what the steps found into the report.
func (r *Runner) fill(rep *Report, env *Env) {
	f := env.Facts
	if f.Account != nil {
		rep.Account = f.Account.ID
	}
	rep.Sandbox = f.Sandbox
	if c := f.Credentials; c != nil {
		rep.SMTP = &SMTPReport{Host: c.Host, Port: c.Port, Username: c.AccessKeyID}
	}
	rep.Files = []string{}
	seen := map[string]bool{}
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			rep.Files = append(rep.Files, p)
		}
	}
	if f.Credentials != nil {
		add(f.Credentials.File)
	}
	if f.Relay != nil {
		for _, role := range slices.Sorted(maps.Keys(f.Relay.Files)) {
			add(f.Relay.Files[role])
		}
	}
	if f.Manual != nil {
		rep.Records = f.Manual.Records
		for _, p := range f.Manual.Files {
			add(p)
		}
	}
}

func (r *Runner) finish(env *Env, s Step, st Status, detail string, err error) {
	env.Emit(Event{Kind: EventStepFinished, Step: s.ID(), Title: s.Title(), Status: st, Detail: detail, Err: err, Time: env.Clock.Now()})
}

// runStep takes one step through Check, Plan, approval, Apply and a final
// Check.
func (r *Runner) runStep(ctx context.Context, env *Env, s Step, pre *preflight) (StepReport, error) {
	sr := StepReport{ID: s.ID(), Title: s.Title()}
	fail := func(err error) (StepReport, error) {
		sr.Status, sr.Detail = StatusFailed, err.Error()
		if errors.Is(err, context.Canceled) {
			sr.Status, sr.Detail = StatusTodo, "interrupted"
		}
		r.finish(env, s, sr.Status, sr.Detail, err)
		return sr, err
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	env.Emit(Event{Kind: EventStepStarted, Step: s.ID(), Title: s.Title(), Time: env.Clock.Now()})
	res, err := s.Check(ctx, env)
	if err != nil {
		return fail(err)
	}
	if err := bindSetup(env, s); err != nil {
		return fail(err)
	}
	env.Emit(Event{Kind: EventStepChecked, Step: s.ID(), Title: s.Title(), Status: res.Status, Detail: res.Detail, Time: env.Clock.Now()})
	for _, w := range res.Warnings {
		env.Warn(s.ID(), "%s", w)
	}
	sr.Status, sr.Detail = res.Status, res.Detail
	switch res.Status {
	case StatusDone, StatusSkipped:
		r.finish(env, s, res.Status, res.Detail, nil)
		return sr, nil
	case StatusFailed:
		return fail(errors.New(res.Detail))
	case StatusPending:
		if env.Options.NoWait || env.Options.DryRun {
			return r.leavePending(env, s, res.Detail)
		}
	}

	plan, err := s.Plan(ctx, env)
	if err != nil {
		return fail(err)
	}
	if len(plan.Changes) > 0 || plan.Summary != "" {
		env.Emit(Event{Kind: EventPlan, Step: s.ID(), Title: s.Title(), Plan: &plan, Time: env.Clock.Now()})
	}
	if plan.HasConflict() {
		return fail(conflictError(plan))
	}
	// The first step that would change something runs every later step's
	// preflight first, so a problem the dns or relay step can already see
	// stops the run before the first AWS write, and a dry run shows it.
	if err := pre.run(ctx, env, r, s); err != nil {
		return fail(err)
	}
	if env.Options.DryRun {
		sr.Detail = "dry run: " + cmp.Or(plan.Summary, res.Detail)
		r.finish(env, s, sr.Status, sr.Detail, nil)
		return sr, nil
	}
	if plan.NeedsApproval && !env.Options.Yes {
		ok, err := env.Prompt.Confirm(ctx, Question{
			ID: "approve-" + s.ID(), Step: s.ID(), Title: "Apply this plan?",
			Detail: plan.Summary, Flag: "--yes", Default: "y", Plan: &plan,
		})
		var ie *InputError
		if errors.As(err, &ie) && env.Options.NoInput {
			err = fmt.Errorf("%s: %w", plan.Summary, ErrNeedsApproval)
		}
		if err != nil {
			return fail(err)
		}
		if !ok {
			sr.Detail = "declined: nothing was changed; run sesame again to resume here"
			r.finish(env, s, sr.Status, sr.Detail, ErrDeclined)
			return sr, fmt.Errorf("%s: %w", s.Title(), ErrDeclined)
		}
	}
	env.Emit(Event{Kind: EventApplying, Step: s.ID(), Title: s.Title(), Plan: &plan, Time: env.Clock.Now()})
	// Apply acts on fresh reads only, and the Check after it sees its changes.
	env.reads.BeginApply()
	err = s.Apply(ctx, env)
	env.reads.EndApply()
	if err != nil {
		var pe *PendingError
		if errors.As(err, &pe) {
			return r.leavePending(env, s, pe.Detail)
		}
		return fail(err)
	}
	res, err = s.Check(ctx, env)
	if err != nil {
		return fail(err)
	}
	sr.Status, sr.Detail = res.Status, res.Detail
	switch res.Status {
	case StatusDone, StatusSkipped:
		r.finish(env, s, res.Status, res.Detail, nil)
		return sr, nil
	case StatusPending:
		return r.leavePending(env, s, res.Detail)
	default:
		return fail(fmt.Errorf("%s: still %s after applying: %s", s.Title(), res.Status, res.Detail))
	}
}

func (r *Runner) leavePending(env *Env, s Step, detail string) (StepReport, error) {
	r.finish(env, s, StatusPending, detail, nil)
	return StepReport{ID: s.ID(), Title: s.Title(), Status: StatusPending, Detail: detail},
		&PendingError{Step: s.ID(), Detail: fmt.Sprintf("%s is still pending: %s. Run sesame again to resume; it picks up here.", s.Title(), detail)}
}

func conflictError(p Plan) error {
	var b strings.Builder
	b.WriteString("the plan has conflicts; nothing was changed:")
	for _, c := range p.Changes {
		if c.Action == ActionConflict {
			fmt.Fprintf(&b, "\n  %s: %s", strings.TrimSpace(c.Name+" "+c.Type), c.Note)
		}
	}
	return errors.New(b.String())
}
