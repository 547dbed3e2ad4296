package steps

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

// finishedFakes is an account where the user, its policy and a key, the
// identity (verified) and its DKIM records in a public zone all exist.
type finishedFakes struct {
	*awsEnv
	r53  *stepstest.FakeRoute53
	zone string
}

func newFinishedFakes(t *testing.T) *finishedFakes {
	t.Helper()
	e := &finishedFakes{awsEnv: newAWSEnv(t, "arn:aws:iam::123456789012:user/ops"), r53: stepstest.NewFakeRoute53()}
	e.Clients.Route53 = e.r53
	e.zone = e.r53.AddZone("example.com", false)
	e.r53.Put(e.zone, "example.com", "MX", 300, "10 mx1.example.net.")
	e.r53.Put(e.zone, "google._domainkey.example.com", "TXT", 300, `"v=DKIM1; p=abc"`)
	for _, tok := range e.ses.AddIdentity("example.com") {
		e.r53.Put(e.zone, tok+"._domainkey.example.com", "CNAME", 1800, tok+".dkim.amazonses.com")
	}
	e.ses.SetIdentityStatus("example.com", true, "SUCCESS")
	e.iam.AddUser(testUser, map[string]string{TagManagedBy: TagManagedByValue})
	e.iam.SetPolicy(testUser, ses.SMTPUserPolicyName("eu-west-1"), ses.SMTPUserPolicy("eu-west-1", testAccount, "example.com"))
	id, secret := e.iam.AddAccessKey(testUser, time.Now())
	entry := mta.Credentials{Host: ses.SMTPHost("eu-west-1"), Port: ses.DefaultSMTPPort, Username: id, Password: mta.Secret(ses.SMTPPassword(secret, "eu-west-1"))}
	if _, err := postfix.WriteSASLPasswd(e.Answers.OutDir, entry); err != nil {
		t.Fatal(err)
	}
	e.Options.ReadOnly = true
	return e
}

// readCounts is how many calls each read operation got.
func (e *finishedFakes) readCounts() map[string]int {
	return map[string]int{
		"GetCallerIdentity":      e.sts.Calls("GetCallerIdentity"),
		"GetAccount":             e.ses.Calls("GetAccount"),
		"GetUser":                e.iam.Calls("GetUser"),
		"GetUserPolicy":          e.iam.Calls("GetUserPolicy"),
		"ListAccessKeys":         e.iam.Calls("ListAccessKeys"),
		"GetEmailIdentity":       e.ses.Calls("GetEmailIdentity"),
		"ListHostedZonesByName":  e.r53.Calls("ListHostedZonesByName"),
		"GetHostedZone":          e.r53.Calls("GetHostedZone"),
		"ListResourceRecordSets": e.r53.Calls("ListResourceRecordSets"),
	}
}

// TestPrefetchStatusReadsEachOnce: with the prefetch, status makes each
// read once: the identity and verification steps share GetEmailIdentity,
// and the three DKIM CNAMEs are one listing of _domainkey.
func TestPrefetchStatusReadsEachOnce(t *testing.T) {
	e := newFinishedFakes(t)
	Prefetch(context.Background(), e.Env)
	rep, err := (&Runner{Steps: Default()}).Status(context.Background(), e.Env)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Steps[:6] {
		if s.Status != StatusDone && s.Status != StatusSkipped {
			t.Errorf("step %s = %s: %s", s.ID, s.Status, s.Detail)
		}
	}
	want := map[string]int{"GetCallerIdentity": 1, "GetAccount": 1, "GetUser": 1, "GetUserPolicy": 1, "ListAccessKeys": 1,
		"GetEmailIdentity": 1, "ListHostedZonesByName": 1, "GetHostedZone": 1, "ListResourceRecordSets": 2}
	for op, n := range e.readCounts() {
		if n != want[op] {
			t.Errorf("%s: %d calls, want %d", op, n, want[op])
		}
	}
}

// gatedClients hold every read until the test releases them, recording
// which were in flight together.
type gate struct {
	mu       sync.Mutex
	inFlight []string
	changed  chan struct{}
	release  chan struct{}
}

func (g *gate) enter(op string) {
	g.mu.Lock()
	g.inFlight = append(g.inFlight, op)
	g.mu.Unlock()
	g.changed <- struct{}{}
	<-g.release
}

type gatedSTS struct {
	awsapi.STS
	g *gate
}

func (x gatedSTS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, o ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	x.g.enter("GetCallerIdentity")
	return x.STS.GetCallerIdentity(ctx, in, o...)
}

type gatedSES struct {
	awsapi.SES
	g *gate
}

func (x gatedSES) GetAccount(ctx context.Context, in *sesv2.GetAccountInput, o ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error) {
	x.g.enter("GetAccount")
	return x.SES.GetAccount(ctx, in, o...)
}

func (x gatedSES) GetEmailIdentity(ctx context.Context, in *sesv2.GetEmailIdentityInput, o ...func(*sesv2.Options)) (*sesv2.GetEmailIdentityOutput, error) {
	x.g.enter("GetEmailIdentity")
	return x.SES.GetEmailIdentity(ctx, in, o...)
}

type gatedIAM struct {
	awsapi.IAM
	g *gate
}

func (x gatedIAM) GetUser(ctx context.Context, in *iam.GetUserInput, o ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	x.g.enter("GetUser")
	return x.IAM.GetUser(ctx, in, o...)
}

