package awssim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	r53provider "github.com/sesame-tool/sesame/steps/dns/route53"
)

// rr builds a Change for a test.
func rr(action r53types.ChangeAction, name string, typ r53types.RRType, ttl int64, values ...string) r53types.Change {
	set := &r53types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
	for _, v := range values {
		set.ResourceRecords = append(set.ResourceRecords, r53types.ResourceRecord{Value: aws.String(v)})
	}
	return r53types.Change{Action: action, ResourceRecordSet: set}
}

func applyBatch(ctx context.Context, c *route53.Client, zoneID string, changes ...r53types.Change) (*route53.ChangeResourceRecordSetsOutput, error) {
	return c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID), ChangeBatch: &r53types.ChangeBatch{Changes: changes},
	})
}

func createZone(t *testing.T, c *route53.Client, name string, vpc *r53types.VPC) *route53.CreateHostedZoneOutput {
	t.Helper()
	out, err := c.CreateHostedZone(context.Background(), &route53.CreateHostedZoneInput{
		Name: aws.String(name), CallerReference: aws.String(name + time.Now().String()), VPC: vpc,
	})
	if err != nil {
		t.Fatalf("CreateHostedZone %s: %v", name, err)
	}
	return out
}

// sets lists a zone through the SDK as "name type ttl v1|v2".
func sets(t *testing.T, c *route53.Client, zoneID string) []string {
	t.Helper()
	var out []string
	p := route53.NewListResourceRecordSetsPaginator(c, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListResourceRecordSets: %v", err)
		}
		for _, s := range page.ResourceRecordSets {
			var vals []string
			for _, r := range s.ResourceRecords {
				vals = append(vals, aws.ToString(r.Value))
			}
			out = append(out, fmt.Sprintf("%s %s %d %s", aws.ToString(s.Name), s.Type, aws.ToInt64(s.TTL), strings.Join(vals, "|")))
		}
	}
	return out
}

func TestRoute53Zones(t *testing.T) {
	ctx := context.Background()
	c := r53Client(endpoint(t, New(Options{})))

	pub := createZone(t, c, "Example.COM", nil)
	if got := aws.ToString(pub.HostedZone.Name); got != "example.com." {
		t.Errorf("zone name = %q, want lower case with a trailing dot", got)
	}
	if !strings.HasPrefix(aws.ToString(pub.HostedZone.Id), "/hostedzone/Z") || pub.ChangeInfo.Status != r53types.ChangeStatusPending {
		t.Errorf("CreateHostedZone = id %q, change %s", aws.ToString(pub.HostedZone.Id), pub.ChangeInfo.Status)
	}
	if pub.DelegationSet == nil || len(pub.DelegationSet.NameServers) != 4 || pub.Location == nil {
		t.Errorf("public zone: delegation set %+v, location %v; want 4 name servers and a Location", pub.DelegationSet, pub.Location)
	}
	got, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: pub.HostedZone.Id})
	if err != nil {
		t.Fatal(err)
	}
	if got.HostedZone.Config.PrivateZone || len(got.DelegationSet.NameServers) != 4 || aws.ToInt64(got.HostedZone.ResourceRecordSetCount) != 2 {
		t.Errorf("GetHostedZone(public) = private %v, %d NS, %d sets; want public, 4, SOA+NS",
			got.HostedZone.Config.PrivateZone, len(got.DelegationSet.NameServers), aws.ToInt64(got.HostedZone.ResourceRecordSetCount))
	}
	apex := sets(t, c, aws.ToString(pub.HostedZone.Id))
	if len(apex) != 2 || !strings.HasPrefix(apex[0], "example.com. NS 172800 ns-") || !strings.HasPrefix(apex[1], "example.com. SOA 900 ns-") {
		t.Errorf("a new zone holds %v, want its NS and SOA sets", apex)
	}

	priv := createZone(t, c, "example.com", &r53types.VPC{VPCId: aws.String("vpc-123"), VPCRegion: r53types.VPCRegionEuWest1})
	gp, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: priv.HostedZone.Id})
	if err != nil {
		t.Fatal(err)
	}
	if !gp.HostedZone.Config.PrivateZone || gp.DelegationSet != nil || len(gp.VPCs) != 1 || aws.ToString(gp.VPCs[0].VPCId) != "vpc-123" {
		t.Errorf("GetHostedZone(private) = private %v, delegation %v, VPCs %+v", gp.HostedZone.Config.PrivateZone, gp.DelegationSet, gp.VPCs)
	}

	_, err = c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("other.com"), CallerReference: aws.String(aws.ToString(pub.HostedZone.CallerReference))})
	var dup *r53types.HostedZoneAlreadyExists
	if !errors.As(err, &dup) {
		t.Errorf("reused caller reference: %v, want HostedZoneAlreadyExists", err)
	}
	_, err = c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String("/hostedzone/ZNOPE")})
	var nsz *r53types.NoSuchHostedZone
	if !errors.As(err, &nsz) || apiMessage(err) != "No hosted zone found with ID: ZNOPE" {
		t.Errorf("GetHostedZone(missing) = %v, want NoSuchHostedZone", err)
	}
}

