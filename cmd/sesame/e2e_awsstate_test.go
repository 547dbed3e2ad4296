package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// awsState is what a setup leaves in the (simulated) account, read through
// the AWS APIs with the SDK, so runs against two simulators compare. The
// DKIM tokens SES draws at random are replaced by "<dkim>".
type awsState struct {
	// Users are "name keys=N policies=[...]" lines.
	Users []string
	// Records are "zone name type values" lines of every public zone.
	Records []string
	// Identities are "name verified dkim=STATUS mailfrom=DOMAIN" lines.
	Identities []string
}

// String is one line per fact, for a diff in a failure message.
func (s awsState) String() string {
	var b strings.Builder
	for _, l := range slices.Concat(s.Users, s.Records, s.Identities) {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// Equal compares two states line by line.
// withKeys is s with the SMTP user holding n access keys instead of one.
func (s awsState) withKeys(n int) awsState {
	if n == 1 {
		return s
	}
	s.Users = slices.Clone(s.Users)
	for i := range s.Users {
		s.Users[i] = strings.Replace(s.Users[i], "keys=1", fmt.Sprintf("keys=%d", n), 1)
	}
	return s
}

func (s awsState) Equal(o awsState) bool {
	return slices.Equal(s.Users, o.Users) && slices.Equal(s.Records, o.Records) && slices.Equal(s.Identities, o.Identities)
}

var dkimToken = regexp.MustCompile(`[a-z0-9]{32}`)

// dumpAWS reads the account behind the simulator's endpoint. It makes only
// read calls (the simulator logs them; tests count only mutating ones).
func (p *simProc) dumpAWS(t *testing.T, region string) awsState {
	t.Helper()
	ctx := context.Background()
	cfg := p.awsConfig(region)
	var st awsState
	ic := iam.NewFromConfig(cfg)
	users, err := ic.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil {
		t.Fatalf("dump: iam ListUsers: %v", err)
	}
	for _, u := range users.Users {
		name := aws.ToString(u.UserName)
		keys, err := ic.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: u.UserName})
		if err != nil {
			t.Fatalf("dump: iam ListAccessKeys %s: %v", name, err)
		}
		pols, err := ic.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: u.UserName})
		if err != nil {
			t.Fatalf("dump: iam ListUserPolicies %s: %v", name, err)
		}
		st.Users = append(st.Users, fmt.Sprintf("user %s keys=%d policies=%v", name, len(keys.AccessKeyMetadata), pols.PolicyNames))
	}

	rc := route53.NewFromConfig(cfg)
	zones, err := rc.ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	if err != nil {
		t.Fatalf("dump: route53 ListHostedZones: %v", err)
	}
	for _, z := range zones.HostedZones {
		sets, err := rc.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: z.Id})
		if err != nil {
			t.Fatalf("dump: route53 ListResourceRecordSets %s: %v", aws.ToString(z.Id), err)
		}
		for _, rs := range sets.ResourceRecordSets {
			if rs.Type == "NS" || rs.Type == "SOA" {
				continue // the zone's own, with simulator-chosen servers
			}
			var vals []string
			for _, v := range rs.ResourceRecords {
				vals = append(vals, aws.ToString(v.Value))
			}
			slices.Sort(vals)
			line := fmt.Sprintf("record %s %s %s %v", aws.ToString(z.Name), aws.ToString(rs.Name), rs.Type, vals)
			st.Records = append(st.Records, dkimToken.ReplaceAllString(line, "<dkim>"))
		}
	}
	slices.Sort(st.Records)

	sc := sesv2.NewFromConfig(cfg)
	ids, err := sc.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{})
	if err != nil {
		t.Fatalf("dump: sesv2 ListEmailIdentities: %v", err)
	}
	for _, id := range ids.EmailIdentities {
		got, err := sc.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: id.IdentityName})
		if err != nil {
			t.Fatalf("dump: sesv2 GetEmailIdentity %s: %v", aws.ToString(id.IdentityName), err)
		}
		line := fmt.Sprintf("identity %s verified=%v", aws.ToString(id.IdentityName), got.VerifiedForSendingStatus)
		if got.DkimAttributes != nil {
			line += fmt.Sprintf(" dkim=%s/%s tokens=%d", got.DkimAttributes.Status, got.DkimAttributes.SigningAttributesOrigin, len(got.DkimAttributes.Tokens))
		}
		if got.MailFromAttributes != nil {
			line += " mailfrom=" + aws.ToString(got.MailFromAttributes.MailFromDomain)
		}
		st.Identities = append(st.Identities, line)
	}
	slices.Sort(st.Identities)
	return st
}

// awsConfig is an SDK configuration for reading the simulator as the
// operator, with retries enough to read through injected faults.
func (p *simProc) awsConfig(region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAOPERATOR00000000", "operator-secret-key-0000000000000000000000", ""),
		BaseEndpoint: aws.String(p.url),
		// The simulator may be injecting faults: retry many times, quickly.
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 30
				o.RateLimiter = ratelimit.None
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 10 * time.Millisecond, nil })
			})
		},
	}
}

// accessKeys lists the ids of a user's access keys.
func (p *simProc) accessKeys(t *testing.T, user string) []string {
	t.Helper()
	out, err := iam.NewFromConfig(p.awsConfig("us-east-1")).ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatalf("iam ListAccessKeys %s: %v", user, err)
	}
	var ids []string
	for _, k := range out.AccessKeyMetadata {
		ids = append(ids, aws.ToString(k.AccessKeyId))
	}
	return ids
}
