package dns

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sesame-tool/sesame/steps/ses"
)

// The TTLs of the records sesame writes. DKIM keys rarely change, so an hour
// keeps resolver load low; the MAIL FROM and DMARC records use five minutes
// so a mistake is quick to correct.
const (
	dkimTTL  = 1800
	otherTTL = 300
)

// Purposes of the records the domain needs (Desired.Purpose).
const (
	PurposeDKIM        = "DKIM"
	PurposeMailFromMX  = "MAIL FROM MX"
	PurposeMailFromSPF = "MAIL FROM SPF"
	PurposeDMARC       = "DMARC"
)

// SPF and DMARC values sesame publishes.
const (
	spfValue     = "v=spf1 include:amazonses.com ~all"
	spfInclude   = "include:amazonses.com"
	dmarcValue   = "v=DMARC1; p=none;"
	txtChunkSize = 255
)

// DesiredRecords returns the record sets the domain needs, in presentation
// form: names and CNAME/MX targets without a trailing dot, TXT values
// unquoted. The DKIM CNAMEs, one per token SES gave, point into
// signingZone (the identity's SigningHostedZone), or the region's DKIM
// zone when SES does not say; mailFrom, when not empty, adds the MAIL FROM
// MX and SPF at mailFrom.<domain>; dmarc adds a DMARC policy at
// _dmarc.<domain> (which the planner writes only if none exists).
func DesiredRecords(domain, region string, tokens []string, signingZone, mailFrom string, dmarc bool) []Desired {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	var out []Desired
	if len(tokens) > 0 {
		zone := strings.TrimSuffix(strings.ToLower(signingZone), ".")
		if zone == "" {
			zone = ses.DKIMZone(region)
		}
		for _, t := range tokens {
			t = strings.ToLower(t)
			out = append(out, Desired{
				Name: t + "._domainkey." + domain, Type: "CNAME", TTL: dkimTTL,
				Values: []string{t + "." + zone}, Purpose: PurposeDKIM,
			})
		}
	}
	if mailFrom != "" {
		name := strings.ToLower(mailFrom) + "." + domain
		out = append(out,
			Desired{Name: name, Type: "MX", TTL: otherTTL, Values: []string{"10 " + ses.FeedbackHost(region)}, Purpose: PurposeMailFromMX},
			Desired{Name: name, Type: "TXT", TTL: otherTTL, Values: []string{spfValue}, Purpose: PurposeMailFromSPF},
		)
	}
	if dmarc {
		out = append(out, Desired{Name: "_dmarc." + domain, Type: "TXT", TTL: otherTTL, Values: []string{dmarcValue}, Purpose: PurposeDMARC})
	}
	return out
}

// Action is what the plan does with one desired record. The values are
// the wizard's own words for them (steps.Action), so they map one to one.
type Action string

// The planner's actions.
const (
	Create    Action = "create"
	Unchanged Action = "unchanged"
	Merge     Action = "merge"
	Conflict  Action = "conflict"
)

// Planned is the plan for one desired record: what happens to it, what is
// there now, and why, in the operator's words.
type Planned struct {
	Action Action
	// Name is the record's name without the trailing dot, Type its type.
	Name, Type string
	// Value is the desired value (for a merge, the merged set), one value
	// per line, in presentation form.
	Value string
	// Current is what the zone holds there now, "" for nothing.
	Current string
	// Note explains a merge or a conflict, and what to do about it.
	Note string
}

// Op is what a change of a batch does to one record set.
type Op string

// The operations of a change batch. There is no upsert: a concurrent edit
// must make the batch fail rather than lose a value.
const (
	OpCreate Op = "CREATE"
	OpDelete Op = "DELETE"
)

// Change is one entry of an atomic change batch. A DELETE carries the set
// exactly as the provider listed it (see Record).
type Change struct {
	Op  Op
	Set Record
}

// Plan is what would be done to a zone.
type Plan struct {
	// Changes has one entry per desired record, in order: create,
	// unchanged, merge or conflict.
	Changes []Planned
	// Batch is the change batch that makes the zone hold every desired
	// record. It is empty when nothing is to do, and when there is any
	// conflict: a conflict stops the run before any write.
	Batch []Change
}