func TestRoute53ListHostedZonesByName(t *testing.T) {
	ctx := context.Background()
	c := r53Client(endpoint(t, New(Options{})))
	for _, n := range []string{"b.example.org", "example.com", "a.example.com", "example.net", "example.com"} {
		createZone(t, c, n, nil)
	}
	// AWS order: labels reversed ("com.example.a."), then id.
	wantNames := []string{"example.com.", "example.com.", "a.example.com.", "example.net.", "b.example.org."}

	var names []string
	var ids []string
	in := &route53.ListHostedZonesByNameInput{MaxItems: aws.Int32(2)}
	pages := 0
	for {
		out, err := c.ListHostedZonesByName(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, z := range out.HostedZones {
			names = append(names, aws.ToString(z.Name))
			ids = append(ids, aws.ToString(z.Id))
		}
		if !out.IsTruncated {
			break
		}
		in = &route53.ListHostedZonesByNameInput{MaxItems: aws.Int32(2), DNSName: out.NextDNSName, HostedZoneId: out.NextHostedZoneId}
	}
	if strings.Join(names, ",") != strings.Join(wantNames, ",") || pages != 3 {
		t.Errorf("ListHostedZonesByName pages %d: %v, want %v", pages, names, wantNames)
	}
	if ids[0] > ids[1] {
		t.Errorf("zones of one name not ordered by id: %v", ids[:2])
	}

	// It starts AT dnsname, it does not filter to it.
	out, err := c.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String("example.net")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.HostedZones) != 2 || aws.ToString(out.HostedZones[0].Name) != "example.net." || aws.ToString(out.DNSName) != "example.net" {
		t.Errorf("from example.net: %d zones, first %q", len(out.HostedZones), aws.ToString(out.HostedZones[0].Name))
	}

	_, err = c.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{HostedZoneId: aws.String("Z1")})
	var inv *r53types.InvalidInput
	if !errors.As(err, &inv) {
		t.Errorf("hostedzoneid without dnsname: %v, want InvalidInput", err)
	}

	var all []string
	p := route53.NewListHostedZonesPaginator(c, &route53.ListHostedZonesInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range page.HostedZones {
			all = append(all, aws.ToString(z.Name))
		}
	}
	if strings.Join(all, ",") != "b.example.org.,example.com.,a.example.com.,example.net.,example.com." {
		t.Errorf("ListHostedZones (creation order, paginated) = %v", all)
	}
}

