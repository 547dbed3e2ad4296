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
	desired []DNSRecord
	// zone is the domain's hosted zone (nil: none in the account).
	zone *ZoneInfo
	// parts are the zones the records go to, each written in its own
	// atomic batch: the domain's zone, and any zone delegated from it that
	// holds some of the names.
	parts []*zonePart
	// plan has one change per desired record, in order; its Batch is
	// unused (each part has its own).
	plan DNSPlan
	// manual are the records no zone of this account serves (their names
	// are delegated elsewhere), for the operator's DNS host.
	manual []DNSRecord
	// dmarcLeft is true when a DMARC policy at least as strict as
	// sesame's already applies to the domain, so sesame publishes none.
	dmarcLeft bool
	mailFrom  string // the MAIL FROM domain wanted, "" for none
	// mailFromTodo is true when SES's MAIL FROM setting differs from it.
	mailFromTodo bool
	warnings     []string
}

// zonePart is what the dns step writes into one hosted zone.
type zonePart struct {
	zone *ZoneInfo
	// records are the desired records served by this zone, and plan their
	// plan (one change each, in the same order).
	records []DNSRecord
	plan    DNSPlan
}

// ActionManual marks a record sesame cannot publish itself: its name is
// served by DNS outside the account, and the operator adds it there.
const ActionManual Action = "manual"

func (s DNS) read(ctx context.Context, env *Env) (*dnsState, error) {
	st, err := s.readFor(ctx, env, env.Facts.Identity)
	if err != nil {
		return nil, err
	}
	env.Facts.Records = st.visible()
	return st, nil
}

// visible are the records to look for in public DNS: every desired record
// but a DMARC policy sesame leaves out because a stronger one applies.
func (st *dnsState) visible() []DNSRecord {
	var out []DNSRecord
	for _, d := range st.desired {
		if d.Purpose == PurposeDMARC && st.dmarcLeft {
			continue
		}
		out = append(out, d)
	}
	return out
}

// readFor works out the plan for the records id needs (with id nil, the
// ones known before SES gives the DKIM tokens: MAIL FROM and DMARC).
func (s DNS) readFor(ctx context.Context, env *Env, id *IdentityInfo) (*dnsState, error) {
	domain := strings.ToLower(env.Answers.Domain)
	st := &dnsState{desired: DesiredRecords(domain, env.Answers.Region, id, env.Answers.MailFrom, env.Answers.DMARC)}
	if env.Answers.MailFrom != "" {
		st.mailFrom = strings.ToLower(env.Answers.MailFrom) + "." + domain
		mf := ""
		if id != nil {
			mf = id.MailFromDomain
		}
		st.mailFromTodo = !strings.EqualFold(strings.TrimSuffix(mf, "."), st.mailFrom)
	}
	zl, err := findZone(ctx, env, s.ID())
	if err != nil {
		return nil, err
	}
	st.zone, st.warnings = zl.Zone, zl.Warnings
	if st.zone == nil {
		return st, nil
	}
	st.plan.Changes = make([]Change, len(st.desired))
	planned := make([]bool, len(st.desired))
	if i := slices.IndexFunc(st.desired, func(d DNSRecord) bool { return d.Purpose == PurposeDMARC }); i >= 0 {
		ch, skip, warn, err := dmarcInForce(ctx, env, st.zone, domain, st.desired[i])
		if err != nil {
			return nil, err
		}
		if warn != "" {
			st.warnings = append(st.warnings, warn)
		}
		if skip {
			st.plan.Changes[i], planned[i], st.dmarcLeft = ch, true, true
		}
	}
	if err := s.route(ctx, env, st, domain, planned); err != nil {
		return nil, err
	}
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
		m := NewManualRecords(st.desired)
		writeRecordFiles(env, s.ID(), m)
		env.Publish(s.ID(), m)
		res.Status = StatusSkipped
		res.Detail = fmt.Sprintf("no public hosted zone for %s in this account: add these %d records at your DNS host; verification waits for them", env.Answers.Domain, len(st.desired))
		return res, nil
	}
	n := st.plan.Counts()
	zone := st.zonesLabel()
	switch {
	case n[ActionConflict] > 0:
		res.Status, res.Detail = StatusTodo, fmt.Sprintf("%d of the records conflict with what is in %s", n[ActionConflict], zone)
	case st.hasBatch():
		res.Status, res.Detail = StatusTodo, planSummary(st, zone)
	case st.mailFromTodo:
		res.Status, res.Detail = StatusTodo, fmt.Sprintf("the records are in %s; SES's MAIL FROM domain is to be set to %s", zone, st.mailFrom)
	default:
		res.Status, res.Detail = StatusDone, fmt.Sprintf("the %d records are in %s", len(st.desired)-len(st.manual), zone)
	}
	if len(st.manual) > 0 {
		m := NewManualRecords(st.manual)
		writeRecordFiles(env, s.ID(), m)
		env.Publish(s.ID(), m)
		if !st.hasBatch() || n[ActionConflict] > 0 {
			// planSummary says it already when there is a batch.
			res.Detail += fmt.Sprintf("; %d records are for the DNS host that serves their names (delegated away from Route 53 here), and verification waits for them", len(st.manual))
		}
		for _, c := range st.plan.Changes {
			if c.Action == ActionManual {
				res.Warnings = append(res.Warnings, c.Name+" "+c.Type+": "+c.Note)
			}
		}
	}
	return res, nil
}

