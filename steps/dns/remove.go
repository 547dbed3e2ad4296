package dns

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sesame-tool/sesame/steps/state"
)

// Writes returns what a change batch that sesame is about to submit to
// zoneID writes, set by set: a CREATE alone creates a set (all its values
// are sesame's); a DELETE and a CREATE of one name and type merge values
// into a set that was there (the values of the new set that the old did
// not hold are sesame's, and an SPF record that changed is recorded
// before and after). `sesame remove` takes back exactly this.
func Writes(zoneID string, batch []Change) []state.DNSWrite {
	type key struct{ name, typ string }
	deleted := map[key]Record{}
	for _, c := range batch {
		if c.Op == OpDelete {
			deleted[key{NormName(c.Set.Name), strings.ToUpper(c.Set.Type)}] = c.Set
		}
	}
	var out []state.DNSWrite
	for _, c := range batch {
		if c.Op != OpCreate {
			continue
		}
		k := key{NormName(c.Set.Name), strings.ToUpper(c.Set.Type)}
		w := state.DNSWrite{ZoneID: zoneID, Name: k.name, Type: k.typ}
		old, merged := deleted[k]
		if !merged {
			w.Created, w.Values = true, slices.Clone(c.Set.Values)
			out = append(out, w)
			continue
		}
		var gone []string
		for _, v := range old.Values {
			if !holdsValue(k.typ, c.Set.Values, v) {
				gone = append(gone, v)
			}
		}
		for _, v := range c.Set.Values {
			if holdsValue(k.typ, old.Values, v) {
				continue
			}
			if k.typ == "TXT" && isSPF(TXTUnquote(v)) && len(gone) == 1 && isSPF(TXTUnquote(gone[0])) {
				w.SPFBefore, w.SPFAfter = gone[0], v
				continue
			}
			w.Values = append(w.Values, v)
		}
		out = append(out, w)
	}
	return out
}

// sameValue reports whether two values of a set of type typ are the same
// record: names compared as names, TXT values by the text they carry.
func sameValue(typ, a, b string) bool {
	switch typ {
	case "CNAME":
		return NormName(a) == NormName(b)
	case "MX":
		return NormMX(a) == NormMX(b)
	case "TXT", "SPF":
		return TXTUnquote(a) == TXTUnquote(b)
	}
	return strings.TrimSpace(a) == strings.TrimSpace(b)
}

func holdsValue(typ string, vals []string, v string) bool {
	return slices.ContainsFunc(vals, func(x string) bool { return sameValue(typ, x, v) })
}

// RemovalAction is what removing sesame's records does to one record set.
type RemovalAction string

// The actions of a removal plan.
const (
	// RemoveDelete deletes the whole set: it holds what sesame wrote and
	// nothing else.
	RemoveDelete RemovalAction = "delete"
	// RemoveValues takes sesame's values out of a set and keeps the rest.
	RemoveValues RemovalAction = "remove-values"
	// RemoveKeep leaves a set alone: it changed since sesame wrote it.
	RemoveKeep RemovalAction = "keep"
	// RemoveGone is a set sesame wrote that is no longer there (or no
	// longer holds any of sesame's values): nothing to do.
	RemoveGone RemovalAction = "gone"
)

// Removal is the plan for one record set sesame wrote.
type Removal struct {
	Action RemovalAction
	// Name is the set's name without the trailing dot, Type its type.
	Name, Type string
	// Value is what sesame takes out (presentation form, one per line).
	Value string
	// Current is what the zone holds there now; Keep is what stays.
	Current, Keep string
	// Note says why, in the operator's words.
	Note string
}

// RemovalPlan is what removing sesame's records would do to one zone.
type RemovalPlan struct {
	Removals []Removal
	// Batch is the zone's change batch: a DELETE of each changed set
	// exactly as listed, and a CREATE of what stays of it. Empty when
	// there is nothing to take back.
	Batch []Change
}

