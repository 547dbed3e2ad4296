package awssim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	r53provider "github.com/sesame-tool/sesame/steps/dns/route53"
)

// The scenario suite: the same IAM and Route 53 scenarios run against
// awssim and against moto_server, each reduced to a string outcome. Where
// moto is more lenient than AWS the table says so in its moto column, so
// the suite documents moto's behaviour instead of hiding it.

type backend struct {
	name string
	iam  *iam.Client
	r53  *route53.Client
	sts  *sts.Client
}

// outcome renders a result as "ok", "ok <detail>" or "<Code>[: messages]".
func outcome(err error, detail ...any) string {
	if err == nil {
		if len(detail) == 0 {
			return "ok"
		}
		return "ok " + strings.TrimSpace(fmt.Sprintln(detail...))
	}
	var icb *r53types.InvalidChangeBatch
	if errors.As(err, &icb) {
		return "InvalidChangeBatch: " + strings.Join(r53provider.ChangeBatchMessages(icb), "; ")
	}
	if code := apiCode(err); code != "" {
		return code
	}
	return "error " + err.Error()
}

func zoneOf(ctx context.Context, b backend, name string) (string, error) {
	out, err := b.r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(name + time.Now().String())})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.HostedZone.Id), nil
}

// valuesAt lists the values of one set, sorted, or "none".
func valuesAt(ctx context.Context, b backend, zone, name string, typ r53types.RRType) string {
	out, err := b.r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(zone), StartRecordName: aws.String(name), StartRecordType: typ, MaxItems: aws.Int32(1),
	})
	if err != nil {
		return outcome(err)
	}
	if len(out.ResourceRecordSets) == 0 || strings.TrimSuffix(aws.ToString(out.ResourceRecordSets[0].Name), ".") != strings.TrimSuffix(name, ".") || out.ResourceRecordSets[0].Type != typ {
		return "none"
	}
	var vals []string
	for _, r := range out.ResourceRecordSets[0].ResourceRecords {
		vals = append(vals, aws.ToString(r.Value))
	}
	sort.Strings(vals)
	return strings.Join(vals, "|")
}

type scenario struct {
	name string
	run  func(context.Context, backend) string
	want string
	// moto is moto's outcome where it differs from AWS (and awssim).
	moto string
}