func TestRoute53ChangeSemantics(t *testing.T) {
	ctx := context.Background()
	c := r53Client(endpoint(t, New(Options{})))
	const spf = `"v=spf1 include:amazonses.com ~all"`
	tests := []struct {
		name    string
		changes []r53types.Change
		// msgs are the InvalidChangeBatch messages; none means success.
		msgs []string
		want []string // the sets at example.com. and below after the batch, apart from SOA/NS
	}{
		{
			name:    "create",
			changes: []r53types.Change{rr("CREATE", "Example.com", "TXT", 300, spf), rr("CREATE", "_dmarc.example.com.", "TXT", 300, `"v=DMARC1; p=none"`)},
			want:    []string{"example.com. TXT 300 " + spf, "_dmarc.example.com. TXT 300 \"v=DMARC1; p=none\""},
		},
		{
			name:    "create of an existing set fails the whole batch",
			changes: []r53types.Change{rr("CREATE", "mail.example.com", "MX", 300, "10 feedback-smtp.us-east-1.amazonses.com"), rr("CREATE", "example.com", "TXT", 300, `"x"`)},
			msgs:    []string{"Tried to create resource record set [name='example.com.', type='TXT'] but it already exists"},
			want:    []string{"example.com. TXT 300 " + spf, "_dmarc.example.com. TXT 300 \"v=DMARC1; p=none\""},
		},
		{
			name:    "delete with other values",
			changes: []r53types.Change{rr("DELETE", "_dmarc.example.com", "TXT", 300, `"v=DMARC1; p=reject"`)},
			msgs:    []string{"Tried to delete resource record set [name='_dmarc.example.com.', type='TXT'] but the values provided do not match the current values"},
			want:    []string{"example.com. TXT 300 " + spf, "_dmarc.example.com. TXT 300 \"v=DMARC1; p=none\""},
		},
		{
			name:    "delete with another TTL",
			changes: []r53types.Change{rr("DELETE", "_dmarc.example.com", "TXT", 60, `"v=DMARC1; p=none"`)},
			msgs:    []string{"Tried to delete resource record set [name='_dmarc.example.com.', type='TXT'] but the values provided do not match the current values"},
			want:    []string{"example.com. TXT 300 " + spf, "_dmarc.example.com. TXT 300 \"v=DMARC1; p=none\""},
		},
		{
			name:    "delete of a missing set",
			changes: []r53types.Change{rr("DELETE", "nope.example.com", "TXT", 300, `"a"`)},
			msgs:    []string{"Tried to delete resource record set [name='nope.example.com.', type='TXT'] but it was not found"},
			want:    []string{"example.com. TXT 300 " + spf, "_dmarc.example.com. TXT 300 \"v=DMARC1; p=none\""},
		},
		{
			name:    "upsert replaces the whole set",
			changes: []r53types.Change{rr("UPSERT", "example.com", "TXT", 600, `"google-site-verification=1"`)},
			want:    []string{"example.com. TXT 600 \"google-site-verification=1\"", "_dmarc.example.com. TXT 300 \"v=DMARC1; p=none\""},
		},
		{
			name:    "delete with the exact values, in another order",
			changes: []r53types.Change{rr("UPSERT", "a.example.com", "A", 60, "192.0.2.1", "192.0.2.2"), rr("DELETE", "_dmarc.example.com", "TXT", 300, `"v=DMARC1; p=none"`)},
			want:    []string{"example.com. TXT 600 \"google-site-verification=1\"", "a.example.com. A 60 192.0.2.1|192.0.2.2"},
		},
		{
			name:    "CNAME beside another type",
			changes: []r53types.Change{rr("CREATE", "a.example.com", "CNAME", 300, "b.example.net")},
			msgs:    []string{"RRSet of type CNAME with DNS name a.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com."},
			want:    []string{"example.com. TXT 600 \"google-site-verification=1\"", "a.example.com. A 60 192.0.2.1|192.0.2.2"},
		},
		{
			name:    "CNAME created",
			changes: []r53types.Change{rr("CREATE", "abc._domainkey.example.com", "CNAME", 1800, "abc.dkim.amazonses.com")},
			want:    []string{"example.com. TXT 600 \"google-site-verification=1\"", "abc._domainkey.example.com. CNAME 1800 abc.dkim.amazonses.com", "a.example.com. A 60 192.0.2.1|192.0.2.2"},
		},
		{
			name:    "another type beside a CNAME",
			changes: []r53types.Change{rr("UPSERT", "abc._domainkey.example.com", "TXT", 300, `"x"`)},
			msgs:    []string{"RRSet of type TXT with DNS name abc._domainkey.example.com. is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone example.com."},
			want:    []string{"example.com. TXT 600 \"google-site-verification=1\"", "abc._domainkey.example.com. CNAME 1800 abc.dkim.amazonses.com", "a.example.com. A 60 192.0.2.1|192.0.2.2"},
		},
		{
			name:    "CNAME at the apex",
			changes: []r53types.Change{rr("UPSERT", "example.com", "CNAME", 300, "elsewhere.example.net")},
			msgs:    []string{"RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com."},
			want:    []string{"example.com. TXT 600 \"google-site-verification=1\"", "abc._domainkey.example.com. CNAME 1800 abc.dkim.amazonses.com", "a.example.com. A 60 192.0.2.1|192.0.2.2"},
		},
		{
			name:    "the same action twice on one set in a batch",
			changes: []r53types.Change{rr("UPSERT", "a.example.com", "A", 60, "192.0.2.4"), rr("UPSERT", "a.example.com", "A", 60, "192.0.2.3")},
			msgs:    []string{"The request contains an invalid set of changes for a resource record set 'A a.example.com.'"},
			want:    []string{"example.com. TXT 600 \"google-site-verification=1\"", "abc._domainkey.example.com. CNAME 1800 abc.dkim.amazonses.com", "a.example.com. A 60 192.0.2.1|192.0.2.2"},
		},
		{
			name:    "unquoted TXT, and a name outside the zone",
			changes: []r53types.Change{rr("CREATE", "t.example.com", "TXT", 300, "v=spf1 -all"), rr("CREATE", "example.org", "TXT", 300, `"x"`)},
			msgs: []string{
				"Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with 'v=spf1 -all''",
				"RRSet with DNS name example.org. is not permitted in zone example.com.",
			},
			want: []string{"example.com. TXT 600 \"google-site-verification=1\"", "abc._domainkey.example.com. CNAME 1800 abc.dkim.amazonses.com", "a.example.com. A 60 192.0.2.1|192.0.2.2"},
		},
		{
			name:    "wildcards travel escaped",
			changes: []r53types.Change{rr("CREATE", `\052.example.com`, "MX", 300, "10 mx.example.net.")},
			want:    []string{"example.com. TXT 600 \"google-site-verification=1\"", `\052.example.com. MX 300 10 mx.example.net.`, "abc._domainkey.example.com. CNAME 1800 abc.dkim.amazonses.com", "a.example.com. A 60 192.0.2.1|192.0.2.2"},
		},
		{
			name:    "DELETE then CREATE replaces a set in one batch",
			changes: []r53types.Change{rr("DELETE", "a.example.com", "A", 60, "192.0.2.1", "192.0.2.2"), rr("CREATE", "a.example.com", "A", 60, "192.0.2.3")},
			want:    []string{"example.com. TXT 600 \"google-site-verification=1\"", `\052.example.com. MX 300 10 mx.example.net.`, "abc._domainkey.example.com. CNAME 1800 abc.dkim.amazonses.com", "a.example.com. A 60 192.0.2.3"},
		},
	}
	zone := createZone(t, c, "example.com", nil)
	id := aws.ToString(zone.HostedZone.Id)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := applyBatch(ctx, c, id, tt.changes...)
			var icb *r53types.InvalidChangeBatch
			switch {
			case len(tt.msgs) == 0 && err != nil:
				t.Fatalf("change failed: %v", err)
			case len(tt.msgs) == 0:
				if out.ChangeInfo.Status != r53types.ChangeStatusPending || !strings.HasPrefix(aws.ToString(out.ChangeInfo.Id), "/change/C") {
					t.Errorf("ChangeInfo = %s %s, want a PENDING /change/", aws.ToString(out.ChangeInfo.Id), out.ChangeInfo.Status)
				}
			case !errors.As(err, &icb):
				t.Fatalf("error %v, want InvalidChangeBatch", err)
			case strings.Join(r53provider.ChangeBatchMessages(icb), "\n") != strings.Join(tt.msgs, "\n"):
				t.Errorf("messages:\n%s\nwant:\n%s", strings.Join(r53provider.ChangeBatchMessages(icb), "\n"), strings.Join(tt.msgs, "\n"))
			}
			var got []string
			for _, s := range sets(t, c, id) {
				if !strings.Contains(s, " SOA ") && !strings.Contains(s, " NS ") {
					got = append(got, s)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("zone holds:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}

	_, err := applyBatch(ctx, c, "ZNOPE", rr("CREATE", "x.example.com", "TXT", 300, `"x"`))
	var nsz *r53types.NoSuchHostedZone
	if !errors.As(err, &nsz) {
		t.Errorf("change in a missing zone: %v, want NoSuchHostedZone", err)
	}
	_, err = c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: &r53types.ChangeBatch{
		Changes: []r53types.Change{{Action: "CREATE", ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("x.example.com"), Type: "TXT"}}},
	}})
	var inv *r53types.InvalidInput
	if !errors.As(err, &inv) {
		t.Errorf("set without TTL and records: %v, want InvalidInput", err)
	}
}