// PlanRemoval works out how to take sesame's writes out of a zone whose
// record sets at their names are current. It is pure. Its promises: a
// set is deleted only when it holds exactly the values sesame wrote; a
// value sesame did not write is never removed; a set that changed since,
// so that sesame's values are no longer there as written, is kept and
// said so; the only value ever edited is an SPF record sesame added
// include:amazonses.com to, which loses that term and nothing else.
func PlanRemoval(writes []state.DNSWrite, current []Record) RemovalPlan {
	type key struct{ name, typ string }
	type work struct {
		orig   *Record
		values []string
	}
	sets := map[key]*work{}
	for i := range current {
		k := key{NormName(current[i].Name), strings.ToUpper(current[i].Type)}
		sets[k] = &work{orig: &current[i], values: slices.Clone(current[i].Values)}
	}
	var plan RemovalPlan
	var order []key
	for _, w := range writes {
		k := key{NormName(w.Name), strings.ToUpper(w.Type)}
		r := Removal{Name: strings.TrimSuffix(k.name, "."), Type: k.typ, Value: strings.Join(present(k.typ, w.Values), "\n")}
		if w.SPFAfter != "" {
			r.Value = strings.TrimSpace(r.Value + "\n" + spfInclude + " (in the SPF record)")
		}
		s := sets[k]
		if s == nil || len(s.values) == 0 {
			r.Action, r.Note = RemoveGone, "no longer in the zone: nothing to remove"
			plan.Removals = append(plan.Removals, r)
			continue
		}
		r.Current = strings.Join(present(k.typ, s.values), "\n")
		var missing []string
		for _, v := range w.Values {
			if !holdsValue(k.typ, s.values, v) {
				missing = append(missing, v)
			}
		}
		switch {
		case w.Created && len(missing) > 0, w.Created && k.typ != "TXT" && len(s.values) != len(w.Values):
			r.Action = RemoveKeep
			r.Note = "changed since sesame wrote it (it no longer holds exactly sesame's value): left as it is; delete it yourself if it is no longer needed"
			plan.Removals = append(plan.Removals, r)
			continue
		}
		took := false
		for _, v := range w.Values {
			if i := slices.IndexFunc(s.values, func(x string) bool { return sameValue(k.typ, x, v) }); i >= 0 {
				s.values = slices.Delete(s.values, i, i+1)
				took = true
			}
		}
		spfNote := ""
		if w.SPFAfter != "" {
			for i, v := range s.values {
				text := TXTUnquote(v)
				if !isSPF(text) || !spfIncludesSES(text) {
					continue
				}
				if text == TXTUnquote(w.SPFAfter) {
					s.values[i] = w.SPFBefore
				} else {
					s.values[i] = TXTQuote(dropSPFInclude(text))
					spfNote = "; the SPF record changed since, so only include:amazonses.com is taken out of it"
				}
				took = true
				break
			}
		}
		switch {
		case !took:
			r.Action, r.Note = RemoveGone, "none of sesame's values is there any more: left as it is"
		case len(s.values) == 0:
			r.Action, r.Note = RemoveDelete, "holds only what sesame wrote"
		default:
			r.Action = RemoveValues
			r.Keep = strings.Join(present(k.typ, s.values), "\n")
			r.Note = "takes out only sesame's value and keeps the others" + spfNote
			if len(missing) > 0 {
				r.Note += fmt.Sprintf("; %d of sesame's values changed since and are left", len(missing))
			}
		}
		if took && !slices.Contains(order, k) {
			order = append(order, k)
		}
		plan.Removals = append(plan.Removals, r)
	}
	for _, k := range order {
		s := sets[k]
		plan.Batch = append(plan.Batch, Change{Op: OpDelete, Set: s.orig.clone()})
		if len(s.values) > 0 {
			plan.Batch = append(plan.Batch, Change{Op: OpCreate, Set: Record{Name: k.name, Type: k.typ, TTL: s.orig.TTL, Values: s.values}})
		}
	}
	// A Removal of a set whose values all went is a delete, whatever
	// write took the last one.
	for i, r := range plan.Removals {
		k := key{NormName(r.Name), r.Type}
		if s := sets[k]; r.Action == RemoveValues && s != nil && len(s.values) == 0 {
			plan.Removals[i].Action, plan.Removals[i].Keep, plan.Removals[i].Note = RemoveDelete, "", "holds only what sesame wrote"
		}
	}
	return plan
}

// present is a set's values in presentation form.
func present(typ string, vals []string) []string {
	return displayValues(Record{Type: typ, Values: vals})
}

// dropSPFInclude takes include:amazonses.com (with any + qualifier) out of
// an SPF record and keeps every other term as it is.
func dropSPFInclude(v string) string {
	var out []string
	for _, term := range strings.Fields(v) {
		if strings.TrimLeft(strings.ToLower(term), "+") == spfInclude {
			continue
		}
		out = append(out, term)
	}
	return strings.Join(out, " ")
}
