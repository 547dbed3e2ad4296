package route53_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/dns/route53"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

const domain = "example.com"

// desired is the full set for domain: 3 DKIM, MAIL FROM "mail" MX and
// SPF, DMARC.
func desired() []dns.Desired {
	return dns.DesiredRecords(domain, "us-east-1", []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccccccc"}, "dkim.amazonses.com", "mail", true)
}

func names(ds []dns.Desired) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

// TestRecordSetsDKIMSubtree: the DKIM CNAMEs are read with one listing of
// _domainkey, across pages and past other selectors, and stop at the
// first name outside it; the other names are read one listing each.
func TestRecordSetsDKIMSubtree(t *testing.T) {
	tests := []struct {
		name     string
		pageSize int
		extra    []string // other names in the zone, a TXT each
		want     int      // ListResourceRecordSets calls
	}{
		{"one page", 100, nil, 1 + 2},
		{"other selectors and siblings", 100, []string{"google._domainkey", "zz._domainkey", "_domainkey-x", "a", "zzz"}, 1 + 2},
		{"six sets in pages of two", 2, []string{"google._domainkey", "s1._domainkey", "s2._domainkey"}, 3 + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := stepstest.NewFakeRoute53()
			f.PageSize = tt.pageSize
			zone := f.AddZone(domain, false)
			for _, n := range tt.extra {
				f.Put(zone, n+"."+domain, "TXT", 300, `"x"`)
			}
			want := desired()
			for _, d := range want[:3] {
				f.Put(zone, d.Name, "CNAME", 1800, d.Values...)
			}
			sets, err := route53.New(f).RecordSets(context.Background(), zone, "", names(want))
			if err != nil {
				t.Fatal(err)
			}
			if n := f.Calls("ListResourceRecordSets"); n != tt.want {
				t.Errorf("%d listings, want %d", n, tt.want)
			}
			if got := len(sets); got != 3 {
				t.Fatalf("read %d sets, want the 3 DKIM CNAMEs: %+v", got, sets)
			}
			if p := dns.PlanRecords(domain, want[:3], sets); len(p.Batch) != 0 {
				t.Errorf("the DKIM records read back still need changes: %+v", p.Changes)
			}
		})
	}
}

// TestRecordSetsBelowApex: with the zone's apex given, the names between a
// desired name and the apex are read too (where an NS set would delegate
// it away), and the NS set there comes back.
func TestRecordSetsBelowApex(t *testing.T) {
	f := stepstest.NewFakeRoute53()
	zone := f.AddZone(domain, false)
	f.Put(zone, "sub.example.com", "NS", 300, "ns1.elsewhere.example.", "ns2.elsewhere.example.")
	sets, err := route53.New(f).RecordSets(context.Background(), zone, domain, []string{"mail.sub.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 || sets[0].Type != "NS" || dns.NormName(sets[0].Name) != "sub.example.com." || len(sets[0].Values) != 2 {
		t.Fatalf("sets = %+v, want the NS set at sub.example.com", sets)
	}
}

// TestChangesDeleteIsTheListedSet: a DELETE carries the set exactly as
// Route 53 listed it, routing fields and all, even if the neutral copy's
// fields were touched; a CREATE is built from the neutral record.
func TestChangesDeleteIsTheListedSet(t *testing.T) {
	listed := r53types.ResourceRecordSet{
		Name: aws.String("mail.example.com."), Type: r53types.RRTypeTxt, TTL: aws.Int64(600),
		SetIdentifier: aws.String("eu"), Weight: aws.Int64(10),
		ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(`"a\"b" "c"`)}, {Value: aws.String(`"caf\303\251"`)}},
	}
	rec := route53.Record(listed)
	if want := []string{`"a\"b" "c"`, `"caf\303\251"`}; rec.Name != "mail.example.com." || rec.Type != "TXT" || rec.TTL != 600 || !slices.Equal(rec.Values, want) {
		t.Fatalf("Record = %+v", rec)
	}
	// The listing's own slice may be reused by the SDK: the record keeps its copy.
	listed.ResourceRecords[0].Value = aws.String(`"changed"`)
	want := listed
	want.ResourceRecords = []r53types.ResourceRecord{{Value: aws.String(`"a\"b" "c"`)}, {Value: aws.String(`"caf\303\251"`)}}

	created := dns.Record{Name: "mail.example.com.", Type: "TXT", TTL: 600, Values: []string{`"v=spf1 include:amazonses.com ~all"`}}
	got := route53.Changes([]dns.Change{{Op: dns.OpDelete, Set: rec}, {Op: dns.OpCreate, Set: created}})
	if len(got) != 2 {
		t.Fatalf("%d changes, want 2", len(got))
	}
	if got[0].Action != r53types.ChangeActionDelete || !reflect.DeepEqual(*got[0].ResourceRecordSet, want) {
		t.Errorf("DELETE = %+v, want the listed set %+v", *got[0].ResourceRecordSet, want)
	}
	c := got[1].ResourceRecordSet
	if got[1].Action != r53types.ChangeActionCreate || aws.ToString(c.Name) != "mail.example.com." || c.Type != r53types.RRTypeTxt ||
		aws.ToInt64(c.TTL) != 600 || len(c.ResourceRecords) != 1 || aws.ToString(c.ResourceRecords[0].Value) != created.Values[0] || c.SetIdentifier != nil {
		t.Errorf("CREATE = %+v", *c)
	}
}

