package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// How long Apply waits for Route 53 to report a change INSYNC. Route 53
// says "generally within 60 seconds"; past the bound sesame warns and goes
// on, since SES keeps looking for the records anyway.
const (
	insyncPoll  = 2 * time.Second
	insyncBound = 2 * time.Minute
)

// DNS is the "dns" step: it puts the DKIM CNAMEs (and, if chosen, the MAIL
// FROM MX and SPF and a DMARC policy) into the domain's public hosted zone,
// after showing them as a plan, and never clobbers a record that is there.
// Without a hosted zone in the account it prints the records for the
// operator's DNS host and the wizard goes on.
type DNS struct{}

// ID returns "dns".
func (DNS) ID() string { return "dns" }

// Title returns the step's name.
func (DNS) Title() string { return "Publish the DNS records" }

// dnsState is what Check, Plan and Apply all work out from AWS.
type dnsState struct {
	desired  []DNSRecord
	zone     *ZoneInfo
	plan     DNSPlan
	mailFrom string // the MAIL FROM domain wanted, "" for none
	// mailFromTodo is true when SES's MAIL FROM setting differs from it.
	mailFromTodo bool
	warnings     []string
}

func (s DNS) read(ctx context.Context, env *Env) (*dnsState, error) {
	id := env.Facts.Identity
	domain := strings.ToLower(env.Answers.Domain)
	st := &dnsState{desired: DesiredRecords(domain, env.Answers.Region, id, env.Answers.MailFrom, env.Answers.DMARC)}
	env.Facts.Records = st.desired
	if env.Answers.MailFrom != "" {
		st.mailFrom = strings.ToLower(env.Answers.MailFrom) + "." + domain
		st.mailFromTodo = !strings.EqualFold(strings.TrimSuffix(id.MailFromDomain, "."), st.mailFrom)
	}
	zl, err := findZone(ctx, env, s.ID())
	if err != nil {
		return nil, err
	}
	st.zone, st.warnings = zl.Zone, zl.Warnings
	if st.zone == nil {
		return st, nil
	}
	current, err := readSets(ctx, env.Clients.Route53, st.zone.ID, st.desired)
	if err != nil {
		return nil, err
	}
	st.plan = PlanDNS(domain, st.desired, current)
	return st, nil
}

// Check reports Done when every record is in the zone (and SES has the
// MAIL FROM domain, if one is chosen), Skipped when there is no zone (the
// records are shown for the operator's DNS host), Todo otherwise.
func (s DNS) Check(ctx context.Context, env *Env) (Result, error) {
	if env.Facts.Identity == nil {
		return Result{Status: StatusTodo, Detail: "waiting for the identity: SES gives the DKIM tokens when it creates it"}, nil
	}
	st, err := s.read(ctx, env)
	if err != nil {
		return Result{}, err
	}
	res := Result{Warnings: st.warnings}
	if st.zone == nil {
		if st.mailFromTodo {
			res.Status, res.Detail = StatusTodo, fmt.Sprintf("no public hosted zone for %s in this account; SES's MAIL FROM domain is to be set to %s", env.Answers.Domain, st.mailFrom)
			return res, nil
		}
		env.Publish(s.ID(), NewManualRecords(st.desired))
		res.Status = StatusSkipped
		res.Detail = fmt.Sprintf("no public hosted zone for %s in this account: add these %d records at your DNS host; verification waits for them", env.Answers.Domain, len(st.desired))
		return res, nil
	}
	n := st.plan.Counts()
	zone := fmt.Sprintf("zone %s (%s)", st.zone.Name, st.zone.ID)
	switch {
	case n[ActionConflict] > 0:
		res.Status, res.Detail = StatusTodo, fmt.Sprintf("%d of the records conflict with what is in %s", n[ActionConflict], zone)
	case len(st.plan.Batch) > 0:
		res.Status, res.Detail = StatusTodo, planSummary(st, zone)
	case st.mailFromTodo:
		res.Status, res.Detail = StatusTodo, fmt.Sprintf("the %d records are in %s; SES's MAIL FROM domain is to be set to %s", len(st.desired), zone, st.mailFrom)
	default:
		res.Status, res.Detail = StatusDone, fmt.Sprintf("the %d records are in %s", len(st.desired), zone)
	}
	return res, nil
}