func TestRoute53ListResourceRecordSetsPagination(t *testing.T) {
	ctx := context.Background()
	sim := New(Options{})
	c := r53Client(endpoint(t, sim))
	id := sim.CreateZone("example.com", false)
	for _, n := range []string{"b", "a", "a.b", "c", "_dmarc"} {
		if err := sim.PutRecordSet(id, n+".example.com", "TXT", 300, `"x"`); err != nil {
			t.Fatal(err)
		}
	}
	if err := sim.PutRecordSet(id, "a.example.com", "A", 300, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"example.com. NS", "example.com. SOA", "_dmarc.example.com. TXT", "a.example.com. A", "a.example.com. TXT",
		"b.example.com. TXT", "a.b.example.com. TXT", "c.example.com. TXT",
	}
	for _, max := range []int32{1, 3, 300} {
		var got []string
		pages := 0
		p := route53.NewListResourceRecordSetsPaginator(c, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), MaxItems: aws.Int32(max)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, s := range out.ResourceRecordSets {
				got = append(got, aws.ToString(s.Name)+" "+string(s.Type))
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("maxitems %d: %v, want %v", max, got, want)
		}
		if wantPages := (len(want) + int(max) - 1) / int(max); pages != wantPages {
			t.Errorf("maxitems %d: %d pages, want %d", max, pages, wantPages)
		}
	}
	// Starting at a name and type, as sesame looks a set up.
	out, err := c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(id), StartRecordName: aws.String("A.example.com"), StartRecordType: "TXT", MaxItems: aws.Int32(1),
	})
	if err != nil || len(out.ResourceRecordSets) != 1 || aws.ToString(out.ResourceRecordSets[0].Name) != "a.example.com." || out.ResourceRecordSets[0].Type != "TXT" {
		t.Fatalf("start at a.example.com TXT: %+v, %v", out, err)
	}
	if !out.IsTruncated || aws.ToString(out.NextRecordName) != "b.example.com." || out.NextRecordType != "TXT" {
		t.Errorf("next = %v %q %s, want b.example.com. TXT", out.IsTruncated, aws.ToString(out.NextRecordName), out.NextRecordType)
	}
	if rs := sim.RecordSets(id); len(rs) != len(want) || rs[3].Type != "A" {
		t.Errorf("Sim.RecordSets = %+v", rs)
	}
}