// PlanRecords compares the desired records of domain with the record sets
// currently in its zone and works out, for each, whether to create it,
// leave it, merge it into an existing set or stop on a conflict. It is pure:
// no I/O, same answer for the same input.
//
// Its promises, which the fuzz test checks: it never plans a change to an
// MX at the domain itself; it never UPSERTs, so a concurrent edit makes the
// batch fail rather than lose a value; a TXT set is replaced only by a
// DELETE of its exact current values and a CREATE of a superset of them;
// a name ends with at most one SPF record; a conflict empties the batch.
// desired must hold at most one record per (name, type), as
// DesiredRecords returns.
func PlanRecords(domain string, desired []Desired, current []Record) Plan {
	apex := NormName(domain)
	byName := map[string][]Record{}
	for _, s := range current {
		n := NormName(s.Name)
		byName[n] = append(byName[n], s)
	}
	var plan Plan
	conflict := false
	for _, d := range desired {
		name := NormName(d.Name)
		ch := Planned{Name: strings.TrimSuffix(name, "."), Type: strings.ToUpper(d.Type), Value: strings.Join(d.Values, "\n")}
		var batch []Change
		if ch.Type == "MX" && name == apex {
			ch.Action, ch.Note = Conflict, "sesame never writes an MX record at the domain itself: it would take over the domain's incoming mail"
		} else {
			batch = planOne(&ch, name, d, byName[name])
		}
		if ch.Action == Conflict {
			conflict = true
		}
		plan.Changes = append(plan.Changes, ch)
		plan.Batch = append(plan.Batch, batch...)
	}
	if conflict {
		plan.Batch = nil
	}
	return plan
}

// planOne decides one desired record against the sets at its name and
// fills ch; it returns that record's part of the batch.
func planOne(ch *Planned, name string, d Desired, sets []Record) []Change {
	typ := ch.Type
	var same *Record
	var cname *Record
	var others []string
	for i := range sets {
		switch t := sets[i].Type; {
		case t == typ:
			same = &sets[i]
		case t == "CNAME":
			cname = &sets[i]
		default:
			others = append(others, t)
		}
	}
	if same != nil {
		ch.Current = strings.Join(displayValues(*same), "\n")
	} else if cname != nil {
		ch.Current = "CNAME " + strings.Join(displayValues(*cname), "\n")
	}
	create := func() []Change {
		ch.Action = Create
		return []Change{{Op: OpCreate, Set: wireSet(name, typ, d.TTL, d.Values)}}
	}
	switch typ {
	case "CNAME":
		switch {
		case same != nil:
			want, got := NormName(d.Values[0]), NormName(firstValue(*same))
			if want == got {
				ch.Action = Unchanged
				return nil
			}
			ch.Action = Conflict
			ch.Note = fmt.Sprintf("a CNAME at %s already points to %s, not %s: if it is left from an earlier SES identity, delete it in Route 53 and run sesame again", ch.Name, strings.TrimSuffix(got, "."), strings.TrimSuffix(want, "."))
			return nil
		case len(others) > 0:
			ch.Action = Conflict
			ch.Current = strings.Join(others, ", ") + " records"
			ch.Note = fmt.Sprintf("%s already has %s records, and a CNAME cannot share its name with other records: remove them (or choose another domain) and run sesame again", ch.Name, strings.Join(others, ", "))
			return nil
		}
		return create()
	}
	// MX or TXT from here on.
	if cname != nil {
		if d.Purpose == PurposeDMARC {
			// A CNAME at _dmarc delegates the policy to a DMARC service:
			// there is a DMARC record, and sesame leaves it alone.
			ch.Action = Unchanged
			ch.Note = "a DMARC policy is already published through a CNAME; left unchanged"
			return nil
		}
		ch.Action = Conflict
		ch.Note = fmt.Sprintf("%s is a CNAME (to %s), and a %s record cannot share its name: choose another MAIL FROM label with --mail-from, or remove the CNAME, and run sesame again", ch.Name, strings.TrimSuffix(NormName(firstValue(*cname)), "."), typ)
		return nil
	}
	if same == nil {
		return create()
	}
	switch typ {
	case "MX":
		want := NormMX(d.Values[0])
		cur := make([]string, 0, len(same.Values))
		for _, v := range displayValues(*same) {
			cur = append(cur, NormMX(v))
		}
		if len(cur) == 1 && cur[0] == want {
			ch.Action = Unchanged
			return nil
		}
		ch.Action = Conflict
		ch.Note = fmt.Sprintf("%s already has MX records (%s), and SES needs exactly one MX there, %s: choose another MAIL FROM label with --mail-from (the MAIL FROM domain must not receive mail), or remove those MX records, and run sesame again", ch.Name, strings.Join(cur, ", "), want)
		return nil
	case "TXT":
		return planTXT(ch, name, d, *same)
	}
	ch.Action = Conflict
	ch.Note = "sesame does not manage " + typ + " records"
	return nil
}