// Plan lists each record as create, unchanged, merge or conflict.
func (s DNS) Plan(ctx context.Context, env *Env) (Plan, error) {
	if env.Facts.Identity == nil {
		return Plan{Summary: "publish the DKIM records once the identity exists (SES gives their tokens when it creates it)"}, nil
	}
	st, err := s.read(ctx, env)
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	if st.zone != nil {
		p.Changes = st.plan.Changes
		p.Summary = planSummary(st, fmt.Sprintf("zone %s (%s)", st.zone.Name, st.zone.ID))
	} else {
		p.Summary = fmt.Sprintf("no public hosted zone for %s: the records are for your DNS host", env.Answers.Domain)
	}
	if st.mailFromTodo {
		p.Changes = append(p.Changes, Change{Action: ActionUpdate, Resource: "ses-identity", Name: env.Answers.Domain, Value: "MAIL FROM " + st.mailFrom, Current: "MAIL FROM " + firstNonEmpty(env.Facts.Identity.MailFromDomain, "(none)")})
		p.Summary += "; set SES's MAIL FROM domain to " + st.mailFrom
	}
	p.NeedsApproval = len(st.plan.Batch) > 0 || st.mailFromTodo
	return p, nil
}

// planSummary says what the plan does in one line: "create 3 DKIM records
// in zone example.com (Z123)".
func planSummary(st *dnsState, zone string) string {
	var create, merge, same, conflict []string
	for i, c := range st.plan.Changes {
		what := st.desired[i].Purpose
		switch c.Action {
		case ActionCreate:
			create = append(create, what)
		case ActionMerge:
			merge = append(merge, what)
		case ActionUnchanged:
			same = append(same, what)
		case ActionConflict:
			conflict = append(conflict, what)
		}
	}
	var parts []string
	if len(conflict) > 0 {
		parts = append(parts, fmt.Sprintf("%s conflict (nothing will be written)", countRecords(conflict)))
	}
	if len(create) > 0 {
		parts = append(parts, "create "+countRecords(create))
	}
	if len(merge) > 0 {
		parts = append(parts, "merge "+countRecords(merge)+" into the values already there")
	}
	if len(parts) == 0 {
		return fmt.Sprintf("the %s in %s are in place", countRecords(same), zone)
	}
	s := strings.Join(parts, ", ") + " in " + zone
	if len(same) > 0 {
		s += fmt.Sprintf(" (%d already in place)", len(same))
	}
	return s
}

// countRecords renders "3 DKIM records" when all share a purpose, "4 records" otherwise.
func countRecords(purposes []string) string {
	noun := "records"
	if len(purposes) == 1 {
		noun = "record"
	}
	for _, p := range purposes[1:] {
		if p != purposes[0] {
			return fmt.Sprintf("%d %s", len(purposes), noun)
		}
	}
	return fmt.Sprintf("%d %s %s", len(purposes), purposes[0], noun)
}

// Apply re-reads the zone, writes the plan in one atomic batch, waits for
// Route 53 to have it in sync, and sets SES's MAIL FROM domain.
func (s DNS) Apply(ctx context.Context, env *Env) error {
	if env.Facts.Identity == nil {
		return errors.New("publish the DNS records: the identity step has not run, so the DKIM tokens are unknown; run sesame again")
	}
	st, err := s.read(ctx, env)
	if err != nil {
		return err
	}
	if st.zone != nil {
		if cs := st.plan.Conflicts(); len(cs) > 0 {
			return conflictError(Plan{Changes: cs})
		}
		if len(st.plan.Batch) > 0 {
			if err := s.write(ctx, env, st); err != nil {
				return err
			}
		}
	}
	if st.mailFromTodo {
		return s.putMailFrom(ctx, env, st.mailFrom)
	}
	return nil
}

