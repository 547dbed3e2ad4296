package steps

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/state"
)

// fakeStep is a level-based step over an in-memory "resource".
type fakeStep struct {
	id       string
	exists   bool
	pending  bool // Check says pending until Apply
	conflict bool
	applyErr error
	applies  int
	checks   int
}

func (f *fakeStep) ID() string    { return f.id }
func (f *fakeStep) Title() string { return "Fake " + f.id }
func (f *fakeStep) Check(context.Context, *Env) (Result, error) {
	f.checks++
	switch {
	case f.exists:
		return Result{Status: StatusDone, Detail: f.id + " exists"}, nil
	case f.pending:
		return Result{Status: StatusPending, Detail: "waiting"}, nil
	}
	return Result{Status: StatusTodo, Detail: f.id + " missing"}, nil
}
func (f *fakeStep) Plan(context.Context, *Env) (Plan, error) {
	p := Plan{Summary: "create " + f.id, NeedsApproval: !f.pending, Changes: []Change{{Action: ActionCreate, Resource: "thing", Name: f.id}}}
	if f.conflict {
		p.Changes = append(p.Changes, Change{Action: ActionConflict, Resource: "dns-record", Name: "x.example.com", Type: "TXT", Note: "a CNAME is there"})
	}
	return p, nil
}
func (f *fakeStep) Apply(context.Context, *Env) error {
	f.applies++
	if f.applyErr != nil {
		return f.applyErr
	}
	if f.pending {
		return &PendingError{Step: f.id, Detail: "timed out"}
	}
	f.exists = true
	return nil
}

// scripted answers Confirm with a fixed answer and records the questions.
type scripted struct {
	yes   bool
	asked []string
}

func (s *scripted) Confirm(_ context.Context, q Question) (bool, error) {
	s.asked = append(s.asked, q.ID)
	return s.yes, nil
}
func (s *scripted) Choose(context.Context, Question, []Option) (string, error) { return "", nil }
func (s *scripted) Input(context.Context, Question, func(string) error) (string, error) {
	return "", nil
}

func newTestEnv(opts Options) (*Env, *[]Event) {
	env := NewEnv(awsapi.Clients{}, &state.Answers{Domain: "example.com", Region: "us-east-1"}, opts)
	var events []Event
	env.Emit = func(e Event) { events = append(events, e) }
	return env, &events
}

func TestRunner(t *testing.T) {
	tests := []struct {
		name       string
		steps      []*fakeStep
		opts       Options
		confirm    bool
		wantCode   int
		wantStatus []Status
		wantApply  []int
		wantAsked  int
	}{
		{"all done: nothing applied, nothing asked", []*fakeStep{{id: "a", exists: true}, {id: "b", exists: true}}, Options{}, true, 0, []Status{StatusDone, StatusDone}, []int{0, 0}, 0},
		{"todo approved: applied once", []*fakeStep{{id: "a", exists: true}, {id: "b"}}, Options{}, true, 0, []Status{StatusDone, StatusDone}, []int{0, 1}, 1},
		{"--yes: applied without asking", []*fakeStep{{id: "a"}, {id: "b"}}, Options{Yes: true}, false, 0, []Status{StatusDone, StatusDone}, []int{1, 1}, 0},
		{"declined: stops resumable (exit 3), later steps not reached", []*fakeStep{{id: "a"}, {id: "b"}}, Options{}, false, 3, []Status{StatusTodo, StatusTodo}, []int{0, 0}, 1},
		{"dry run: plans, applies nothing", []*fakeStep{{id: "a"}, {id: "b"}}, Options{DryRun: true}, true, 0, []Status{StatusTodo, StatusTodo}, []int{0, 0}, 0},
		{"conflict: stops before any write", []*fakeStep{{id: "a", conflict: true}, {id: "b"}}, Options{Yes: true}, true, 1, []Status{StatusFailed, StatusTodo}, []int{0, 0}, 0},
		{"apply error: failed, exit 1", []*fakeStep{{id: "a", applyErr: errors.New("boom")}, {id: "b"}}, Options{Yes: true}, true, 1, []Status{StatusFailed, StatusTodo}, []int{1, 0}, 0},
		{"no-wait: pending left, later steps still run, exit 3", []*fakeStep{{id: "a", pending: true}, {id: "b"}}, Options{Yes: true, NoWait: true}, true, 3, []Status{StatusPending, StatusDone}, []int{0, 1}, 0},
		{"wait that times out: pending, exit 3", []*fakeStep{{id: "a", pending: true}, {id: "b"}}, Options{Yes: true}, true, 3, []Status{StatusPending, StatusDone}, []int{1, 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newTestEnv(tt.opts)
			p := &scripted{yes: tt.confirm}
			env.Prompt = p
			var list []Step
			for _, s := range tt.steps {
				list = append(list, s)
			}
			rep, err := (&Runner{Steps: list}).Run(context.Background(), env)
			if got := ExitCode(err); got != tt.wantCode {
				t.Fatalf("exit code = %d (err %v), want %d", got, err, tt.wantCode)
			}
			for i, s := range tt.steps {
				if rep.Steps[i].Status != tt.wantStatus[i] {
					t.Errorf("step %s status = %s, want %s", s.id, rep.Steps[i].Status, tt.wantStatus[i])
				}
				if s.applies != tt.wantApply[i] {
					t.Errorf("step %s applied %d times, want %d", s.id, s.applies, tt.wantApply[i])
				}
			}
			if len(p.asked) != tt.wantAsked {
				t.Errorf("asked %v, want %d questions", p.asked, tt.wantAsked)
			}
		})
	}
}

