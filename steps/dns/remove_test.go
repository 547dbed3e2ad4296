package dns_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/dns"
)

// applyBatch applies a change batch to a zone's sets as Route 53 does
// (DELETE of the exact set, CREATE of a new one), failing the test on a
// DELETE of a set that is not there as given or a CREATE of one that is.
func applyBatch(t *testing.T, zone []dns.Record, batch []dns.Change) []dns.Record {
	t.Helper()
	out := slices.Clone(zone)
	for _, c := range batch {
		i := slices.IndexFunc(out, func(r dns.Record) bool {
			return dns.NormName(r.Name) == dns.NormName(c.Set.Name) && r.Type == c.Set.Type
		})
		switch c.Op {
		case dns.OpDelete:
			if i < 0 || !slices.Equal(out[i].Values, c.Set.Values) {
				t.Fatalf("DELETE of %s %s %v: the zone holds %v", c.Set.Name, c.Set.Type, c.Set.Values, out)
			}
			out = slices.Delete(out, i, i+1)
		case dns.OpCreate:
			if i >= 0 {
				t.Fatalf("CREATE of %s %s: already there", c.Set.Name, c.Set.Type)
			}
			out = append(out, dns.Record{Name: dns.NormName(c.Set.Name), Type: c.Set.Type, TTL: c.Set.TTL, Values: slices.Clone(c.Set.Values)})
		}
	}
	return out
}

// zoneLines is a zone's sets as sorted "name type values" lines.
func zoneLines(zone []dns.Record) []string {
	var out []string
	for _, r := range zone {
		out = append(out, dns.NormName(r.Name)+" "+r.Type+" "+strings.Join(r.Values, " | "))
	}
	slices.Sort(out)
	return out
}

// setTo replaces (or adds) a set, as an operator editing the zone would.
func setTo(zone []dns.Record, r dns.Record) []dns.Record {
	out := slices.DeleteFunc(slices.Clone(zone), func(x dns.Record) bool {
		return dns.NormName(x.Name) == dns.NormName(r.Name) && x.Type == r.Type
	})
	if len(r.Values) > 0 {
		out = append(out, r)
	}
	return out
}