func (x gatedIAM) GetUserPolicy(ctx context.Context, in *iam.GetUserPolicyInput, o ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error) {
	x.g.enter("GetUserPolicy")
	return x.IAM.GetUserPolicy(ctx, in, o...)
}

func (x gatedIAM) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, o ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	x.g.enter("ListAccessKeys")
	return x.IAM.ListAccessKeys(ctx, in, o...)
}

type gatedRoute53 struct {
	awsapi.Route53
	g *gate
}

func (x gatedRoute53) ListHostedZonesByName(ctx context.Context, in *route53.ListHostedZonesByNameInput, o ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error) {
	x.g.enter("ListHostedZonesByName")
	return x.Route53.ListHostedZonesByName(ctx, in, o...)
}

// TestPrefetchReadsAtOnce: the seven reads that depend on nothing are all
// in flight together before any of them is answered: one round trip, not
// seven.
func TestPrefetchReadsAtOnce(t *testing.T) {
	e := newFinishedFakes(t)
	g := &gate{changed: make(chan struct{}, 16), release: make(chan struct{})}
	e.Clients = awsapi.Clients{STS: gatedSTS{e.sts, g}, SES: gatedSES{e.ses, g}, IAM: gatedIAM{e.iam, g}, Route53: gatedRoute53{e.r53, g}}
	Prefetch(context.Background(), e.Env)
	want := []string{"GetAccount", "GetCallerIdentity", "GetEmailIdentity", "GetUser", "GetUserPolicy", "ListAccessKeys", "ListHostedZonesByName"}
	guard := time.After(10 * time.Second) // a hang guard, not a measurement
	for {
		g.mu.Lock()
		got := slices.Sorted(slices.Values(g.inFlight))
		g.mu.Unlock()
		if slices.Equal(got, want) {
			break
		}
		select {
		case <-g.changed:
		case <-guard:
			t.Fatalf("in flight together: %v, want %v", got, want)
		}
	}
	close(g.release)
	go func() {
		for range g.changed {
		}
	}()
	rep, err := (&Runner{Steps: Default()}).Status(context.Background(), e.Env)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Account != testAccount {
		t.Errorf("account = %q", rep.Account)
	}
}

// approveAnd is a Prompter that runs a function (someone else changing
// AWS meanwhile) when asked to approve, then says yes.
type approveAnd struct {
	NoInput
	meanwhile func()
}

func (p approveAnd) Confirm(context.Context, Question) (bool, error) {
	p.meanwhile()
	return true, nil
}

// TestApplyNeverUsesCachedReads: the identity is made by someone else
// after the Check read "no identity" (just before Apply with --yes, or
// while the operator reads the plan); Apply reads afresh, sees it and
// creates nothing, and the Check after it says done.
func TestApplyNeverUsesCachedReads(t *testing.T) {
	tests := []struct {
		name string
		yes  bool
	}{
		{"with --yes, changed just before Apply", true},
		{"changed while the operator reads the plan", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSMTPEnv(t)
			meanwhile := func() { e.ses.AddIdentity("example.com") }
			e.Options.NoInput, e.Options.Yes = false, tt.yes
			e.Prompt = approveAnd{meanwhile: meanwhile}
			if tt.yes {
				e.Emit = func(ev Event) {
					if ev.Kind == EventApplying {
						meanwhile()
					}
				}
			}
			Prefetch(context.Background(), e.Env)
			rep, err := (&Runner{Steps: []Step{Identity{}}}).Run(context.Background(), e.Env)
			if err != nil {
				t.Fatal(err)
			}
			if n := e.ses.Calls("CreateEmailIdentity"); n != 0 {
				t.Errorf("Apply acted on the cached \"no identity\": %d CreateEmailIdentity calls", n)
			}
			if rep.Steps[0].Status != StatusDone {
				t.Errorf("identity = %s: %s", rep.Steps[0].Status, rep.Steps[0].Detail)
			}
		})
	}
}

// TestAnswersEmptyTheCache: no cached read outlives a wait for the
// operator: a Check after a question reads AWS again.
func TestAnswersEmptyTheCache(t *testing.T) {
	e := newSMTPEnv(t)
	Prefetch(context.Background(), e.Env)
	ctx := context.Background()
	if res, err := (Identity{}).Check(ctx, e.Env); err != nil || res.Status != StatusTodo {
		t.Fatalf("check = %+v, %v", res, err)
	}
	e.ses.AddIdentity("example.com") // the operator made it in the console meanwhile
	_, _ = e.Prompt.Confirm(ctx, Question{ID: "anything"})
	if res, err := (Identity{}).Check(ctx, e.Env); err != nil || res.Status != StatusDone {
		t.Fatalf("check after the question = %+v, %v", res, err)
	}
}

// TestWritesEmptyTheCache: a Check after a write sees the write, even
// outside an Apply.
func TestWritesEmptyTheCache(t *testing.T) {
	e := newSMTPEnv(t)
	Prefetch(context.Background(), e.Env)
	ctx := context.Background()
	if res, err := (Identity{}).Check(ctx, e.Env); err != nil || res.Status != StatusTodo {
		t.Fatalf("check = %+v, %v", res, err)
	}
	if _, err := e.Clients.SES.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	if res, err := (Identity{}).Check(ctx, e.Env); err != nil || res.Status != StatusDone {
		t.Fatalf("check after the write = %+v, %v", res, err)
	}
}