// putMailFrom sets the identity's custom MAIL FROM domain. On an MX
// failure SES falls back to its own MAIL FROM rather than rejecting mail.
func (s DNS) putMailFrom(ctx context.Context, env *Env, mailFrom string) error {
	domain := env.Answers.Domain
	_, err := env.Clients.SES.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{
		EmailIdentity:       aws.String(domain),
		MailFromDomain:      aws.String(mailFrom),
		BehaviorOnMxFailure: sestypes.BehaviorOnMxFailureUseDefaultValue,
	})
	if err != nil {
		return Explain("ses:PutEmailIdentityMailFromAttributes", domain, err)
	}
	if id := env.Facts.Identity; id != nil {
		id.MailFromDomain = mailFrom
		id.MailFromStatus = string(sestypes.MailFromDomainStatusPending)
	}
	env.Info(s.ID(), "SES will send with MAIL FROM %s once its MX and SPF records are seen", mailFrom)
	return nil
}

// write submits the batch and waits for it to be in sync.
func (s DNS) write(ctx context.Context, env *Env, st *dnsState) error {
	out, err := env.Clients.Route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(st.zone.ID),
		ChangeBatch: &r53types.ChangeBatch{
			Comment: aws.String("sesame: Amazon SES records for " + env.Answers.Domain),
			Changes: st.plan.Batch,
		},
	})
	if err != nil {
		e := Explain("route53:ChangeResourceRecordSets", st.zone.ID, err)
		var icb *r53types.InvalidChangeBatch
		var ae *AWSError
		if errors.As(err, &icb) && errors.As(e, &ae) {
			if len(icb.Messages) > 0 {
				ae.Message = strings.Join(icb.Messages, "; ")
			}
			ae.Hint = "the zone changed after sesame read it (someone else edited it), so Route 53 refused the whole batch and nothing was written: run sesame again to re-plan against what is there now"
		}
		return e
	}
	id := ""
	if out.ChangeInfo != nil {
		id = trimZoneID(aws.ToString(out.ChangeInfo.Id))
	}
	env.Record.ChangeID = id
	env.Record.ZoneID = st.zone.ID
	if err := env.SaveState(); err != nil {
		return fmt.Errorf("records written (change %s), but saving sesame's state failed: %w", id, err)
	}
	env.Info(s.ID(), "Route 53 accepted change %s for zone %s; waiting for it to reach the name servers", id, st.zone.Name)
	if out.ChangeInfo != nil && out.ChangeInfo.Status == r53types.ChangeStatusInsync {
		return nil
	}
	return s.waitInsync(ctx, env, id)
}

// waitInsync polls GetChange about every insyncPoll until INSYNC, for at
// most insyncBound; past it, or if GetChange fails, it warns and returns:
// the records are written, and SES looks for them on its own schedule.
func (s DNS) waitInsync(ctx context.Context, env *Env, id string) error {
	start := env.Clock.Now()
	for i := 0; i < int(insyncBound/insyncPoll); i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-env.Clock.After(insyncPoll):
		}
		out, err := env.Clients.Route53.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			env.Warn(s.ID(), "could not follow change %s (%v); the records are written, and verification goes on", id, Explain("route53:GetChange", id, err))
			return nil
		}
		if out.ChangeInfo != nil && out.ChangeInfo.Status == r53types.ChangeStatusInsync {
			return nil
		}
		if env.Clock.Now().Sub(start) >= insyncBound {
			break
		}
	}
	env.Warn(s.ID(), "change %s is still PENDING after %s; the records are written, and verification goes on", id, insyncBound)
	return nil
}

