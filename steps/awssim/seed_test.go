package awssim

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

const seedJSON = `{
  "zones": [
    {"name": "example.com", "records": [
      {"name": "example.com", "type": "MX", "ttl": 300, "values": ["10 mx1.provider.example."]},
      {"name": "example.com", "type": "TXT", "ttl": 300, "values": ["\"v=spf1 include:provider.example ~all\""]}
    ]},
    {"name": "example.com", "private": true, "vpc": {"id": "vpc-1", "region": "eu-west-1"}},
    {"name": "internal.example", "private": true}
  ],
  "users": [
    {"name": "old-relay", "tags": {"created-by": "sesame"},
     "policies": {"send": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}]}},
     "keys": [{"id": "AKIAOLDRELAY00000001", "secret": "0123456789012345678901234567890123456789"}, {}]}
  ]
}`

func TestSeedFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte(seedJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	sim := New(Options{})
	if err := sim.LoadSeedFile(path); err != nil {
		t.Fatal(err)
	}
	u := endpoint(t, sim)

	zones, err := r53Client(u).ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{})
	if err != nil {
		t.Fatal(err)
	}
	var private []bool
	for _, z := range zones.HostedZones {
		private = append(private, z.Config.PrivateZone)
	}
	if len(zones.HostedZones) != 3 || strings.Count(fmt.Sprint(private), "true") != 2 {
		t.Fatalf("seeded zones private=%v, want 3 zones, 2 private", private)
	}
	ids := sim.Zones()
	got := sim.RecordSets(ids[0])
	var lines []string
	for _, rs := range got {
		lines = append(lines, rs.Name+" "+rs.Type+" "+strings.Join(rs.Values, "|"))
	}
	want := "example.com. MX 10 mx1.provider.example.\nexample.com. NS"
	if !strings.HasPrefix(strings.Join(lines, "\n"), want) || !strings.HasSuffix(lines[3], `TXT "v=spf1 include:provider.example ~all"`) {
		t.Errorf("seeded public zone holds:\n%s", strings.Join(lines, "\n"))
	}

	ic := iamClient(u)
	keys, err := ic.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("old-relay")})
	if err != nil || len(keys.AccessKeyMetadata) != 2 {
		t.Fatalf("seeded keys: %+v, %v", keys, err)
	}
	if s, ok := sim.SecretForKey("AKIAOLDRELAY00000001"); !ok || s != "0123456789012345678901234567890123456789" {
		t.Error("seeded key id/secret not kept")
	}
	pol, err := ic.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("old-relay"), PolicyName: aws.String("send")})
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(pol.PolicyDocument)); !strings.Contains(doc, "ses:SendRawEmail") {
		t.Errorf("seeded policy = %s", doc)
	}
	user, err := ic.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("old-relay")})
	if err != nil || len(user.User.Tags) != 1 {
		t.Errorf("seeded user = %+v, %v", user, err)
	}
}

func TestSeedRejects(t *testing.T) {
	tests := []struct{ name, json, err string }{
		{"unknown field", `{"zonez": []}`, "unknown field"},
		{"CNAME beside TXT", `{"zones":[{"name":"example.com","records":[
			{"name":"a.example.com","type":"TXT","ttl":300,"values":["\"x\""]},
			{"name":"a.example.com","type":"CNAME","ttl":300,"values":["b.example.net"]}]}]}`, "conflicts with other records"},
		{"record outside its zone", `{"zones":[{"name":"example.com","records":[{"name":"example.org","type":"TXT","ttl":300,"values":["\"x\""]}]}]}`, "not permitted in zone"},
		{"unquoted TXT", `{"zones":[{"name":"example.com","records":[{"name":"example.com","type":"TXT","ttl":300,"values":["x"]}]}]}`, "quotation marks"},
		{"three keys", `{"users":[{"name":"u","keys":[{},{},{}]}]}`, "Cannot exceed quota for AccessKeysPerUser: 2"},
		{"bad key id", `{"users":[{"name":"u","keys":[{"id":"XYZ"}]}]}`, "want AKIA"},
		{"duplicate user", `{"users":[{"name":"u"},{"name":"U"}]}`, "already exists"},
		{"bad policy", `{"users":[{"name":"u","policies":{"p":{"Version":"2012-10-17"}}}]}`, "Missing required field Statement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New(Options{}).LoadSeed(strings.NewReader(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("LoadSeed = %v, want an error containing %q", err, tt.err)
			}
		})
	}
}

// Seeded SES identities are per region, with the status asked for; a
// pending one verifies as usual once its records are published.
func TestSeedIdentities(t *testing.T) {
	ctx := context.Background()
	h := newSESHarness(t, Options{})
	err := h.sim.LoadSeed(strings.NewReader(`{"identities": [
	  {"name": "Verified.Example", "region": "eu-west-1", "status": "verified"},
	  {"name": "failed.example", "status": "failed"},
	  {"name": "pending.example"},
	  {"name": "ops@pending.example", "region": "eu-west-1"}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		region, name, status string
		verified             bool
	}{
		{"eu-west-1", "verified.example", "SUCCESS", true},
		{"us-east-1", "failed.example", "FAILED", false},
		{"us-east-1", "pending.example", "PENDING", false},
		{"eu-west-1", "ops@pending.example", "SUCCESS", true}, // VerifyDelay 0: the link is "clicked" at once
	}
	for _, tt := range tests {
		out, err := h.client(tt.region).GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(tt.name)})
		if err != nil {
			t.Fatalf("%s in %s: %v", tt.name, tt.region, err)
		}
		if string(out.VerificationStatus) != tt.status || out.VerifiedForSendingStatus != tt.verified {
			t.Errorf("%s: status %s verified %v, want %s %v", tt.name, out.VerificationStatus, out.VerifiedForSendingStatus, tt.status, tt.verified)
		}
	}
	if _, err := h.client("us-east-1").GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("verified.example")}); err == nil {
		t.Error("an identity seeded in eu-west-1 is visible in us-east-1")
	}
	for _, bad := range []string{`{"identities":[{"name":"x.example","status":"done"}]}`, `{"identities":[{"name":"-x.example"}]}`, `{"identities":[{"name":"a.example"},{"name":"a.example"}]}`} {
		if err := New(Options{}).LoadSeed(strings.NewReader(bad)); err == nil {
			t.Errorf("LoadSeed(%s) = nil, want an error", bad)
		}
	}
}
