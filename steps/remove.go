package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/state"
)

// RemoveSteps are the steps of `sesame remove`, in order: the account
// (which binds the saved setup), the DNS records, the SES identity, the
// SMTP user, the files, and the saved setup last, so a remove that stops
// part way is resumed by running it again. Each step takes back only what
// the saved setup says sesame made, and only while it is still as sesame
// left it; what changed since is listed and left alone.
func RemoveSteps(files *RemoveFiles, user *RemoveSMTPUser, st *RemoveState) []Step {
	return []Step{&Account{}, &RemoveDNS{}, &RemoveIdentity{}, user, files, st}
}

// RemoveDNS takes sesame's values out of the hosted zones: a record set
// sesame created is deleted if it still holds exactly what sesame wrote;
// from a TXT set it merged into only its own value goes (and only
// include:amazonses.com from an SPF record it edited). One atomic batch
// per zone.
type RemoveDNS struct{}

// ID is the step's stable key.
func (RemoveDNS) ID() string { return "remove-dns" }

// Title is the step's name for the operator.
func (RemoveDNS) Title() string { return "Take back sesame's DNS records" }

type removeZone struct {
	id   string
	plan dns.RemovalPlan
}

// read plans the removal zone by zone from what the saved setup says
// sesame wrote and what each zone holds at those names now.
func (RemoveDNS) read(ctx context.Context, env *Env) ([]removeZone, error) {
	byZone := map[string][]state.DNSWrite{}
	for _, w := range env.Record.DNSWritten {
		byZone[w.ZoneID] = append(byZone[w.ZoneID], w)
	}
	var out []removeZone
	for _, id := range sortedKeys(byZone) {
		var names []string
		for _, w := range byZone[id] {
			if !slices.Contains(names, w.Name) {
				names = append(names, w.Name)
			}
		}
		sets, err := dnsProvider(env.Clients.Route53).RecordSets(ctx, id, "", names)
		if err != nil {
			return nil, explainRoute53(err)
		}
		out = append(out, removeZone{id: id, plan: dns.PlanRemoval(byZone[id], sets)})
	}
	return out, nil
}

// Check is Done when no zone holds any of sesame's values as it wrote
// them; the sets that changed since are named in warnings.
func (s RemoveDNS) Check(ctx context.Context, env *Env) (Result, error) {
	if len(env.Record.DNSWritten) == 0 {
		return Result{Status: StatusDone, Detail: "sesame wrote no DNS records for this setup"}, nil
	}
	zones, err := s.read(ctx, env)
	if err != nil {
		return Result{}, err
	}
	var res Result
	sets := 0
	for _, z := range zones {
		for _, r := range z.plan.Removals {
			switch r.Action {
			case dns.RemoveKeep:
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s %s in zone %s changed since sesame wrote it: left as it is", r.Name, r.Type, z.id))
			case dns.RemoveDelete, dns.RemoveValues:
				sets++
			}
		}
	}
	if sets == 0 {
		res.Status, res.Detail = StatusDone, "no zone holds sesame's DNS values any more"
		return res, nil
	}
	res.Status, res.Detail = StatusTodo, fmt.Sprintf("%d record %s still hold%s sesame's values", sets, plural(sets, "set", "sets"), plural(sets, "s", ""))
	return res, nil
}

// Plan lists, set by set, what goes, what stays and what is left alone.
func (s RemoveDNS) Plan(ctx context.Context, env *Env) (Plan, error) {
	zones, err := s.read(ctx, env)
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	n := 0
	for _, z := range zones {
		for _, r := range z.plan.Removals {
			ch := Change{Resource: "dns-record", Name: r.Name, Type: r.Type, Current: r.Current, Note: r.Note}
			switch r.Action {
			case dns.RemoveDelete:
				ch.Action, ch.Value = ActionDelete, r.Value
				n++
			case dns.RemoveValues:
				ch.Action, ch.Value = ActionUpdate, r.Keep
				ch.Note = fmt.Sprintf("takes out %s; %s", strings.ReplaceAll(r.Value, "\n", ", "), r.Note)
				n++
			default:
				ch.Action = ActionUnchanged
			}
			p.Changes = append(p.Changes, ch)
		}
	}
	p.Summary = fmt.Sprintf("take sesame's values out of %d DNS record %s, in one atomic change per zone", n, plural(n, "set", "sets"))
	p.NeedsApproval = n > 0
	return p, nil
}

// Apply submits each zone's batch. A batch Route 53 refuses (the zone
// changed since it was read) changes nothing; rerunning re-plans.
func (s RemoveDNS) Apply(ctx context.Context, env *Env) error {
	zones, err := s.read(ctx, env)
	if err != nil {
		return err
	}
	for _, z := range zones {
		if len(z.plan.Batch) == 0 {
			continue
		}
		id, _, err := dnsProvider(env.Clients.Route53).Apply(ctx, z.id, "sesame remove: Amazon SES records for "+env.Answers.Domain, z.plan.Batch)
		if err != nil {
			return fmt.Errorf("%w (nothing of this zone's change was made: run sesame remove again to re-plan against what the zone holds now)", explainRoute53(err))
		}
		env.Info(s.ID(), "Route 53 accepted change %s for zone %s", id, z.id)
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
