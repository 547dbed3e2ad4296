package steps

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/state"
)

// RemoveSteps are the steps of `sesame remove`, in order: the account
// (which binds the saved setup); the Postfix sesame installed into, so no
// message is sent with a key about to go; the SMTP user and its keys,
// before the identity, so mail still relayed through SES is deferred (535)
// rather than bounced for an unverified domain (554); the DNS records; the
// SES identity; the files; and the saved setup last, so a remove that
// stops part way is resumed by running it again. Each step takes back
// only what the saved setup says sesame made, and only while it is still
// as sesame left it; what changed since is listed and left alone. Where
// the saved setup is gone (u.On, set when the run binds), the steps only
// look, and change nothing (RemoveUnsaved).
func RemoveSteps(u *RemoveUnsaved, pf *RemovePostfix, files *RemoveFiles, user *RemoveSMTPUser, st *RemoveState) []Step {
	out := []Step{&Account{}}
	for _, s := range []Step{pf, user, &RemoveDNS{}, &RemoveIdentity{}, files, st} {
		out = append(out, u.guard(s))
	}
	return out
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
	writes, err := dnsWrites(ctx, env)
	if err != nil {
		return nil, err
	}
	byZone := map[string][]state.DNSWrite{}
	for _, w := range writes {
		byZone[w.ZoneID] = append(byZone[w.ZoneID], w)
	}
	var out []removeZone
	for _, id := range slices.Sorted(maps.Keys(byZone)) {
		var names []string
		for _, w := range byZone[id] {
			if !slices.Contains(names, w.Name) {
				names = append(names, w.Name)
			}
		}
		sets, err := dnsProvider(env.Clients.Route53).RecordSets(ctx, id, "", names)
		var gone *r53types.NoSuchHostedZone
		switch {
		case errors.As(err, &gone):
			// The zone was deleted since: none of sesame's values is
			// anywhere to take back.
			env.Warn("remove-dns", "the hosted zone %s sesame wrote to is gone: nothing to take back there", id)
			sets = nil
		case err != nil:
			return nil, explainRoute53(err)
		}
		out = append(out, removeZone{id: id, plan: dns.PlanRemoval(byZone[id], sets)})
	}
	return out, nil
}

// dnsWrites is what sesame wrote to the zones for this setup. A setup
// saved by a sesame older than Record.DNSWritten says only which zone it
// wrote to: of its records, the DKIM CNAMEs of an identity sesame created
// are sesame's for sure (their names and targets hold tokens SES drew for
// that identity, so no record could have been there before), and are
// taken back if they still point where SES said; the others cannot be
// told from the operator's and are left (olderSetup says so).
func dnsWrites(ctx context.Context, env *Env) ([]state.DNSWrite, error) {
	rec := env.Record
	if len(rec.DNSWritten) > 0 || !olderSetup(env) || !rec.IdentityCreated {
		return rec.DNSWritten, nil
	}
	id, err := readIdentity(ctx, env)
	if err != nil || id == nil {
		return nil, err
	}
	var out []state.DNSWrite
	for _, d := range DesiredRecords(env.Answers.Domain, env.Answers.Region, id, "", false) {
		if d.Purpose != PurposeDKIM {
			continue
		}
		out = append(out, state.DNSWrite{ZoneID: rec.ZoneID, Name: dns.NormName(d.Name), Type: d.Type, Created: true, Values: []string{dns.NormName(d.Values[0])}})
	}
	return out, nil
}

// olderSetup reports whether the setup was saved by a sesame that wrote
// DNS records without recording them.
func olderSetup(env *Env) bool {
	return len(env.Record.DNSWritten) == 0 && env.Record.ChangeID != ""
}

// Check is Done when no zone holds any of sesame's values as it wrote
// them; the sets that changed since are named in warnings.
func (s RemoveDNS) Check(ctx context.Context, env *Env) (Result, error) {
	var res Result
	if olderSetup(env) {
		res.Warnings = append(res.Warnings, "this setup was saved by an older sesame, which did not record the DNS values it wrote: only the DKIM CNAMEs of an identity it created are taken back; check the MAIL FROM MX and SPF and the DMARC record in the zone yourself")
	}
	zones, err := s.read(ctx, env)
	if err != nil {
		return Result{}, err
	}
	if len(zones) == 0 {
		res.Status, res.Detail = StatusDone, "sesame wrote no DNS records for this setup"
		return res, nil
	}
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
