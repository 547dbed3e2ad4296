package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/dns/route53"
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
	desired []dns.Desired
	// zone is the domain's hosted zone (nil: none in the account).
	zone *dns.Zone
	// parts are the zones the records go to, each written in its own
	// atomic batch: the domain's zone, and any zone delegated from it that
	// holds some of the names.
	parts []*zonePart
	// plan has one change per desired record, in order; its Batch is
	// unused (each part has its own).
	plan DNSPlan
	// manual are the records no zone of this account serves (their names
	// are delegated elsewhere), for the operator's DNS host.
	manual []dns.Desired
	// dmarcLeft is true when a DMARC policy at least as strict as
	// sesame's already applies to the domain, so sesame publishes none.
	dmarcLeft bool
	mailFrom  string // the MAIL FROM domain wanted, "" for none
	// mailFromTodo is true when SES's MAIL FROM setting differs from it,
	// or is the same but FAILED (mailFromRestart).
	mailFromTodo bool
	// mailFromRestart: SES set the MAIL FROM domain FAILED and stopped
	// checking; only setting it again restarts the check (Amazon SES
	// Developer Guide, "Using a custom MAIL FROM domain", "MAIL FROM domain
	// setup states": Failed — "Amazon SES no longer attempts to detect the
	// required MX record. To use a custom MAIL FROM domain, you have to
	// restart the setup process").
	mailFromRestart bool
	warnings        []string
}

// zonePart is what the dns step writes into one hosted zone.
type zonePart struct {
	zone *dns.Zone
	// records are the desired records served by this zone, and plan their
	// plan (one change each, in the same order).
	records []dns.Desired
	plan    DNSPlan
}

// DesiredRecords returns the record sets the domain needs for the identity
// id (none of DKIM while id is nil), as dns.DesiredRecords says.
func DesiredRecords(domain, region string, id *IdentityInfo, mailFrom string, dmarc bool) []dns.Desired {
	var tokens []string
	zone := ""
	if id != nil && !byoDKIM(id) {
		// BYODKIM has a selector and the operator's own key, never Easy
		// DKIM CNAMEs (identity_dkim.go).
		tokens, zone = id.Tokens, id.SigningHostedZone
	}
	return dns.DesiredRecords(domain, region, tokens, zone, mailFrom, dmarc)
}

// Purposes of the records the domain needs (dns.Desired.Purpose).
const (
	PurposeDKIM        = dns.PurposeDKIM
	PurposeMailFromMX  = dns.PurposeMailFromMX
	PurposeMailFromSPF = dns.PurposeMailFromSPF
	PurposeDMARC       = dns.PurposeDMARC
)

// DNSPlan is what the DNS step would do to a hosted zone.
type DNSPlan struct {
	// Changes has one line per desired record: create, unchanged, merge or
	// conflict (and, for the whole step, manual).
	Changes []Change
	// Batch is the change batch that makes the zone hold every desired
	// record. It is empty when nothing is to do, and when there is any
	// conflict: a conflict stops the run before any write.
	Batch []dns.Change
}

// Conflicts returns the conflicting changes.
func (p DNSPlan) Conflicts() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Action == ActionConflict {
			out = append(out, c)
		}
	}
	return out
}

// Counts returns how many changes of each action the plan holds.
func (p DNSPlan) Counts() map[Action]int {
	m := map[Action]int{}
	for _, c := range p.Changes {
		m[c.Action]++
	}
	return m
}