var scenarios = []scenario{
	{name: "iam: user names are unique case-insensitively", want: "EntityAlreadyExists",
		moto: "ok", // moto compares user names case-sensitively
		run: func(ctx context.Context, b backend) string {
			if _, err := b.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("relay")}); err != nil {
				return outcome(err)
			}
			_, err := b.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("RELAY")})
			return outcome(err)
		}},
	{name: "iam: same name twice", want: "EntityAlreadyExists",
		run: func(ctx context.Context, b backend) string {
			b.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("twice")})
			_, err := b.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("twice")})
			return outcome(err)
		}},
	{name: "iam: GetUser of a missing user", want: "NoSuchEntity",
		run: func(ctx context.Context, b backend) string {
			_, err := b.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("ghost")})
			return outcome(err)
		}},
	{name: "iam: a third access key", want: "ok 2 LimitExceeded",
		run: func(ctx context.Context, b backend) string {
			b.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("keys")})
			n := 0
			for i := 0; i < 2; i++ {
				if _, err := b.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("keys")}); err == nil {
					n++
				}
			}
			_, err := b.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("keys")})
			return outcome(nil, n, outcome(err))
		}},
	{name: "iam: key ids and secrets", want: "ok true 40",
		run: func(ctx context.Context, b backend) string {
			b.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("shape")})
			k, err := b.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("shape")})
			if err != nil {
				return outcome(err)
			}
			id := aws.ToString(k.AccessKey.AccessKeyId)
			return outcome(nil, strings.HasPrefix(id, "AKIA") && len(id) == 20, len(aws.ToString(k.AccessKey.SecretAccessKey)))
		}},
	{name: "iam: delete a missing access key", want: "NoSuchEntity",
		run: func(ctx context.Context, b backend) string {
			b.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("delkey")})
			_, err := b.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("delkey"), AccessKeyId: aws.String("AKIA0000000000000000")})
			return outcome(err)
		}},
	{name: "iam: policy document comes back URL-encoded", want: "ok true true",
		run: func(ctx context.Context, b backend) string {
			doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"*"}]}`
			b.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("pol")})
			if _, err := b.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("pol"), PolicyName: aws.String("send"), PolicyDocument: aws.String(doc)}); err != nil {
				return outcome(err)
			}
			out, err := b.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("pol"), PolicyName: aws.String("send")})
			if err != nil {
				return outcome(err)
			}
			raw := aws.ToString(out.PolicyDocument)
			dec, _ := url.QueryUnescape(raw)
			return outcome(nil, !strings.Contains(raw, `"`), dec == doc)
		}},
	{name: "iam: malformed policy", want: "MalformedPolicyDocument",
		run: func(ctx context.Context, b backend) string {
			b.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("badpol")})
			_, err := b.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("badpol"), PolicyName: aws.String("p"), PolicyDocument: aws.String("{nope")})
			return outcome(err)
		}},
	{name: "iam: ListUsers pages of two", want: "ok [p1 p2] [p3 p4] [p5]",
		moto: "ok [p1 p2 p3 p4 p5]", // moto ignores MaxItems on ListUsers
		run: func(ctx context.Context, b backend) string {
			for i := 1; i <= 5; i++ {
				b.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("p%d", i)), Path: aws.String("/paged/")})
			}
			var pages []any
			p := iam.NewListUsersPaginator(b.iam, &iam.ListUsersInput{PathPrefix: aws.String("/paged/"), MaxItems: aws.Int32(2)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return outcome(err)
				}
				var names []string
				for _, u := range out.Users {
					names = append(names, aws.ToString(u.UserName))
				}
				pages = append(pages, names)
			}
			return outcome(nil, pages...)
		}},
	{name: "sts: the caller's account", want: "ok 123456789012",
		run: func(ctx context.Context, b backend) string {
			out, err := b.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return outcome(err)
			}
			return outcome(nil, aws.ToString(out.Account))
		}},
	{name: "route53: a new public zone", want: "ok example.com. 4 NS SOA",
		run: func(ctx context.Context, b backend) string {
			id, err := zoneOf(ctx, b, "example.com")
			if err != nil {
				return outcome(err)
			}
			z, err := b.r53.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
			if err != nil {
				return outcome(err)
			}
			sets, err := b.r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)})
			if err != nil {
				return outcome(err)
			}
			var types []any
			for _, s := range sets.ResourceRecordSets {
				types = append(types, string(s.Type))
			}
			return outcome(nil, append([]any{aws.ToString(z.HostedZone.Name), len(z.DelegationSet.NameServers)}, types...)...)
		}},
	{name: "route53: CREATE of an existing set with other values", want: "InvalidChangeBatch: Tried to create resource record set [name='x.example.com.', type='TXT'] but it already exists",
		// moto accepts it and silently keeps the old values.
		moto: `ok "a"`,
		run: func(ctx context.Context, b backend) string {
			id, _ := zoneOf(ctx, b, "example.com")
			applyBatch(ctx, b.r53, id, rr("CREATE", "x.example.com", "TXT", 300, `"a"`))
			_, err := applyBatch(ctx, b.r53, id, rr("CREATE", "x.example.com", "TXT", 300, `"b"`))
			if err != nil {
				return outcome(err)
			}
			return outcome(nil, valuesAt(ctx, b, id, "x.example.com.", "TXT"))
		}},
	{name: "route53: CREATE of an identical existing set", want: "InvalidChangeBatch: Tried to create resource record set [name='x.example.com.', type='TXT'] but it already exists",
		// moto refuses it in the generic error shape, whose Message sesame
		// reads as Route 53's standard form (r53provider.ChangeBatchMessages).
		run: func(ctx context.Context, b backend) string {
			id, _ := zoneOf(ctx, b, "example.com")
			applyBatch(ctx, b.r53, id, rr("CREATE", "x.example.com", "TXT", 300, `"a"`))
			_, err := applyBatch(ctx, b.r53, id, rr("CREATE", "x.example.com", "TXT", 300, `"a"`))
			return outcome(err)
		}},
	{name: "route53: DELETE with values that differ", want: `InvalidChangeBatch: Tried to delete resource record set [name='x.example.com.', type='TXT'] but the values provided do not match the current values`,
		// moto refuses it as InvalidInput ("Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords]...").
		moto: "InvalidInput",
		run: func(ctx context.Context, b backend) string {
			id, _ := zoneOf(ctx, b, "example.com")
			applyBatch(ctx, b.r53, id, rr("CREATE", "x.example.com", "TXT", 300, `"a"`))
			_, err := applyBatch(ctx, b.r53, id, rr("DELETE", "x.example.com", "TXT", 300, `"other"`))
			if err != nil {
				return outcome(err)
			}
			return outcome(nil, valuesAt(ctx, b, id, "x.example.com.", "TXT"))
		}},
	{name: "route53: UPSERT replaces the whole set", want: `ok "new"`,
		run: func(ctx context.Context, b backend) string {
			id, _ := zoneOf(ctx, b, "example.com")
			applyBatch(ctx, b.r53, id, rr("CREATE", "x.example.com", "TXT", 300, `"a"`, `"b"`))
			if _, err := applyBatch(ctx, b.r53, id, rr("UPSERT", "x.example.com", "TXT", 300, `"new"`)); err != nil {
				return outcome(err)
			}
			return outcome(nil, valuesAt(ctx, b, id, "x.example.com.", "TXT"))
		}},
	{name: "route53: a CNAME beside a TXT", want: "InvalidChangeBatch: RRSet of type CNAME with DNS name x.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.",
		moto: "ok", // moto does not enforce CNAME exclusivity
		run: func(ctx context.Context, b backend) string {
			id, _ := zoneOf(ctx, b, "example.com")
			applyBatch(ctx, b.r53, id, rr("CREATE", "x.example.com", "TXT", 300, `"a"`))
			_, err := applyBatch(ctx, b.r53, id, rr("CREATE", "x.example.com", "CNAME", 300, "y.example.net"))
			return outcome(err)
		}},
	{name: "route53: a TXT beside a CNAME", want: "InvalidChangeBatch: RRSet of type TXT with DNS name x.example.com. is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone example.com.",
		moto: "ok", // moto does not enforce CNAME exclusivity
		run: func(ctx context.Context, b backend) string {
			id, _ := zoneOf(ctx, b, "example.com")
			applyBatch(ctx, b.r53, id, rr("CREATE", "x.example.com", "CNAME", 300, "y.example.net"))
			_, err := applyBatch(ctx, b.r53, id, rr("UPSERT", "x.example.com", "TXT", 300, `"a"`))
			return outcome(err)
		}},
	{name: "route53: a CNAME at the apex", want: "InvalidChangeBatch: RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com.",
		moto: "ok", // moto accepts a CNAME at the apex
		run: func(ctx context.Context, b backend) string {
			id, _ := zoneOf(ctx, b, "example.com")
			_, err := applyBatch(ctx, b.r53, id, rr("CREATE", "example.com", "CNAME", 300, "y.example.net"))
			return outcome(err)
		}},
	{name: "route53: a failed batch changes nothing", want: "ok none",
		run: func(ctx context.Context, b backend) string {
			id, _ := zoneOf(ctx, b, "example.com")
			applyBatch(ctx, b.r53, id, rr("CREATE", "x.example.com", "TXT", 300, `"a"`))
			_, err := applyBatch(ctx, b.r53, id, rr("CREATE", "new.example.com", "TXT", 300, `"n"`), rr("CREATE", "x.example.com", "TXT", 300, `"a"`))
			if err == nil {
				return "ok batch accepted"
			}
			return outcome(nil, valuesAt(ctx, b, id, "new.example.com.", "TXT"))
		}},
	{name: "route53: ListHostedZonesByName order and paging", want: "ok [example.com. a.example.com.] [example.net. b.example.org.]",
		moto: "ok [example.com. a.example.com. example.net. b.example.org.]", // same order, but moto ignores maxitems
		run: func(ctx context.Context, b backend) string {
			for _, n := range []string{"b.example.org", "example.net", "a.example.com", "example.com"} {
				if _, err := zoneOf(ctx, b, n); err != nil {
					return outcome(err)
				}
			}
			var pages []any
			in := &route53.ListHostedZonesByNameInput{MaxItems: aws.Int32(2)}
			for {
				out, err := b.r53.ListHostedZonesByName(ctx, in)
				if err != nil {
					return outcome(err)
				}
				var names []string
				for _, z := range out.HostedZones {
					names = append(names, aws.ToString(z.Name))
				}
				pages = append(pages, names)
				if !out.IsTruncated || len(pages) > 5 {
					return outcome(nil, pages...)
				}
				in = &route53.ListHostedZonesByNameInput{MaxItems: aws.Int32(2), DNSName: out.NextDNSName, HostedZoneId: out.NextHostedZoneId}
			}
		}},
	{name: "route53: ListResourceRecordSets pages of two", want: "ok 3 [example.com.:NS example.com.:SOA _dmarc.example.com.:TXT a.example.com.:TXT b.example.com.:TXT]",
		run: func(ctx context.Context, b backend) string {
			id, _ := zoneOf(ctx, b, "example.com")
			applyBatch(ctx, b.r53, id, rr("CREATE", "b.example.com", "TXT", 300, `"b"`), rr("CREATE", "a.example.com", "TXT", 300, `"a"`), rr("CREATE", "_dmarc.example.com", "TXT", 300, `"d"`))
			var all []string
			pages := 0
			p := route53.NewListResourceRecordSetsPaginator(b.r53, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), MaxItems: aws.Int32(2)})
			for p.HasMorePages() && pages < 10 {
				out, err := p.NextPage(ctx)
				if err != nil {
					return outcome(err)
				}
				pages++
				for _, s := range out.ResourceRecordSets {
					all = append(all, aws.ToString(s.Name)+":"+string(s.Type))
				}
			}
			return outcome(nil, pages, all)
		}},
	{name: "route53: a change is PENDING when first polled", want: "ok PENDING",
		moto: "ok INSYNC", // moto reports every change INSYNC at once
		run: func(ctx context.Context, b backend) string {
			id, _ := zoneOf(ctx, b, "example.com")
			out, err := applyBatch(ctx, b.r53, id, rr("CREATE", "x.example.com", "TXT", 300, `"a"`))
			if err != nil {
				return outcome(err)
			}
			got, err := b.r53.GetChange(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id})
			if err != nil {
				return outcome(err)
			}
			return outcome(nil, string(got.ChangeInfo.Status))
		}},
	{name: "route53: a missing zone", want: "NoSuchHostedZone",
		run: func(ctx context.Context, b backend) string {
			_, err := b.r53.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String("ZNOSUCHZONE0000")})
			return outcome(err)
		}},
}

func newBackend(name, url string) backend {
	return backend{name: name, iam: iamClient(url), r53: r53Client(url), sts: stsClient(url)}
}

// startMoto runs moto_server on a free loopback port for the test.
func startMoto(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server is not on PATH: the moto half of the scenario suite needs it (pip install 'moto[server]')")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; i < 300; i++ {
		if resp, err := http.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			return url
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("moto_server did not answer on %s within 30s", url)
	return ""
}

func resetMoto(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("reset moto: %v", err)
	}
	resp.Body.Close()
}

func TestScenariosAwssim(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			b := newBackend("awssim", endpoint(t, New(Options{})))
			if got := sc.run(context.Background(), b); got != sc.want {
				t.Errorf("awssim:\n got %s\nwant %s", got, sc.want)
			}
		})
	}
}

func TestScenariosMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not starting moto_server")
	}
	url := startMoto(t)
	b := newBackend("moto", url)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			resetMoto(t, url)
			want := sc.want
			if sc.moto != "" {
				want = sc.moto
			}
			if got := sc.run(context.Background(), b); got != want {
				t.Errorf("moto:\n got %s\nwant %s", got, want)
			}
		})
	}
}