// planTXT merges a desired TXT value into an existing TXT set: the current
// values stay exactly as Route 53 returned them (their quoting, their
// split into strings, their escapes: one value's strings are one text to
// SPF and DMARC, but a DKIM key or a site verification may depend on how
// it is split), and the set is replaced by DELETE of its exact current
// form and CREATE of the merged one. The only existing value ever changed
// is the one SPF record that gets include:amazonses.com.
func planTXT(ch *Planned, name string, d Desired, same Record) []Change {
	cur := displayValues(same)
	merged := slices.Clone(same.Values)
	var add []string
	switch d.Purpose {
	case PurposeDMARC:
		for _, v := range cur {
			if IsDMARC(v) {
				ch.Action = Unchanged
				ch.Note = "a DMARC record already exists; sesame leaves it unchanged"
				return nil
			}
		}
		add = d.Values
		ch.Note = "adds the DMARC policy and keeps the TXT values already there"
	case PurposeMailFromSPF:
		spf := -1
		for i, v := range cur {
			if isSPF(v) {
				if spf >= 0 {
					ch.Action = Conflict
					ch.Note = fmt.Sprintf("%s already has two SPF records, which makes SPF fail for every message: merge them into one in Route 53 and run sesame again", ch.Name)
					return nil
				}
				spf = i
			}
		}
		switch {
		case spf < 0:
			add = d.Values
			ch.Note = "adds the SPF record and keeps the TXT values already there"
		case spfIncludesSES(cur[spf]):
			ch.Action = Unchanged
			ch.Note = "the SPF record already includes amazonses.com"
			return nil
		default:
			merged[spf] = TXTQuote(addSPFInclude(cur[spf]))
			ch.Note = "adds include:amazonses.com to the SPF record already there (one SPF record per name) and keeps the other TXT values"
		}
	default:
		for _, want := range d.Values {
			if !containsFold(cur, want) {
				add = append(add, want)
			}
		}
		if len(add) == 0 {
			ch.Action = Unchanged
			return nil
		}
		ch.Note = "adds the value and keeps the TXT values already there"
	}
	for _, v := range add {
		merged = append(merged, TXTQuote(v))
	}
	merged = dedupeTXT(merged)
	ch.Action = Merge
	texts := make([]string, len(merged))
	for i, v := range merged {
		texts[i] = TXTUnquote(v)
	}
	ch.Value = strings.Join(texts, "\n")
	return []Change{
		{Op: OpDelete, Set: same.clone()},
		{Op: OpCreate, Set: Record{Name: name, Type: "TXT", TTL: same.TTL, Values: merged}},
	}
}

// dedupeTXT drops values equal in wire form to an earlier one (Route 53
// refuses duplicates in a set), keeping the first.
func dedupeTXT(vals []string) []string {
	out := vals[:0:0]
	for _, v := range vals {
		dup := false
		for _, o := range out {
			if slices.Equal(TXTStrings(o), TXTStrings(v)) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

func containsFold(vals []string, v string) bool {
	for _, x := range vals {
		if strings.EqualFold(strings.TrimSpace(x), strings.TrimSpace(v)) {
			return true
		}
	}
	return false
}

func isSPF(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return v == "v=spf1" || strings.HasPrefix(v, "v=spf1 ")
}

// spfIncludesSES reports whether an SPF record already authorises SES.
func spfIncludesSES(v string) bool {
	for _, term := range strings.Fields(strings.ToLower(v)) {
		if strings.TrimLeft(term, "+") == spfInclude {
			return true
		}
	}
	return false
}

// addSPFInclude inserts include:amazonses.com right after "v=spf1", so it is
// evaluated before any "all" or "redirect" term.
func addSPFInclude(v string) string {
	fields := strings.Fields(v)
	out := append([]string{fields[0], spfInclude}, fields[1:]...)
	return strings.Join(out, " ")
}

func firstValue(s Record) string {
	if len(s.Values) == 0 {
		return ""
	}
	return s.Values[0]
}

// displayValues returns a set's values in presentation form: TXT strings
// unquoted and joined, others as stored.
func displayValues(s Record) []string {
	out := make([]string, 0, len(s.Values))
	for _, v := range s.Values {
		if s.Type == "TXT" || s.Type == "SPF" {
			v = TXTUnquote(v)
		}
		out = append(out, v)
	}
	return out
}

// wireSet builds a record set in wire form from presentation values.
func wireSet(name, typ string, ttl int64, values []string) Record {
	rs := Record{Name: name, Type: typ, TTL: ttl}
	for _, v := range values {
		switch typ {
		case "TXT":
			v = TXTQuote(v)
		case "CNAME":
			v = NormName(v)
		case "MX":
			v = NormMX(v)
		}
		rs.Values = append(rs.Values, v)
	}
	return rs
}
