package steps

import (
	"context"
	"testing"
)

// preflightStep is a fakeStep whose Preflight fails with err (nil: passes).
type preflightStep struct {
	fakeStep
	err error
}

func (p *preflightStep) Preflight(context.Context, *Env) ([]Change, error) { return nil, p.err }

// The answers are accepted (Env.AnswersChecked, saved) only once the run
// got past its preflight in a run that changes things, or finished with
// nothing to change: never in a dry run, never when a check refused an
// answer before the first change.
func TestAnswersAcceptedOnlyPastThePreflight(t *testing.T) {
	refused := &InputError{Field: "zone-id", Flag: "--zone-id", Msg: "there is no hosted zone Z1"}
	tests := []struct {
		name   string
		opts   Options
		steps  func() []Step
		want   bool
		saves  bool // Save was called with the answers checked
		errNil bool
	}{
		{"a run past the preflight", Options{Yes: true}, func() []Step {
			return []Step{&preflightStep{fakeStep: fakeStep{id: "a"}}}
		}, true, true, true},
		{"a dry run", Options{Yes: true, DryRun: true}, func() []Step {
			return []Step{&preflightStep{fakeStep: fakeStep{id: "a"}}}
		}, false, false, true},
		{"a preflight refusing an answer", Options{Yes: true}, func() []Step {
			return []Step{&fakeStep{id: "a"}, &preflightStep{fakeStep: fakeStep{id: "dns"}, err: refused}}
		}, false, false, false},
		{"nothing to change", Options{Yes: true}, func() []Step {
			return []Step{&fakeStep{id: "a", exists: true}}
		}, true, true, true},
		{"status", Options{ReadOnly: true}, func() []Step {
			return []Step{&fakeStep{id: "a", exists: true}}
		}, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newTestEnv(tt.opts)
			saved := false
			env.Save = func() error {
				saved = saved || env.AnswersChecked
				return nil
			}
			_, err := (&Runner{Steps: tt.steps()}).Run(context.Background(), env)
			if (err == nil) != tt.errNil {
				t.Fatalf("err = %v", err)
			}
			if env.AnswersChecked != tt.want || saved != tt.saves {
				t.Fatalf("answers checked %v, saved %v; want %v, %v", env.AnswersChecked, saved, tt.want, tt.saves)
			}
		})
	}
}
