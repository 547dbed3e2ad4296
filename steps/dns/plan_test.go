package dns_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/dns/route53"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

const (
	ptDomain = "example.com"
	ptTok1   = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	ptTok2   = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	ptTok3   = "cccccccccccccccccccccccccccccccc"
)

// ptDesired is the full set: 3 DKIM, MAIL FROM "mail" MX and SPF, DMARC.
func ptDesired() []dns.Desired {
	return dns.DesiredRecords(ptDomain, "us-east-1", []string{ptTok1, ptTok2, ptTok3}, "dkim.amazonses.com", "mail", true)
}

// rrs builds a record set as a provider lists it (Route 53's wire form).
func rrs(name, typ string, ttl int64, values ...string) dns.Record {
	return dns.Record{Name: name, Type: typ, TTL: ttl, Values: values}
}

func dkimName(tok string) string   { return tok + "._domainkey.example.com." }
func dkimTarget(tok string) string { return tok + ".dkim.amazonses.com" }

func TestDesiredRecords(t *testing.T) {
	got := ptDesired()
	want := []string{
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa._domainkey.example.com CNAME aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.dkim.amazonses.com",
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb._domainkey.example.com CNAME bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.dkim.amazonses.com",
		"cccccccccccccccccccccccccccccccc._domainkey.example.com CNAME cccccccccccccccccccccccccccccccc.dkim.amazonses.com",
		"mail.example.com MX 10 feedback-smtp.us-east-1.amazonses.com",
		"mail.example.com TXT v=spf1 include:amazonses.com ~all",
		"_dmarc.example.com TXT v=DMARC1; p=none;",
	}
	var lines []string
	for _, r := range got {
		lines = append(lines, r.Name+" "+r.Type+" "+strings.Join(r.Values, ","))
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("DesiredRecords =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// Without a SigningHostedZone the region's table decides.
	r := dns.DesiredRecords("example.com", "ap-northeast-3", []string{"t"}, "", "", false)
	if len(r) != 1 || r[0].Values[0] != "t.dkim.ap-northeast-3.amazonses.com" {
		t.Errorf("regional DKIM zone: got %+v", r)
	}
}

func TestPlanRecords(t *testing.T) {
	longTXT := strings.Repeat("x", 300)
	tests := []struct {
		name    string
		current []dns.Record
		// actions per desired record: DKIM1..3, MX, SPF, DMARC
		want []dns.Action
		// merged TXT values expected at a name (unquoted), when checked
		mergedAt   string
		wantMerged []string
		noteHas    string
	}{
		{
			name: "empty zone",
			want: []dns.Action{dns.Create, dns.Create, dns.Create, dns.Create, dns.Create, dns.Create},
		},
		{
			name: "apex MX and TXT stay out of the batch",
			current: []dns.Record{
				rrs("example.com.", "MX", 300, "10 mx1.mailhost.example.net.", "20 mx2.mailhost.example.net."),
				rrs("example.com.", "TXT", 300, `"google-site-verification=abc"`, `"v=spf1 include:_spf.google.com ~all"`),
			},
			want: []dns.Action{dns.Create, dns.Create, dns.Create, dns.Create, dns.Create, dns.Create},
		},
		{
			name: "DKIM in place, stale tokens elsewhere left alone",
			current: []dns.Record{
				rrs(dkimName(ptTok1), "CNAME", 1800, dkimTarget(ptTok1)+"."),
				rrs(strings.ToUpper(dkimName(ptTok2)), "CNAME", 300, strings.ToUpper(dkimTarget(ptTok2))),
				rrs(dkimName(ptTok3), "CNAME", 1800, dkimTarget(ptTok3)),
				rrs("oldoldoldoldoldoldoldoldoldoldol._domainkey.example.com.", "CNAME", 1800, "oldoldoldoldoldoldoldoldoldoldol.dkim.amazonses.com"),
			},
			want: []dns.Action{dns.Unchanged, dns.Unchanged, dns.Unchanged, dns.Create, dns.Create, dns.Create},
		},
		{
			name: "DKIM CNAME with another value",
			current: []dns.Record{
				rrs(dkimName(ptTok1), "CNAME", 1800, "somewhere.else.example."),
			},
			want:    []dns.Action{dns.Conflict, dns.Create, dns.Create, dns.Create, dns.Create, dns.Create},
			noteHas: "delete it in Route 53",
		},
		{
			name: "another type where the DKIM CNAME goes",
			current: []dns.Record{
				rrs(dkimName(ptTok2), "TXT", 300, `"v=DKIM1; k=rsa; p=MIGf"`),
			},
			want:    []dns.Action{dns.Create, dns.Conflict, dns.Create, dns.Create, dns.Create, dns.Create},
			noteHas: "cannot share its name",
		},
		{
			name: "CNAME at the MAIL FROM name",
			current: []dns.Record{
				rrs("mail.example.com.", "CNAME", 300, "ghs.googlehosted.com."),
			},
			want:    []dns.Action{dns.Create, dns.Create, dns.Create, dns.Conflict, dns.Conflict, dns.Create},
			noteHas: "--mail-from",
		},
		{
			name: "TXT at the MAIL FROM name is merged",
			current: []dns.Record{
				rrs("mail.example.com.", "TXT", 600, `"site-verification=xyz"`),
			},
			want:       []dns.Action{dns.Create, dns.Create, dns.Create, dns.Create, dns.Merge, dns.Create},
			mergedAt:   "mail.example.com.",
			wantMerged: []string{"site-verification=xyz", "v=spf1 include:amazonses.com ~all"},
		},
		{
			name: "existing SPF gets the include, one SPF",
			current: []dns.Record{
				rrs("mail.example.com.", "TXT", 600, `"v=spf1 include:_spf.google.com ~all"`, `"other"`),
			},
			want:       []dns.Action{dns.Create, dns.Create, dns.Create, dns.Create, dns.Merge, dns.Create},
			mergedAt:   "mail.example.com.",
			wantMerged: []string{"v=spf1 include:amazonses.com include:_spf.google.com ~all", "other"},
		},
		{
			name: "SPF already includes amazonses.com",
			current: []dns.Record{
				rrs("mail.example.com.", "TXT", 600, `"v=spf1 +include:amazonses.com -all"`),
				rrs("mail.example.com.", "MX", 300, "10 FEEDBACK-SMTP.us-east-1.amazonses.com."),
			},
			want: []dns.Action{dns.Create, dns.Create, dns.Create, dns.Unchanged, dns.Unchanged, dns.Create},
		},
		{
			name: "two SPF records already",
			current: []dns.Record{
				rrs("mail.example.com.", "TXT", 600, `"v=spf1 a ~all"`, `"v=spf1 mx ~all"`),
			},
			want:    []dns.Action{dns.Create, dns.Create, dns.Create, dns.Create, dns.Conflict, dns.Create},
			noteHas: "two SPF records",
		},
		{
			name: "MX at the MAIL FROM name points elsewhere",
			current: []dns.Record{
				rrs("mail.example.com.", "MX", 300, "10 mx.example.net."),
			},
			want:    []dns.Action{dns.Create, dns.Create, dns.Create, dns.Conflict, dns.Create, dns.Create},
			noteHas: "exactly one MX",
		},
		{
			name: "existing DMARC is never modified",
			current: []dns.Record{
				rrs("_dmarc.example.com.", "TXT", 3600, `"v=DMARC1; p=reject; rua=mailto:d@example.com"`),
			},
			want: []dns.Action{dns.Create, dns.Create, dns.Create, dns.Create, dns.Create, dns.Unchanged},
		},
		{
			name: "TXT at _dmarc without a policy is merged",
			current: []dns.Record{
				rrs("_dmarc.example.com.", "TXT", 3600, `"note"`),
			},
			want:       []dns.Action{dns.Create, dns.Create, dns.Create, dns.Create, dns.Create, dns.Merge},
			mergedAt:   "_dmarc.example.com.",
			wantMerged: []string{"note", "v=DMARC1; p=none;"},
		},
		{
			name: "DMARC delegated by CNAME",
			current: []dns.Record{
				rrs("_dmarc.example.com.", "CNAME", 3600, "example-com._dmarc.dmarc-service.example."),
			},
			want: []dns.Action{dns.Create, dns.Create, dns.Create, dns.Create, dns.Create, dns.Unchanged},
		},
		{
			name: "long TXT with escapes kept whole",
			current: []dns.Record{
				rrs("mail.example.com.", "TXT", 300, dns.TXTQuote(longTXT), `"quote\"inside"`, `"caf\303\251"`),
			},
			want:       []dns.Action{dns.Create, dns.Create, dns.Create, dns.Create, dns.Merge, dns.Create},
			mergedAt:   "mail.example.com.",
			wantMerged: []string{longTXT, `quote"inside`, "café", "v=spf1 include:amazonses.com ~all"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := dns.PlanRecords(ptDomain, ptDesired(), tt.current)
			var got []dns.Action
			for _, c := range plan.Changes {
				got = append(got, c.Action)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("actions = %v, want %v\n%+v", got, tt.want, plan.Changes)
			}
			checkPlanInvariants(t, ptDomain, tt.current, plan)
			if tt.noteHas != "" {
				found := false
				for _, c := range conflicts(plan) {
					found = found || strings.Contains(c.Note, tt.noteHas)
				}
				if !found {
					t.Errorf("no conflict note says %q: %+v", tt.noteHas, conflicts(plan))
				}
			}
			if tt.mergedAt != "" {
				var merged []string
				for _, c := range plan.Batch {
					if c.Op == dns.OpCreate && c.Set.Name == tt.mergedAt {
						merged = dns.DisplayValues(c.Set)
					}
				}
				if !slices.Equal(merged, tt.wantMerged) {
					t.Errorf("merged set at %s = %q, want %q", tt.mergedAt, merged, tt.wantMerged)
				}
			}
			if len(conflicts(plan)) == 0 {
				checkBatchConverges(t, tt.current, plan)
			}
		})
	}
}

// TestPlanDNSRefusesApexMX: even a desired MX at the domain (which
// DesiredRecords never returns) is a conflict, never a write.
func TestPlanRecordsRefusesApexMX(t *testing.T) {
	plan := dns.PlanRecords("example.com", []dns.Desired{{Name: "EXAMPLE.com.", Type: "MX", TTL: 300, Values: []string{"10 inbound-smtp.us-east-1.amazonaws.com"}}}, nil)
	if len(plan.Batch) != 0 || len(conflicts(plan)) != 1 {
		t.Fatalf("plan = %+v, want one conflict and no batch", plan)
	}
}

// checkPlanInvariants holds for every plan: no change to the apex MX, no
// UPSERT, a TXT set deleted only with a CREATE that keeps its values, one
// SPF per created set, no batch with a conflict.
func checkPlanInvariants(t *testing.T, domain string, current []dns.Record, plan dns.Plan) {
	t.Helper()
	if len(conflicts(plan)) > 0 && len(plan.Batch) > 0 {
		t.Fatalf("a plan with conflicts has a batch: %+v", plan.Batch)
	}
	// The batch is judged in Route 53's form, as it is sent.
	batch := route53.Changes(plan.Batch)
	created := map[string][]string{}
	createdWire := map[string][]string{}
	for _, c := range batch {
		rs := c.ResourceRecordSet
		if c.Action == r53types.ChangeActionUpsert {
			t.Fatalf("the batch UPSERTs %s", aws.ToString(rs.Name))
		}
		if rs.Type == r53types.RRTypeMx && dns.NormName(aws.ToString(rs.Name)) == dns.NormName(domain) {
			t.Fatalf("the batch changes the MX at the domain: %+v", c)
		}
		if c.Action == r53types.ChangeActionCreate && rs.Type == r53types.RRTypeTxt {
			vals := dns.DisplayValues(route53.Record(*rs))
			created[dns.NormName(aws.ToString(rs.Name))] = vals
			createdWire[dns.NormName(aws.ToString(rs.Name))] = setValuesOf(*rs)
			spf := 0
			for _, v := range vals {
				if dns.IsSPF(v) {
					spf++
				}
			}
			if spf > 1 {
				t.Fatalf("the batch creates %d SPF records at %s: %q", spf, aws.ToString(rs.Name), vals)
			}
		}
	}
	for _, c := range batch {
		rs := c.ResourceRecordSet
		if c.Action != r53types.ChangeActionDelete {
			continue
		}
		if rs.Type != r53types.RRTypeTxt {
			t.Fatalf("the batch deletes a %s set", rs.Type)
		}
		// The DELETE must carry the set exactly as it is.
		found := false
		for _, cur := range current {
			if cur.Name == aws.ToString(rs.Name) && cur.Type == string(rs.Type) {
				found = cur.TTL == aws.ToInt64(rs.TTL) && slices.Equal(cur.Values, setValuesOf(*rs))
			}
		}
		if !found {
			t.Fatalf("the DELETE of %s does not match the current set exactly", aws.ToString(rs.Name))
		}
		after, ok := created[dns.NormName(aws.ToString(rs.Name))]
		if !ok {
			t.Fatalf("TXT set %s deleted and not re-created", aws.ToString(rs.Name))
		}
		// Every value stays byte for byte in wire form (the same strings,
		// split the same way); only an SPF record may gain the include.
		afterWire := createdWire[dns.NormName(aws.ToString(rs.Name))]
		for _, v := range setValuesOf(*rs) {
			kept := slices.ContainsFunc(afterWire, func(a string) bool { return slices.Equal(dns.TXTStrings(a), dns.TXTStrings(v)) })
			if text := dns.TXTUnquote(v); !kept && !(dns.IsSPF(text) && slices.Contains(after, dns.AddSPFInclude(text))) {
				t.Fatalf("TXT value %s at %s is changed or lost; after: %q", v, aws.ToString(rs.Name), afterWire)
			}
		}
	}
}

func setValuesOf(s r53types.ResourceRecordSet) []string {
	var out []string
	for _, r := range s.ResourceRecords {
		out = append(out, aws.ToString(r.Value))
	}
	return out
}

// checkBatchConverges applies the batch to a FakeRoute53 holding current
// (so Route 53's rules judge it) and plans again: everything is then
// unchanged.
func checkBatchConverges(t *testing.T, current []dns.Record, plan dns.Plan) {
	t.Helper()
	f := stepstest.NewFakeRoute53()
	zone := f.AddZone(ptDomain, false)
	for _, s := range current {
		f.Put(zone, s.Name, s.Type, s.TTL, s.Values...)
	}
	ctx := context.Background()
	if len(plan.Batch) > 0 {
		_, err := f.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(zone), ChangeBatch: &r53types.ChangeBatch{Changes: route53.Changes(plan.Batch)},
		})
		if err != nil {
			t.Fatalf("Route 53 (fake) refuses the batch: %v", err)
		}
	}
	var names []string
	for _, d := range ptDesired() {
		names = append(names, d.Name)
	}
	sets, err := route53.New(f).RecordSets(ctx, zone, "", names)
	if err != nil {
		t.Fatal(err)
	}
	again := dns.PlanRecords(ptDomain, ptDesired(), sets)
	if len(again.Batch) != 0 {
		t.Fatalf("after applying, the plan still changes: %+v", again.Changes)
	}
}