// hasBatch reports whether any zone has something to write.
func (st *dnsState) hasBatch() bool {
	for _, p := range st.parts {
		if len(p.plan.Batch) > 0 {
			return true
		}
	}
	return false
}

// zonesLabel names the zones the records go to: "zone example.com (Z1)",
// or "zones example.com (Z1) and mail.example.com (Z2)".
func (st *dnsState) zonesLabel() string {
	var names []string
	for _, p := range st.parts {
		names = append(names, fmt.Sprintf("%s (%s)", p.zone.Name, p.zone.ID))
	}
	if len(names) == 0 && st.zone != nil {
		names = append(names, fmt.Sprintf("%s (%s)", st.zone.Name, st.zone.ID))
	}
	if len(names) == 1 {
		return "zone " + names[0]
	}
	return "zones " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
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
		p.Summary = planSummary(st, st.zonesLabel())
	} else {
		p.Summary = fmt.Sprintf("no public hosted zone for %s: the records are for your DNS host", env.Answers.Domain)
	}
	if st.mailFromTodo {
		p.Changes = append(p.Changes, Change{Action: ActionUpdate, Resource: "ses-identity", Name: env.Answers.Domain, Value: "MAIL FROM " + st.mailFrom, Current: "MAIL FROM " + firstNonEmpty(env.Facts.Identity.MailFromDomain, "(none)")})
		p.Summary += "; set SES's MAIL FROM domain to " + st.mailFrom
	}
	p.NeedsApproval = st.hasBatch() || st.mailFromTodo
	return p, nil
}

// Preflight plans, before the run's first change, what is known without
// the DKIM tokens: the hosted zone (a --zone-id that does not exist, or
// two public zones of one name, is bad input now rather than after the
// IAM user and the SES identity exist), the zones serving the MAIL FROM
// and DMARC names, the DMARC policy already in force, and the records at
// those names. It returns the conflicts it sees.
func (s DNS) Preflight(ctx context.Context, env *Env) ([]Change, error) {
	st, err := s.readFor(ctx, env, env.Facts.Identity)
	if err != nil {
		return nil, err
	}
	if st.zone == nil {
		return nil, nil
	}
	return st.plan.Conflicts(), nil
}