// fakeClock is a settable Sim clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestRoute53GetChange(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		delay time.Duration
		// statuses are what GetChange answers, polling after each advance.
		advance []time.Duration
		want    []r53types.ChangeStatus
	}{
		{"default delay: PENDING first, INSYNC after a second", 0,
			[]time.Duration{0, 500 * time.Millisecond, 500 * time.Millisecond, 0},
			[]r53types.ChangeStatus{"PENDING", "PENDING", "INSYNC", "INSYNC"}},
		{"first poll is PENDING even late", 0,
			[]time.Duration{time.Hour, 0},
			[]r53types.ChangeStatus{"PENDING", "INSYNC"}},
		{"negative delay: INSYNC at once", -1,
			[]time.Duration{0},
			[]r53types.ChangeStatus{"INSYNC"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			sim := New(Options{ChangeDelay: tt.delay, Now: clock.Now})
			c := r53Client(endpoint(t, sim))
			id := sim.CreateZone("example.com", false)
			out, err := applyBatch(ctx, c, id, rr("CREATE", "x.example.com", "TXT", 300, `"x"`))
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range tt.advance {
				clock.Advance(d)
				got, err := c.GetChange(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id})
				if err != nil {
					t.Fatal(err)
				}
				if got.ChangeInfo.Status != tt.want[i] {
					t.Errorf("poll %d: %s, want %s", i+1, got.ChangeInfo.Status, tt.want[i])
				}
			}
		})
	}
	c := r53Client(endpoint(t, New(Options{})))
	_, err := c.GetChange(ctx, &route53.GetChangeInput{Id: aws.String("/change/CNOPE")})
	var nsc *r53types.NoSuchChange
	if !errors.As(err, &nsc) {
		t.Errorf("GetChange(missing) = %v, want NoSuchChange", err)
	}
}

func TestRoute53Names(t *testing.T) {
	tests := []struct{ in, stored, wire, reversed string }{
		{"Example.COM", "example.com.", "example.com.", "com.example."},
		{`\052.example.com.`, "*.example.com.", `\052.example.com.`, "com.example.*."},
		{"_dmarc.example.com", "_dmarc.example.com.", "_dmarc.example.com.", "com.example._dmarc."},
		{`caf\303\251.example`, "caf\xc3\xa9.example.", `caf\303\251.example.`, "example.caf\xc3\xa9."},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := decodeName(tt.in); got != tt.stored {
				t.Errorf("decodeName = %q, want %q", got, tt.stored)
			}
			if got := encodeName(tt.stored); got != tt.wire {
				t.Errorf("encodeName = %q, want %q", got, tt.wire)
			}
			if got := reversedName(tt.stored); got != tt.reversed {
				t.Errorf("reversedName = %q, want %q", got, tt.reversed)
			}
		})
	}
}
