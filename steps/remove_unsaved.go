package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sesame-tool/sesame/steps/ses"
)

// RemoveUnsaved is `sesame remove` of a domain whose saved setup is not
// there: a remove that already finished (or one rerun after it was
// interrupted at its very end), or a setup kept in another --state-dir.
// Without the saved setup sesame cannot know what it made, so it deletes
// nothing; it only asks AWS whether anything it would recognise as its
// own is left (an IAM user tagged managed-by=sesame that holds this
// region's sesame policy; the SES identity, which carries no mark of who
// made it) and says what it could not check. Nothing left is success
// (exit 0); something of sesame's left is an input error naming
// --state-dir (exit 2), since only the saved setup may delete it.
type RemoveUnsaved struct {
	// On is set by the front end's Env.Bind when the account holds no
	// saved setup of the domain in the region; the steps then only look.
	On bool
	// found is what AWS still holds of sesame's; checked and unchecked
	// what was looked at and what could not be, in words.
	found, checked, unchecked []string
}

// guard wraps a step of RemoveSteps: while On, its Check only reports
// what the census found and nothing is planned or applied.
func (u *RemoveUnsaved) guard(s Step) Step { return &unsavedGuard{Step: s, u: u} }

type unsavedGuard struct {
	Step
	u *RemoveUnsaved
}

// Check reports the step's part of the census while On.
func (g *unsavedGuard) Check(ctx context.Context, env *Env) (Result, error) {
	if !g.u.On {
		return g.Step.Check(ctx, env)
	}
	return g.u.check(ctx, env, g.Step)
}

// Plan plans nothing while On.
func (g *unsavedGuard) Plan(ctx context.Context, env *Env) (Plan, error) {
	if !g.u.On {
		return g.Step.Plan(ctx, env)
	}
	return Plan{}, nil
}

// Apply never changes anything while On.
func (g *unsavedGuard) Apply(ctx context.Context, env *Env) error {
	if !g.u.On {
		return g.Step.Apply(ctx, env)
	}
	return errors.New("sesame remove changes nothing without a saved setup")
}

// check is one step's part of the census; the last step (remove-state)
// gives the verdict.
func (u *RemoveUnsaved) check(ctx context.Context, env *Env, s Step) (Result, error) {
	domain, region := env.Answers.Domain, env.Answers.Region
	skip := func(what string) (Result, error) {
		u.unchecked = append(u.unchecked, what)
		return Result{Status: StatusSkipped, Detail: "no saved setup: " + what + " (not checked)"}, nil
	}
	switch st := s.(type) {
	case *RemovePostfix:
		return skip("sesame does not know which Postfix it installed the relay into, if any")
	case *RemoveDNS:
		return skip("sesame cannot tell the DNS values it wrote from the zone's others")
	case *RemoveFiles:
		return skip("sesame does not know which relay files it wrote")
	case *RemoveIdentity:
		id, err := readIdentity(ctx, env)
		switch {
		case err != nil:
			return Result{}, err
		case id == nil:
			d := fmt.Sprintf("%s is not an SES identity in %s", domain, region)
			u.checked = append(u.checked, d)
			return Result{Status: StatusDone, Detail: d}, nil
		}
		return skip(fmt.Sprintf("%s is an SES identity in %s, and identities carry no mark of who made them: only the saved setup said whether sesame created it (it may have existed before sesame); left as it is", domain, region))
	case *RemoveSMTPUser:
		r, err := st.read(ctx, env)
		if err != nil {
			return Result{}, err
		}
		mine := slices.ContainsFunc(r.policies, func(p string) bool {
			return p == ses.SMTPUserPolicyName(region) || p == ses.LegacySMTPUserPolicyName
		})
		var d string
		switch {
		case !r.exists:
			d = "there is no IAM user " + r.name
		case !r.tagged:
			d = fmt.Sprintf("the IAM user %s has no %s=%s tag: sesame did not make it", r.name, TagManagedBy, TagManagedByValue)
		case mine:
			d = fmt.Sprintf("the IAM user %s, tagged %s=%s, holds sesame's send policy for %s", r.name, TagManagedBy, TagManagedByValue, region)
			u.found = append(u.found, d)
			return Result{Status: StatusSkipped, Detail: d + ": left, as nothing is deleted without the saved setup"}, nil
		default:
			d = fmt.Sprintf("the IAM user %s holds nothing of %s in %s", r.name, domain, region)
			if len(r.sharedBy) > 0 {
				d += "; it stays for " + strings.Join(r.sharedBy, ", ")
			}
		}
		u.checked = append(u.checked, d)
		return Result{Status: StatusDone, Detail: d}, nil
	case *RemoveState:
		return u.verdict(env)
	}
	return skip(s.Title())
}

// verdict is the census's end: the line that nothing is left, or the
// input error naming what is and --state-dir.
func (u *RemoveUnsaved) verdict(env *Env) (Result, error) {
	acct := "?"
	if a := env.Facts.Account; a != nil {
		acct = a.ID
	}
	domain, region := env.Answers.Domain, env.Answers.Region
	if len(u.found) > 0 {
		return Result{}, &InputError{Field: "state-dir", Flag: "--state-dir", Msg: fmt.Sprintf(
			"there is no saved setup of %s in %s for account %s here, but AWS still holds what sesame made: %s. sesame takes back only what a saved setup recorded, so without it nothing is deleted: point --state-dir at the directory that holds the setup (and check --profile and --region)",
			domain, region, acct, strings.Join(u.found, "; "))}
	}
	d := fmt.Sprintf("nothing of sesame's is left for %s in account %s/region %s", domain, acct, region)
	if len(u.checked) > 0 {
		d += "\nchecked: " + strings.Join(u.checked, "; ")
	}
	if len(u.unchecked) > 0 {
		d += "\nnot checked, as there is no saved setup: " + strings.Join(u.unchecked, "; ")
	}
	return Result{Status: StatusDone, Detail: d}, nil
}