// readSets returns the record sets at the names of the desired records
// (every type). Names that share an underscored parent (the DKIM CNAMEs
// under _domainkey: RFC 8552 scoping nodes, which hold few records) are
// read with one listing of that parent's subtree instead of one per name,
// so the three DKIM CNAMEs cost one Route 53 call; the others are read
// one listing each, from the name.
func readSets(ctx context.Context, r53 Route53API, zoneID string, desired []DNSRecord) ([]r53types.ResourceRecordSet, error) {
	var names []string
	children := map[string][]string{}
	for _, d := range desired {
		name := normName(d.Name)
		if slices.Contains(names, name) {
			continue
		}
		names = append(names, name)
		if p := parentName(name); strings.HasPrefix(p, "_") {
			children[p] = append(children[p], name)
		}
	}
	var out []r53types.ResourceRecordSet
	listed := map[string]bool{}
	for _, name := range names {
		p := parentName(name)
		if kids := children[p]; len(kids) > 1 {
			if !listed[p] {
				listed[p] = true
				sets, err := setsUnder(ctx, r53, zoneID, p, kids)
				if err != nil {
					return nil, err
				}
				out = append(out, sets...)
			}
			continue
		}
		sets, err := setsAt(ctx, r53, zoneID, name)
		if err != nil {
			return nil, err
		}
		out = append(out, sets...)
	}
	return out, nil
}

// parentName is name without its first label ("a.b.c." gives "b.c.").
func parentName(name string) string {
	if i := strings.IndexByte(name, '.'); i >= 0 && i+1 < len(name) {
		return name[i+1:]
	}
	return ""
}

// setsUnder returns the record sets named one of names, all below parent,
// with one listing that starts at parent. Route 53 lists names with their
// labels reversed ("com.example._domainkey.abc"), so the subtree comes in
// one run; the listing stops at the first name whose reversed form does
// not start with the parent's, which is past the subtree whether names
// are compared label by label or as whole strings.
func setsUnder(ctx context.Context, r53 Route53API, zoneID, parent string, names []string) ([]r53types.ResourceRecordSet, error) {
	prefix := reversedLabels(parent)
	return listFrom(ctx, r53, zoneID, parent, func(n string) (keep, more bool) {
		if !strings.HasPrefix(reversedLabels(n), prefix) {
			return false, false
		}
		return slices.Contains(names, n), true
	})
}

// listFrom pages through ListResourceRecordSets from start, in Route 53's
// order, keeping the sets visit keeps, until visit says there are no more
// of interest or the listing ends. visit gets each set's normalised name.
func listFrom(ctx context.Context, r53 Route53API, zoneID, start string, visit func(name string) (keep, more bool)) ([]r53types.ResourceRecordSet, error) {
	var out []r53types.ResourceRecordSet
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), StartRecordName: aws.String(start)}
	for page := 0; page < 1000; page++ {
		resp, err := r53.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, Explain("route53:ListResourceRecordSets", zoneID, err)
		}
		for _, s := range resp.ResourceRecordSets {
			keep, more := visit(normName(aws.ToString(s.Name)))
			if !more {
				return out, nil
			}
			if keep {
				out = append(out, s)
			}
		}
		if !resp.IsTruncated || resp.NextRecordName == nil {
			return out, nil
		}
		in = &route53.ListResourceRecordSetsInput{
			HostedZoneId: aws.String(zoneID), StartRecordName: resp.NextRecordName,
			StartRecordType: resp.NextRecordType, StartRecordIdentifier: resp.NextRecordIdentifier,
		}
	}
	return out, nil
}

// reversedLabels is a name with its labels reversed, "com.example.www",
// the order ListResourceRecordSets lists in.
func reversedLabels(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".")
}

// setsAt returns every record set named exactly name. The list starts at
// name and runs on in Route 53's order, so it stops at the first other name.
func setsAt(ctx context.Context, r53 Route53API, zoneID, name string) ([]r53types.ResourceRecordSet, error) {
	return listFrom(ctx, r53, zoneID, name, func(n string) (keep, more bool) {
		return n == name, n == name
	})
}