// planSummary says what the plan does in one line: "create 3 DKIM records
// in zone example.com (Z123)".
func planSummary(st *dnsState, zone string) string {
	var create, merge, same, conflict, manual []string
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
		case ActionManual:
			manual = append(manual, what)
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
	tail := ""
	if len(manual) > 0 {
		tail = fmt.Sprintf("; %s for the DNS host serving their names (not served from here)", countRecords(manual))
	}
	if len(parts) == 0 {
		if len(same) == 0 {
			return "nothing to write in " + zone + tail
		}
		return fmt.Sprintf("the %s in %s are in place", countRecords(same), zone) + tail
	}
	s := strings.Join(parts, ", ") + " in " + zone
	if len(same) > 0 {
		s += fmt.Sprintf(" (%d already in place)", len(same))
	}
	return s + tail
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

// Apply re-reads the zones, writes each zone's plan in one atomic batch,
// waits for Route 53 to have it in sync, and sets SES's MAIL FROM domain.
// Nothing is written when any zone's plan has a conflict.
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
		for _, part := range st.parts {
			if len(part.plan.Batch) > 0 {
				if err := s.write(ctx, env, part); err != nil {
					return err
				}
			}
		}
		env.Record.ZoneID = st.zone.ID
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

// write submits one zone's batch and waits for it to be in sync. When
// Route 53 refuses the batch as invalid, the zone is read again: a batch
// whose answer was lost (the SDK's retry then finds its own records there)
// has done its work; anything else is told record by record.
func (s DNS) write(ctx context.Context, env *Env, part *zonePart) error {
	z := part.zone
	out, err := env.Clients.Route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(z.ID),
		ChangeBatch: &r53types.ChangeBatch{
			Comment: aws.String("sesame: Amazon SES records for " + env.Answers.Domain),
			Changes: part.plan.Batch,
		},
	})
	if err != nil {
		e := Explain("route53:ChangeResourceRecordSets", z.ID, err)
		var icb *r53types.InvalidChangeBatch
		var ae *AWSError
		if errors.As(err, &icb) && errors.As(e, &ae) {
			if len(icb.Messages) > 0 {
				ae.Message = strings.Join(icb.Messages, "; ")
			}
			diffs, rerr := batchLanded(ctx, env.Clients.Route53, z, part)
			switch {
			case rerr != nil:
				ae.Hint = fmt.Sprintf("Route 53 refused the whole batch, and reading zone %s again to see why failed (%v): run sesame again to re-plan against what is there now", z.Name, rerr)
			case len(diffs) == 0:
				env.Info(s.ID(), "Route 53 refused the batch for zone %s as already done (%s): the zone holds exactly the records planned, so an earlier attempt whose answer was lost wrote them", z.Name, ae.Message)
				return nil
			default:
				ae.Hint = fmt.Sprintf("zone %s changed after sesame read it, so Route 53 refused the whole batch and nothing of it was written; the zone now differs from the plan: %s; run sesame again to re-plan against what is there now", z.Name, strings.Join(diffs, "; "))
			}
		}
		return e
	}
	id := ""
	if out.ChangeInfo != nil {
		id = trimZoneID(aws.ToString(out.ChangeInfo.Id))
	}
	env.Record.ChangeID = id
	env.Record.ZoneID = z.ID
	if err := env.SaveState(); err != nil {
		return fmt.Errorf("records written (change %s), but saving sesame's state failed: %w", id, err)
	}
	env.Info(s.ID(), "Route 53 accepted change %s for zone %s; waiting for it to reach the name servers", id, z.Name)
	if out.ChangeInfo != nil && out.ChangeInfo.Status == r53types.ChangeStatusInsync {
		return nil
	}
	return s.waitInsync(ctx, env, id)
}

