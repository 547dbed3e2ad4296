package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/internal/fakeclock"
	"github.com/sesame-tool/sesame/steps/state"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

// dtResolver answers from a map keyed "name TYPE"; a missing key is an
// empty answer, an entry in errs a failed lookup.
type dtResolver struct {
	mu      sync.Mutex
	answers map[string][]string
	errs    map[string]error
	asked   int
}

func (r *dtResolver) Lookup(_ context.Context, name, qtype string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked++
	k := strings.TrimSuffix(strings.ToLower(name), ".") + " " + qtype
	if err := r.errs[k]; err != nil {
		return nil, err
	}
	return slices.Clone(r.answers[k]), nil
}

// dtPrompt answers Choose with choice and counts the questions.
type dtPrompt struct {
	choice string
	asked  []Question
}

func (p *dtPrompt) Confirm(_ context.Context, q Question) (bool, error) {
	p.asked = append(p.asked, q)
	return true, nil
}

func (p *dtPrompt) Choose(_ context.Context, q Question, _ []Option) (string, error) {
	p.asked = append(p.asked, q)
	return p.choice, nil
}

func (p *dtPrompt) Input(_ context.Context, q Question, _ func(string) error) (string, error) {
	p.asked = append(p.asked, q)
	return "", errors.New("no input in this test")
}

// dnsFixture is one account: a Route 53 fake, an SES fake with the
// domain's identity, and an Env whose Facts hold that identity, as the
// identity step leaves them.
type dnsFixture struct {
	r53    *stepstest.FakeRoute53
	ses    *stepstest.FakeSES
	env    *Env
	events *[]Event
	zone   string
}

func newDNSFixture(t *testing.T, withZone bool, a state.Answers) *dnsFixture {
	t.Helper()
	fx := &dnsFixture{r53: stepstest.NewFakeRoute53(), ses: stepstest.NewFakeSES("us-east-1")}
	if withZone {
		fx.zone = fx.r53.AddZone("example.com", false)
		fx.r53.Put(fx.zone, "example.com", "MX", 300, "10 mx1.mailhost.example.net.", "20 mx2.mailhost.example.net.")
		fx.r53.Put(fx.zone, "example.com", "TXT", 300, `"v=spf1 include:_spf.mailhost.example.net ~all"`, `"google-site-verification=abc"`)
	}
	if a.Domain == "" {
		a.Domain = "example.com"
	}
	a.Region = "us-east-1"
	tokens := fx.ses.AddIdentity(a.Domain)
	fx.env = NewEnv(awsapi.Clients{Route53: fx.r53, SES: fx.ses}, &a, Options{Yes: true})
	fx.env.Clock = fakeclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	fx.env.Facts.Identity = &IdentityInfo{Domain: a.Domain, Tokens: tokens, SigningHostedZone: "dkim.amazonses.com", DKIMStatus: "PENDING"}
	events := &[]Event{}
	var mu sync.Mutex
	fx.env.Emit = func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		*events = append(*events, e)
	}
	fx.events = events
	return fx
}

func (fx *dnsFixture) published() []any {
	var out []any
	for _, e := range *fx.events {
		if e.Kind == EventData {
			out = append(out, e.Data)
		}
	}
	return out
}

func (fx *dnsFixture) warnings() []string {
	var out []string
	for _, e := range *fx.events {
		if e.Kind == EventWarning {
			out = append(out, e.Detail)
		}
	}
	return out
}

func mustCheck(t *testing.T, s Step, env *Env, want Status) Result {
	t.Helper()
	res, err := s.Check(context.Background(), env)
	if err != nil {
		t.Fatalf("%s Check: %v", s.ID(), err)
	}
	if res.Status != want {
		t.Fatalf("%s Check = %s (%s), want %s", s.ID(), res.Status, res.Detail, want)
	}
	return res
}