// Onboarding's batch, then an operator's edit, then the removal: the zone
// ends as it was before onboarding, with the operator's edits kept.
func TestPlanRemovalTakesBackOnlySesamesValues(t *testing.T) {
	apexMX := rrs("example.com.", "MX", 300, "10 mx1.provider.example.")
	tests := []struct {
		name   string
		before []dns.Record
		// edit is what the operator changes after onboarding (nil: nothing).
		edit func([]dns.Record) []dns.Record
		// want is the zone after removal; nil means before.
		want []dns.Record
		// kept counts the sets the plan leaves because they changed.
		kept int
	}{
		{name: "an empty zone ends empty but for the operator's MX", before: []dns.Record{apexMX}},
		{
			name:   "the operator's SPF and other TXT at the MAIL FROM name come back byte for byte",
			before: []dns.Record{apexMX, rrs("mail.example.com.", "TXT", 600, `"v=spf1 " "ip4:192.0.2.1 ~all"`, `"site-verification=abc"`)},
		},
		{
			name:   "a DMARC merged into a TXT set at _dmarc goes, the set's own value stays",
			before: []dns.Record{rrs("_dmarc.example.com.", "TXT", 300, `"report-to=ops"`)},
		},
		{
			name:   "a DMARC record edited after onboarding stays as edited",
			before: nil,
			edit: func(z []dns.Record) []dns.Record {
				return setTo(z, rrs("_dmarc.example.com.", "TXT", 300, `"v=DMARC1; p=reject;"`))
			},
			want: []dns.Record{rrs("_dmarc.example.com.", "TXT", 300, `"v=DMARC1; p=reject;"`)},
			kept: 1,
		},
		{
			name: "a value the operator added to sesame's TXT set stays, sesame's goes",
			edit: func(z []dns.Record) []dns.Record {
				return setTo(z, rrs("_dmarc.example.com.", "TXT", 300, `"v=DMARC1; p=none;"`, `"operator=1"`))
			},
			want: []dns.Record{rrs("_dmarc.example.com.", "TXT", 300, `"operator=1"`)},
		},
		{
			name:   "an SPF the operator edited after the merge loses only include:amazonses.com",
			before: []dns.Record{rrs("mail.example.com.", "TXT", 300, `"v=spf1 -all"`)},
			edit: func(z []dns.Record) []dns.Record {
				return setTo(z, rrs("mail.example.com.", "TXT", 300, `"v=spf1 include:amazonses.com ip4:198.51.100.7 -all"`))
			},
			want: []dns.Record{rrs("mail.example.com.", "TXT", 300, `"v=spf1 ip4:198.51.100.7 -all"`)},
		},
		{
			name: "a DKIM CNAME pointed elsewhere and a MAIL FROM MX changed after onboarding stay",
			edit: func(z []dns.Record) []dns.Record {
				z = setTo(z, rrs(dkimName(ptTok1), "CNAME", 1800, "elsewhere.example."))
				return setTo(z, rrs("mail.example.com.", "MX", 300, "10 feedback-smtp.us-east-1.amazonses.com.", "20 backup.example."))
			},
			want: []dns.Record{rrs(dkimName(ptTok1), "CNAME", 1800, "elsewhere.example."), rrs("mail.example.com.", "MX", 300, "10 feedback-smtp.us-east-1.amazonses.com.", "20 backup.example.")},
			kept: 2,
		},
		{
			name: "a record the operator deleted since is nothing to do",
			edit: func(z []dns.Record) []dns.Record {
				return setTo(z, rrs("mail.example.com.", "MX", 300))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := dns.PlanRecords(ptDomain, ptDesired(), tt.before)
			if len(conflicts(plan)) > 0 {
				t.Fatalf("onboarding plan has conflicts: %+v", conflicts(plan))
			}
			writes := dns.Writes("Z1", plan.Batch)
			zone := applyBatch(t, tt.before, plan.Batch)
			if tt.edit != nil {
				zone = tt.edit(zone)
			}
			rm := dns.PlanRemoval(writes, zone)
			after := applyBatch(t, zone, rm.Batch)
			want := tt.want
			if want == nil {
				want = tt.before
			}
			if got, w := zoneLines(after), zoneLines(want); !slices.Equal(got, w) {
				t.Fatalf("after removal:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(w, "\n  "))
			}
			kept := 0
			for _, r := range rm.Removals {
				if r.Action == dns.RemoveKeep {
					kept++
				}
			}
			if kept != tt.kept {
				t.Errorf("kept %d sets as changed, want %d: %+v", kept, tt.kept, rm.Removals)
			}
			// Removing again finds nothing to do.
			if again := dns.PlanRemoval(writes, after); len(again.Batch) != 0 {
				t.Errorf("a second removal plans %+v", again.Batch)
			}
		})
	}
}

// FuzzRemoveRestores builds a zone as FuzzPlanDNS does, onboards it
// (PlanRecords' batch, recorded with Writes) and removes sesame's writes
// again (PlanRemoval's batch): the zone must be exactly as before, byte
// for byte, and a second removal must find nothing to do.
func FuzzRemoveRestores(f *testing.F) {
	f.Add("site-verification=x", "v=DMARC1; p=reject", "10 mx.example.net.", uint8(0))
	f.Add("v=spf1 a ~all\nother", "", "", uint8(1))
	f.Add("v=spf1 include:amazonses.com ~all", "report=1", "", uint8(8|16))
	f.Add(`say "hi"\ok`+"\nv=spf1 -all", `v=DMARC1; p=reject; rua=mailto:"d"@x`, "", uint8(8|32))
	f.Add(strings.Repeat("z", 300)+"\nv=spf1 "+strings.Repeat("y", 510)+" ~all", strings.Repeat("v", 256), "", uint8(8|128))
	f.Fuzz(func(t *testing.T, mailTXT, dmarcTXT, apexMX string, flags uint8) {
		var cur []dns.Record
		add := func(name, typ, raw string, quote bool) {
			if set, ok := fuzzRecordSet(name, typ, raw, quote, flags); ok {
				cur = append(cur, set)
			}
		}
		add("mail.example.com.", "TXT", mailTXT, true)
		add("_dmarc.example.com.", "TXT", dmarcTXT, true)
		add("example.com.", "MX", apexMX, false)
		plan := dns.PlanRecords(ptDomain, ptDesired(), cur)
		if len(conflicts(plan)) > 0 {
			return
		}
		// Route 53 refuses a set with two values of the same strings;
		// such a zone cannot exist.
		for _, s := range cur {
			for i := range s.Values {
				for j := i + 1; j < len(s.Values); j++ {
					if slices.Equal(dns.TXTStrings(s.Values[i]), dns.TXTStrings(s.Values[j])) {
						return
					}
				}
			}
		}
		onboarded := applyBatch(t, cur, plan.Batch)
		writes := dns.Writes("Z1", plan.Batch)
		rm := dns.PlanRemoval(writes, onboarded)
		after := applyBatch(t, onboarded, rm.Batch)
		if got, want := zoneLines(after), zoneLines(cur); !slices.Equal(got, want) {
			t.Fatalf("after onboarding and removal:\n  %s\nbefore:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		if again := dns.PlanRemoval(writes, after); len(again.Batch) != 0 {
			t.Fatalf("a second removal plans %+v", again.Batch)
		}
	})
}
