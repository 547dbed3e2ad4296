package steps

import (
	"context"
	"errors"
	"strconv"
)

// Preflighter is a step that can tell, before the run's first change, what
// would stop it later: a conflicting DNS record at a name known from the
// answers alone, a hosted zone that does not exist, an output directory
// that is a file. The runner calls Preflight of every step still to come
// (the current one included) once, right before the first Apply of the run
// (and at the same point of a dry run), after the runner has bound
// the setup. Preflight only reads, like Check.
//
// It returns the conflicts it found as Changes with ActionConflict (shown
// as a plan and stopping the run with nothing changed), or an error for
// input that cannot work (an *InputError for a bad answer: exit 2).
type Preflighter interface {
	Preflight(ctx context.Context, env *Env) ([]Change, error)
}

// preflight runs the steps' Preflight at most once per run.
type preflight struct {
	steps []Step
	from  int // the index of the step being run
	done  bool
}

// PreflightTitle is the Title of the plan event that lists what the
// preflight found.
const PreflightTitle = "Checks before any change"

// run calls Preflight on the steps from p.from on, the first time only. A
// conflict is emitted as a plan of the current step and returned as the
// error that fails it.
func (p *preflight) run(ctx context.Context, env *Env, r *Runner, cur Step) error {
	if p == nil || p.done {
		return nil
	}
	p.done = true
	var conflicts []Change
	var errs []error
	for _, s := range p.steps[p.from:] {
		pf, ok := s.(Preflighter)
		if !ok {
			continue
		}
		ch, err := pf.Preflight(ctx, env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		conflicts = append(conflicts, ch...)
	}
	if len(conflicts) > 0 {
		plan := Plan{Summary: PreflightTitle + ": " + countConflicts(len(conflicts)) + " to resolve before sesame changes anything", Changes: conflicts}
		env.Emit(Event{Kind: EventPlan, Step: cur.ID(), Title: PreflightTitle, Plan: &plan, Time: env.Clock.Now()})
		errs = append(errs, conflictError(plan))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Every check before the first change passed: the answers are the
	// ones this run goes on with, and are saved from here on.
	return env.AcceptAnswers()
}

func countConflicts(n int) string {
	if n == 1 {
		return "1 conflict"
	}
	return strconv.Itoa(n) + " conflicts"
}
