package steps

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/state"
)

// countingRoute53 counts the change calls that reach a real client.
type countingRoute53 struct {
	awsapi.Route53
	changes atomic.Int32
}

func (c *countingRoute53) ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, opt ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	c.changes.Add(1)
	return c.Route53.ChangeResourceRecordSets(ctx, in, opt...)
}

// TestDNSStepAgainstMoto runs the dns step with the real SDK client
// against moto_server's Route 53, so the wire protocol (restXml, the
// hand-written pagination fields, InvalidChangeBatch) is exercised. moto is
// more lenient than Route 53: it accepts a CREATE of an existing set and a
// DELETE whose values differ, and reports every change INSYNC at once, so
// those rules are proven against FakeRoute53 instead, never here.
func TestDNSStepAgainstMoto(t *testing.T) {
	url := startMoto(t)
	ctx := context.Background()
	client := route53.New(route53.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing", Source: "test"}, nil
		}),
		RetryMaxAttempts: 1,
	})
	hz, err := client.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("sesame-test")})
	if err != nil {
		t.Fatal(err)
	}
	// A private zone of the same name must be ignored.
	if _, err := client.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("example.com"), CallerReference: aws.String("sesame-test-private"),
		HostedZoneConfig: &r53types.HostedZoneConfig{PrivateZone: true},
		VPC:              &r53types.VPC{VPCId: aws.String("vpc-12345678"), VPCRegion: r53types.VPCRegionUsEast1},
	}); err != nil {
		t.Logf("moto refused a private zone (%v); going on without one", err)
	}
	zoneID := trimZoneID(aws.ToString(hz.HostedZone.Id))
	existing := []r53types.Change{
		{Action: r53types.ChangeActionCreate, ResourceRecordSet: rrsPtr("example.com.", "MX", 300, "10 mx1.mailhost.example.net.", "20 mx2.mailhost.example.net.")},
		{Action: r53types.ChangeActionCreate, ResourceRecordSet: rrsPtr("mail.example.com.", "TXT", 600, `"v=spf1 include:_spf.mailhost.example.net ~all"`, `"site-verification=xyz"`)},
	}
	if _, err := client.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), ChangeBatch: &r53types.ChangeBatch{Changes: existing}}); err != nil {
		t.Fatal(err)
	}

	fx := newDNSFixture(t, false, state.Answers{MailFrom: "mail", DMARC: true})
	counting := &countingRoute53{Route53: client}
	fx.env.Clients.Route53 = counting
	s := DNS{}
	mustCheck(t, s, fx.env, StatusTodo)
	if err := s.Apply(ctx, fx.env); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, s, fx.env, StatusDone)
	if fx.env.Facts.Zone.ID != zoneID {
		t.Errorf("zone %s, want the public %s", fx.env.Facts.Zone.ID, zoneID)
	}
	sets, err := setsAt(ctx, client, zoneID, "mail.example.com.")
	if err != nil {
		t.Fatal(err)
	}
	var txt []string
	for _, s := range sets {
		if s.Type == "TXT" {
			for _, v := range s.Values {
				txt = append(txt, dns.TXTUnquote(v))
			}
		}
	}
	wantTXT := []string{"v=spf1 include:amazonses.com include:_spf.mailhost.example.net ~all", "site-verification=xyz"}
	if !slices.Equal(txt, wantTXT) {
		t.Errorf("TXT at mail.example.com = %q, want %q", txt, wantTXT)
	}
	apex, err := setsAt(ctx, client, zoneID, "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range apex {
		if s.Type == "MX" && len(s.Values) != 2 {
			t.Errorf("apex MX changed: %+v", s.Values)
		}
	}
	before := counting.changes.Load()
	if err := s.Apply(ctx, fx.env); err != nil {
		t.Fatal(err)
	}
	if counting.changes.Load() != before {
		t.Error("a second Apply sent a change to Route 53")
	}
}

func rrsPtr(name, typ string, ttl int64, values ...string) *r53types.ResourceRecordSet {
	s := &r53types.ResourceRecordSet{Name: aws.String(name), Type: r53types.RRType(typ), TTL: aws.Int64(ttl)}
	for _, v := range values {
		s.ResourceRecords = append(s.ResourceRecords, r53types.ResourceRecord{Value: aws.String(v)})
	}
	return s
}