func TestDNSStepFromEmpty(t *testing.T) {
	fx := newDNSFixture(t, true, state.Answers{MailFrom: "mail", DMARC: true})
	apexBefore := fx.r53.Values(fx.zone, "example.com", "MX")
	ctx := context.Background()
	s := DNS{}

	mustCheck(t, s, fx.env, StatusTodo)
	plan, err := s.Plan(ctx, fx.env)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.NeedsApproval || plan.HasConflict() || len(plan.Changes) != 7 {
		t.Fatalf("plan = %+v", plan)
	}
	if want := fmt.Sprintf("create 6 records in zone example.com (%s); set SES's MAIL FROM domain to mail.example.com", fx.zone); plan.Summary != want {
		t.Errorf("summary = %q, want %q", plan.Summary, want)
	}
	if fx.r53.Mutations() != 0 || fx.ses.Mutations() != 0 {
		t.Fatal("Check or Plan wrote to AWS")
	}
	if err := s.Apply(ctx, fx.env); err != nil {
		t.Fatal(err)
	}
	res := mustCheck(t, s, fx.env, StatusDone)
	if !strings.Contains(res.Detail, "6 records") {
		t.Errorf("detail = %q", res.Detail)
	}
	if fx.env.Record.ChangeID == "" || fx.env.Record.ZoneID != fx.zone {
		t.Errorf("record = %+v", fx.env.Record)
	}
	if fx.r53.Calls("GetChange") < 2 {
		t.Errorf("GetChange called %d times; the fake says PENDING once, so INSYNC needs two", fx.r53.Calls("GetChange"))
	}
	if d, b := fx.ses.MailFrom("example.com"); d != "mail.example.com" || b != string(sestypes.BehaviorOnMxFailureUseDefaultValue) {
		t.Errorf("MAIL FROM = %q, %q", d, b)
	}
	if got := fx.r53.Values(fx.zone, "example.com", "MX"); !slices.Equal(got, apexBefore) {
		t.Errorf("apex MX changed: %q -> %q", apexBefore, got)
	}
	if got := fx.r53.Values(fx.zone, "mail.example.com", "TXT"); !slices.Equal(got, []string{`"v=spf1 include:amazonses.com ~all"`}) {
		t.Errorf("SPF = %q", got)
	}
	if len(fx.env.Facts.Records) != 6 {
		t.Errorf("Facts.Records = %d records", len(fx.env.Facts.Records))
	}

	// A second Apply makes no mutating call.
	r53Writes, sesWrites := fx.r53.Mutations(), fx.ses.Mutations()
	if err := s.Apply(ctx, fx.env); err != nil {
		t.Fatal(err)
	}
	if fx.r53.Mutations() != r53Writes || fx.ses.Mutations() != sesWrites {
		t.Errorf("second Apply wrote: route53 %d -> %d, ses %d -> %d", r53Writes, fx.r53.Mutations(), sesWrites, fx.ses.Mutations())
	}
}

func TestDNSStepSummaryDKIMOnly(t *testing.T) {
	fx := newDNSFixture(t, true, state.Answers{})
	plan, err := DNS{}.Plan(context.Background(), fx.env)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("create 3 DKIM records in zone example.com (%s)", fx.zone); plan.Summary != want {
		t.Errorf("summary = %q, want %q", plan.Summary, want)
	}
}

func TestDNSStepConflictStopsBeforeAnyWrite(t *testing.T) {
	fx := newDNSFixture(t, true, state.Answers{MailFrom: "mail"})
	fx.r53.Put(fx.zone, "mail.example.com", "CNAME", 300, "ghs.googlehosted.com.")
	_, err := (&Runner{Steps: []Step{DNS{}}}).Run(context.Background(), fx.env)
	if err == nil || !strings.Contains(err.Error(), "mail.example.com") || !strings.Contains(err.Error(), "--mail-from") {
		t.Fatalf("Run error = %v, want a conflict naming mail.example.com and what to do", err)
	}
	if fx.r53.Mutations() != 0 || fx.ses.Calls("PutEmailIdentityMailFromAttributes") != 0 {
		t.Fatalf("a conflicting plan wrote: %d ChangeResourceRecordSets, %d PutEmailIdentityMailFromAttributes", fx.r53.Mutations(), fx.ses.Calls("PutEmailIdentityMailFromAttributes"))
	}
	// Apply on its own refuses too.
	if err := (DNS{}).Apply(context.Background(), fx.env); err == nil || fx.r53.Mutations() != 0 {
		t.Fatalf("Apply with a conflict: err %v, %d writes", err, fx.r53.Mutations())
	}
}

func TestDNSStepConcurrentEditFailsTheBatch(t *testing.T) {
	fx := newDNSFixture(t, true, state.Answers{MailFrom: "mail"})
	fx.r53.Put(fx.zone, "mail.example.com", "TXT", 300, `"first"`)
	edited := false
	fx.r53.BeforeChange = func(f *stepstest.FakeRoute53) {
		if !edited {
			edited = true
			f.Put(fx.zone, "mail.example.com", "TXT", 300, `"first"`, `"added-meanwhile"`)
		}
	}
	err := DNS{}.Apply(context.Background(), fx.env)
	var ae *awsapi.Error
	if !errors.As(err, &ae) || ae.Code != "InvalidChangeBatch" || !strings.Contains(ae.Hint, "run sesame again") {
		t.Fatalf("err = %v, want an InvalidChangeBatch that says to run again", err)
	}
	if got := fx.r53.Values(fx.zone, "mail.example.com", "TXT"); !slices.Equal(got, []string{`"first"`, `"added-meanwhile"`}) {
		t.Fatalf("the concurrent value was lost: %q", got)
	}
	// Running again re-plans against what is there and keeps every value.
	if err := (DNS{}).Apply(context.Background(), fx.env); err != nil {
		t.Fatal(err)
	}
	got := fx.r53.Values(fx.zone, "mail.example.com", "TXT")
	for _, v := range []string{`"first"`, `"added-meanwhile"`, `"v=spf1 include:amazonses.com ~all"`} {
		if !slices.Contains(got, v) {
			t.Errorf("TXT at mail.example.com = %q, missing %s", got, v)
		}
	}
}

