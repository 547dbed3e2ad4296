package steps

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/state"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

// shopFixture is a dns fixture for domain (under shop.example) with the
// zone shop.example, and no identity yet unless tokens is true.
func shopFixture(t *testing.T, domain string, a state.Answers, tokens bool) (*dnsFixture, string) {
	t.Helper()
	a.Domain = domain
	fx := newDNSFixture(t, false, a)
	if !tokens {
		fx.env.Facts.Identity = nil
	}
	return fx, fx.r53.AddZone("shop.example", false)
}

// Everything knowable before SES gives the DKIM tokens is checked by the
// preflight, which only reads.
func TestDNSPreflight(t *testing.T) {
	var second string // the other zone of the name, in the ambiguous case
	tests := []struct {
		name      string
		a         state.Answers
		seed      func(f *stepstest.FakeRoute53, zone string)
		conflicts int
		inputErr  string // a substring of the *InputError's message
	}{
		{"two SPF records at the MAIL FROM name", state.Answers{MailFrom: "mail"}, func(f *stepstest.FakeRoute53, z string) {
			f.Put(z, "mail.shop.example", "TXT", 300, `"v=spf1 a ~all"`, `"v=spf1 mx ~all"`)
		}, 1, ""},
		{"a CNAME at the MAIL FROM name", state.Answers{MailFrom: "mail"}, func(f *stepstest.FakeRoute53, z string) {
			f.Put(z, "mail.shop.example", "CNAME", 300, "elsewhere.example.")
		}, 2, ""},
		{"an MX elsewhere at the MAIL FROM name", state.Answers{MailFrom: "mail"}, func(f *stepstest.FakeRoute53, z string) {
			f.Put(z, "mail.shop.example", "MX", 300, "10 inbound.example.")
		}, 1, ""},
		{"a clean zone", state.Answers{MailFrom: "mail", DMARC: true}, nil, 0, ""},
		{"a --zone-id that does not exist", state.Answers{ZoneID: "Z0NOSUCHZONE"}, nil, 0, "no hosted zone Z0NOSUCHZONE"},
		{"two public zones of the name", state.Answers{}, func(f *stepstest.FakeRoute53, z string) {
			second = f.AddZone("shop.example", false)
		}, 0, "2 public hosted zones named shop.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx, zone := shopFixture(t, "shop.example", tt.a, false)
			if tt.seed != nil {
				tt.seed(fx.r53, zone)
			}
			cs, err := DNS{}.Preflight(context.Background(), fx.env)
			var ie *InputError
			switch {
			case tt.inputErr != "":
				if !errors.As(err, &ie) || ie.Flag != "--zone-id" || !strings.Contains(ie.Msg, tt.inputErr) {
					t.Fatalf("err = %v, want an *InputError naming --zone-id saying %q", err, tt.inputErr)
				}
				if strings.Contains(tt.name, "two public zones") {
					for _, id := range []string{zone, second} {
						if !strings.Contains(ie.Msg, id) {
							t.Errorf("the message %q does not list zone %s", ie.Msg, id)
						}
					}
				}
			case err != nil:
				t.Fatal(err)
			case len(cs) != tt.conflicts:
				t.Fatalf("%d conflicts, want %d: %+v", len(cs), tt.conflicts, cs)
			}
			if n := fx.r53.Mutations(); n != 0 {
				t.Errorf("the preflight wrote %d times", n)
			}
		})
	}
}

// --dmarc never publishes a policy weaker than the one in force: the
// domain's own, or the organizational domain's sp= (else p=).
func TestDNSDMARCInForce(t *testing.T) {
	tests := []struct {
		name     string
		parent   string // _dmarc.shop.example in the zone, "" for none
		resolver map[string][]string
		dnsErr   bool
		publish  bool
		noteHas  string
	}{
		{"organizational domain says reject", "v=DMARC1; p=reject; sp=reject", nil, false, false, "reject"},
		{"sp= applies to subdomains", "v=DMARC1; p=reject; sp=none", nil, false, false, "sp=none"},
		{"p= when there is no sp=", "v=DMARC1; p=quarantine", nil, false, false, "quarantine"},
		{"no policy anywhere", "", nil, false, true, ""},
		{"not a DMARC record", "v=spf1 ~all", nil, false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx, zone := shopFixture(t, "mail.shop.example", state.Answers{DMARC: true}, true)
			if tt.parent != "" {
				fx.r53.Put(zone, "_dmarc.shop.example", "TXT", 300, dns.TXTQuote(tt.parent))
			}
			p, err := DNS{}.Plan(context.Background(), fx.env)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(p.Changes, func(c Change) bool { return c.Name == "_dmarc.mail.shop.example" })
			if i < 0 {
				t.Fatalf("no DMARC line in the plan: %+v", p.Changes)
			}
			c := p.Changes[i]
			if got := c.Action == ActionCreate; got != tt.publish {
				t.Fatalf("DMARC %s (%s), want publish=%v", c.Action, c.Note, tt.publish)
			}
			if !strings.Contains(c.Note, tt.noteHas) {
				t.Errorf("note %q does not say %q", c.Note, tt.noteHas)
			}
			if err := (DNS{}).Apply(context.Background(), fx.env); err != nil {
				t.Fatal(err)
			}
			got := fx.r53.Values(zone, "_dmarc.mail.shop.example", "TXT")
			if (len(got) > 0) != tt.publish {
				t.Errorf("_dmarc.mail.shop.example = %q, want published=%v", got, tt.publish)
			}
		})
	}
}