// batchLanded reads the zone's sets at the batch's names again and
// compares them with the plan. It returns nothing when the zone holds
// exactly what the batch makes (the batch is in effect); otherwise one
// line per set that changed since sesame read it (what sesame read, what
// is there now, what was planned), or, if none changed, per set the
// batch would have written.
func batchLanded(ctx context.Context, r53 Route53API, z *ZoneInfo, part *zonePart) ([]string, error) {
	sets, err := readSets(ctx, r53, z.ID, part.records)
	if err != nil {
		return nil, err
	}
	type key struct{ name, typ string }
	now := map[key]*r53types.ResourceRecordSet{}
	for i := range sets {
		now[key{normName(aws.ToString(sets[i].Name)), string(sets[i].Type)}] = &sets[i]
	}
	before := map[key]*r53types.ResourceRecordSet{}
	after := map[key]*r53types.ResourceRecordSet{}
	var order []key
	for _, c := range part.plan.Batch {
		k := key{normName(aws.ToString(c.ResourceRecordSet.Name)), string(c.ResourceRecordSet.Type)}
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
		if c.Action == r53types.ChangeActionDelete {
			before[k] = c.ResourceRecordSet
		} else {
			after[k] = c.ResourceRecordSet
		}
	}
	show := func(s *r53types.ResourceRecordSet) string {
		if s == nil {
			return "nothing"
		}
		return strings.Join(wireValues(*s), " ")
	}
	same := func(a, b *r53types.ResourceRecordSet) bool {
		if a == nil || b == nil {
			return a == nil && b == nil
		}
		return sameSetValues(*a, *b) && aws.ToInt64(a.TTL) == aws.ToInt64(b.TTL)
	}
	var changed, unwritten []string
	for _, k := range order {
		label := strings.TrimSuffix(k.name, ".") + " " + k.typ
		switch {
		case same(now[k], after[k]):
		case same(now[k], before[k]):
			unwritten = append(unwritten, fmt.Sprintf("%s still holds %s (planned %s)", label, show(now[k]), show(after[k])))
		default:
			changed = append(changed, fmt.Sprintf("%s held %s when sesame read it and now holds %s (planned %s)", label, show(before[k]), show(now[k]), show(after[k])))
		}
	}
	if len(changed) > 0 {
		return changed, nil
	}
	return unwritten, nil
}

// sameSetValues compares two sets' values as Route 53 does: TXT by their
// strings in wire form, names case-insensitively, order aside.
func sameSetValues(a, b r53types.ResourceRecordSet) bool {
	norm := func(s r53types.ResourceRecordSet) []string {
		var out []string
		for _, v := range wireValues(s) {
			switch s.Type {
			case r53types.RRTypeTxt, r53types.RRTypeSpf:
				v = strings.Join(TXTStrings(v), "\x00")
			case r53types.RRTypeMx:
				v = normMX(v)
			case r53types.RRTypeCname, r53types.RRTypeNs:
				v = normName(v)
			}
			out = append(out, v)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
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
	return readSetsBelow(ctx, r53, zoneID, "", desired)
}

// readSetsBelow is readSets that also reads the names between each desired
// name and the apex of zone (when not ""), where an NS set would delegate
// the desired name away from the zone. The DKIM names' parent comes with
// their listing, so a domain at the zone's apex costs no extra call.
func readSetsBelow(ctx context.Context, r53 Route53API, zoneID, zone string, desired []DNSRecord) ([]r53types.ResourceRecordSet, error) {
	var names []string
	add := func(n string) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, d := range desired {
		add(normName(d.Name))
	}
	if zone != "" {
		apex := normName(zone)
		for _, d := range desired {
			for a := parentName(normName(d.Name)); a != "" && a != apex && strings.HasSuffix(a, "."+apex); a = parentName(a) {
				add(a)
			}
		}
	}
	children := map[string][]string{}
	for _, name := range names {
		if p := parentName(name); strings.HasPrefix(p, "_") {
			children[p] = append(children[p], name)
		}
	}
	var out []r53types.ResourceRecordSet
	listed := map[string]bool{}
	for _, name := range names {
		if len(children[name]) > 1 {
			// An underscored parent read with its children's listing.
			keep := append(slices.Clone(children[name]), name)
			if !listed[name] {
				listed[name] = true
				sets, err := setsUnder(ctx, r53, zoneID, name, keep)
				if err != nil {
					return nil, err
				}
				out = append(out, sets...)
			}
			continue
		}
		p := parentName(name)
		if kids := children[p]; len(kids) > 1 {
			if !listed[p] {
				listed[p] = true
				keep := kids
				if slices.Contains(names, p) {
					keep = append(slices.Clone(kids), p)
				}
				sets, err := setsUnder(ctx, r53, zoneID, p, keep)
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