// TestApplyAndInSync: a batch is one ChangeResourceRecordSets call whose
// change is then followed until INSYNC.
func TestApplyAndInSync(t *testing.T) {
	f := stepstest.NewFakeRoute53()
	f.PendingPolls = 1
	zone := f.AddZone(domain, false)
	p := route53.New(f)
	ctx := context.Background()
	plan := dns.PlanRecords(domain, desired(), nil)
	id, insync, err := p.Apply(ctx, zone, "sesame test", plan.Batch)
	if err != nil {
		t.Fatal(err)
	}
	if id == "" || insync || f.Mutations() != 1 {
		t.Fatalf("Apply = %q, %v after %d writes; want a PENDING change in one write", id, insync, f.Mutations())
	}
	if got := f.Values(zone, "mail.example.com", "TXT"); !slices.Equal(got, []string{`"v=spf1 include:amazonses.com ~all"`}) {
		t.Errorf("SPF in the zone = %q", got)
	}
	for i, want := range []bool{false, true} {
		got, err := p.InSync(ctx, id)
		if err != nil || got != want {
			t.Errorf("InSync poll %d = %v, %v; want %v", i+1, got, err, want)
		}
	}
}

// TestErrorsNameTheCall: a failed call is a *route53.Error naming the IAM
// action and the resource, with the SDK's error (and its code) inside.
func TestErrorsNameTheCall(t *testing.T) {
	f := stepstest.NewFakeRoute53()
	zone := f.AddZone(domain, false)
	p := route53.New(f)
	ctx := context.Background()
	tests := []struct {
		name, op, resource, code string
		call                     func() error
	}{
		{"unknown zone", "route53:GetHostedZone", "/hostedzone/Z404", "NoSuchHostedZone", func() error { _, err := p.Zone(ctx, "/hostedzone/Z404"); return err }},
		{"listing an unknown zone", "route53:ListResourceRecordSets", "Z404", "NoSuchHostedZone", func() error {
			_, err := p.RecordSets(ctx, "Z404", "", []string{"a.example.com"})
			return err
		}},
		{"a refused batch", "route53:ChangeResourceRecordSets", zone, "InvalidChangeBatch", func() error {
			_, _, err := p.Apply(ctx, zone, "", []dns.Change{{Op: dns.OpDelete, Set: dns.Record{Name: "nothing.example.com.", Type: "TXT", TTL: 300, Values: []string{`"x"`}}}})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var e *route53.Error
			if !errors.As(err, &e) || e.Op != tt.op || e.Resource != tt.resource {
				t.Fatalf("err = %#v, want a route53.Error for %s on %s", err, tt.op, tt.resource)
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.code {
				t.Errorf("err = %v, want code %s inside", err, tt.code)
			}
		})
	}
}

// TestZonesNamed: zones of exactly the name, public and private, with
// their ids trimmed; other names are not listed.
func TestZonesNamed(t *testing.T) {
	f := stepstest.NewFakeRoute53()
	pub := f.AddZone(domain, false)
	priv := f.AddZone(domain, true)
	f.AddZone("sub."+domain, false)
	f.AddZone("example.net", false)
	zones, err := route53.New(f).ZonesNamed(context.Background(), domain)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, z := range zones {
		ids = append(ids, z.ID)
		if (z.ID == priv) != z.Private {
			t.Errorf("zone %s: Private = %v", z.ID, z.Private)
		}
	}
	slices.Sort(ids)
	want := []string{route53.TrimZoneID(pub), route53.TrimZoneID(priv)}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("zones = %v, want %v", ids, want)
	}
}