// A second run over the state the first one left changes nothing.
func TestRunnerSecondRunIsNoOp(t *testing.T) {
	a, b := &fakeStep{id: "a"}, &fakeStep{id: "b"}
	r := &Runner{Steps: []Step{a, b}}
	for run := 0; run < 2; run++ {
		env, _ := newTestEnv(Options{Yes: true})
		if _, err := r.Run(context.Background(), env); err != nil {
			t.Fatal(err)
		}
	}
	if a.applies != 1 || b.applies != 1 {
		t.Fatalf("applies = %d, %d; want 1, 1", a.applies, b.applies)
	}
}

// Under --no-input without --yes the plan is shown, then exit 2 naming --yes.
func TestRunnerNoInputNeedsYes(t *testing.T) {
	env, events := newTestEnv(Options{NoInput: true})
	s := &fakeStep{id: "a"}
	_, err := (&Runner{Steps: []Step{s}}).Run(context.Background(), env)
	if ExitCode(err) != 2 || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("err = %v (exit %d), want exit 2 naming --yes", err, ExitCode(err))
	}
	var sawPlan bool
	for _, e := range *events {
		sawPlan = sawPlan || (e.Kind == EventPlan && e.Plan != nil && e.Plan.Summary == "create a")
	}
	if !sawPlan || s.applies != 0 {
		t.Fatalf("plan shown = %v, applies = %d; want the plan and no apply", sawPlan, s.applies)
	}
}

func TestRunnerCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env, _ := newTestEnv(Options{Yes: true})
	s := &fakeStep{id: "a"}
	_, err := (&Runner{Steps: []Step{s}}).Run(ctx, env)
	if ExitCode(err) != 130 || s.checks != 0 {
		t.Fatalf("err = %v, checks = %d; want exit 130 and no call", err, s.checks)
	}
}

// Status only checks: no plan, no apply, no question, even with work to do.
func TestRunnerStatusReadsOnly(t *testing.T) {
	env, _ := newTestEnv(Options{})
	p := &scripted{yes: true}
	env.Prompt = p
	a, b := &fakeStep{id: "a", exists: true}, &fakeStep{id: "b"}
	rep, err := (&Runner{Steps: []Step{a, b}}).Status(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Steps[0].Status != StatusDone || rep.Steps[1].Status != StatusTodo || b.applies != 0 || len(p.asked) != 0 {
		t.Fatalf("report %+v, applies %d, asked %v", rep.Steps, b.applies, p.asked)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := mta.Secret("BPASSWORDVALUE")
	for _, got := range []string{s.String(), sprintf("%v %s %q %#v", s, s, s, s)} {
		if strings.Contains(got, "PASSWORDVALUE") {
			t.Fatalf("secret printed: %q", got)
		}
	}
	if b, _ := s.MarshalJSON(); strings.Contains(string(b), "PASSWORD") {
		t.Fatalf("secret in JSON: %s", b)
	}
	if s.Reveal() != "BPASSWORDVALUE" {
		t.Fatal("Reveal lost the value")
	}
}