func TestTXTQuoting(t *testing.T) {
	tests := []struct{ text, quoted string }{
		{"v=spf1 ~all", `"v=spf1 ~all"`},
		{"", `""`},
		{`a"b\c`, `"a\"b\\c"`},
		{"café", `"caf\303\251"`},
		{strings.Repeat("a", 256), `"` + strings.Repeat("a", 255) + `" "a"`},
	}
	for _, tt := range tests {
		if got := dns.TXTQuote(tt.text); got != tt.quoted {
			t.Errorf("TXTQuote(%q) = %s, want %s", tt.text, got, tt.quoted)
		}
		if got := dns.TXTUnquote(tt.quoted); got != tt.text {
			t.Errorf("TXTUnquote(%s) = %q, want %q", tt.quoted, got, tt.text)
		}
	}
	if got := dns.TXTUnquote(`"ab" "cd"`); got != "abcd" {
		t.Errorf("strings are joined: got %q", got)
	}
	if got := dns.NormName(`\052.Example.COM`); got != "*.example.com." {
		t.Errorf("NormName decodes escapes: got %q", got)
	}
}

// FuzzPlanDNS builds a zone from the fuzzer's values and checks the
// planner's promises on it: no panic, the invariants above, and a batch
// that Route 53's rules accept and after which nothing is left to do.
func FuzzPlanDNS(f *testing.F) {
	f.Add("site-verification=x", "", "", "v=DMARC1; p=reject", "10 mx.example.net.", uint8(0))
	f.Add("v=spf1 a ~all\nother", "10 feedback-smtp.us-east-1.amazonses.com.", "", "", "", uint8(1))
	f.Add("", "", "wrong.target.example.", "", "", uint8(2))
	f.Add("", "", "", "", "", uint8(4))
	// Values as other tools write them: split into short strings, with
	// quotes, backslashes and octal escapes, longer than 255 bytes.
	f.Add(`say "hi"\ok`, "", "", `v=DMARC1; p=reject; rua=mailto:"d"@x`, "", uint8(8|16))
	f.Add("v=spf1 a ~all\nk=rsa; p="+strings.Repeat("MIIB", 80), "", "", "", "", uint8(8|32|64))
	f.Add(strings.Repeat("z", 300)+"\n"+strings.Repeat("y", 510), "", "", strings.Repeat("v", 256), "", uint8(8|128))
	f.Fuzz(func(t *testing.T, mailTXT, mailMX, dkim1, dmarcTXT, apexMX string, flags uint8) {
		var cur []dns.Record
		add := func(name, typ, raw string, quote bool) {
			if set, ok := fuzzRecordSet(name, typ, raw, quote, flags); ok {
				cur = append(cur, set)
			}
		}
		add("mail.example.com.", "TXT", mailTXT, true)
		add("_dmarc.example.com.", "TXT", dmarcTXT, true)
		add("example.com.", "MX", apexMX, false)
		if flags&1 != 0 {
			add("mail.example.com.", "MX", mailMX, false)
		} else if flags&2 != 0 {
			add("mail.example.com.", "CNAME", strings.SplitN(mailMX, "\n", 2)[0], false)
		}
		if flags&4 != 0 {
			add(dkimName(ptTok1), "TXT", dkim1, true)
		} else {
			add(dkimName(ptTok1), "CNAME", strings.SplitN(dkim1, "\n", 2)[0], false)
		}
		plan := dns.PlanRecords(ptDomain, ptDesired(), cur)
		if len(plan.Changes) != len(ptDesired()) {
			t.Fatalf("%d changes for %d records", len(plan.Changes), len(ptDesired()))
		}
		checkPlanInvariants(t, ptDomain, cur, plan)
		if len(conflicts(plan)) == 0 {
			checkBatchConverges(t, cur, plan)
		}
	})
}