// PlanDNS plans the desired records of domain against the record sets
// current in its zone (dns.PlanRecords), in the wizard's Changes.
func PlanDNS(domain string, desired []dns.Desired, current []dns.Record) DNSPlan {
	p := dns.PlanRecords(domain, desired, current)
	out := DNSPlan{Batch: p.Batch, Changes: make([]Change, len(p.Changes))}
	for i, c := range p.Changes {
		out.Changes[i] = Change{Action: Action(c.Action), Resource: "dns-record", Name: c.Name, Type: c.Type, Value: c.Value, Current: c.Current, Note: c.Note}
	}
	return out
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
func (st *dnsState) visible() []dns.Desired {
	var out []dns.Desired
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
		if !st.mailFromTodo && id.MailFromStatus == string(sestypes.MailFromDomainStatusFailed) {
			st.mailFromTodo, st.mailFromRestart = true, true
		}
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
	if i := slices.IndexFunc(st.desired, func(d dns.Desired) bool { return d.Purpose == PurposeDMARC }); i >= 0 {
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
		m := dns.NewManual(st.desired)
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
	case st.mailFromRestart:
		res.Status, res.Detail = StatusTodo, fmt.Sprintf("the records are in %s; SES stopped checking the MAIL FROM domain %s (FAILED): setting it again restarts the check", zone, st.mailFrom)
	case st.mailFromTodo:
		res.Status, res.Detail = StatusTodo, fmt.Sprintf("the records are in %s; SES's MAIL FROM domain is to be set to %s", zone, st.mailFrom)
	default:
		res.Status, res.Detail = StatusDone, fmt.Sprintf("the %d records are in %s", len(st.desired)-len(st.manual), zone)
	}
	if len(st.manual) > 0 {
		m := dns.NewManual(st.manual)
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
	switch {
	case st.mailFromRestart:
		p.Changes = append(p.Changes, Change{Action: ActionUpdate, Resource: "ses-identity", Name: env.Answers.Domain, Value: "MAIL FROM " + st.mailFrom + " (set again)",
			Current: "MAIL FROM " + st.mailFrom + " FAILED", Note: "SES stopped looking for its MX record; setting the MAIL FROM domain again makes SES check for 72 hours more"})
		p.Summary += "; set SES's MAIL FROM domain " + st.mailFrom + " again to restart SES's check"
	case st.mailFromTodo:
		p.Changes = append(p.Changes, Change{Action: ActionUpdate, Resource: "ses-identity", Name: env.Answers.Domain, Value: "MAIL FROM " + st.mailFrom, Current: "MAIL FROM " + cmp.Or(env.Facts.Identity.MailFromDomain, "(none)")})
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
		return awsapi.Explain("ses:PutEmailIdentityMailFromAttributes", domain, err)
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
	// What the batch writes is saved before it is submitted, so a run
	// killed right after Route 53 took it still knows what is sesame's
	// (for `sesame remove`); a batch refused as a whole, and not in
	// effect, is dropped again. After another failure it is kept: remove
	// takes back only values that are there as written.
	kept := len(env.Record.DNSWritten)
	env.Record.DNSWritten = append(env.Record.DNSWritten, dns.Writes(z.ID, part.plan.Batch)...)
	if err := env.SaveState(); err != nil {
		return fmt.Errorf("saving what sesame is about to write to zone %s failed, so nothing was written: %w", z.Name, err)
	}
	id, insync, err := dnsProvider(env.Clients.Route53).Apply(ctx, z.ID, "sesame: Amazon SES records for "+env.Answers.Domain, part.plan.Batch)
	if err != nil {
		e := explainRoute53(err)
		var icb *r53types.InvalidChangeBatch
		var ae *awsapi.Error
		if errors.As(err, &icb) && errors.As(e, &ae) {
			if msgs := route53.ChangeBatchMessages(icb); len(msgs) > 0 {
				ae.Message = strings.Join(msgs, "; ")
			}
			diffs, rerr := batchLanded(ctx, env.Clients.Route53, z, part)
			switch {
			case rerr != nil:
				ae.Hint = fmt.Sprintf("Route 53 refused the whole batch, and reading zone %s again to see why failed (%v): run sesame again to re-plan against what is there now", z.Name, rerr)
			case len(diffs) == 0:
				env.Info(s.ID(), "Route 53 refused the batch for zone %s as already done (%s): the zone holds exactly the records planned, so an earlier attempt whose answer was lost wrote them", z.Name, ae.Message)
				return nil
			default:
				// Refused as a whole and not in effect: nothing of it is sesame's.
				env.Record.DNSWritten = env.Record.DNSWritten[:kept]
				_ = env.SaveState()
				ae.Hint = fmt.Sprintf("zone %s changed after sesame read it, so Route 53 refused the whole batch and nothing of it was written; the zone now differs from the plan: %s; run sesame again to re-plan against what is there now", z.Name, strings.Join(diffs, "; "))
			}
		}
		return e
	}
	env.Record.ChangeID = id
	env.Record.ZoneID = z.ID
	if err := env.SaveState(); err != nil {
		return fmt.Errorf("records written (change %s), but saving sesame's state failed: %w", id, err)
	}
	env.Info(s.ID(), "Route 53 accepted change %s for zone %s; waiting for it to reach the name servers", id, z.Name)
	if insync {
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
func batchLanded(ctx context.Context, r53 awsapi.Route53, z *dns.Zone, part *zonePart) ([]string, error) {
	sets, err := readSets(ctx, r53, z.ID, part.records)
	if err != nil {
		return nil, err
	}
	type key struct{ name, typ string }
	now := map[key]*dns.Record{}
	for i := range sets {
		now[key{dns.NormName(sets[i].Name), sets[i].Type}] = &sets[i]
	}
	before := map[key]*dns.Record{}
	after := map[key]*dns.Record{}
	var order []key
	for _, c := range part.plan.Batch {
		k := key{dns.NormName(c.Set.Name), c.Set.Type}
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
		if c.Op == dns.OpDelete {
			before[k] = &c.Set
		} else {
			after[k] = &c.Set
		}
	}
	show := func(s *dns.Record) string {
		if s == nil {
			return "nothing"
		}
		return strings.Join(s.Values, " ")
	}
	same := func(a, b *dns.Record) bool {
		if a == nil || b == nil {
			return a == nil && b == nil
		}
		return sameSetValues(*a, *b) && a.TTL == b.TTL
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
func sameSetValues(a, b dns.Record) bool {
	norm := func(s dns.Record) []string {
		var out []string
		for _, v := range s.Values {
			switch s.Type {
			case "TXT", "SPF":
				v = strings.Join(dns.TXTStrings(v), "\x00")
			case "MX":
				v = dns.NormMX(v)
			case "CNAME", "NS":
				v = dns.NormName(v)
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
		insync, err := dnsProvider(env.Clients.Route53).InSync(ctx, id)
		if err != nil {
			// awsapi.Explain passes a cancellation through as it is.
			if err = explainRoute53(err); errors.Is(err, context.Canceled) {
				return err
			}
			env.Warn(s.ID(), "could not follow change %s (%v); the records are written, and verification goes on", id, err)
			return nil
		}
		if insync {
			return nil
		}
		if env.Clock.Now().Sub(start) >= insyncBound {
			break
		}
	}
	env.Warn(s.ID(), "change %s is still PENDING after %s; the records are written, and verification goes on", id, insyncBound)
	return nil
}
