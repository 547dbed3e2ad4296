package awssim

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/miekg/dns"
)

func (h *sesHarness) route53() *route53.Client {
	return route53.New(route53.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(h.url),
		RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAOPERATOR00000000", SecretAccessKey: "operator-secret"}, nil
		}),
	})
}

func TestEnsureDemoZone(t *testing.T) {
	h := newSESHarness(t, Options{})
	id, err := h.sim.EnsureDemoZone("Shop.Example.")
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.sim.EnsureDemoZone("shop.example")
	if err != nil || again != id {
		t.Fatalf("second call: %q %v, want the same zone %q", again, err, id)
	}
	sub, err := h.sim.EnsureDemoZone("mail.shop.example")
	if err != nil || sub != id {
		t.Fatalf("a subdomain: %q %v, want the enclosing zone %q", sub, err, id)
	}
	if _, err := h.sim.EnsureDemoZone("not a domain"); err == nil {
		t.Error("EnsureDemoZone accepted \"not a domain\"")
	}

	// What the wizard reads through Route 53.
	ctx := context.Background()
	out, err := h.route53().ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[r53types.RRType][]string{}
	var mailTXT []string
	for _, set := range out.ResourceRecordSets {
		switch name := aws.ToString(set.Name); {
		case name == "mail.shop.example." && set.Type == r53types.RRTypeTxt:
			for _, rr := range set.ResourceRecords {
				mailTXT = append(mailTXT, aws.ToString(rr.Value))
			}
			continue
		case name != "shop.example.":
			t.Errorf("unexpected set %s %s", name, set.Type)
		}
		for _, rr := range set.ResourceRecords {
			got[set.Type] = append(got[set.Type], aws.ToString(rr.Value))
		}
	}
	for typ, want := range map[r53types.RRType][]string{r53types.RRTypeMx: demoMX, r53types.RRTypeTxt: demoTXT} {
		if !slices.Equal(got[typ], want) {
			t.Errorf("%s = %q, want %q", typ, got[typ], want)
		}
	}
	if !slices.Equal(mailTXT, demoMailTXT) {
		t.Errorf("TXT at mail.shop.example = %q, want the provider's SPF record %q", mailTXT, demoMailTXT)
	}
	if len(got[r53types.RRTypeSoa]) != 1 || len(got[r53types.RRTypeNs]) != 4 {
		t.Errorf("SOA %q NS %q, want one SOA and four name servers", got[r53types.RRTypeSoa], got[r53types.RRTypeNs])
	}
	zones, err := h.route53().ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String("shop.example")})
	if err != nil {
		t.Fatal(err)
	}
	if len(zones.HostedZones) != 1 || zones.HostedZones[0].Config.PrivateZone {
		t.Errorf("zones %+v, want one public zone", zones.HostedZones)
	}

	// What a resolver sees through the DNS server.
	addr, stop, err := h.sim.ServeDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	in, _, err := new(dns.Client).Exchange(new(dns.Msg).SetQuestion("shop.example.", dns.TypeTXT), addr)
	if err != nil {
		t.Fatal(err)
	}
	var txt []string
	for _, rr := range in.Answer {
		txt = append(txt, strings.Join(rr.(*dns.TXT).Txt, ""))
	}
	if !slices.Contains(txt, "v=spf1 include:_spf.mail-provider.example ~all") || len(txt) != 2 {
		t.Errorf("TXT over DNS = %q, want the site verification and the SPF record", txt)
	}
}

// TestDemoDomainVerifiesThroughRoute53 walks the wizard's path on the demo
// zone with the real clients: create the identity, put its CNAMEs with
// ChangeResourceRecordSets, and see it verify VerifyDelay later.
func TestDemoDomainVerifiesThroughRoute53(t *testing.T) {
	h := newSESHarness(t, Options{VerifyDelay: 10 * time.Second})
	ctx := context.Background()
	zoneID, err := h.sim.EnsureDemoZone("shop.example")
	if err != nil {
		t.Fatal(err)
	}
	ses := h.client("us-east-1")
	id, err := ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("shop.example")})
	if err != nil {
		t.Fatal(err)
	}
	var changes []r53types.Change
	for _, tok := range id.DkimAttributes.Tokens {
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String(tok + "._domainkey.shop.example"), Type: r53types.RRTypeCname, TTL: aws.Int64(1800),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(tok + "." + aws.ToString(id.DkimAttributes.SigningHostedZone))}},
		}})
	}
	if _, err := h.route53().ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID), ChangeBatch: &r53types.ChangeBatch{Changes: changes},
	}); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		advance time.Duration
		want    sestypes.VerificationStatus
	}{{0, sestypes.VerificationStatusPending}, {10 * time.Second, sestypes.VerificationStatusSuccess}} {
		h.clock.Advance(step.advance)
		g, err := ses.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("shop.example")})
		if err != nil {
			t.Fatal(err)
		}
		if g.VerificationStatus != step.want {
			t.Errorf("after %v: %s, want %s", step.advance, g.VerificationStatus, step.want)
		}
	}
}