// presentTXT renders text as a Route 53 TXT value the way flags say: as
// sesame quotes it, or (flags&8) split into strings of 1+flags>>4 bytes
// (a split another tool chose), with every byte of "=" written as \075.
func presentTXT(text string, flags uint8) string {
	if flags&8 == 0 {
		return dns.TXTQuote(text)
	}
	n := 1 + int(flags>>4)
	var parts []string
	for len(text) > 0 {
		k := min(n, len(text))
		q := dns.TXTQuote(text[:k])
		parts = append(parts, strings.ReplaceAll(q, "=", `\075`))
		text = text[k:]
	}
	if len(parts) == 0 {
		return `""`
	}
	return strings.Join(parts, " ")
}

// TestPlanTXTKeepsEveryValueInWireForm: existing values with quotes,
// backslashes, escapes and several strings stay exactly as they are.
func TestPlanTXTKeepsEveryValueInWireForm(t *testing.T) {
	long := strings.Repeat("k", 300)
	tests := []struct {
		name   string
		values []string
	}{
		{"quotes and backslashes", []string{`"say \"hi\" \\ bye"`}},
		{"split into short strings", []string{`"google-site-" "verification=abc"`}},
		{"over 255 bytes as two strings", []string{`"` + long[:255] + `" "` + long[255:] + `"`}},
		{"over 255 bytes split elsewhere", []string{`"` + long[:100] + `" "` + long[100:] + `"`}},
		{"octal escapes", []string{`"caf\303\251 \075"`}},
		{"SPF among them", []string{`"a\\b"`, `"v=spf1 " "mx ~all"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := []dns.Record{rrs("mail.example.com.", "TXT", 300, tt.values...)}
			plan := dns.PlanRecords(ptDomain, ptDesired(), cur)
			checkPlanInvariants(t, ptDomain, cur, plan)
			checkBatchConverges(t, cur, plan)
			var created []string
			for _, c := range plan.Batch {
				if c.Op == dns.OpCreate && c.Set.Name == "mail.example.com." {
					created = c.Set.Values
				}
			}
			for _, v := range tt.values {
				if dns.IsSPF(dns.TXTUnquote(v)) {
					continue
				}
				if !slices.Contains(created, v) {
					t.Errorf("value %s is not kept as it was; the merged set is %q", v, created)
				}
			}
		})
	}
}

// conflicts are the plan's conflicting entries.
func conflicts(p dns.Plan) []dns.Planned {
	var out []dns.Planned
	for _, c := range p.Changes {
		if c.Action == dns.Conflict {
			out = append(out, c)
		}
	}
	return out
}

// fuzzRecordSet is the record set a fuzz input makes: a value a line, none
// over 1000 bytes, TXT values presented as flags say, repeats dropped; ok
// is false when no value is left.
func fuzzRecordSet(name, typ, raw string, quote bool, flags uint8) (set dns.Record, ok bool) {
	var vals []string
	seen := map[string]bool{}
	for _, v := range strings.Split(raw, "\n") {
		if v == "" || len(v) > 1000 {
			continue
		}
		if quote {
			v = presentTXT(v, flags)
		}
		if !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return dns.Record{}, false
	}
	return rrs(name, typ, 300, vals...), true
}
