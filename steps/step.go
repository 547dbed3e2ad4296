package steps

import "context"

// Status is where a step stands. The string values appear in --json output,
// so they are stable.
type Status string

// The statuses a step can be in.
const (
	// StatusTodo means the step has work to do that Apply will perform.
	StatusTodo Status = "todo"
	// StatusDone means AWS (or the disk) already holds what the step ensures.
	StatusDone Status = "done"
	// StatusPending means the step waits on something outside sesame, such
	// as SES noticing DNS records. Apply waits for it unless --no-wait.
	StatusPending Status = "pending"
	// StatusSkipped means the step deliberately does nothing (for example
	// inbound-mx), with a detail that says why.
	StatusSkipped Status = "skipped"
	// StatusFailed means the step cannot go on without the operator.
	StatusFailed Status = "failed"
)

// Result is the outcome of a Check.
type Result struct {
	Status Status
	// Detail is one line for the operator: "user ses-smtp-example-com exists with key AKIA…".
	Detail string
	// Warnings are shown beside the step but do not stop the run.
	Warnings []string
}

// Step is one stage of the wizard. See the package documentation for the
// contract that Check, Plan and Apply keep.
type Step interface {
	// ID is the stable kebab-case key used in --json, state files and tests.
	ID() string
	// Title is the human-facing name, "Verify the domain in SES".
	Title() string
	// Check reads AWS and reports where the step stands. It never writes to
	// AWS. It may record facts it discovered in env.Facts for later steps.
	Check(ctx context.Context, env *Env) (Result, error)
	// Plan says what Apply would change. It is called only after a Check
	// that returned Todo or Pending, and never writes.
	Plan(ctx context.Context, env *Env) (Plan, error)
	// Apply makes the change and is safe to repeat.
	Apply(ctx context.Context, env *Env) error
}

// Action is what a planned change does to one resource.
type Action string

// The actions a Change can carry. The DNS plan uses create, unchanged, merge
// and conflict; other steps use create, update, delete and request.
const (
	ActionCreate    Action = "create"
	ActionUnchanged Action = "unchanged"
	ActionMerge     Action = "merge"
	ActionConflict  Action = "conflict"
	ActionUpdate    Action = "update"
	ActionDelete    Action = "delete"
	ActionRequest   Action = "request"
	ActionWait      Action = "wait"
	ActionWrite     Action = "write"
)

// Change is one line of a plan.
type Change struct {
	Action Action `json:"action"`
	// Resource is what kind of thing changes: "iam-user", "iam-policy",
	// "access-key", "ses-identity", "dns-record", "file", "account".
	Resource string `json:"resource"`
	// Name is the resource's name: a user name, a record name, a path.
	Name string `json:"name"`
	// Type is the DNS record type where Resource is "dns-record".
	Type string `json:"type,omitempty"`
	// Value is the desired value (for DNS, one value per line).
	Value string `json:"value,omitempty"`
	// Current is what is there now, where something is.
	Current string `json:"current,omitempty"`
	// Note explains a merge or a conflict, and what to do about it.
	Note string `json:"note,omitempty"`
}

// Plan is what a step would change.
type Plan struct {
	// Summary is one line: "create 3 DNS records in zone example.com (Z123)".
	Summary string `json:"summary"`
	// Changes are the individual changes, in the order they would be made.
	Changes []Change `json:"changes,omitempty"`
	// NeedsApproval is true when Apply would change AWS or the operator's
	// files; the runner then asks before applying unless --yes.
	NeedsApproval bool `json:"needs_approval"`
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool {
	for _, c := range p.Changes {
		if c.Action != ActionUnchanged {
			return false
		}
	}
	return !p.NeedsApproval
}

// HasConflict reports whether any change is a conflict that stops the run.
func (p Plan) HasConflict() bool {
	for _, c := range p.Changes {
		if c.Action == ActionConflict {
			return true
		}
	}
	return false
}