func TestDNSStepNoZone(t *testing.T) {
	fx := newDNSFixture(t, false, state.Answers{MailFrom: "bounce", DMARC: true})
	fx.r53.AddZone("example.com", true) // a private zone is no use to SES
	s := DNS{}
	mustCheck(t, s, fx.env, StatusTodo) // the MAIL FROM setting is still to make
	if err := s.Apply(context.Background(), fx.env); err != nil {
		t.Fatal(err)
	}
	res := mustCheck(t, s, fx.env, StatusSkipped)
	if !strings.Contains(res.Detail, "DNS host") {
		t.Errorf("detail = %q", res.Detail)
	}
	if fx.r53.Mutations() != 0 {
		t.Fatal("wrote to Route 53 without a zone")
	}
	var mr *dns.Manual
	for _, d := range fx.published() {
		if m, ok := d.(*dns.Manual); ok {
			mr = m
		}
	}
	if mr == nil || len(mr.Records) != 6 {
		t.Fatalf("manual records = %+v", mr)
	}
	for _, want := range []string{
		"._domainkey.example.com. 1800 IN CNAME ",
		"bounce.example.com. 300 IN MX 10 feedback-smtp.us-east-1.amazonses.com.",
		`bounce.example.com. 300 IN TXT "v=spf1 include:amazonses.com ~all"`,
		`_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none;"`,
	} {
		if !strings.Contains(collapseSpaces(mr.ZoneFile), want) {
			t.Errorf("zone file lacks %q:\n%s", want, mr.ZoneFile)
		}
	}
	if !strings.Contains(mr.JSON, `"type": "CNAME"`) || !slices.ContainsFunc(mr.Records, func(r dns.Desired) bool { return strings.Contains(r.Purpose, "MAIL FROM SPF") }) {
		t.Errorf("JSON or records incomplete:\n%s", mr.JSON)
	}
}

func TestDNSStepWaitsForIdentity(t *testing.T) {
	fx := newDNSFixture(t, true, state.Answers{})
	fx.env.Facts.Identity = nil
	res := mustCheck(t, DNS{}, fx.env, StatusTodo)
	if !strings.Contains(res.Detail, "waiting for the identity") {
		t.Errorf("detail = %q", res.Detail)
	}
	plan, err := DNS{}.Plan(context.Background(), fx.env)
	if err != nil || !strings.Contains(plan.Summary, "once the identity exists") {
		t.Errorf("plan = %+v, %v", plan, err)
	}
	if fx.r53.Calls("ListHostedZonesByName") != 0 {
		t.Error("looked for the zone without the identity")
	}
}

func TestDNSStepAccessDenied(t *testing.T) {
	fx := newDNSFixture(t, true, state.Answers{})
	fx.r53.FailNext("ChangeResourceRecordSets", stepstest.AccessDenied("route53:ChangeResourceRecordSets"))
	err := DNS{}.Apply(context.Background(), fx.env)
	var ae *awsapi.Error
	if !errors.As(err, &ae) || ae.Op != "route53:ChangeResourceRecordSets" || ae.Resource != fx.zone || !strings.Contains(ae.Hint, "sesame policy") {
		t.Fatalf("err = %v", err)
	}
}

func TestDNSStepInsyncBound(t *testing.T) {
	fx := newDNSFixture(t, true, state.Answers{})
	fx.r53.PendingPolls = 1 << 30
	if err := (DNS{}).Apply(context.Background(), fx.env); err != nil {
		t.Fatal(err)
	}
	if n := fx.r53.Calls("GetChange"); n != int(insyncBound/insyncPoll) {
		t.Errorf("GetChange called %d times, want the bound %d", n, int(insyncBound/insyncPoll))
	}
	w := fx.warnings()
	if len(w) != 1 || !strings.Contains(w[0], "still PENDING") {
		t.Errorf("warnings = %q", w)
	}
}

// collapseSpaces makes aligned columns comparable: runs of spaces become one.
func collapseSpaces(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, "\n")
}