// The organizational domain outside the account: public DNS is asked; a
// failed lookup publishes nothing (it might weaken) and says so.
func TestDNSDMARCFromPublicDNS(t *testing.T) {
	for _, tt := range []struct {
		name    string
		res     *dtResolver
		publish bool
	}{
		{"public DNS says reject", &dtResolver{answers: map[string][]string{"_dmarc.shop.example TXT": {"v=DMARC1; p=reject"}}}, false},
		{"public DNS has none", &dtResolver{}, true},
		{"public DNS does not answer", &dtResolver{errs: map[string]error{"_dmarc.shop.example TXT": errors.New("timeout")}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := state.Answers{Domain: "mail.shop.example", DMARC: true}
			fx := newDNSFixture(t, false, a)
			zone := fx.r53.AddZone("mail.shop.example", false)
			fx.env.DNS = tt.res
			if err := (DNS{}).Apply(context.Background(), fx.env); err != nil {
				t.Fatal(err)
			}
			got := fx.r53.Values(zone, "_dmarc.mail.shop.example", "TXT")
			if (len(got) > 0) != tt.publish {
				t.Errorf("_dmarc.mail.shop.example = %q, want published=%v", got, tt.publish)
			}
		})
	}
}

// Records go to the zone authoritative for their name: the child zone the
// parent delegates to, or, delegated outside the account, the operator's
// DNS host; never below the cut in the parent.
func TestDNSDelegatedChildZone(t *testing.T) {
	for _, inAccount := range []bool{true, false} {
		name := map[bool]string{true: "child zone in the account", false: "child delegated elsewhere"}[inAccount]
		t.Run(name, func(t *testing.T) {
			fx, parent := shopFixture(t, "shop.example", state.Answers{MailFrom: "mail"}, true)
			child := fx.r53.AddZone("mail.shop.example", false)
			ns := []string{"ns1.elsewhere.example."}
			if inAccount {
				ns = nil
				for _, n := range fx.r53.NameServers(child) {
					ns = append(ns, n+".")
				}
			}
			fx.r53.Put(parent, "mail.shop.example", "NS", 172800, ns...)
			if err := (DNS{}).Apply(context.Background(), fx.env); err != nil {
				t.Fatal(err)
			}
			for _, typ := range []string{"MX", "TXT"} {
				if got := fx.r53.Values(parent, "mail.shop.example", typ); len(got) > 0 {
					t.Errorf("%s written below the delegation in the parent: %q", typ, got)
				}
				got := fx.r53.Values(child, "mail.shop.example", typ)
				if (len(got) > 0) != inAccount {
					t.Errorf("%s in the child zone = %q, want written=%v", typ, got, inAccount)
				}
			}
			if got := fx.r53.Sets(parent); !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "_domainkey") }) {
				t.Errorf("the DKIM records are not in the parent zone: %q", got)
			}
			res, err := DNS{}.Check(context.Background(), fx.env)
			if err != nil {
				t.Fatal(err)
			}
			manual := slices.ContainsFunc(fx.published(), func(d any) bool { _, ok := d.(*dns.Manual); return ok })
			if res.Status != StatusDone || manual == inAccount {
				t.Errorf("check = %s (%s), manual records shown=%v", res.Status, res.Detail, manual)
			}
		})
	}
}

// lostAnswerRoute53 applies a batch and loses the answer: the SDK's retry
// sends the batch again, and Route 53 refuses it as already done.
type lostAnswerRoute53 struct {
	*stepstest.FakeRoute53
	edit func()
}

func (l lostAnswerRoute53) ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, o ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	if _, err := l.FakeRoute53.ChangeResourceRecordSets(ctx, in, o...); err != nil {
		return nil, err
	}
	if l.edit != nil {
		l.edit()
	}
	return l.FakeRoute53.ChangeResourceRecordSets(ctx, in, o...)
}

func TestDNSLostAnswerOfTheBatch(t *testing.T) {
	t.Run("the zone holds the plan: done", func(t *testing.T) {
		fx := newDNSFixture(t, true, state.Answers{MailFrom: "mail", DMARC: true})
		fx.env.Clients.Route53 = lostAnswerRoute53{FakeRoute53: fx.r53}
		if err := (DNS{}).Apply(context.Background(), fx.env); err != nil {
			t.Fatalf("a batch whose answer was lost is done, got %v", err)
		}
		mustCheck(t, DNS{}, fx.env, StatusDone)
	})
	t.Run("someone changed a record since: said precisely", func(t *testing.T) {
		fx := newDNSFixture(t, true, state.Answers{MailFrom: "mail"})
		fx.env.Clients.Route53 = lostAnswerRoute53{FakeRoute53: fx.r53, edit: func() {
			fx.r53.Put(fx.zone, "mail.example.com", "MX", 300, "10 other.example.")
		}}
		err := DNS{}.Apply(context.Background(), fx.env)
		var ae *awsapi.Error
		if !errors.As(err, &ae) || !strings.Contains(ae.Hint, "mail.example.com MX held nothing when sesame read it and now holds 10 other.example.") {
			t.Fatalf("err = %v, want the MX change named", err)
		}
	})
}
